"""IsoCLR models: the dilated residual CNN encoder, a downstream head and the contrastive model.

Remote code: copied next to the weights by ``save_pretrained``; imports only torch, transformers and
its siblings. It imports every sibling that any of them needs *directly* (``vocabulary_isoclr.py``
too), because transformers 4.x copies only the direct relative imports of a local folder's module.

The CNN itself is in ``encoder_isoclr.py``. Everything returned to the user is channels-last
``(batch, length, channels)`` like other Hugging Face models.

Padding invariance: every layer's output is multiplied by the valid-position mask of its resolution,
batch norm statistics in training count valid positions only, and pooling averages valid positions
only. In eval mode a transcript's embedding is therefore the same alone or in any batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_isoclr import IsoCLRConfig
from .encoder_isoclr import IsoCLREncoder, build_tracks, plan_length_groups, random_position_mask
from .loss_isoclr import DecoupledContrastiveLoss
from .vocabulary_isoclr import VOCABULARY

VOCABULARY_SIZE = len(VOCABULARY)  # token ids run from 0 (padding) to VOCABULARY_SIZE - 1

try:  # transformers >= 5: init functions that skip weights already loaded from a checkpoint
    from transformers import initialization as init
except ImportError:  # pragma: no cover - older transformers never re-initialise loaded weights
    from torch.nn import init  # type: ignore[no-redef]

@dataclass
class IsoCLRModelOutput(ModelOutput):
    """Output of :class:`IsoCLRModel`.

    Attributes:
        last_hidden_state: Final activations. Shape: (batch, ceil(length/32), hidden_size).
        pooler_output: Embedding pooled over valid positions. Shape: (batch, hidden_size).
        output_mask: 1 where ``last_hidden_state`` covers the sequence. Shape: (batch, ceil(length/32)).
        hidden_states: Stem output and each stage's output, channels-last, when requested.
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    output_mask: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


@dataclass
class IsoCLRSequenceClassifierOutput(ModelOutput):
    """Output of :class:`IsoCLRForSequenceClassification`.

    Attributes:
        loss: MSE on normalised targets (regression, NaN labels ignored), cross-entropy (single
            label) or binary cross-entropy (multi-label), when ``labels`` are given.
        logits: Head output; for regression in normalised units. Shape: (batch, num_labels).
        predictions: Regression predictions in the targets' original units (``logits * std + mean``);
            ``None`` for classification. Shape: (batch, num_labels).
        embeddings: The pooled encoder embedding. Shape: (batch, hidden_size).
        hidden_states: As in :class:`IsoCLRModelOutput`, when requested.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    predictions: torch.Tensor | None = None
    embeddings: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


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
    _no_split_modules = ["IsoCLRResidualBlock"]

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
        **kwargs: object,
    ) -> IsoCLRModelOutput:
        """Encode a batch.

        Args:
            input_ids: Token ids from :class:`IsoCLRTokenizer`. Shape: (batch, length).
            cds_track: 1 at each codon's first nucleotide. Shape: (batch, length).
            splice_track: 1 at each exon's last nucleotide. Shape: (batch, length).
            attention_mask: 1 at valid positions, 0 at padding. Shape: (batch, length).
            tracks: Instead of ids: float tracks in the mRNABench/Orthrus layout.
                Shape: (batch, length, n_tracks).
            masked_positions: Positions set to ``mask_value`` in every track (augmentation).
                Shape: (batch, length).
            output_hidden_states: Also return the stem and stage outputs.
            return_dict: Accepted for API compatibility; the output is always a ``ModelOutput``.

        Returns:
            :class:`IsoCLRModelOutput`.
        """
        dtype = next(self.parameters()).dtype
        if (input_ids is None) == (tracks is None):
            raise ValueError("Pass either input_ids (from the tokenizer) or tracks, exactly one of them.")
        if tracks is not None:
            if tracks.shape[-1] != self.config.n_tracks:
                raise ValueError(
                    f"tracks have {tracks.shape[-1]} channels but the model expects {self.config.n_tracks}."
                )
            tracks = tracks.to(dtype)
            if attention_mask is None:
                attention_mask = torch.ones(tracks.shape[:2], device=tracks.device, dtype=torch.long)
        else:
            assert input_ids is not None
            if attention_mask is None:
                attention_mask = (input_ids != 0).long()
            tracks = build_tracks(self.config, input_ids, cds_track, splice_track, dtype)  # (B, L, T)
        if masked_positions is not None:
            tracks = tracks.masked_fill(masked_positions[..., None].bool(), self.config.mask_value)
        xs, masks, groups = self._length_groups(tracks, attention_mask)
        group_features, group_masks, stage_outputs = self.encoder(xs, masks)  # per group (B_g, C, 1, L'_g)
        batch = tracks.shape[0]
        features = _assemble(group_features, groups, batch)  # (B, C, L'), L' = ceil(longest / 32)
        ones = [torch.ones_like(f[:, :1]) if m is None else m for f, m in zip(group_features, group_masks)]
        out_mask = _assemble(ones, groups, batch)  # (B, 1, L')
        pooled = self._pool(features, out_mask)  # (B, C)
        hidden_states = None
        if output_hidden_states:
            hidden_states = tuple(_assemble(h, groups, batch).transpose(1, 2) for h in stage_outputs)  # (B, L_s, C_s)
        return IsoCLRModelOutput(
            last_hidden_state=features.transpose(1, 2),  # (B, L', C)
            pooler_output=pooled,
            output_mask=out_mask[:, 0, :],
            hidden_states=hidden_states,
        )

    def _length_groups(
        self, tracks: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[list[torch.Tensor], list[torch.Tensor | None], list[list[int]] | None]:
        """Cut the batch into length groups (see ``plan_length_groups``), each padded to its own longest row.

        Shape: tracks (B, L, T), attention_mask (B, L) -> per group tracks (B_g, T, 1, L_g) in
        channels-last layout and masks (B_g, 1, 1, L_g) or ``None``; and the rows of each group
        (``None`` for one group holding the batch in order).
        """
        lengths = attention_mask.sum(1).tolist()
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


class IsoCLRClassificationHead(nn.Module):
    """Pooled embedding -> dropout -> [linear -> ReLU -> dropout] -> linear to ``num_labels``."""

    def __init__(self, config: IsoCLRConfig) -> None:
        super().__init__()
        self.dropout = nn.Dropout(config.classifier_dropout)
        width = config.hidden_size
        self.hidden: nn.Linear | None = None
        hidden_size = config.classifier_hidden_size
        if hidden_size is not None:
            self.hidden = nn.Linear(width, hidden_size)
            width = hidden_size
        self.out_proj = nn.Linear(width, int(config.num_labels))  # type: ignore[arg-type]
        setattr(self.out_proj, "zero_init", config.classifier_zero_init)  # read by _init_weights  # noqa: B010

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Shape: (batch, hidden_size) -> (batch, num_labels)."""
        x = self.dropout(pooled)
        if self.hidden is not None:
            x = self.dropout(F.relu(self.hidden(x)))
        return self.out_proj(x)


