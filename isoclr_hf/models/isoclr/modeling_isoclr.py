"""IsoCLR models: the dilated residual CNN encoder, a downstream head and the contrastive model.

Remote code: copied next to the weights by ``save_pretrained``; imports only torch, transformers and
its siblings. It imports every sibling that any of them needs *directly* (``track_vocabulary.py``
too), because transformers 4.x copies only the direct relative imports of a local folder's module.

The CNN itself is in ``encoder_isoclr.py``, the downstream head (shared by every family) in
``sequence_head.py``, the input checks and tracks (shared with Orthrus) in ``track_inputs.py``.
Everything returned to the user is channels-last ``(batch, length, channels)`` like other Hugging Face
models.

Padding invariance: every layer's output is multiplied by the valid-position mask of its resolution,
batch norm statistics in training count valid positions only, and pooling averages valid positions
only. In eval mode a transcript's embedding is therefore the same alone or in any batch.

Inputs: every forward checks its inputs with :func:`validate_inputs` (a ``ValueError`` naming the
input and the rows for anything malformed) and moves left padding to the end, so a left-padded
batch gives the same embeddings as a right-padded one.

Meta device: the models can be built under ``accelerate.init_empty_weights`` (``from_pretrained``
does with ``device_map`` or ``low_cpu_mem_usage=True``); a forward while weights are still on the
meta device raises ``RuntimeError`` saying so (see :func:`require_loaded_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_isoclr import IsoCLRConfig
from .encoder_isoclr import FiniteBatchNorm1d, IsoCLREncoder
from .length_groups import plan_length_groups
from .loss_isoclr import DecoupledContrastiveLoss, check_pairs
from .sequence_head import SequenceClassificationHead, SequenceClassificationMixin, SequenceHeadOutput
from .track_inputs import build_tracks, random_position_mask, require_loaded_weights, validate_inputs
from .track_vocabulary import VOCABULARY  # noqa: F401  (transformers 4.x copies only direct relative imports)

try:  # transformers >= 5: init functions that skip weights already loaded from a checkpoint
    from transformers import initialization as init
except ImportError:  # pragma: no cover - older transformers never re-initialise loaded weights
    from torch.nn import init  # type: ignore[no-redef]


@dataclass
class IsoCLRModelOutput(ModelOutput):
    """Output of :class:`IsoCLRModel`.

    Attributes:
        last_hidden_state: Final activations. Shape: (batch, ceil(length / config.downsampling), hidden_size).
        pooler_output: Embedding pooled over valid positions. Shape: (batch, hidden_size).
        output_mask: 1 where ``last_hidden_state`` covers the sequence; valid positions come first,
            also for left-padded inputs. Shape: (batch, ceil(length / config.downsampling)).
        hidden_states: Stem output and each stage's output, channels-last, when requested.
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    output_mask: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


@dataclass
class IsoCLRSequenceClassifierOutput(SequenceHeadOutput):
    """Output of :class:`IsoCLRForSequenceClassification`: the fields of :class:`SequenceHeadOutput`."""


@dataclass
class IsoCLRContrastiveOutput(ModelOutput):
    """Output of :class:`IsoCLRForContrastivePretraining`.

    Attributes:
        loss: Weighted decoupled contrastive loss over the global batch.
        embeddings: Pooled embeddings of view a. Shape: (batch, hidden_size).
        partner_embeddings: Pooled embeddings of view b. Shape: (batch, hidden_size).
        projections: Projection-head output of view a (not normalised). Shape: (batch, projection_dim).
        partner_projections: Projection-head output of view b. Shape: (batch, projection_dim).
    """

    loss: torch.Tensor | None = None
    embeddings: torch.Tensor | None = None
    partner_embeddings: torch.Tensor | None = None
    projections: torch.Tensor | None = None
    partner_projections: torch.Tensor | None = None


def _assemble(parts: list[torch.Tensor], groups: list[list[int]] | None, batch: int) -> torch.Tensor:
    """Put per-group outputs back in batch order, zero-padded to the longest.

    Shape: per group (B_g, C, 1, L_g) -> (batch, C, max L_g).
    """
    if groups is None:
        return parts[0].squeeze(2)
    width = max(part.shape[-1] for part in parts)
    dtype = parts[0].dtype
    for part in parts[1:]:  # under autocast, groups (and masks) may differ in dtype
        dtype = torch.promote_types(dtype, part.dtype)
    out = parts[0].new_zeros(batch, parts[0].shape[1], width, dtype=dtype)
    for rows, part in zip(groups, parts):
        out[torch.tensor(rows, device=part.device), :, : part.shape[-1]] = part.squeeze(2).to(dtype)
    return out


