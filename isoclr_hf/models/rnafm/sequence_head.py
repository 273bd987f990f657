"""One downstream head for every model family: the head module, its label checks, losses and output.

Remote code: copied next to the weights; imports only torch and transformers (no sibling), so any
family's configuration and modeling files can import it directly. Every family folder holds a
byte-identical copy (``tests/models/test_shared_files.py`` holds them equal, as transformers'
``check_copies`` does): edit the IsoCLR copy and copy it over.

What a family provides (see ``IsoCLRForSequenceClassification``, a few lines):

- its config calls :func:`init_shared_fields` before ``PretrainedConfig.__init__`` and
  :func:`validate_shared_fields` after it: the 13 fields below, stored and checked in one place;
- its encoder (``base_model_prefix`` names it) returns ``pooler_output`` of shape
  ``(batch, config.hidden_size)`` and, on request, ``hidden_states``;
- its ``ForSequenceClassification`` mixes :class:`SequenceClassificationMixin` in before its
  ``PreTrainedModel``, builds the encoder under ``base_model_prefix`` and a
  :class:`SequenceClassificationHead` as ``classifier``, and names its output class;
- its ``_init_weights`` zeroes an ``nn.Linear`` whose ``zero_init`` attribute is true (the head's
  last layer, when ``config.classifier_zero_init``).

The head reaches the encoder through transformers' ``base_model``, never a family's attribute name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers.utils import ModelOutput

PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")

# The fields every family's config carries besides its encoder's: the contrastive projection head,
# loss and masking augmentation, and the downstream head with its targets. Name -> default.
SHARED_CONFIG_DEFAULTS: dict[str, Any] = {
    "projection_hidden_size": 2048,  # paper: 3-layer MLP, hidden 2048, BN, ReLU
    "projection_dim": 512,
    "projection_layers": 3,  # paper
    "loss_temperature": 0.1,  # paper (not `temperature`: transformers reserves it for generation)
    "gene_set_weight_constant": 0.4,  # paper Eq. 3: c in log(n + c) / Z
    "mask_fraction": 0.15,  # paper: 15% of each view's valid positions masked
    "mask_value": 0.25,  # written into all tracks at masked positions
    "classifier_dropout": 0.0,
    "classifier_hidden_size": None,  # None: a linear head
    "classifier_zero_init": True,  # paper's fine-tuning: the final layer starts at zero
    "target_names": None,  # one name per regression target
    "target_mean": None,  # per-target mean that normalises labels; predictions in original units
    "target_std": None,  # per-target standard deviation
}


def _optional_list(values: Any, convert: type) -> list | None:
    return None if values is None else [convert(value) for value in values]


def init_shared_fields(config: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Store the shared fields on ``config``, taking them out of ``kwargs`` (defaults where absent).

    Call before ``PretrainedConfig.__init__(**kwargs)``: with ``target_names`` and no ``num_labels``
    or ``id2label``, the labels are named after the targets. Returns ``kwargs`` without the fields.
    """
    values = {name: kwargs.pop(name, default) for name, default in SHARED_CONFIG_DEFAULTS.items()}
    for name in ("projection_hidden_size", "projection_dim", "projection_layers"):
        setattr(config, name, int(values[name]))
    for name in ("loss_temperature", "gene_set_weight_constant", "mask_fraction", "mask_value", "classifier_dropout"):
        setattr(config, name, float(values[name]))
    hidden = values["classifier_hidden_size"]
    config.classifier_hidden_size = None if hidden is None else int(hidden)
    config.classifier_zero_init = bool(values["classifier_zero_init"])
    config.target_names = _optional_list(values["target_names"], str)
    config.target_mean = _optional_list(values["target_mean"], float)
    config.target_std = _optional_list(values["target_std"], float)
    if config.target_names is not None and "num_labels" not in kwargs and "id2label" not in kwargs:
        kwargs["id2label"] = dict(enumerate(config.target_names))
    return kwargs


