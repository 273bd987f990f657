"""The pre-norm transformer encoder of the masked-language-model families (RNA-FM, RiNALMo), with windows.

Remote code: copied next to the weights; imports only torch, transformers and the sibling ``sequence_head.py``
(which every family's modeling file imports directly too, as transformers 4.x copies only direct imports).
The RNA-FM and RiNALMo folders hold byte-identical copies (``tests/models/test_shared_files.py``). The model
classes' behaviour is here too, as mixins (:class:`NucleotidePreTrainedMixin`, :class:`NucleotideModelMixin`,
:class:`NucleotideMaskedLMMixin`, :class:`NucleotideSequenceClassificationMixin`): a family's modeling file
only names its classes, its config class and its ``base_model_prefix``. What differs between the two
families' encoders is read from the config (each family's configuration file fixes it):

- ``position_embedding_type``: ``"absolute"`` (RNA-FM: a learned table, ids offset by
  ``position_offset``, ESM-1b's padding_idx + 1) or ``"rotary"`` (RiNALMo: GPT-NeoX-style rotary
  embeddings on queries and keys, base 10,000);
- ``feed_forward``: ``"gelu"`` (Linear, GELU, Linear) or ``"swiglu"`` (RiNALMo's
  ``linear_out * sigmoid(beta * linear_out) * linear_gate(x)`` with a learnable beta, then Linear);
- ``attention_bias``, ``embedding_layer_norm``, ``token_dropout`` (ESM's rescaling of the embeddings
  by ``(1 - 0.15 * 0.8) / (1 - observed mask ratio)``) and ``residual_from_normalised`` (RiNALMo's
  block adds the attention output to the *normalised* input: ``x = LN(x); x = x + attn(x)``).

Attention is torch's ``scaled_dot_product_attention`` with a key-padding mask.

Windows (transcripts longer than the positions): a row of ``n`` nucleotides that does not fit
``window_nucleotides`` (``max_position_embeddings - position_offset - 2``) is cut into
``ceil((n - overlap) / (window - overlap))`` windows of ``window`` nucleotides, spread evenly from the
5' to the 3' end so that neighbours overlap by at least ``window_overlap``; each window is run with its
own ``<cls>`` and ``<eos>``. Every nucleotide takes its state from the window where it is most central
(farthest from both window ends; ties go to the 5' window), ``<cls>`` from the first window and
``<eos>`` from the last. ``pooler_output`` is the mean over the row's nucleotides (not ``<cls>``,
``<eos>`` or padding). A row that fits is one window, so windowing never changes a row that fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers.utils import ModelOutput

from .sequence_head import SequenceClassificationHead, SequenceClassificationMixin

try:  # transformers >= 5: init functions that skip weights already loaded from a checkpoint
    from transformers import initialization as init
except ImportError:  # pragma: no cover - older transformers never re-initialise loaded weights
    from torch.nn import init  # type: ignore[no-redef]

PAD_ID, CLS_ID, EOS_ID = 0, 1, 2
# ESM's token dropout: the fraction of positions replaced by <mask> in pretraining (15% chosen, 80% masked).
MASK_RATIO_TRAIN = 0.15 * 0.8


@dataclass
class NucleotideEncoderOutput(ModelOutput):
    """Output of the families' ``Model`` classes.

    Attributes:
        last_hidden_state: States after the final LayerNorm, zero at padding; valid positions first,
            also for left-padded inputs. Shape: (batch, length, hidden_size).
        pooler_output: Mean of the states over each row's nucleotides (``<cls>``/``<eos>`` left out).
            Shape: (batch, hidden_size).
        output_mask: 1 at valid positions (right-padded). Shape: (batch, length).
        hidden_states: The embedding output and each layer's output, when requested (rows that fit one
            window only: windowed rows have no single sequence of layer states).
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    output_mask: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