class IsoCLRPreTrainedModel(PreTrainedModel):
    """Weight initialisation and the Hugging Face plumbing shared by the IsoCLR models."""

    config_class = IsoCLRConfig
    config: IsoCLRConfig
    base_model_prefix = "isoclr"
    main_input_name = "input_ids"
    _no_split_modules = ["IsoCLRLayer"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Conv1d):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            # The head's last layer starts at zero (paper's fine-tuning recipe): predictions start at
            # the target mean and the pretrained encoder gets no gradient until the head has one.
            if getattr(module, "zero_init", False):
                init.zeros_(module.weight)
            else:
                init.kaiming_uniform_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm1d):
            for ones in (module.weight, module.running_var):
                if ones is not None:
                    init.ones_(ones)
            for zeros in (module.bias, module.running_mean, module.num_batches_tracked):
                if zeros is not None:
                    init.zeros_(zeros)


class IsoCLRModel(IsoCLRPreTrainedModel):
    """The IsoCLR encoder: six (or four) input tracks -> per-position features and a pooled embedding."""

    def __init__(self, config: IsoCLRConfig) -> None:
        super().__init__(config)
        self.encoder = IsoCLREncoder(config)
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
    ) -> IsoCLRModelOutput | tuple[torch.Tensor, ...]:
        """Encode a batch.

        Args:
            input_ids: Token ids from :class:`IsoCLRTokenizer`. Shape: (batch, length).
            cds_track: 1 at each codon's first nucleotide. Shape: (batch, length).
            splice_track: 1 at each exon's last nucleotide. Shape: (batch, length).
            attention_mask: 1 at valid positions, 0 at padding (any numeric or bool dtype); each row's
                valid positions one contiguous run. Left-padded rows are moved to the start, so
                outputs are always right-padded (``output_mask`` marks the valid ones). Default:
                ``input_ids != 0``. Shape: (batch, length).
            tracks: Instead of ids: float tracks in the mRNABench/Orthrus layout.
                Shape: (batch, length, n_tracks).
            masked_positions: Positions set to ``mask_value`` in every track (augmentation).
                Shape: (batch, length).
            output_hidden_states: Also return the stem and stage outputs. Default:
                ``config.output_hidden_states``.
            return_dict: Return an :class:`IsoCLRModelOutput` (default: ``config.return_dict``);
                ``False`` gives the tuple of its fields that are set.

        Returns:
            :class:`IsoCLRModelOutput`, or a tuple with ``return_dict=False``.

        Raises:
            ValueError: On malformed input, naming the input and the rows (see :func:`validate_inputs`),
                also rows longer than ``config.max_sequence_length``.
            RuntimeError: While the weights are on the meta device (not loaded yet).
            TypeError: On an unknown argument, as for any Python function.
        """
        if output_hidden_states is None:
            output_hidden_states = bool(getattr(self.config, "output_hidden_states", False))
        if return_dict is None:
            return_dict = bool(getattr(self.config, "return_dict", True))
        require_loaded_weights(self)
        dtype = self._activation_dtype()
        inputs = validate_inputs(
            input_ids, attention_mask, cds_track, splice_track, tracks, masked_positions,
            n_tracks=self.config.n_tracks, max_length=self.config.max_sequence_length,
        )  # raises ValueError on bad input; left-padded rows come back right-padded  # fmt: skip
        if inputs.tracks is not None:
            tracks = inputs.tracks.to(dtype)
        else:
            assert inputs.input_ids is not None
            ids, cds, splice = inputs.input_ids, inputs.cds_track, inputs.splice_track
            tracks = build_tracks(self.config, ids, cds, splice, dtype)  # (B, L, T)
        if inputs.masked_positions is not None:
            tracks = tracks.masked_fill(inputs.masked_positions[..., None].bool(), self.config.mask_value)
        xs, masks, groups = self._length_groups(tracks, inputs.attention_mask, inputs.lengths)
        group_features, group_masks, stage_outputs = self.encoder(xs, masks)  # per group (B_g, C, 1, L'_g)
        batch = tracks.shape[0]
        features = _assemble(group_features, groups, batch)  # (B, C, L'), L' = ceil(longest / config.downsampling)
        ones = [torch.ones_like(f[:, :1]) if m is None else m for f, m in zip(group_features, group_masks)]
        out_mask = _assemble(ones, groups, batch)  # (B, 1, L')
        pooled = self._pool(features, out_mask)  # (B, C)
        hidden_states = None
        if output_hidden_states:
            hidden_states = tuple(_assemble(h, groups, batch).transpose(1, 2) for h in stage_outputs)  # (B, L_s, C_s)
        output = IsoCLRModelOutput(
            last_hidden_state=features.transpose(1, 2),  # (B, L', C)
            pooler_output=pooled,
            output_mask=out_mask[:, 0, :],
            hidden_states=hidden_states,
        )
        return output if return_dict else output.to_tuple()

    def _activation_dtype(self) -> torch.dtype:
        """The parameters' dtype, or in eval mode under autocast the autocast dtype: the encoder then
        runs in it throughout (folded weights cached in it, masks in it) instead of casting per op."""
        dtype = next(self.parameters()).dtype
        if self.training:
            return dtype
        device = next(self.parameters()).device.type
        try:
            enabled = torch.is_autocast_enabled(device)
            autocast_dtype = torch.get_autocast_dtype(device)
        except (TypeError, AttributeError):  # pragma: no cover - torch < 2.4
            return dtype
        return autocast_dtype if enabled and dtype == torch.float32 else dtype

    def _length_groups(
        self, tracks: torch.Tensor, attention_mask: torch.Tensor, lengths: list[int]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor | None], list[list[int]] | None]:
        """Cut the batch into length groups (see ``plan_length_groups``), each padded to its own longest row.

        Shape: tracks (B, L, T), attention_mask (B, L) right-padded, ``lengths`` its row sums -> per
        group tracks (B_g, T, 1, L_g) in channels-last layout and masks (B_g, 1, 1, L_g) or ``None``;
        and the rows of each group (``None`` for one group holding the batch in order).
        """
        groups: list[list[int]] | None = plan_length_groups(lengths, self.config.max_length_groups)
        if groups is not None and len(groups) == 1:
            groups = None  # the whole batch in its own order: no gather
        xs: list[torch.Tensor] = []
        masks: list[torch.Tensor | None] = []
        for rows in [list(range(len(lengths)))] if groups is None else groups:
            width = max(1, max(lengths[r] for r in rows))
            if groups is None:
                group_tracks, group_mask = tracks[:, :width], attention_mask[:, :width]
            else:
                index = torch.tensor(rows, device=tracks.device)
                group_tracks, group_mask = tracks[index, :width], attention_mask[index, :width]
            mask = None  # nothing padded in this group: the encoder skips masking
            if any(lengths[r] < width for r in rows):
                group_tracks = group_tracks * group_mask[..., None].to(tracks.dtype)
                mask = group_mask.to(tracks.dtype)[:, None, None, :]  # (B_g, 1, 1, L_g)
            # (B, L, T) contiguous is exactly (B, T, 1, L) in channels_last memory format.
            xs.append(group_tracks.transpose(1, 2).unsqueeze(2).contiguous(memory_format=torch.channels_last))
            masks.append(mask)
        return xs, masks, groups

    def _pool(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pool over valid positions. Shape: (B, C, L), (B, 1, L) -> (B, C)."""
        if self.config.pooling == "max":
            return features.masked_fill(mask == 0, float("-inf")).amax(dim=-1)
        return (features * mask).sum(-1) / mask.sum(-1).clamp(min=1)


class IsoCLRForSequenceClassification(SequenceClassificationMixin, IsoCLRPreTrainedModel):
    """IsoCLR encoder with a head on the pooled embedding: regression (half-life, ribosome load,
    several named targets), single-label or multi-label classification (localisation, GO terms).

    ``forward`` (labels, losses, output) is :class:`SequenceClassificationMixin`'s, shared by every
    family; its other arguments are those of :meth:`IsoCLRModel.forward`.
    """

    output_class = IsoCLRSequenceClassifierOutput

    def __init__(self, config: IsoCLRConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.isoclr = IsoCLRModel(config)  # base_model_prefix: checkpoint keys start with "isoclr."
        self.classifier = SequenceClassificationHead(config)
        self.post_init()


class IsoCLRProjectionHead(nn.Module):
    """Contrastive projection MLP: (linear -> BN -> ReLU) x (layers - 1) -> linear (paper: 3 layers, 2048)."""

    def __init__(self, config: IsoCLRConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = config.hidden_size
        for _ in range(config.projection_layers - 1):
            layers += [
                nn.Linear(width, config.projection_hidden_size),
                FiniteBatchNorm1d(config.projection_hidden_size),  # an nn.BatchNorm1d; NaN never enters its statistics
                nn.ReLU(),
            ]
            width = config.projection_hidden_size
        layers.append(nn.Linear(width, config.projection_dim))
        self.layers = nn.Sequential(*layers)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Shape: (batch, hidden_size) -> (batch, projection_dim)."""
        return self.layers(pooled)


class IsoCLRForContrastivePretraining(IsoCLRPreTrainedModel):
    """Encoder + projection MLP + weighted decoupled contrastive loss (IsoCLR pretraining).

    Both views of each pair go through the encoder in one batch. In training mode,
    ``config.mask_fraction`` of each view's valid positions are set to ``config.mask_value`` in all
    tracks, so a gene set with one transcript still gives two different views.
    """

    def __init__(self, config: IsoCLRConfig) -> None:
        super().__init__(config)
        self.isoclr = IsoCLRModel(config)
        self.projection = IsoCLRProjectionHead(config)
        self.contrastive_loss = DecoupledContrastiveLoss(temperature=config.loss_temperature)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        cds_track: torch.Tensor | None,
        splice_track: torch.Tensor | None,
        attention_mask: torch.Tensor,
        partner_input_ids: torch.Tensor,
        partner_cds_track: torch.Tensor | None,
        partner_splice_track: torch.Tensor | None,
        partner_attention_mask: torch.Tensor,
        weights: torch.Tensor | None = None,
        return_loss: bool = True,
    ) -> IsoCLRContrastiveOutput:
        """Embed both views and compute the loss.

        Args:
            input_ids, cds_track, splice_track, attention_mask: View a. Shape: (batch, length_a).
            partner_input_ids, partner_cds_track, partner_splice_track, partner_attention_mask:
                View b, row ``i`` the partner of row ``i`` of view a. Shape: (batch, length_b).
            weights: Positive-pair weights ``log(n_i + c) / Z``, finite and non-negative. Shape: (batch,).
            return_loss: Compute the loss (gathers negatives across processes). Needs at least 2 pairs
                in the global batch.

        Returns:
            :class:`IsoCLRContrastiveOutput`.

        Raises:
            ValueError: On malformed input (see :func:`validate_inputs`; the second view's names start
                with ``partner_``), views of different batch sizes, annotation tracks for one view only,
                bad weights or a single pair.
            RuntimeError: While the weights are on the meta device (not loaded yet).
        """
        n_tracks = self.config.n_tracks
        require_loaded_weights(self)
        limit = self.config.max_sequence_length
        view_a = validate_inputs(
            input_ids, attention_mask, cds_track, splice_track, n_tracks=n_tracks, max_length=limit
        )
        view_b = validate_inputs(
            partner_input_ids, partner_attention_mask, partner_cds_track, partner_splice_track,
            n_tracks=n_tracks, max_length=limit, prefix="partner_",
        )  # fmt: skip
        assert view_a.input_ids is not None and view_b.input_ids is not None
        batch = view_a.input_ids.shape[0]
        if view_b.input_ids.shape[0] != batch:
            raise ValueError(
                f"input_ids has {batch} rows but partner_input_ids has {view_b.input_ids.shape[0]}: row i of each "
                "view is the partner of row i of the other, so the two views need the same batch size."
            )
        if return_loss:  # before batch norm sees the batch
            weights = check_pairs(batch, weights)
        width = max(view_a.input_ids.shape[1], view_b.input_ids.shape[1])

        for track in ("cds_track", "splice_track"):
            if (getattr(view_a, track) is None) != (getattr(view_b, track) is None):
                raise ValueError(
                    f"{track} is given for one view only ({track}: {getattr(view_a, track) is not None}, partner_"
                    f"{track}: {getattr(view_b, track) is not None}): give it for both views or for neither."
                )

        def stack(first: torch.Tensor, second: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
            return torch.cat(
                [F.pad(first, (0, width - first.shape[1])), F.pad(second, (0, width - second.shape[1]))]
            ).to(like.dtype)  # (2B, L)

        def annotation(first: torch.Tensor | None, second: torch.Tensor | None) -> torch.Tensor | None:
            return None if first is None or second is None else stack(first, second, ids)

        ids = stack(view_a.input_ids, view_b.input_ids, view_a.input_ids)
        mask = stack(view_a.attention_mask, view_b.attention_mask, view_a.attention_mask)  # uint8, right-padded
        masked = None
        if self.training and self.config.mask_fraction > 0:
            masked = random_position_mask(mask, self.config.mask_fraction)
        encoded = self.base_model(
            input_ids=ids,
            cds_track=annotation(view_a.cds_track, view_b.cds_track),
            splice_track=annotation(view_a.splice_track, view_b.splice_track),
            attention_mask=mask,
            masked_positions=masked,
            return_dict=True,
        )
        projections = self.projection(encoded.pooler_output)  # (2B, P)
        loss = None
        if return_loss:
            loss = self.contrastive_loss(projections[:batch], projections[batch:], weights)
        return IsoCLRContrastiveOutput(
            loss=loss,
            embeddings=encoded.pooler_output[:batch],
            partner_embeddings=encoded.pooler_output[batch:],
            projections=projections[:batch],
            partner_projections=projections[batch:],
        )


IsoCLRModel.register_for_auto_class("AutoModel")
IsoCLRForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")

__all__ = [
    "IsoCLRContrastiveOutput",
    "IsoCLRForContrastivePretraining",
    "IsoCLRForSequenceClassification",
    "IsoCLRModel",
    "IsoCLRModelOutput",
    "IsoCLRPreTrainedModel",
    "IsoCLRSequenceClassifierOutput",
]