def validate_shared_fields(config: Any) -> None:
    """Check the shared fields; raise ``ValueError`` naming the field, its value and what is allowed."""
    sizes = ("projection_hidden_size", "projection_dim", "projection_layers")
    positive = {name: getattr(config, name) for name in sizes}
    if config.classifier_hidden_size is not None:
        positive["classifier_hidden_size"] = config.classifier_hidden_size
    for name, value in positive.items():
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}.")
    for name in ("classifier_dropout", "mask_fraction"):
        fraction = getattr(config, name)
        if not 0.0 <= fraction < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {fraction}.")
    if not config.loss_temperature > 0:
        raise ValueError(f"loss_temperature must be positive, got {config.loss_temperature}.")
    if not config.gene_set_weight_constant >= 0:
        raise ValueError(f"gene_set_weight_constant must be >= 0, got {config.gene_set_weight_constant}.")
    for name in ("target_names", "target_mean", "target_std"):
        values = getattr(config, name)
        if values is not None and len(values) != config.num_labels:
            raise ValueError(f"{name} has {len(values)} values but the model predicts {config.num_labels} labels.")
    for name in ("target_mean", "target_std"):
        values = getattr(config, name)
        if values is not None and not all(math.isfinite(v) for v in values):
            raise ValueError(f"{name} must be finite, got {values}.")
    if config.target_std is not None and any(s <= 0 for s in config.target_std):
        raise ValueError(f"target_std must be positive, got {config.target_std}.")


def describe_rows(bad: torch.Tensor) -> str:
    """Name the rows where a ``(batch,)`` boolean tensor is true: ``"row 3"``, ``"rows 0, 4, 7 and 2 more"``.

    Used by every family's input and label checks (it lives here because this file imports no sibling).
    """
    rows = bad.nonzero().flatten()
    shown = ", ".join(str(row) for row in rows[:5].tolist())
    more = f" and {rows.numel() - 5} more" if rows.numel() > 5 else ""
    return f"{'row' if rows.numel() == 1 else 'rows'} {shown}{more}"


@dataclass
class SequenceHeadOutput(ModelOutput):
    """Output of every family's ``ForSequenceClassification`` (each names a subclass after itself).

    Attributes:
        loss: MSE on normalised targets (regression, NaN labels ignored), cross-entropy (single
            label) or binary cross-entropy (multi-label), when ``labels`` are given.
        logits: Head output; for regression in normalised units. Shape: (batch, num_labels).
        predictions: Regression predictions in the targets' original units (``logits * std + mean``);
            ``None`` for classification. Shape: (batch, num_labels).
        embeddings: The pooled encoder embedding. Shape: (batch, hidden_size).
        hidden_states: The encoder's hidden states, when requested.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    predictions: torch.Tensor | None = None
    embeddings: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


class SequenceClassificationHead(nn.Module):
    """Pooled embedding -> dropout -> [linear -> ReLU -> dropout] -> linear to ``num_labels``.

    The last layer carries ``zero_init`` (``config.classifier_zero_init``), which each family's
    ``_init_weights`` reads: a zero last layer predicts the target mean at the start.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.dropout = nn.Dropout(config.classifier_dropout)
        width = config.hidden_size
        self.hidden: nn.Linear | None = None
        if config.classifier_hidden_size is not None:
            self.hidden = nn.Linear(width, config.classifier_hidden_size)
            width = config.classifier_hidden_size
        self.out_proj = nn.Linear(width, int(config.num_labels))
        setattr(self.out_proj, "zero_init", config.classifier_zero_init)  # read by _init_weights  # noqa: B010

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Shape: (batch, hidden_size) -> (batch, num_labels)."""
        x = self.dropout(pooled)
        if self.hidden is not None:
            x = self.dropout(F.relu(self.hidden(x)))
        return self.out_proj(x)


def problem_type(config: Any, labels: torch.Tensor | None) -> str:
    """``config.problem_type`` if set; else regression for one label or named targets, else single-label
    classification for integer labels (or none) and multi-label classification for float ones."""
    if config.problem_type is not None:
        return config.problem_type
    if config.num_labels == 1 or config.target_names is not None:
        return "regression"
    if labels is not None and labels.dtype in (torch.long, torch.int):
        return "single_label_classification"
    return "multi_label_classification" if labels is not None else "single_label_classification"


def target_stats(config: Any, reference: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The targets' mean and std (0 and 1 where unset), in ``reference``'s dtype and device. Shape: (num_labels,)."""
    n = int(config.num_labels)
    mean = config.target_mean if config.target_mean is not None else [0.0] * n
    std = config.target_std if config.target_std is not None else [1.0] * n
    return reference.new_tensor(mean), reference.new_tensor(std)


