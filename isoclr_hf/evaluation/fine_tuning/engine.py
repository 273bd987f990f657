"""One fine-tuning engine for every head: regression (MSE, lower is better) and multi-label
classification (macro AUROC, higher is better) differ only in their :class:`Objective`.

Each encoder learning rate of the settings gets a full run from the same starting weights and the same
shuffling seed (:class:`~isoclr_hf.evaluation.fine_tuning.settings.FineTuneSettings`); within a run the
epoch best on the validation split is kept, and across runs the best rate. A regression run is also
compared with predicting the training mean on the validation split
(:attr:`FineTuneHistory.worse_than_mean`). ``isoclr evaluate`` and ``training/finetune.py`` both call
:func:`fine_tune`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ...annotations.records import TranscriptRecord, tokenize_records
from ...inference import run_in_input_order
from ..metrics import multilabel_metrics
from .settings import FineTuneSettings


@dataclass(frozen=True)
class Objective:
    """What a head predicts and how a run is judged on the validation split.

    Attributes:
        problem_type: The head's ``config.problem_type``.
        metric: Name of the validation metric.
        higher_is_better: Direction of the metric.
        predict: Model output -> predictions: original units for regression, probabilities for classes.
        score: (predictions, labels) -> the metric.
    """

    problem_type: str
    metric: str
    higher_is_better: bool
    predict: Callable[[Any], torch.Tensor]
    score: Callable[[np.ndarray, np.ndarray], float]

    def better(self, value: float, than: float) -> bool:
        """Whether ``value`` beats ``than`` (a NaN score never does)."""
        if math.isnan(value):
            return False
        return math.isnan(than) or (value > than if self.higher_is_better else value < than)


def _mse(predictions: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((predictions - np.asarray(labels, dtype=np.float64)) ** 2))


def _macro_auroc(probabilities: np.ndarray, labels: np.ndarray) -> float:
    names = [str(i) for i in range(probabilities.shape[1])]
    return float(multilabel_metrics(probabilities, np.asarray(labels), names)["auroc_macro"])


REGRESSION = Objective("regression", "mse", False, lambda output: output.predictions.squeeze(-1), _mse)
MULTI_LABEL = Objective("multi_label_classification", "auroc_macro", True,
                        lambda output: torch.sigmoid(output.logits), _macro_auroc)
OBJECTIVES = {objective.problem_type: objective for objective in (REGRESSION, MULTI_LABEL)}


def objective_of(model: PreTrainedModel) -> Objective:
    """The objective of a head, from its ``config.problem_type``."""
    problem = model.config.problem_type
    if problem not in OBJECTIVES:
        raise ValueError(f"Fine-tuning supports problem_type {' or '.join(OBJECTIVES)}; the head has {problem!r}.")
    return OBJECTIVES[problem]


@dataclass
class FineTuneHistory:
    """The kept run: per-epoch training loss and validation metric, the chosen rate and epoch.

    Attributes:
        metric: Name of the validation metric (``mse`` in original units, or ``auroc_macro``).
        train_loss, validation: Per epoch, of the run with the chosen learning rate.
        best_epoch: The kept epoch (0-based).
        steps: Optimisation steps of the kept run.
        learning_rate: The chosen encoder learning rate.
        grid: Best validation metric per learning rate tried.
        best_validation: Validation metric of the kept weights.
        mean_baseline_mse: Regression only: validation MSE of predicting the training-split mean.
        worse_than_mean: Regression only: ``best_validation`` is not below ``mean_baseline_mse``, so
            fine-tuning learnt nothing usable (the report says so).
    """

    metric: str
    train_loss: list[float] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)
    best_epoch: int = -1
    steps: int = 0
    learning_rate: float = math.nan
    grid: dict[float, float] = field(default_factory=dict)
    best_validation: float = math.nan
    mean_baseline_mse: float = math.nan
    worse_than_mean: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the grid's rates as text)."""
        return {**self.__dict__, "grid": {f"{rate:g}": value for rate, value in self.grid.items()}}


def labelled_batch(tokenizer: PreTrainedTokenizerBase, records: list[TranscriptRecord],
                   labels: np.ndarray | None) -> dict[str, torch.Tensor]:
    """A tokenized batch (5' end kept for long transcripts) with float ``labels`` when given.

    Shape of ``labels``: (batch,) for one regression target, (batch, k) for several targets or classes.
    """
    batch = dict(tokenize_records(tokenizer, records, truncation=True))
    if labels is not None:
        batch["labels"] = torch.as_tensor(np.asarray(labels), dtype=torch.float32)
    return batch


def predict_records(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, records: list[TranscriptRecord], *,
                    batch_size: int = 64) -> np.ndarray:
    """The head's predictions in input order: original units for regression, probabilities for classes.

    Shape: (len(records),) for one regression target, else (len(records), num_labels).
    """
    objective = objective_of(model)
    device = next(model.parameters()).device
    width = int(model.config.num_labels)  # type: ignore[arg-type]
    shape = () if objective is REGRESSION and width == 1 else (width,)

    def forward(indices: list[int]) -> torch.Tensor:
        batch = labelled_batch(tokenizer, [records[i] for i in indices], None)
        return objective.predict(model(**{k: v.to(device) for k, v in batch.items()}))

    result = run_in_input_order(model, [len(r.sequence) for r in records], forward, shape=shape, batch_size=batch_size)
    return result.astype(np.float64)


def _optimizer(model: PreTrainedModel, settings: FineTuneSettings, rate: float) -> torch.optim.Optimizer:
    head = list(model.classifier.parameters())
    head_ids = {id(p) for p in head}
    encoder = [p for p in model.parameters() if id(p) not in head_ids]
    return torch.optim.AdamW([
        {"params": encoder, "lr": rate, "weight_decay": 0.0},
        {"params": head, "lr": settings.head_learning_rate, "weight_decay": settings.head_weight_decay},
    ])


