"""Full fine-tuning of a regression head (``IsoCLRForSequenceClassification``) with accelerate.

The recipe follows the IsoCLR paper: the head's last layer starts at zero (``classifier_zero_init``),
Adam, exponential learning-rate decay of 0.95 per epoch, and no weight decay on the pretrained
encoder. Where it departs from the paper (the encoder's learning rate), the reason is given on
:class:`FineTuneSettings`. The encoder's learning rate is chosen from a small grid
(``FineTuneSettings.learning_rates``) on the validation split, and within each run the best epoch
on the validation split is kept. The run is compared with predicting the training mean on the
validation split: :attr:`FineTuneHistory.worse_than_mean` says when fine-tuning did not beat it.

:func:`run_fine_tuning` is the whole procedure of ``training/finetune.py`` (task -> grouped split ->
fine-tuned head saved with its test metrics); ``isoclr evaluate`` calls :func:`fine_tune` directly for
the side-by-side comparison.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase
from transformers.utils import logging as transformers_logging

from ..annotations.records import TranscriptRecord, tokenize_records
from ..evaluation import loading
from ..evaluation.embedding import length_sorted_batches
from ..evaluation.loading import load_tokenizer  # re-exported: the tokenizer of a head's encoder folder
from ..models.isoclr import IsoCLRConfig, IsoCLRForSequenceClassification

# Encoder learning rates tried on the validation split.
DEFAULT_LEARNING_RATES = (1e-4, 3e-4, 1e-3)


@dataclass
class FineTuneSettings:
    """Fine-tuning hyperparameters.

    Attributes:
        epochs: Passes over the training split.
        batch_size: Examples per optimisation step (per process).
        learning_rate: Adam learning rate of the encoder when ``learning_rates`` is empty. The paper
            uses 0.01 for all weights; the default here is 1e-3, because 0.01 made the briefly
            pretrained demo encoder diverge on the bundled half-life task.
        learning_rates: Encoder learning rates tried, one full run each from the same starting
            weights; the run with the lowest validation MSE (at its best epoch) is kept. Empty: only
            ``learning_rate``. The runtime grows with the number of rates.
        head_learning_rate: Adam learning rate of the head (paper: 0.01).
        lr_decay: Per-epoch exponential decay factor (paper: 0.95).
        head_weight_decay: Decoupled weight decay on the head only; the pretrained encoder gets none.
        max_steps: Stop after this many optimisation steps (``None``: run all epochs).
        seed: Seed for shuffling.
    """

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    learning_rates: tuple[float, ...] = DEFAULT_LEARNING_RATES
    head_learning_rate: float = 1e-2
    lr_decay: float = 0.95
    head_weight_decay: float = 0.0
    max_steps: int | None = None
    seed: int = 0


@dataclass
class FineTuneHistory:
    """Per-epoch training loss (normalised units) and validation MSE (original units) of the kept run.

    Attributes:
        train_loss, validation_mse: Per epoch, of the run with the chosen learning rate.
        best_epoch: The kept epoch (0-based).
        steps: Optimisation steps of the kept run.
        learning_rate: The chosen encoder learning rate.
        grid_validation_mse: Best validation MSE per learning rate tried.
        best_validation_mse: Validation MSE of the kept weights.
        mean_baseline_mse: Validation MSE of predicting the training-split mean for every example.
        worse_than_mean: True when ``best_validation_mse`` is not below ``mean_baseline_mse``:
            fine-tuning learnt nothing usable (the report says so).
    """

    train_loss: list[float] = field(default_factory=list)
    validation_mse: list[float] = field(default_factory=list)
    best_epoch: int = -1
    steps: int = 0
    learning_rate: float = math.nan
    grid_validation_mse: dict[float, float] = field(default_factory=dict)
    best_validation_mse: float = math.inf
    mean_baseline_mse: float = math.nan
    worse_than_mean: bool = False


def regression_config(
    base: IsoCLRConfig, *, target_name: str, target_mean: float, target_std: float
) -> IsoCLRConfig:
    """A copy of ``base`` set up for one named regression target with its normalisation."""
    config = copy.deepcopy(base)
    config.num_labels = 1
    config.id2label = {0: target_name}  # not transformers' LABEL_0: cards and pipelines show these names
    config.label2id = {target_name: 0}
    config.problem_type = "regression"
    config.target_names = [target_name]
    config.target_mean = [float(target_mean)]
    config.target_std = [float(target_std) if target_std > 0 else 1.0]
    config.architectures = ["IsoCLRForSequenceClassification"]
    return config


def build_regression_model(
    model_path: str | Path,
    *,
    target_name: str,
    target_mean: float,
    target_std: float,
    pretrained: bool = True,
    seed: int = 0,
    trust_remote_code: bool = False,
) -> IsoCLRForSequenceClassification:
    """A regression head on the encoder at ``model_path``, or on the same architecture freshly initialised.

    The head is always new (its last layer at zero); with ``pretrained`` the encoder's weights are
    loaded strictly: a weight missing from the checkpoint, or one the config has no place for, is an
    error naming the folder.

    Args:
        model_path: Folder (or Hub id) of any IsoCLR checkpoint: encoder, contrastive model or head.
        target_name: Name of the target (stored in ``config.target_names``).
        target_mean: Training-split mean of the target (stored; predictions come back in original units).
        target_std: Training-split standard deviation of the target.
        pretrained: Load the encoder weights; ``False`` gives the random-initialisation control.
        seed: Seed of the initialisation (of the head, and of the encoder when not pretrained).
        trust_remote_code: Allow a folder that is not an IsoCLR model (its own code is run). IsoCLR
            folders always load with this package's classes.

    Raises:
        ModelLoadingError: naming the folder or file, for a model that cannot be loaded as it is.
    """
    path = loading.resolve_model_path(model_path)
    base = loading.load_config(path, trust_remote_code=trust_remote_code)
    config = regression_config(base, target_name=target_name, target_mean=target_mean, target_std=target_std)
    torch.manual_seed(seed)
    if loading.is_isoclr_folder(path):
        model = IsoCLRForSequenceClassification(config)
        if pretrained:
            loading.load_isoclr_weights(model.isoclr, path)
        return model
    # A non-IsoCLR model, allowed by trust_remote_code (checked by load_config above).
    from transformers import AutoModelForSequenceClassification

    if not pretrained:
        return AutoModelForSequenceClassification.from_config(config, trust_remote_code=True)
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        return loading.load_head(path, config=config, trust_remote_code=True)
    finally:
        transformers_logging.set_verbosity(verbosity)


class _RecordDataset(torch.utils.data.Dataset):
    def __init__(self, records: list[TranscriptRecord], labels: np.ndarray) -> None:
        self.records, self.labels = records, np.asarray(labels, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[TranscriptRecord, float]:
        return self.records[index], float(self.labels[index])


def _collate(tokenizer: PreTrainedTokenizerBase):  # type: ignore[no-untyped-def]
    def collate(items: list[tuple[TranscriptRecord, float]]) -> dict[str, torch.Tensor]:
        records = [record for record, _ in items]
        batch = tokenize_records(tokenizer, records, truncation=True)
        return {**batch, "labels": torch.tensor([label for _, label in items], dtype=torch.float32)}

    return collate


def predict_records(
    model: IsoCLRForSequenceClassification,
    tokenizer: PreTrainedTokenizerBase,
    records: list[TranscriptRecord],
    *,
    batch_size: int = 64,
) -> np.ndarray:
    """Regression predictions in original units, in input order. Shape: (len(records),)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    result = np.zeros(len(records), dtype=np.float64)
    try:
        with torch.no_grad():
            for indices in length_sorted_batches([len(r.sequence) for r in records], batch_size=batch_size):
                batch = _collate(tokenizer)([(records[i], 0.0) for i in indices])
                batch.pop("labels")
                output = model(**{k: v.to(device) for k, v in batch.items()})
                result[indices] = output.predictions[:, 0].float().cpu().numpy()
    finally:
        model.train(was_training)
    return result