@dataclass
class NucleotideMaskedLMOutput(ModelOutput):
    """Output of the families' ``ForMaskedLM`` classes.

    Attributes:
        loss: Cross-entropy over the positions whose label is not -100, when ``labels`` are given.
        logits: Scores over the vocabulary at every position (right-padded). Shape: (batch, length, vocab_size).
        last_hidden_state: As in :class:`NucleotideEncoderOutput`.
        hidden_states: As in :class:`NucleotideEncoderOutput`.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    last_hidden_state: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


# --- modules ---------------------------------------------------------------------------------------


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def apply_rotary(q: torch.Tensor, k: torch.Tensor, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotary position embedding (Su et al. 2021; GPT-NeoX halves), positions 0..T-1. Shape: (B, heads, T, d)."""
    dim, length = q.shape[-1], q.shape[-2]
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, device=q.device, dtype=torch.float32) / dim))  # (d/2,)
    angles = torch.outer(torch.arange(length, device=q.device, dtype=torch.float32), inv_freq)  # (T, d/2)
    angles = torch.cat((angles, angles), dim=-1)  # (T, d)
    cos, sin = angles.cos().to(q.dtype), angles.sin().to(q.dtype)
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class NucleotideEmbeddings(nn.Module):
    """Token embedding (+ learned absolute positions, + LayerNorm, as the config says)."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = (
            nn.Embedding(config.max_position_embeddings, config.hidden_size)
            if config.position_embedding_type == "absolute" else None
        )  # fmt: skip
        self.layer_norm = (
            nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps) if config.embedding_layer_norm else None
        )
        self.token_dropout = config.token_dropout
        self.mask_token_id = config.mask_token_id
        self.position_offset = config.position_offset

    def forward(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Shape: (B, T) ids, (B, T) 0/1 mask with valid positions first -> (B, T, hidden), zero at padding."""
        x = self.word_embeddings(input_ids)
        if self.token_dropout:  # ESM/RiNALMo: <mask> embeddings zeroed, the rest rescaled to the training ratio
            masked = input_ids == self.mask_token_id
            x = x.masked_fill(masked[..., None], 0.0)
            observed = masked.sum(-1).to(x.dtype) / mask.sum(-1).to(x.dtype)  # (B,)
            x = x * (1 - MASK_RATIO_TRAIN) / (1 - observed)[:, None, None]
        if self.position_embeddings is not None:
            positions = torch.arange(input_ids.shape[1], device=input_ids.device) + self.position_offset  # (T,)
            x = x + self.position_embeddings(positions)[None]
        if self.layer_norm is not None:
            x = self.layer_norm(x)
        return x * mask[..., None].to(x.dtype)


class SelfAttentionProjections(nn.Module):
    def __init__(self, config: Any) -> None:
        super().__init__()
        bias = config.attention_bias
        self.query = nn.Linear(config.hidden_size, config.hidden_size, bias=bias)
        self.key = nn.Linear(config.hidden_size, config.hidden_size, bias=bias)
        self.value = nn.Linear(config.hidden_size, config.hidden_size, bias=bias)


class AttentionOutput(nn.Module):
    def __init__(self, config: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size, bias=config.attention_bias)


class NucleotideAttention(nn.Module):
    """Pre-norm multi-head self-attention (SDPA); returns the residual sum."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.self = SelfAttentionProjections(config)
        self.output = AttentionOutput(config)
        self.heads = config.num_attention_heads
        self.rotary = config.position_embedding_type == "rotary"
        self.residual_from_normalised = config.residual_from_normalised
        self.dropout = config.attention_dropout

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        """Shape: (B, T, hidden), key mask (B, 1, 1, T) bool -> (B, T, hidden)."""
        normalised = self.layer_norm(x)
        batch, length, width = x.shape

        def heads(projection: nn.Linear) -> torch.Tensor:  # (B, T, hidden) -> (B, heads, T, d)
            return projection(normalised).view(batch, length, self.heads, width // self.heads).transpose(1, 2)

        q, k, v = heads(self.self.query), heads(self.self.key), heads(self.self.value)
        if self.rotary:
            q, k = apply_rotary(q, k)
        context = F.scaled_dot_product_attention(
            q, k, v, attn_mask=key_mask, dropout_p=self.dropout if self.training else 0.0
        )  # (B, heads, T, d)
        context = context.transpose(1, 2).reshape(batch, length, width)  # (B, T, hidden)
        return (normalised if self.residual_from_normalised else x) + self.output.dense(context)


class GeluIntermediate(nn.Module):
    def __init__(self, config: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class SwiGLUIntermediate(nn.Module):
    """RiNALMo's SwiGLU with a learnable Swish beta (Shazeer 2020, Eq. 6; Ramachandran et al. 2017).

    The beta is named ``swish_scale``: transformers 4.x renames any weight whose name holds "beta" or
    "gamma" when it loads a checkpoint (its TF-era LayerNorm names), which would leave it at 1.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.linear = nn.Linear(config.hidden_size, config.intermediate_size)
        self.linear_gate = nn.Linear(config.hidden_size, config.intermediate_size)
        self.swish_scale = nn.Parameter(torch.ones(1))  # beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        linear = self.linear(x)
        return linear * torch.sigmoid(self.swish_scale * linear) * self.linear_gate(x)