def check_labels(config: Any, problem: str, labels: torch.Tensor, batch: int) -> torch.Tensor:
    """Check the labels' shape, dtype and values for ``problem``; raise ``ValueError`` naming the rows if wrong.

    Regression: ``(batch, num_labels)``, or ``(batch,)`` when ``num_labels == 1``; NaN marks an
    unmeasured target, infinities are refused. Single-label classification: ``(batch,)`` (or
    ``(batch, 1)``) integer class indices in ``[0, num_labels)``, or -100 to ignore a row.
    Multi-label classification: ``(batch, num_labels)`` targets in ``[0, 1]`` (0/1, or soft).
    """
    if problem not in PROBLEM_TYPES:
        raise ValueError(f"problem_type={problem!r} is not supported; use {', '.join(PROBLEM_TYPES)}.")
    n = int(config.num_labels)
    shape = tuple(labels.shape)
    if problem == "regression":
        allowed = [(batch, n)] + ([(batch,)] if n == 1 else [])
        expected = f"(batch, num_labels) = ({batch}, {n})" + (f" or (batch,) = ({batch},)" if n == 1 else "")
    elif problem == "single_label_classification":
        allowed, expected = [(batch,), (batch, 1)], f"(batch,) = ({batch},) of class indices"
    else:
        allowed, expected = [(batch, n)], f"(batch, num_labels) = ({batch}, {n})"
        if shape == (batch,):
            expected += " (for single-label classification pass integer class indices)"
    if shape not in allowed:
        raise ValueError(f"labels for {problem} must have shape {expected}; got {shape}.")
    if labels.is_complex():
        raise ValueError(f"labels must be real-valued; got dtype {labels.dtype}.")
    if problem == "single_label_classification":
        if labels.is_floating_point() or labels.dtype == torch.bool:
            raise ValueError(
                f"labels for single-label classification must be integer class indices; got dtype {labels.dtype}."
            )
        bad = ((labels < 0) | (labels >= n)) & (labels != -100)
        message = f"class indices must lie in [0, {n}) (or be -100 to ignore a row)"
    elif problem == "regression":
        bad = torch.isinf(labels) if labels.is_floating_point() else torch.zeros_like(labels, dtype=torch.bool)
        message = "regression targets must be finite (NaN marks an unmeasured target)"
    else:
        values = labels.float()
        bad = ~((values >= 0) & (values <= 1))  # NaN included
        message = "multi-label targets must lie in [0, 1]"
    bad_rows = bad.reshape(batch, -1).any(1)
    if bool(bad_rows.any()):
        row = int(bad_rows.nonzero()[0, 0])
        detail = f"row {row}: {labels[row].tolist()}"
        raise ValueError(f"{message}. Offending: {describe_rows(bad_rows)} of the batch ({detail}).")
    return labels


