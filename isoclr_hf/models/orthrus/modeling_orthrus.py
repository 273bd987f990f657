"""Orthrus models: the Mamba encoder and a downstream head, on IsoCLR's inputs.

Remote code: copied next to the weights by ``save_pretrained``; imports only torch, transformers and
its siblings. It imports every sibling that any of them needs *directly* (``track_vocabulary.py``
too), because transformers 4.x copies only the direct relative imports of a local folder's module.
``track_inputs.py``, ``track_vocabulary.py`` and ``sequence_head.py`` are byte-identical copies of the
IsoCLR family's (``tests/models/test_shared_files.py``), so both families take the same tokenizer
output, run the same input checks and carry the same downstream head.

The weights use Orthrus's own names (``embedding``, ``layers.{i}.norm``, ``layers.{i}.mixer.*``,
``norm_f``): an Orthrus checkpoint loads unchanged (``isoclr convert-orthrus``).

Padding: the model is causal and one-directional, so right padding never changes a valid position.
Left padding is moved to the right by :func:`validate_inputs` before the encoder runs. Padded positions
get states (the embedding bias, the convolution window and the SSM state carry into them), so they are
zeroed in ``last_hidden_state`` and left out of the mean: the embedding of a transcript is the same
alone or in any batch.

Meta device: as for IsoCLR, the models can be built on the meta device (``init_empty_weights``,
``from_pretrained(..., device_map=...)``); a forward before the weights are loaded raises ``RuntimeError``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.models.mamba.modeling_mamba import MambaMixer
from transformers.utils import ModelOutput

from .configuration_orthrus import OrthrusConfig
from .encoder_orthrus import OrthrusBlock
from .sequence_head import SequenceClassificationHead, SequenceClassificationMixin, SequenceHeadOutput
from .track_inputs import build_tracks, require_loaded_weights, validate_inputs
from .track_vocabulary import VOCABULARY  # noqa: F401  (transformers 4.x copies only direct relative imports)

try:  # transformers >= 5: init functions that skip weights already loaded from a checkpoint
    from transformers import initialization as init
except ImportError:  # pragma: no cover - older transformers never re-initialise loaded weights
    from torch.nn import init  # type: ignore[no-redef]


@dataclass
class OrthrusModelOutput(ModelOutput):
    """Output of :class:`OrthrusModel`.

    Attributes:
        last_hidden_state: Per-nucleotide states after the final LayerNorm, zero at padding.
            Shape: (batch, length, hidden_size).
        pooler_output: Mean of the states over each transcript's valid positions. Shape: (batch, hidden_size).
        output_mask: 1 at valid positions; valid positions come first, also for left-padded inputs.
            Shape: (batch, length).
        hidden_states: The embedding output and each block's residual stream, when requested.
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    output_mask: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


@dataclass
class OrthrusSequenceClassifierOutput(SequenceHeadOutput):
    """Output of :class:`OrthrusForSequenceClassification`: the fields of :class:`SequenceHeadOutput`."""


def _copy(tensor: torch.Tensor, value: torch.Tensor) -> None:
    if hasattr(init, "copy_"):  # transformers 5: skipped for weights loaded from a checkpoint
        init.copy_(tensor, value)
    else:
        with torch.no_grad():
            tensor.copy_(value)


