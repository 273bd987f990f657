"""The fine-tuning runs of a comparison (opt-in), and an estimate of their time printed before they start.

Fine-tuning is the slow part of an evaluation: every run trains the whole encoder, for every
learning rate of the grid, both encoders (pretrained and random-init), every fine-tuning seed and
fraction. Before any of it, :func:`estimate_fine_tuning` times one optimisation step on a batch of
real training examples and multiplies by the number of steps the runs will take (plus the
validation passes after each epoch, counted as forward-only batches at a third of a step each),
so the user can stop a run that would take hours.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from transformers import PreTrainedTokenizerBase

from ..low_data import TrainingSubset, training_subsets
from ..probes.runs import Task, classification_validation, is_classification, regression_validation, result_row
from .engine import fine_tune, labelled_batch, predict_records
from .heads import build_multilabel_model, build_regression_model
from .settings import FineTuneSettings

# A forward-only validation batch (twice the training batch, no backward) costs about this share of a step.
VALIDATION_BATCH_COST = 1 / 3


Run = tuple[int, TrainingSubset, dict[str, np.ndarray]]


def fine_tuning_runs(task: Task, splits: dict[int, dict[str, np.ndarray]], seeds: tuple[int, ...],
                     fractions: tuple[float, ...], min_train: int) -> list[Run]:
    """``(seed, training subset, split)`` of every fine-tuning run (each run trains both encoders)."""
    return [(seed, subset, splits[seed]) for seed in seeds
            for subset in training_subsets(len(splits[seed]["train"]), fractions=fractions, seeds=(seed,),
                                           min_train=min_train)]


def _build(task: Task, name: str, model_path: str | Path, chosen: np.ndarray, *, seed: int, init_seed: int,
           trust_remote_code: bool) -> torch.nn.Module:
    pretrained = name == "pretrained"
    model_seed = seed if pretrained else init_seed
    if is_classification(task):
        return build_multilabel_model(model_path, list(task.label_names), pretrained=pretrained,  # type: ignore[union-attr]
                                      seed=model_seed, trust_remote_code=trust_remote_code)
    labels = task.labels[chosen]
    return build_regression_model(model_path, target_name=task.target_name, target_mean=float(labels.mean()),
                                  target_std=float(labels.std()), pretrained=pretrained, seed=model_seed,
                                  trust_remote_code=trust_remote_code)


def fine_tune_run(
    task: Task, name: str, model_path: str | Path, tokenizer: PreTrainedTokenizerBase, *, chosen: np.ndarray,
    split: dict[str, np.ndarray], fraction: float, seed: int, settings: FineTuneSettings, init_seed: int,
    batch_size: int, accelerator: Accelerator | None, progress: bool, trust_remote_code: bool,
) -> tuple[dict[str, Any], np.ndarray, torch.nn.Module]:
    """Fine-tune one encoder (``pretrained`` or ``random_init``) on ``chosen``.

    Returns:
        ``(row, test predictions, fine-tuned model)``.
    """
    validation, test = split["validation"], split["test"]
    records = task.records
    model = _build(task, name, model_path, chosen, seed=seed, init_seed=init_seed, trust_remote_code=trust_remote_code)
    train_records, validation_records = [records[i] for i in chosen], [records[i] for i in validation]
    model, history = fine_tune(model, tokenizer, train_records, task.labels[chosen], validation_records,
                               task.labels[validation], settings=replace(settings, seed=seed),
                               accelerator=accelerator, progress=progress)
    predictions = predict_records(model, tokenizer, [records[i] for i in test], batch_size=batch_size)
    if is_classification(task):
        checks = classification_validation(history.best_validation)
    else:
        checks = regression_validation(history.best_validation, history.mean_baseline_mse)
    row = result_row(task, name, "fine_tune", fraction, seed, n_train=len(chosen), n_train_split=len(split["train"]),
                     n_validation=len(validation), test=test, predictions=predictions, validation=checks)
    row.update(learning_rate=history.learning_rate, best_epoch=history.best_epoch)
    return row, predictions, model


@dataclass
class FineTuningEstimate:
    """How long the fine-tuning runs should take, from one timed step.

    Attributes:
        seconds_per_step: One optimisation step on a batch of training examples.
        steps: Optimisation steps of all runs (learning rates x encoders x seeds x fractions).
        validation_batches: Forward-only validation batches (after every epoch) and test batches.
        trainings: Number of fine-tuning trainings (one per learning rate, encoder, seed and fraction).
    """

    seconds_per_step: float
    steps: int
    validation_batches: int
    trainings: int

    @property
    def seconds(self) -> float:
        return self.seconds_per_step * (self.steps + VALIDATION_BATCH_COST * self.validation_batches)

    def message(self) -> str:
        minutes = self.seconds / 60
        when = f"{minutes:.0f} min" if minutes >= 1 else f"{self.seconds:.0f} s"
        return (f"Fine-tuning estimate: {self.trainings} trainings, {self.steps:,} steps at "
                f"{self.seconds_per_step:.2f} s a step (one step timed on this machine) plus "
                f"{self.validation_batches:,} validation batches: about {when}.")


    def against(self, actual_seconds: float) -> str:
        """The estimate next to the time the runs took, printed when they end."""
        return (f"Fine-tuning took {_duration(actual_seconds)}; the estimate was {_duration(self.seconds)} "
                f"(actual/estimate {actual_seconds / self.seconds:.2f}).")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _time_one_step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> float:
    """Seconds of one forward, backward and Adam step (the second of two; the first warms up)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    model.train()
    elapsed = math.nan
    for _ in range(2):
        start = time.perf_counter()
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        elapsed = time.perf_counter() - start
    return elapsed


def estimate_fine_tuning(
    task: Task, model_path: str | Path, tokenizer: PreTrainedTokenizerBase,
    runs: list[Run], settings: FineTuneSettings, *,
    trust_remote_code: bool = False,
) -> FineTuningEstimate:
    """Time one training step on a random batch of the first run's training examples; count all runs' steps."""
    rates = len(settings.rates)
    steps = batches = 0
    for _, subset, split in runs:
        n = len(subset.indices)
        per_epoch = max(1, n // settings.batch_size if n > settings.batch_size else 1)
        run_steps = settings.epochs * per_epoch
        epochs = settings.epochs
        if settings.max_steps is not None and settings.max_steps < run_steps:
            run_steps, epochs = settings.max_steps, math.ceil(settings.max_steps / per_epoch)
        validation = math.ceil(len(split["validation"]) / (2 * settings.batch_size))
        test = math.ceil(len(split["test"]) / (2 * settings.batch_size))
        steps += 2 * rates * run_steps
        batches += 2 * (rates * epochs * validation + test)
    seed, subset, split = runs[0]
    chosen = split["train"][subset.indices]
    picked = np.random.default_rng(seed).choice(chosen, size=min(settings.batch_size, len(chosen)), replace=False)
    model = _build(task, "pretrained", model_path, chosen, seed=seed, init_seed=seed,
                   trust_remote_code=trust_remote_code)
    records = [task.records[i] for i in picked]
    batch = labelled_batch(tokenizer, records, task.labels[picked])
    return FineTuningEstimate(_time_one_step(model, batch), steps, batches, 2 * rates * len(runs))


__all__ = ["FineTuningEstimate", "estimate_fine_tuning", "fine_tune_run", "fine_tuning_runs"]
