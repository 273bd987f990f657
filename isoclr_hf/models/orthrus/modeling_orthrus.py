"""Orthrus models: the Mamba encoder and a downstream head, on IsoCLR's inputs.

Remote code: copied next to the weights by ``save_pretrained``; imports only torch, transformers and
its siblings. It imports every sibling that any of them needs *directly* (``vocabulary_isoclr.py``
too), because transformers 4.x copies only the direct relative imports of a local folder's module.
``inputs_isoclr.py`` and ``vocabulary_isoclr.py`` are byte-identical copies of the IsoCLR family's
(a test checks it), so both families take the same tokenizer output and the same input checks.

The weights use Orthrus's own names (``embedding``, ``layers.{i}.norm``, ``layers.{i}.mixer.*``,
``norm_f``): an Orthrus checkpoint loads unchanged (``isoclr convert-orthrus``).

Padding: the model is causal and one-directional, so right padding never changes a valid position.
Left padding is moved to the right by :func:`validate_inputs` before the encoder runs. Padded positions
get states (the embedding bias, the convolution window and the SSM state carry into them), so they are
zeroed in ``last_hidden_state`` and left out of the mean: the embedding of a transcript is the same
alone or in any batch.
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
from .encoder_orthrus import OrthrusBlock, build_tracks
from .inputs_isoclr import validate_inputs
from .scan_orthrus import scan_path  # noqa: F401  (transformers 4.x copies only direct relative imports)
from .vocabulary_isoclr import VOCABULARY  # noqa: F401  (transformers 4.x copies only direct relative imports)

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
class OrthrusSequenceClassifierOutput(ModelOutput):
    """Output of :class:`OrthrusForSequenceClassification` (the fields of IsoCLR's head output).

    Attributes:
        loss: MSE on normalised targets (regression, NaN labels ignored), cross-entropy (single
            label) or binary cross-entropy (multi-label), when ``labels`` are given.
        logits: Head output; for regression in normalised units. Shape: (batch, num_labels).
        predictions: Regression predictions in original units; ``None`` for classification.
        embeddings: The pooled encoder embedding. Shape: (batch, hidden_size).
        hidden_states: As in :class:`OrthrusModelOutput`, when requested.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    predictions: torch.Tensor | None = None
    embeddings: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


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
            ValueError: On malformed input, naming the input and the rows (see :func:`validate_inputs`).
        """
        if output_hidden_states is None:
            output_hidden_states = bool(getattr(self.config, "output_hidden_states", False))
        if return_dict is None:
            return_dict = bool(getattr(self.config, "return_dict", True))
        inputs = validate_inputs(
            input_ids, attention_mask, cds_track, splice_track, tracks, masked_positions, n_tracks=self.config.n_tracks
        )  # raises ValueError on bad input; left-padded rows come back right-padded
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


class OrthrusClassificationHead(nn.Module):
    """Pooled embedding -> dropout -> [linear -> ReLU -> dropout] -> linear to ``num_labels``."""

    def __init__(self, config: OrthrusConfig) -> None:
        super().__init__()
        self.dropout = nn.Dropout(config.classifier_dropout)
        width = config.hidden_size
        self.hidden: nn.Linear | None = None
        if config.classifier_hidden_size is not None:
            self.hidden = nn.Linear(width, config.classifier_hidden_size)
            width = config.classifier_hidden_size
        self.out_proj = nn.Linear(width, int(config.num_labels))  # type: ignore[arg-type]
        setattr(self.out_proj, "zero_init", config.classifier_zero_init)  # read by _init_weights  # noqa: B010

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Shape: (batch, hidden_size) -> (batch, num_labels)."""
        x = self.dropout(pooled)
        if self.hidden is not None:
            x = self.dropout(F.relu(self.hidden(x)))
        return self.out_proj(x)


class OrthrusForSequenceClassification(OrthrusPreTrainedModel):
    """Orthrus encoder with a head on the pooled embedding (regression or classification).

    The same contract as ``IsoCLRForSequenceClassification``: regression labels in original units,
    normalised by ``config.target_mean``/``target_std`` for the loss, NaN labels ignored, and
    ``predictions`` in original units.
    """

    def __init__(self, config: OrthrusConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.orthrus = OrthrusModel(config)
        self.classifier = OrthrusClassificationHead(config)
        self.post_init()

    def _problem_type(self, labels: torch.Tensor | None) -> str:
        if self.config.problem_type is not None:
            return self.config.problem_type
        if self.num_labels == 1 or self.config.target_names is not None:
            return "regression"
        if labels is not None and labels.dtype in (torch.long, torch.int):
            return "single_label_classification"
        return "multi_label_classification" if labels is not None else "single_label_classification"

    def _target_stats(self, reference: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = int(self.num_labels)  # type: ignore[arg-type]
        mean = self.config.target_mean if self.config.target_mean is not None else [0.0] * n
        std = self.config.target_std if self.config.target_std is not None else [1.0] * n
        return reference.new_tensor(mean), reference.new_tensor(std)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        cds_track: torch.Tensor | None = None,
        splice_track: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        tracks: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> OrthrusSequenceClassifierOutput | tuple[torch.Tensor, ...]:
        """Predict from a batch; inputs as in :meth:`OrthrusModel.forward`.

        Args:
            labels: Regression targets in original units, shape (batch,) or (batch, num_labels), NaN
                where unmeasured; class indices (batch,); or multi-hot (batch, num_labels).
        """
        if return_dict is None:
            return_dict = bool(getattr(self.config, "return_dict", True))
        encoded = self.orthrus(
            input_ids=input_ids, cds_track=cds_track, splice_track=splice_track, attention_mask=attention_mask,
            tracks=tracks, output_hidden_states=output_hidden_states, return_dict=True,
        )  # fmt: skip
        logits = self.classifier(encoded.pooler_output)  # (B, num_labels)
        if labels is not None and not isinstance(labels, torch.Tensor):
            labels = torch.as_tensor(labels)
        problem = self._problem_type(labels)
        mean, std = self._target_stats(logits)
        predictions = logits * std + mean if problem == "regression" else None
        loss = None if labels is None else self._loss(problem, logits, labels.to(logits.device))
        output = OrthrusSequenceClassifierOutput(
            loss=loss, logits=logits, predictions=predictions, embeddings=encoded.pooler_output,
            hidden_states=encoded.hidden_states,
        )  # fmt: skip
        return output if return_dict else output.to_tuple()

    def _loss(self, problem: str, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        batch, n = logits.shape
        if problem == "regression":
            if labels.numel() != batch * n:
                raise ValueError(f"labels for regression must have shape ({batch}, {n}); got {tuple(labels.shape)}.")
            mean, std = self._target_stats(logits)
            normalised = (labels.to(logits.dtype).reshape(logits.shape) - mean) / std
            measured = ~torch.isnan(normalised)
            if not bool(measured.any()):
                return (logits * 0.0).sum()
            return F.mse_loss(logits[measured], normalised[measured])
        if problem == "single_label_classification":
            return F.cross_entropy(logits, labels.long().view(-1))
        if problem == "multi_label_classification":
            return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        raise ValueError(
            f"problem_type={problem!r} is not supported; use regression, single_label_classification "
            "or multi_label_classification."
        )


OrthrusModel.register_for_auto_class("AutoModel")
OrthrusForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")

__all__ = [
    "OrthrusForSequenceClassification",
    "OrthrusModel",
    "OrthrusModelOutput",
    "OrthrusPreTrainedModel",
    "OrthrusSequenceClassifierOutput",
]
