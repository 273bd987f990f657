"""Fine-tuning for multi-label classification: binary cross-entropy on the logits of every class.

The head is :class:`~isoclr_hf.models.isoclr.modeling_isoclr.IsoCLRForSequenceClassification` with
``problem_type="multi_label_classification"`` (its loss is ``binary_cross_entropy_with_logits``);
the hyperparameters are the regression fine-tuning's
(:class:`~isoclr_hf.training.fine_tuning.FineTuneSettings`: Adam, encoder learning rate from a grid,
head learning rate, per-epoch exponential decay). The learning rate and the epoch are chosen on
the validation split's macro AUROC instead of its MSE. IsoCLR folders only: the classification
config is built from this package's ``IsoCLRConfig``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from ..annotations.records import TranscriptRecord, tokenize_records
from ..models.isoclr.configuration_isoclr import IsoCLRConfig
from ..models.isoclr.modeling_isoclr import IsoCLRForSequenceClassification
from ..training.fine_tuning import FineTuneSettings, train_epoch
from . import loading
from .embedding import length_sorted_batches
from .metrics import multilabel_metrics


@dataclass
class MultiLabelFineTuneHistory:
    """The kept run: per-epoch training loss and validation macro AUROC, the chosen rate and epoch."""

    train_loss: list[float] = field(default_factory=list)
    validation_auroc: list[float] = field(default_factory=list)
    best_epoch: int = -1
    steps: int = 0
    learning_rate: float = math.nan
    grid_validation_auroc: dict[float, float] = field(default_factory=dict)
    best_validation_auroc: float = -math.inf


def multilabel_config(base: IsoCLRConfig, label_names: list[str]) -> IsoCLRConfig:
    """A copy of ``base`` set up for multi-label classification over ``label_names``."""
    config = copy.deepcopy(base)
    config.num_labels = len(label_names)
    config.id2label = dict(enumerate(label_names))
    config.label2id = {name: i for i, name in enumerate(label_names)}
    config.problem_type = "multi_label_classification"
    config.target_names = None
    config.target_mean = None
    config.target_std = None
    config.architectures = ["IsoCLRForSequenceClassification"]
    return config


def build_multilabel_model(
    model_path: str | Path, label_names: list[str], *, pretrained: bool = True, seed: int = 0,
    trust_remote_code: bool = False,
) -> IsoCLRForSequenceClassification:
    """A multi-label head on the encoder at ``model_path`` (or the same architecture freshly initialised).

    Raises:
        ValueError: for a model folder that is not an IsoCLR model.
    """
    path = loading.resolve_model_path(model_path)
    loading.check_remote_code_allowed(path, trust_remote_code)
    if not loading.is_isoclr_folder(path):
        raise ValueError(f"{path}: fine-tuning for classification supports IsoCLR model folders only; evaluate "
                         "this model with probes (leave out --fine-tune).")
    config = multilabel_config(loading.load_isoclr_config(path), label_names)
    torch.manual_seed(seed)
    model = IsoCLRForSequenceClassification(config)
    if pretrained:
        loading.load_isoclr_weights(model.isoclr, path)
    return model


def multilabel_batch(tokenizer: PreTrainedTokenizerBase, records: list[TranscriptRecord],
                     labels: np.ndarray | None) -> dict[str, torch.Tensor]:
    """A tokenized batch (5' end kept for long transcripts) with float multi-hot ``labels`` when given."""
    batch = dict(tokenize_records(tokenizer, records, truncation=True))
    if labels is not None:
        batch["labels"] = torch.as_tensor(np.asarray(labels), dtype=torch.float32)  # (B, k)
    return batch


def predict_multilabel(model: IsoCLRForSequenceClassification, tokenizer: PreTrainedTokenizerBase,
                       records: list[TranscriptRecord], *, batch_size: int = 64) -> np.ndarray:
    """Class probabilities in input order. Shape: (len(records), num_labels)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    result = np.zeros((len(records), int(model.config.num_labels)))
    try:
        with torch.no_grad():
            for indices in length_sorted_batches([len(r.sequence) for r in records], batch_size=batch_size):
                batch = multilabel_batch(tokenizer, [records[i] for i in indices], None)
                logits = model(**{k: v.to(device) for k, v in batch.items()}).logits  # (B, k)
                result[indices] = torch.sigmoid(logits).float().cpu().numpy()
    finally:
        model.train(was_training)
    return result


def _optimizer(model: IsoCLRForSequenceClassification, settings: FineTuneSettings,
               rate: float) -> torch.optim.Optimizer:
    head = list(model.classifier.parameters())
    head_ids = {id(p) for p in head}
    encoder = [p for p in model.parameters() if id(p) not in head_ids]
    return torch.optim.AdamW([{"params": encoder, "lr": rate, "weight_decay": 0.0},
                              {"params": head, "lr": settings.head_learning_rate,
                               "weight_decay": settings.head_weight_decay}])


def fine_tune_multilabel(
    model: IsoCLRForSequenceClassification,
    tokenizer: PreTrainedTokenizerBase,
    train_records: list[TranscriptRecord],
    train_labels: np.ndarray,
    validation_records: list[TranscriptRecord],
    validation_labels: np.ndarray,
    label_names: list[str],
    *,
    settings: FineTuneSettings | None = None,
    accelerator: Accelerator | None = None,
    progress: bool = True,
) -> tuple[IsoCLRForSequenceClassification, MultiLabelFineTuneHistory]:
    """Fine-tune all weights with BCE; keep the learning rate and epoch best on validation macro AUROC.

    Args:
        model: A multi-label head (:func:`build_multilabel_model`).
        tokenizer: The model's tokenizer.
        train_records, train_labels: Training split; labels 0/1, shape (n, k).
        validation_records, validation_labels: Validation split, for choosing the rate and the epoch.
        label_names: Class names (for the metrics).
        settings: Hyperparameters (``learning_rates`` is the grid; empty: ``learning_rate`` alone).
        accelerator: An ``Accelerator``; a default one when ``None``.
        progress: Show a tqdm bar.

    Returns:
        The unwrapped model with the chosen run's best weights, in eval mode, and its history.
    """
    settings = settings or FineTuneSettings()
    accelerator = accelerator or Accelerator()
    if len(train_records) == 0 or len(validation_records) == 0:
        raise ValueError("Fine-tuning needs non-empty training and validation splits.")
    start = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    best_state: dict[str, torch.Tensor] | None = None
    best = MultiLabelFineTuneHistory()
    grid: dict[float, float] = {}
    for rate in tuple(settings.learning_rates) or (settings.learning_rate,):
        model.load_state_dict(start)
        history = MultiLabelFineTuneHistory(learning_rate=rate)
        order = torch.Generator().manual_seed(settings.seed)
        loader = torch.utils.data.DataLoader(
            list(range(len(train_records))), batch_size=settings.batch_size, shuffle=True, generator=order,
            collate_fn=lambda ids: multilabel_batch(tokenizer, [train_records[i] for i in ids], train_labels[ids]),
            drop_last=len(train_records) > settings.batch_size)  # no tiny last batch for batch norm
        optimizer = _optimizer(model, settings, rate)
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=settings.lr_decay)
        prepared, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
        bar = tqdm(total=settings.epochs * len(loader), desc=f"fine-tuning (lr {rate:g})", unit="step",
                   disable=not progress)
        for epoch in range(settings.epochs):
            losses = train_epoch(prepared, loader, optimizer, accelerator, history, bar, settings.max_steps)
            scheduler.step()
            unwrapped = accelerator.unwrap_model(prepared)
            scores = predict_multilabel(unwrapped, tokenizer, validation_records, batch_size=2 * settings.batch_size)
            auroc = multilabel_metrics(scores, validation_labels, label_names)["auroc_macro"]
            auroc = -math.inf if math.isnan(auroc) else auroc
            history.train_loss.append(float(np.mean(losses)) if losses else math.nan)
            history.validation_auroc.append(auroc)
            if auroc > history.best_validation_auroc:
                history.best_validation_auroc, history.best_epoch = auroc, epoch
                if auroc > best.best_validation_auroc:
                    best_state = {k: v.detach().cpu().clone() for k, v in unwrapped.state_dict().items()}
            if settings.max_steps is not None and history.steps >= settings.max_steps:
                break
        bar.close()
        grid[rate] = history.best_validation_auroc
        if history.best_validation_auroc > best.best_validation_auroc or best.best_epoch < 0:
            best = history
    model = accelerator.unwrap_model(model)
    if best_state is not None:
        model.load_state_dict(best_state)
    best.grid_validation_auroc = grid
    return model.eval(), best


__all__ = ["MultiLabelFineTuneHistory", "build_multilabel_model", "fine_tune_multilabel", "multilabel_batch",
           "multilabel_config", "predict_multilabel"]