class OrthrusPreTrainedModel(PreTrainedModel):
    """Orthrus's initialisation (``MixerModel._init_weights`` and mamba-ssm's ``Mamba.__init__``)."""

    config_class = OrthrusConfig
    config: OrthrusConfig
    base_model_prefix = "orthrus"
    main_input_name = "input_ids"
    _no_split_modules = ["OrthrusBlock"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        config = self.config
        if isinstance(module, nn.Linear):
            role = getattr(module, "orthrus_init", None)
            if role == "time_step":  # Δ projection: U(±rank^-0.5); bias = softplus^-1 of dt ~ logU[1e-3, 0.1]
                bound = config.time_step_rank**-0.5
                init.uniform_(module.weight, -bound, bound)
                dt = torch.exp(torch.rand(module.out_features) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
                dt = dt.clamp(min=1e-4)
                _copy(module.bias, (dt + torch.log(-torch.expm1(-dt))).to(module.bias))
                return
            if getattr(module, "zero_init", False):  # a head's last layer (IsoCLR's fine-tuning recipe)
                init.zeros_(module.weight)
            else:  # PyTorch's default kaiming_uniform(a=sqrt(5)), i.e. U(±1/sqrt(fan_in))
                bound = 1.0 / math.sqrt(module.in_features)
                if role == "residual_output":  # GPT-2-style rescaling of the residual branch's output
                    bound /= math.sqrt(config.num_hidden_layers)
                init.uniform_(module.weight, -bound, bound)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Conv1d):
            bound = 1.0 / math.sqrt(module.in_channels // module.groups * module.kernel_size[0])
            init.uniform_(module.weight, -bound, bound)
            if module.bias is not None:
                init.uniform_(module.bias, -bound, bound)
        elif isinstance(module, MambaMixer):  # S4D-real A and unit skip, as in mamba-ssm
            states = torch.arange(1, module.ssm_state_size + 1, dtype=torch.float32)
            _copy(module.A_log, torch.log(states).expand_as(module.A_log).to(module.A_log))
            init.ones_(module.D)
        elif isinstance(module, (nn.LayerNorm, nn.BatchNorm1d)):
            if module.weight is not None:
                init.ones_(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)


class OrthrusModel(OrthrusPreTrainedModel):
    """The Orthrus encoder: six (or four) input tracks -> per-nucleotide states and a pooled embedding.

    ``embedding`` (Linear, tracks -> d), ``num_hidden_layers`` pre-norm Mamba blocks and ``norm_f``
    over ``hidden + residual``; the embedding is the mean over valid positions.
    """

    def __init__(self, config: OrthrusConfig) -> None:
        super().__init__(config)
        self.embedding = nn.Linear(config.n_tracks, config.hidden_size)
        self.layers = nn.ModuleList(OrthrusBlock(config, index) for index in range(config.num_hidden_layers))
        self.norm_f = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_epsilon)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        cds_track: torch.Tensor | None = None,
        splice_track: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        tracks: torch.Tensor | None = None,
        masked_positions: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> OrthrusModelOutput | tuple[torch.Tensor, ...]:
        """Encode a batch; the arguments are those of :meth:`IsoCLRModel.forward`.

        Args:
            input_ids: Token ids from :class:`IsoCLRTokenizer`. Shape: (batch, length).
            cds_track: 1 at each codon's first nucleotide (ignored with 4 tracks). Shape: (batch, length).
            splice_track: 1 at each exon's last nucleotide (ignored with 4 tracks). Shape: (batch, length).
            attention_mask: 1 at valid positions; one contiguous run per row; left padding is moved
                to the right. Default: ``input_ids != 0``. Shape: (batch, length).
            tracks: Instead of ids: float tracks in the Orthrus/mRNABench layout (A, C, G, T, CDS,
                splice). Shape: (batch, length, n_tracks).
            masked_positions: Positions set to ``mask_value`` in every track (augmentation).
            output_hidden_states: Also return the embedding output and each block's residual stream.
            return_dict: Return an :class:`OrthrusModelOutput` (default) or a tuple.

        Raises:
            ValueError: On malformed input, naming the input and the rows (see :func:`validate_inputs`),
                also rows longer than ``config.max_sequence_length``.
            RuntimeError: While the weights are on the meta device (not loaded yet).
        """
        if output_hidden_states is None:
            output_hidden_states = bool(getattr(self.config, "output_hidden_states", False))
        if return_dict is None:
            return_dict = bool(getattr(self.config, "return_dict", True))
        require_loaded_weights(self)
        inputs = validate_inputs(
            input_ids, attention_mask, cds_track, splice_track, tracks, masked_positions,
            n_tracks=self.config.n_tracks, max_length=self.config.max_sequence_length,
        )  # raises ValueError on bad input; left-padded rows come back right-padded  # fmt: skip
        dtype = self.embedding.weight.dtype
        if inputs.tracks is not None:
            x = inputs.tracks.to(dtype)
        else:
            assert inputs.input_ids is not None
            x = build_tracks(self.config, inputs.input_ids, inputs.cds_track, inputs.splice_track, dtype)
        if inputs.masked_positions is not None:
            x = x.masked_fill(inputs.masked_positions[..., None].bool(), self.config.mask_value)
        length, width = x.shape[1], max(inputs.lengths)
        mask = inputs.attention_mask[:, :width, None]  # (B, W, 1); W = longest valid row
        hidden = self.embedding(x[:, :width])  # (B, W, d): positions past every row are never computed
        residual: torch.Tensor | None = None
        streams = [hidden]
        for layer in self.layers:
            hidden, residual = layer(hidden, residual)
            streams.append(hidden + residual)
        assert residual is not None
        states = self.norm_f((hidden + residual).to(self.norm_f.weight.dtype)) * mask.to(hidden.dtype)  # (B, W, d)
        counts = mask.sum(1).to(torch.float32)  # (B, 1)
        pooled = (states.float().sum(1) / counts).to(states.dtype)  # (B, d): mean over valid positions

        def full_length(values: torch.Tensor) -> torch.Tensor:  # (B, W, d) -> (B, L, d), zero at padding
            return F.pad(values * mask.to(values.dtype), (0, 0, 0, length - width))

        output = OrthrusModelOutput(
            last_hidden_state=full_length(states),
            pooler_output=pooled,
            output_mask=inputs.attention_mask,
            hidden_states=tuple(full_length(s) for s in streams) if output_hidden_states else None,
        )
        return output if return_dict else output.to_tuple()

    def representation(
        self, x: torch.Tensor, lengths: torch.Tensor | Sequence[int], channel_last: bool = False
    ) -> torch.Tensor:
        """Orthrus's own embedding call, as mRNABench makes it: ``representation(x, lengths, channel_last=True)``.

        Args:
            x: Float tracks (A, C, G, T[, CDS, splice]), zero-padded on the right. Shape:
                (batch, length, n_tracks) with ``channel_last=True``, else (batch, n_tracks, length).
            lengths: Each row's valid length. Shape: (batch,).
            channel_last: Layout of ``x`` (Orthrus's default is channels-first).

        Returns:
            The mean of the final states over each row's first ``lengths[i]`` positions. Shape: (batch, hidden_size).
        """
        if not isinstance(x, torch.Tensor) or x.dim() != 3:
            raise ValueError(f"x must be a 3-D tensor of tracks; got {getattr(x, 'shape', type(x).__name__)}.")
        tracks = x if channel_last else x.transpose(1, 2)  # (B, L, C)
        lengths = torch.as_tensor(lengths, device=tracks.device).reshape(-1)
        if lengths.numel() != tracks.shape[0] or bool(((lengths < 1) | (lengths > tracks.shape[1])).any()):
            raise ValueError(
                f"lengths must hold one value in [1, {tracks.shape[1]}] per row of x ({tracks.shape[0]} rows); "
                f"got {lengths.tolist()}."
            )
        mask = torch.arange(tracks.shape[1], device=tracks.device)[None, :] < lengths[:, None]  # (B, L)
        return self(tracks=tracks, attention_mask=mask.to(torch.uint8), return_dict=True).pooler_output


class OrthrusForSequenceClassification(SequenceClassificationMixin, OrthrusPreTrainedModel):
    """Orthrus encoder with a head on the pooled embedding (regression or classification).

    ``forward`` (labels and their checks, losses, output) is :class:`SequenceClassificationMixin`'s,
    shared by every family; its other arguments are those of :meth:`OrthrusModel.forward`.
    """

    output_class = OrthrusSequenceClassifierOutput

    def __init__(self, config: OrthrusConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.orthrus = OrthrusModel(config)  # base_model_prefix: checkpoint keys start with "orthrus."
        self.classifier = SequenceClassificationHead(config)
        self.post_init()


OrthrusModel.register_for_auto_class("AutoModel")
OrthrusForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")

__all__ = [
    "OrthrusForSequenceClassification",
    "OrthrusModel",
    "OrthrusModelOutput",
    "OrthrusPreTrainedModel",
    "OrthrusSequenceClassifierOutput",
]