def _optimizer(model: IsoCLRForSequenceClassification, settings: FineTuneSettings) -> torch.optim.Optimizer:
    head = list(model.classifier.parameters())
    head_ids = {id(p) for p in head}
    encoder = [p for p in model.parameters() if id(p) not in head_ids]
    return torch.optim.AdamW(
        [
            {"params": encoder, "lr": settings.learning_rate, "weight_decay": 0.0},
            {"params": head, "lr": settings.head_learning_rate, "weight_decay": settings.head_weight_decay},
        ]
    )


def train_epoch(
    model: torch.nn.Module, loader: Any, optimizer: Any, accelerator: Any, history: Any, bar: Any,
    max_steps: int | None,
) -> list[float]:
    """One epoch of optimizer steps, stopping once ``history.steps`` reaches ``max_steps``; the batch losses.

    Shared by regression and classification fine-tuning; ``history`` counts the steps, ``bar`` (tqdm) shows them.
    """
    model.train()
    losses = []
    for batch in loader:
        loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        history.steps += 1
        bar.update(1)
        if max_steps is not None and history.steps >= max_steps:
            break
    return losses


def _fine_tune_once(
    model: IsoCLRForSequenceClassification,
    tokenizer: PreTrainedTokenizerBase,
    train_records: list[TranscriptRecord],
    train_labels: np.ndarray,
    validation_records: list[TranscriptRecord],
    validation_labels: np.ndarray,
    *,
    settings: FineTuneSettings | None = None,
    accelerator: Accelerator | None = None,
    progress: bool = True,
) -> tuple[IsoCLRForSequenceClassification, FineTuneHistory]:
    """One fine-tuning run at ``settings.learning_rate``; keep the epoch best on validation MSE.

    Args:
        model: A regression head whose config holds the target normalisation.
        tokenizer: The model's tokenizer.
        train_records, train_labels: Training split; labels in original units.
        validation_records, validation_labels: Validation split, for choosing the epoch.
        settings: Hyperparameters (defaults: :class:`FineTuneSettings`).
        accelerator: An ``Accelerator`` (devices, processes, mixed precision); a default one when ``None``.
        progress: Show a tqdm bar.

    Returns:
        The unwrapped model with the best epoch's weights, in eval mode, and the history.
    """
    settings = settings or FineTuneSettings()
    accelerator = accelerator or Accelerator()
    if len(train_records) == 0 or len(validation_records) == 0:
        raise ValueError("Fine-tuning needs non-empty training and validation splits.")
    generator = torch.Generator().manual_seed(settings.seed)
    loader = torch.utils.data.DataLoader(
        _RecordDataset(train_records, train_labels),
        batch_size=settings.batch_size,
        shuffle=True,
        generator=generator,
        collate_fn=_collate(tokenizer),
        drop_last=len(train_records) > settings.batch_size,  # no tiny last batch for batch norm
    )
    optimizer = _optimizer(model, settings)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=settings.lr_decay)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    history = FineTuneHistory()
    best_state: dict[str, torch.Tensor] | None = None
    best_mse = math.inf
    total = settings.epochs * len(loader) if settings.max_steps is None else settings.max_steps
    bar = tqdm(total=total, desc="fine-tuning", unit="step", disable=not progress or not accelerator.is_main_process)
    for epoch in range(settings.epochs):
        losses = train_epoch(model, loader, optimizer, accelerator, history, bar, settings.max_steps)
        scheduler.step()
        unwrapped = accelerator.unwrap_model(model)
        predictions = predict_records(unwrapped, tokenizer, validation_records, batch_size=2 * settings.batch_size)
        mse = float(np.mean((predictions - np.asarray(validation_labels)) ** 2))
        history.train_loss.append(float(np.mean(losses)) if losses else math.nan)
        history.validation_mse.append(mse)
        bar.set_postfix(epoch=epoch + 1, validation_mse=f"{mse:.4g}")
        if mse < best_mse:
            best_mse, history.best_epoch = mse, epoch
            best_state = {k: v.detach().cpu().clone() for k, v in unwrapped.state_dict().items()}
        if settings.max_steps is not None and history.steps >= settings.max_steps:
            break
    bar.close()
    unwrapped = accelerator.unwrap_model(model)
    if best_state is not None:
        unwrapped.load_state_dict(best_state)
    unwrapped.eval()
    history.best_validation_mse = best_mse
    history.learning_rate = settings.learning_rate
    return unwrapped, history