def train_epoch(model: torch.nn.Module, loader: Any, optimizer: Any, accelerator: Accelerator,
                history: FineTuneHistory, bar: Any, max_steps: int | None) -> list[float]:
    """One epoch of optimizer steps, stopping once ``history.steps`` reaches ``max_steps``; the batch losses."""
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


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _fine_tune_once(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, objective: Objective,
                    train: tuple[list[TranscriptRecord], np.ndarray],
                    validation: tuple[list[TranscriptRecord], np.ndarray], *, rate: float,
                    settings: FineTuneSettings, accelerator: Accelerator,
                    progress: bool) -> tuple[PreTrainedModel, FineTuneHistory, dict[str, torch.Tensor] | None]:
    """One run at encoder learning rate ``rate``: (unwrapped model, history, weights of its best epoch)."""
    records, labels = train
    order = torch.Generator().manual_seed(settings.seed)
    loader = torch.utils.data.DataLoader(
        list(range(len(records))), batch_size=settings.batch_size, shuffle=True, generator=order,
        collate_fn=lambda ids: labelled_batch(tokenizer, [records[i] for i in ids], labels[ids]),
        drop_last=len(records) > settings.batch_size)  # no tiny last batch for batch norm
    optimizer = _optimizer(model, settings, rate)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=settings.lr_decay)
    prepared, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    history = FineTuneHistory(metric=objective.metric, learning_rate=rate)
    best_state = None
    total = settings.epochs * len(loader) if settings.max_steps is None else min(settings.max_steps,
                                                                                   settings.epochs * len(loader))
    bar = tqdm(total=total, desc=f"fine-tuning (lr {rate:g})", unit="step",
               disable=not progress or not accelerator.is_main_process)
    for epoch in range(settings.epochs):
        losses = train_epoch(prepared, loader, optimizer, accelerator, history, bar, settings.max_steps)
        scheduler.step()
        unwrapped = accelerator.unwrap_model(prepared)
        predictions = predict_records(unwrapped, tokenizer, validation[0], batch_size=2 * settings.batch_size)
        score = objective.score(predictions, validation[1])
        history.train_loss.append(float(np.mean(losses)) if losses else math.nan)
        history.validation.append(score)
        bar.set_postfix(epoch=epoch + 1, **{objective.metric: f"{score:.4g}"})
        if objective.better(score, history.best_validation) or history.best_epoch < 0:
            history.best_validation, history.best_epoch = score, epoch
            best_state = _state(unwrapped)
        if settings.max_steps is not None and history.steps >= settings.max_steps:
            break
    bar.close()
    return accelerator.unwrap_model(prepared), history, best_state


def fine_tune(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    train_records: list[TranscriptRecord],
    train_labels: np.ndarray,
    validation_records: list[TranscriptRecord],
    validation_labels: np.ndarray,
    *,
    settings: FineTuneSettings | None = None,
    accelerator: Accelerator | None = None,
    progress: bool = True,
) -> tuple[PreTrainedModel, FineTuneHistory]:
    """Fine-tune all weights; choose the encoder learning rate and the epoch on the validation split.

    Args:
        model: A head (:mod:`~isoclr_hf.evaluation.fine_tuning.heads`) whose ``problem_type`` is regression
            (its config holds the target normalisation) or multi-label classification.
        tokenizer: The model's tokenizer.
        train_records, train_labels: Training split; labels in original units (regression), shape (n,),
            or 0/1 per class, shape (n, k).
        validation_records, validation_labels: Validation split, for choosing the rate and the epoch.
        settings: Hyperparameters (defaults: :class:`FineTuneSettings`).
        accelerator: An ``Accelerator`` (devices, processes, mixed precision); a default one when ``None``.
        progress: Show a tqdm bar.

    Returns:
        The unwrapped model with the chosen run's best weights, in eval mode, and its history.
    """
    settings = settings or FineTuneSettings()
    accelerator = accelerator or Accelerator()
    if len(train_records) == 0 or len(validation_records) == 0:
        raise ValueError("Fine-tuning needs non-empty training and validation splits.")
    objective = objective_of(model)
    train = (train_records, np.asarray(train_labels))
    validation = (validation_records, np.asarray(validation_labels))
    start = _state(model) if len(settings.rates) > 1 else None
    best: tuple[FineTuneHistory, dict[str, torch.Tensor] | None] | None = None
    grid: dict[float, float] = {}
    for rate in settings.rates:  # the same model object trains in place for every rate
        if start is not None:
            model.load_state_dict(start)
        tuned, history, state = _fine_tune_once(model, tokenizer, objective, train, validation, rate=rate,
                                                settings=settings, accelerator=accelerator, progress=progress)
        grid[rate] = history.best_validation
        if best is None or objective.better(history.best_validation, best[0].best_validation):
            best = (history, state)
    assert best is not None
    history, state = best
    if state is not None:
        tuned.load_state_dict(state)
    history.grid = grid
    if objective is REGRESSION:
        labels = validation[1].astype(np.float64)
        history.mean_baseline_mse = float(np.mean((labels - float(np.mean(train[1]))) ** 2))
        history.worse_than_mean = not history.best_validation < history.mean_baseline_mse
    return tuned.eval(), history


__all__ = ["MULTI_LABEL", "OBJECTIVES", "REGRESSION", "FineTuneHistory", "Objective", "fine_tune", "labelled_batch",
           "objective_of", "predict_records", "train_epoch"]