class IsoCLRForSequenceClassification(IsoCLRPreTrainedModel):
    """IsoCLR encoder with a head on the pooled embedding: regression (half-life, ribosome load,
    several named targets), single-label or multi-label classification (localisation, GO terms).

    For regression, labels are given in their original units; ``config.target_mean`` and
    ``config.target_std`` (when set) normalise them for the loss, and ``predictions`` come back in
    original units.
    """

    def __init__(self, config: IsoCLRConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.isoclr = IsoCLRModel(config)
        self.classifier = IsoCLRClassificationHead(config)
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
        **kwargs: object,
    ) -> IsoCLRSequenceClassifierOutput:
        """Predict from a batch; inputs as in :meth:`IsoCLRModel.forward`.

        Args:
            labels: Regression targets in original units, shape (batch,) or (batch, num_labels),
                NaN where unmeasured; class indices (batch,); or multi-hot (batch, num_labels).

        Returns:
            :class:`IsoCLRSequenceClassifierOutput`.
        """
        encoded = self.isoclr(
            input_ids=input_ids,
            cds_track=cds_track,
            splice_track=splice_track,
            attention_mask=attention_mask,
            tracks=tracks,
            output_hidden_states=output_hidden_states,
        )
        logits = self.classifier(encoded.pooler_output)  # (B, num_labels)
        problem = self._problem_type(labels)
        predictions = None
        if problem == "regression":
            mean, std = self._target_stats(logits)
            predictions = logits * std + mean  # original units
        loss = None
        if labels is not None:
            loss = self._loss(problem, logits, labels)
        return IsoCLRSequenceClassifierOutput(
            loss=loss,
            logits=logits,
            predictions=predictions,
            embeddings=encoded.pooler_output,
            hidden_states=encoded.hidden_states,
        )

    def _loss(self, problem: str, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if problem == "regression":
            mean, std = self._target_stats(logits)
            targets = labels.to(logits.dtype).reshape(logits.shape)
            normalised = (targets - mean) / std
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


class IsoCLRProjectionHead(nn.Module):
    """Contrastive projection MLP: (linear -> BN -> ReLU) x (layers - 1) -> linear (paper: 3 layers, 2048)."""

    def __init__(self, config: IsoCLRConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = config.hidden_size
        for _ in range(config.projection_layers - 1):
            layers += [
                nn.Linear(width, config.projection_hidden_size),
                nn.BatchNorm1d(config.projection_hidden_size),
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
        **kwargs: object,
    ) -> IsoCLRContrastiveOutput:
        """Embed both views and compute the loss.

        Args:
            input_ids, cds_track, splice_track, attention_mask: View a. Shape: (batch, length_a).
            partner_input_ids, partner_cds_track, partner_splice_track, partner_attention_mask:
                View b, row ``i`` the partner of row ``i`` of view a. Shape: (batch, length_b).
            weights: Positive-pair weights ``log(n_i + c) / Z``. Shape: (batch,).
            return_loss: Compute the loss (gathers negatives across processes).

        Returns:
            :class:`IsoCLRContrastiveOutput`.
        """
        batch = input_ids.shape[0]
        width = max(input_ids.shape[1], partner_input_ids.shape[1])

        def stack(first: torch.Tensor | None, second: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
            first = torch.zeros_like(input_ids) if first is None else first
            second = torch.zeros_like(partner_input_ids) if second is None else second
            return torch.cat(
                [F.pad(first, (0, width - first.shape[1])), F.pad(second, (0, width - second.shape[1]))]
            ).to(like.dtype)  # (2B, L)

        ids = stack(input_ids, partner_input_ids, input_ids)
        mask = stack(attention_mask, partner_attention_mask, attention_mask)
        masked = None
        if self.training and self.config.mask_fraction > 0:
            masked = random_position_mask(mask, self.config.mask_fraction)
        encoded = self.isoclr(
            input_ids=ids,
            cds_track=stack(cds_track, partner_cds_track, input_ids),
            splice_track=stack(splice_track, partner_splice_track, input_ids),
            attention_mask=mask,
            masked_positions=masked,
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
    "random_position_mask",
]