def head_loss(config: Any, problem: str, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The loss of checked ``labels`` (see :func:`check_labels`). Shape: logits (batch, num_labels) -> ()."""
    if problem == "regression":
        mean, std = target_stats(config, logits)
        normalised = (labels.to(logits.dtype).reshape(logits.shape) - mean) / std
        measured = ~torch.isnan(normalised)
        if not bool(measured.any()):
            return (logits * 0.0).sum()  # no measured target: zero, with a graph
        return F.mse_loss(logits[measured], normalised[measured])
    if problem == "single_label_classification":
        return F.cross_entropy(logits, labels.long().view(-1))
    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))


def _batch_size(inputs: tuple[Any, ...]) -> int | None:
    """Rows of the first batched tensor among the encoder inputs (``None`` if there is none: the encoder says why)."""
    for value in inputs:
        if isinstance(value, torch.Tensor) and value.dim() >= 2:
            return int(value.shape[0])
    return None


class SequenceClassificationMixin:
    """``forward`` of a family's ``ForSequenceClassification``: encoder -> pooled embedding -> head -> loss.

    Mix in before the family's ``PreTrainedModel``; the family builds ``self.<base_model_prefix>``
    (the encoder) and ``self.classifier`` (a :class:`SequenceClassificationHead`) and sets
    ``output_class``. Regression labels are given in original units; ``config.target_mean`` and
    ``config.target_std`` (when set) normalise them for the loss, and ``predictions`` come back in
    original units.
    """

    output_class: type[SequenceHeadOutput] = SequenceHeadOutput
    config: Any
    base_model: nn.Module
    classifier: SequenceClassificationHead

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        *,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **encoder_inputs: Any,
    ) -> SequenceHeadOutput | tuple[torch.Tensor, ...]:
        """Predict from a batch.

        Args:
            input_ids: As in the encoder's ``forward``. Shape: (batch, length).
            labels: Regression targets in original units, shape (batch,) or (batch, num_labels),
                NaN where unmeasured; class indices (batch,); or multi-hot (batch, num_labels).
                Checked before the encoder sees the batch (so batch norm never sees a refused one).
            output_hidden_states: Also return the encoder's hidden states.
            return_dict: Return the output class (default: ``config.return_dict``); ``False`` gives
                the tuple of its fields that are set.
            **encoder_inputs: The encoder's other inputs, by name (``attention_mask``, ``cds_track``,
                ``splice_track``, ``tracks``, ...).

        Returns:
            ``output_class``, or a tuple with ``return_dict=False``.

        Raises:
            ValueError: On malformed labels (shape, dtype, values; naming the rows) or inputs.
            TypeError: On an input the encoder does not take.
        """
        if return_dict is None:
            return_dict = bool(getattr(self.config, "return_dict", True))
        if labels is not None and not isinstance(labels, torch.Tensor):
            labels = torch.as_tensor(labels)
        problem = problem_type(self.config, labels)
        batch = _batch_size((input_ids, *encoder_inputs.values()))
        if labels is not None and batch is not None:
            labels = check_labels(self.config, problem, labels, batch)
        encoded = self.base_model(
            input_ids=input_ids, output_hidden_states=output_hidden_states, return_dict=True, **encoder_inputs
        )
        logits = self.classifier(encoded.pooler_output)  # (B, num_labels)
        predictions = None
        if problem == "regression":
            mean, std = target_stats(self.config, logits)
            predictions = logits * std + mean  # original units
        loss = None
        if labels is not None:
            loss = head_loss(self.config, problem, logits, labels.to(logits.device))
        output = self.output_class(
            loss=loss,
            logits=logits,
            predictions=predictions,
            embeddings=encoded.pooler_output,
            hidden_states=encoded.hidden_states,
        )
        return output if return_dict else output.to_tuple()


__all__ = [
    "PROBLEM_TYPES",
    "SHARED_CONFIG_DEFAULTS",
    "SequenceClassificationHead",
    "SequenceClassificationMixin",
    "SequenceHeadOutput",
    "check_labels",
    "describe_rows",
    "head_loss",
    "init_shared_fields",
    "problem_type",
    "target_stats",
    "validate_shared_fields",
]