class FeedForwardOutput(nn.Module):
    def __init__(self, config: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)


class NucleotideLayer(nn.Module):
    """``x = attention(x)`` (with its residual), then ``x = x + FFN(LN(x))``."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.attention = NucleotideAttention(config)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.intermediate = SwiGLUIntermediate(config) if config.feed_forward == "swiglu" else GeluIntermediate(config)
        self.output = FeedForwardOutput(config)
        self.dropout = nn.Dropout(config.hidden_dropout)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, key_mask)
        return x + self.dropout(self.output.dense(self.intermediate(self.layer_norm(x))))


class NucleotideLayerStack(nn.Module):
    """The layers and the final LayerNorm."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.layer = nn.ModuleList(NucleotideLayer(config) for _ in range(config.num_hidden_layers))
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)


class MaskedLMHead(nn.Module):
    """Dense, GELU, LayerNorm, then the decoder to the vocabulary (tied to the token embedding when
    ``config.decoder_tied_to_embeddings``: then this module holds no decoder weight)."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = (
            None if config.decoder_tied_to_embeddings else nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        )
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, states: torch.Tensor, embedding_weight: torch.Tensor) -> torch.Tensor:
        """Shape: (B, T, hidden) -> (B, T, vocab_size)."""
        x = self.layer_norm(F.gelu(self.dense(states)))
        weight = embedding_weight if self.decoder is None else self.decoder.weight
        return F.linear(x, weight) + self.bias


def init_weights(module: nn.Module, config: Any) -> None:
    """BERT's initialisation (normal(0, initializer_range), zero biases, unit LayerNorms); a head's
    ``zero_init`` layer starts at zero; the Swish beta at 1."""
    std = config.initializer_range
    if isinstance(module, nn.Linear):
        if getattr(module, "zero_init", False):
            init.zeros_(module.weight)
        else:
            init.normal_(module.weight, mean=0.0, std=std)
        if module.bias is not None:
            init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        init.normal_(module.weight, mean=0.0, std=std)
    elif isinstance(module, nn.LayerNorm):
        init.ones_(module.weight)
        init.zeros_(module.bias)
    elif isinstance(module, SwiGLUIntermediate):
        init.ones_(module.swish_scale)
    elif isinstance(module, MaskedLMHead):
        init.zeros_(module.bias)


# --- inputs ----------------------------------------------------------------------------------------


def require_loaded_weights(model: nn.Module) -> None:
    """Refuse a forward while the weights are on the meta device (shapes without values)."""
    if any(t.is_meta for t in [*model.parameters(), *model.buffers()]):
        raise RuntimeError(
            f"{type(model).__name__}'s weights are on the meta device (built under init_empty_weights or moved "
            "with .to('meta')): they have shapes but no values. Load them first: from_pretrained(folder), or "
            "model.to_empty(device='cpu') followed by load_state_dict(...)."
        )


def _rows(bad: torch.Tensor) -> str:
    rows = bad.nonzero().flatten().tolist()
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(map(str, rows[:5])) + (
        f" and {len(rows) - 5} more" if len(rows) > 5 else "")  # fmt: skip


def validate_inputs(
    input_ids: torch.Tensor | None, attention_mask: torch.Tensor | None, config: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Check a batch and move each row's valid run to the start.

    Returns:
        ``(input_ids, mask, starts)``: ids and a 0/1 long mask with valid positions first (padding
        zero), and where each row's valid run started in the input. Shapes: (B, T), (B, T), (B,).

    Raises:
        ValueError: naming the input and the rows: not a 2-D integer tensor, on the meta device, a mask
            of another shape or not 0/1, a valid run that is not contiguous or empty, ids outside the
            vocabulary or padding inside the run, rows longer than ``config.max_sequence_length``.
    """
    if input_ids is None:
        raise ValueError("input_ids is required: token ids from the family's NucleotideTokenizer.")
    for name, value in (("input_ids", input_ids), ("attention_mask", attention_mask)):
        if value is None:
            continue
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{name} must be a torch tensor, got {type(value).__name__}.")
        if value.is_meta:
            raise ValueError(f"{name} is on the meta device: it has a shape but no values. Pass real tensors.")
    if input_ids.dim() != 2 or input_ids.is_floating_point() or input_ids.is_complex():
        raise ValueError(f"input_ids must be a 2-D integer tensor (batch, length); got {input_ids.dtype} "
                         f"of shape {tuple(input_ids.shape)}.")  # fmt: skip
    ids = input_ids.long()
    if attention_mask is None:
        mask = (ids != PAD_ID).long()
    else:
        if tuple(attention_mask.shape) != tuple(ids.shape):
            raise ValueError(f"attention_mask has shape {tuple(attention_mask.shape)} but input_ids has "
                             f"{tuple(ids.shape)}.")  # fmt: skip
        mask = attention_mask.long()
        bad = ((mask != 0) & (mask != 1)).any(1)
        if bool(bad.any()):
            raise ValueError(f"attention_mask must hold only 0 and 1; {_rows(bad)} of the batch hold other values.")
    lengths = mask.sum(1)
    positions = torch.arange(ids.shape[1], device=ids.device)
    starts = torch.where(mask.bool(), positions, ids.shape[1]).min(1).values.clamp(max=ids.shape[1] - 1)
    if bool((lengths == 0).any()):
        raise ValueError(f"every row needs at least one valid position; {_rows(lengths == 0)} of the batch "
                         "have none.")  # fmt: skip
    index = (starts[:, None] + positions[None]).clamp(max=ids.shape[1] - 1)  # (B, T)
    shifted_mask = (positions[None] < lengths[:, None]).long()
    if not torch.equal(mask.gather(1, index) * shifted_mask, shifted_mask):
        holes = ((mask.gather(1, index) == 0) & shifted_mask.bool()).any(1)
        raise ValueError(f"attention_mask: a row's valid positions must be one contiguous run; {_rows(holes)} "
                         "of the batch are not.")  # fmt: skip
    ids = ids.gather(1, index) * shifted_mask
    bad = (((ids < 0) | (ids >= config.vocab_size)) & shifted_mask.bool()).any(1)
    if bool(bad.any()):
        raise ValueError(f"input_ids must lie in [0, {config.vocab_size}) (the nucleotide vocabulary); "
                         f"{_rows(bad)} of the batch do not.")  # fmt: skip
    padded = ((ids == PAD_ID) & shifted_mask.bool()).any(1)
    if bool(padded.any()):
        raise ValueError(f"input_ids holds the padding id {PAD_ID} at a valid position in {_rows(padded)} of "
                         "the batch: check attention_mask.")  # fmt: skip
    nucleotides = lengths - _special_count(ids, lengths)
    too_long = nucleotides > config.max_sequence_length
    if bool(too_long.any()):
        first = int(too_long.nonzero()[0, 0])
        raise ValueError(
            f"input_ids has rows longer than the model's max_sequence_length of {config.max_sequence_length} "
            f"nucleotides: {_rows(too_long)} (row {first}: {int(nucleotides[first])} valid positions). Cut them "
            "before tokenizing, or use a config whose max_sequence_length allows them (long rows are windowed)."
        )
    return ids, shifted_mask, starts