def fine_tune(
    model: IsoCLRForSequenceClassification,
    tokenizer: PreTrainedTokenizerBase,
    train_records: list[TranscriptRecord],
    train_labels: np.ndarray,
    validation_records: list[TranscriptRecord],
    validation_labels: np.ndarray,
    *,
    settings: FineTuneSettings | None = None,
    accelerator: Accelerator | None = None,
    progress: bool = True,
) -> tuple[IsoCLRForSequenceClassification, FineTuneHistory]:
    """Fine-tune all weights; choose the encoder learning rate and the epoch on validation MSE.

    Each learning rate of ``settings.learning_rates`` (or ``settings.learning_rate`` alone when that
    is empty) gets a full run from the same starting weights and the same shuffling seed; the run
    with the lowest validation MSE at its best epoch is kept. The result is also compared with
    predicting the training mean on the validation split (``history.worse_than_mean``).

    Args:
        model: A regression head whose config holds the target normalisation.
        tokenizer: The model's tokenizer.
        train_records, train_labels: Training split; labels in original units.
        validation_records, validation_labels: Validation split, for choosing the rate and the epoch.
        settings: Hyperparameters (defaults: :class:`FineTuneSettings`).
        accelerator: An ``Accelerator`` (devices, processes, mixed precision); a default one when ``None``.
        progress: Show a tqdm bar.

    Returns:
        The unwrapped model with the chosen run's best weights, in eval mode, and its history.
    """
    settings = settings or FineTuneSettings()
    if len(train_records) == 0 or len(validation_records) == 0:
        raise ValueError("Fine-tuning needs non-empty training and validation splits.")
    rates = tuple(settings.learning_rates) or (settings.learning_rate,)
    start = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()} if len(rates) > 1 else None
    # The same model object is trained in place for every rate; the best run's weights are copied out.
    best: tuple[IsoCLRForSequenceClassification, FineTuneHistory, dict[str, torch.Tensor] | None] | None = None
    grid: dict[float, float] = {}
    for rate in rates:
        if start is not None:
            model.load_state_dict(start)
        run_settings = FineTuneSettings(**{**settings.__dict__, "learning_rate": rate, "learning_rates": ()})
        tuned, history = _fine_tune_once(model, tokenizer, train_records, train_labels, validation_records,
                                         validation_labels, settings=run_settings, accelerator=accelerator,
                                         progress=progress)
        grid[rate] = history.best_validation_mse
        if best is None or history.best_validation_mse < best[1].best_validation_mse:
            state = {k: v.detach().cpu().clone() for k, v in tuned.state_dict().items()} if len(rates) > 1 else None
            best = (tuned, history, state)
    assert best is not None
    tuned, history, state = best
    if state is not None:
        tuned.load_state_dict(state)
    tuned.eval()
    history.grid_validation_mse = grid
    labels = np.asarray(validation_labels, dtype=np.float64)
    history.mean_baseline_mse = float(np.mean((labels - float(np.mean(train_labels))) ** 2))
    history.worse_than_mean = not history.best_validation_mse < history.mean_baseline_mse
    return tuned, history


__all__ = [
    "DEFAULT_LEARNING_RATES",
    "FineTuneHistory",
    "FineTuneSettings",
    "build_regression_model",
    "fine_tune",
    "load_tokenizer",
    "predict_records",
    "regression_config",
]