def _special_count(ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """How many of ``<cls>`` (first) and ``<eos>`` (last) each right-aligned row carries. Shape: (B,)."""
    first = (ids[:, 0] == CLS_ID).long()
    last = (ids.gather(1, (lengths - 1)[:, None])[:, 0] == EOS_ID).long() * (lengths > first).long()
    return first + last


# --- windows ---------------------------------------------------------------------------------------


def window_starts(nucleotides: int, window: int, overlap: int) -> list[int]:
    """Starts of the windows over ``nucleotides`` positions: one at 0 if it fits, else evenly spread from
    0 to ``nucleotides - window`` with neighbours overlapping by at least ``overlap``."""
    if nucleotides <= window:
        return [0]
    count = math.ceil((nucleotides - overlap) / (window - overlap))
    last = nucleotides - window
    return [round(i * last / (count - 1)) for i in range(count)]


def central_window(nucleotides: int, window: int, starts: list[int]) -> torch.Tensor:
    """For each position, the index of the window in which it is farthest from both ends (5' on ties). Shape: (n,)."""
    position = torch.arange(nucleotides)[:, None]  # (n, 1)
    start = torch.tensor(starts)[None, :]  # (1, k)
    margin = torch.minimum(position - start, start + window - 1 - position)  # (n, k); < 0 outside the window
    return margin.argmax(1)  # the first maximum: the 5' window on ties


@dataclass
class Segment:
    row: int
    tokens: torch.Tensor  # (t,) ids of the window, with the row's <cls>/<eos> if it has them
    keep: list[tuple[int, int]]  # (position in the window, position in the row) whose state is kept


def plan_segments(ids: torch.Tensor, lengths: torch.Tensor, config: Any) -> list[Segment]:
    """Cut each right-aligned row into the windows that the model runs (one per row that fits)."""
    window, overlap = config.window_nucleotides, config.window_overlap
    segments = []
    for row in range(ids.shape[0]):
        length = int(lengths[row])
        tokens = ids[row, :length]
        has_cls = int(tokens[0] == CLS_ID)
        has_eos = int(length > has_cls and tokens[-1] == EOS_ID)
        body = tokens[has_cls : length - has_eos]
        n = body.numel()
        starts = window_starts(n, window, overlap)
        if len(starts) == 1:
            segments.append(Segment(row, tokens, [(i, i) for i in range(length)]))
            continue
        choice = central_window(n, window, starts)
        for index, start in enumerate(starts):
            parts = [tokens[:has_cls], body[start : start + window], tokens[length - has_eos :]]
            kept = (choice[start : start + window] == index).nonzero().flatten().tolist()
            keep = [(has_cls + p, has_cls + start + p) for p in kept]
            if index == 0 and has_cls:
                keep.insert(0, (0, 0))
            if index == len(starts) - 1 and has_eos:
                keep.append((has_cls + window, length - 1))
            segments.append(Segment(row, torch.cat(parts), keep))
    return segments


# --- the encoder's forward -------------------------------------------------------------------------


def run_layers(
    embeddings: NucleotideEmbeddings,
    stack: NucleotideLayerStack,
    ids: torch.Tensor,
    mask: torch.Tensor,
    output_hidden_states: bool,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Embeddings, layers and final norm over right-padded windows. Shapes: (S, T) -> (S, T, hidden)."""
    key_mask = mask.bool()[:, None, None, :]  # (S, 1, 1, T)
    x = embeddings(ids, mask)
    streams = [x]
    for layer in stack.layer:
        x = layer(x, key_mask)
        streams.append(x)
    x = stack.layer_norm(x) * mask[..., None].to(x.dtype)
    return x, streams if output_hidden_states else []


def encode(
    model: nn.Module,
    input_ids: torch.Tensor | None,
    attention_mask: torch.Tensor | None,
    output_hidden_states: bool,
) -> tuple[NucleotideEncoderOutput, torch.Tensor]:
    """The encoder's forward (see the module docstring); also returns the input rows' start offsets. (B,)."""
    require_loaded_weights(model)
    config = model.config
    ids, mask, starts = validate_inputs(input_ids, attention_mask, config)
    ids, mask = ids.to(model.embeddings.word_embeddings.weight.device), mask.to(ids.device)
    lengths = mask.sum(1)
    batch, length = ids.shape
    segments = plan_segments(ids, lengths, config)
    width = max(s.tokens.numel() for s in segments)
    window_ids = ids.new_zeros((len(segments), width))
    for index, segment in enumerate(segments):
        window_ids[index, : segment.tokens.numel()] = segment.tokens
    window_mask = (torch.arange(width, device=ids.device)[None] < torch.tensor(
        [s.tokens.numel() for s in segments], device=ids.device)[:, None]).long()  # (S, W)  # fmt: skip
    states, streams = run_layers(model.embeddings, model.encoder, window_ids, window_mask, output_hidden_states)
    if len(segments) == batch and all(s.tokens.numel() == int(lengths[s.row]) for s in segments):
        last = F.pad(states, (0, 0, 0, length - width))  # every row fits: rows are the windows
        hidden = tuple(F.pad(s * window_mask[..., None].to(s.dtype), (0, 0, 0, length - width)) for s in streams)
    else:
        last = states.new_zeros((batch, length, states.shape[-1]))
        for index, segment in enumerate(segments):
            source, target = zip(*segment.keep)
            last[segment.row, list(target)] = states[index, list(source)]
        hidden = ()
    nucleotide = mask.clone()
    nucleotide[:, 0] *= (ids[:, 0] != CLS_ID).long()
    nucleotide.scatter_(1, (lengths - 1)[:, None], (ids.gather(1, (lengths - 1)[:, None]) != EOS_ID).long()
                        * nucleotide.gather(1, (lengths - 1)[:, None]))  # fmt: skip
    counts = nucleotide.sum(1, keepdim=True).clamp(min=1).to(torch.float32)  # (B, 1)
    pooled = ((last.float() * nucleotide[..., None]).sum(1) / counts).to(last.dtype)  # (B, hidden)
    output = NucleotideEncoderOutput(
        last_hidden_state=last, pooler_output=pooled, output_mask=mask,
        hidden_states=hidden if output_hidden_states else None,
    )  # fmt: skip
    return output, starts


def masked_lm_loss(
    logits: torch.Tensor, labels: torch.Tensor, starts: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of right-aligned logits against ``labels`` given in the input's layout (-100 ignored).

    Shapes: logits (B, T, V), labels (B, T), starts (B,), mask (B, T).
    """
    if tuple(labels.shape) != tuple(mask.shape):
        raise ValueError(f"labels must have the shape of input_ids {tuple(mask.shape)}; got {tuple(labels.shape)}.")
    positions = torch.arange(mask.shape[1], device=labels.device)
    index = (starts.to(labels.device)[:, None] + positions[None]).clamp(max=mask.shape[1] - 1)
    aligned = labels.long().gather(1, index).masked_fill(~mask.bool().to(labels.device), -100)  # (B, T)
    bad = ((aligned < 0) & (aligned != -100)) | (aligned >= logits.shape[-1])
    if bool(bad.any()):
        raise ValueError(f"labels must be token ids in [0, {logits.shape[-1]}) or -100 (ignored); "
                         f"{_rows(bad.any(1))} of the batch hold others.")  # fmt: skip
    return F.cross_entropy(logits.float().flatten(0, 1), aligned.flatten().to(logits.device), ignore_index=-100)


# --- the model classes' behaviour ----------------------------------------------------------------------
# Mixins (plain classes, not PreTrainedModel subclasses: transformers 5 writes a config_class into every
# PreTrainedModel subclass it sees, which would shadow the family's in the method resolution order). A
# family declares ``XPreTrainedModel(NucleotidePreTrainedMixin, PreTrainedModel)`` with its config_class and
# base_model_prefix, then ``XModel(NucleotideModelMixin, XPreTrainedModel)``,
# ``XForMaskedLM(NucleotideMaskedLMMixin, XPreTrainedModel)`` and
# ``XForSequenceClassification(NucleotideSequenceClassificationMixin, XPreTrainedModel)``, the last two
# naming ``encoder_class = XModel`` (built under ``base_model_prefix``, so checkpoint keys start with it).


def refuse_unknown_arguments(owner: str, kwargs: dict[str, Any]) -> None:
    """``token_type_ids`` (all zero from generic tokenizers) is accepted and ignored; anything else is refused."""
    unknown = sorted(set(kwargs) - {"token_type_ids"})
    if unknown:
        raise TypeError(f"{owner}.forward got unexpected arguments: {', '.join(unknown)}.")


class NucleotidePreTrainedMixin:
    """What a family's ``PreTrainedModel`` shares: BERT's initialisation, SDPA, the input name."""

    main_input_name = "input_ids"
    _no_split_modules = ["NucleotideLayer"]
    _supports_sdpa = True

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        init_weights(module, self.config)  # type: ignore[attr-defined]


class NucleotideModelMixin:
    """A family's ``Model``: token ids -> per-token states and the mean over nucleotides."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)  # type: ignore[call-arg]
        self.embeddings = NucleotideEmbeddings(config)
        self.encoder = NucleotideLayerStack(config)
        self.post_init()  # type: ignore[attr-defined]

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.word_embeddings

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> NucleotideEncoderOutput | tuple[torch.Tensor, ...]:
        """Encode a batch.

        Args:
            input_ids: Token ids from ``NucleotideTokenizer``. Shape: (batch, length).
            attention_mask: 1 at valid positions, one contiguous run per row (left padding is moved
                to the right). Default: ``input_ids != 0``. Shape: (batch, length).
            output_hidden_states: Also return the embedding output and each layer's output.
            return_dict: Return a :class:`NucleotideEncoderOutput` (default) or a tuple.
            **kwargs: ``token_type_ids`` (all zero from generic tokenizers) is accepted and ignored;
                anything else is refused.

        Raises:
            ValueError: On malformed input, naming the input and the rows (also rows longer than
                ``config.max_sequence_length``).
            RuntimeError: While the weights are on the meta device.
        """
        refuse_unknown_arguments(type(self).__name__, kwargs)
        config = self.config  # type: ignore[attr-defined]
        if return_dict is None:
            return_dict = bool(getattr(config, "return_dict", True))
        hidden = bool(output_hidden_states if output_hidden_states is not None else config.output_hidden_states)
        output, _ = encode(self, input_ids, attention_mask, hidden)  # type: ignore[arg-type]
        return output if return_dict else output.to_tuple()


def build_encoder(model: nn.Module) -> nn.Module:
    """The family's ``encoder_class`` built as ``model.<base_model_prefix>`` (the checkpoint keys' prefix)."""
    encoder = model.encoder_class(model.config)  # type: ignore[operator]
    setattr(model, model.base_model_prefix, encoder)  # type: ignore[arg-type]
    return encoder


class NucleotideMaskedLMMixin:
    """A family's ``ForMaskedLM``: the encoder and its masked-LM head (decoder tied to the token embedding
    where the config says); the loss is computed when ``labels`` are given (-100 marks positions left out)."""

    encoder_class: type

    def __init__(self, config: Any) -> None:
        super().__init__(config)  # type: ignore[call-arg]
        build_encoder(self)  # type: ignore[arg-type]
        self.lm_head = MaskedLMHead(config)
        self.post_init()  # type: ignore[attr-defined]

    def get_input_embeddings(self) -> nn.Module:
        return self.base_model.embeddings.word_embeddings  # type: ignore[attr-defined]

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> NucleotideMaskedLMOutput | tuple[torch.Tensor, ...]:
        """Scores over the vocabulary at every position, and the loss when ``labels`` are given.

        Args:
            input_ids, attention_mask, output_hidden_states, return_dict: As in the family's ``Model.forward``.
            labels: Token ids to predict, -100 where the loss ignores a position; in the layout of
                ``input_ids`` (left padding allowed). Shape: (batch, length).

        Returns:
            :class:`NucleotideMaskedLMOutput`; ``logits`` are right-padded like ``last_hidden_state``.
        """
        refuse_unknown_arguments(type(self).__name__, kwargs)
        config, encoder = self.config, self.base_model  # type: ignore[attr-defined]
        if return_dict is None:
            return_dict = bool(getattr(config, "return_dict", True))
        hidden = bool(output_hidden_states if output_hidden_states is not None else config.output_hidden_states)
        encoded, starts = encode(encoder, input_ids, attention_mask, hidden)
        logits = self.lm_head(encoded.last_hidden_state, encoder.embeddings.word_embeddings.weight)
        loss = None
        if labels is not None:
            loss = masked_lm_loss(logits, torch.as_tensor(labels), starts, encoded.output_mask)
        output = NucleotideMaskedLMOutput(loss=loss, logits=logits, last_hidden_state=encoded.last_hidden_state,
                                          hidden_states=encoded.hidden_states)  # fmt: skip
        return output if return_dict else output.to_tuple()


class NucleotideSequenceClassificationMixin(SequenceClassificationMixin):
    """A family's ``ForSequenceClassification``: the encoder and a head on the pooled embedding (regression
    or classification); ``forward`` is :class:`SequenceClassificationMixin`'s, shared by every family."""

    encoder_class: type

    def __init__(self, config: Any) -> None:
        super().__init__(config)  # type: ignore[call-arg]
        self.num_labels = config.num_labels
        build_encoder(self)  # type: ignore[arg-type]
        self.classifier = SequenceClassificationHead(config)
        self.post_init()  # type: ignore[attr-defined]


__all__ = [
    "MaskedLMHead", "NucleotideEmbeddings", "NucleotideEncoderOutput", "NucleotideLayerStack",
    "NucleotideMaskedLMMixin", "NucleotideMaskedLMOutput", "NucleotideModelMixin", "NucleotidePreTrainedMixin",
    "NucleotideSequenceClassificationMixin", "central_window", "encode", "init_weights", "masked_lm_loss",
    "plan_segments", "refuse_unknown_arguments", "require_loaded_weights", "validate_inputs", "window_starts",
]  # fmt: skip
