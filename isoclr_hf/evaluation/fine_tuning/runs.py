"""The fine-tuning runs of a comparison (opt-in), and an estimate of their time printed before they start.

Fine-tuning is the slow part of an evaluation: every run trains the whole encoder, for every
learning rate of the grid, both encoders (pretrained and random-init), every fine-tuning seed and
fraction. Before any of it, :func:`estimate_fine_tuning` plans every batch of the runs, times a
training step and a forward pass of the model per length bucket on real training examples, and adds
up (:mod:`isoclr_hf.evaluation.fine_tuning.estimate`), so the user can stop a run that would take hours.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from transformers import PreTrainedTokenizerBase

from ..low_data import TrainingSubset, training_subsets
from ..probes.runs import Task, classification_validation, is_classification, regression_validation, result_row
from .engine import fine_tune, labelled_batch, predict_records
from .estimate import (
    DEFAULT_BUCKETS,
    BucketTiming,
    FineTuningEstimate,
    ModelSetup,
    estimate_fine_tuning_time,
    length_buckets,
    plan_fine_tuning,
    time_buckets,
)
from .heads import build_multilabel_model, build_regression_model
from .settings import FineTuneSettings

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


ENCODERS = ("pretrained", "random_init")


def timing_examples(lengths: np.ndarray, candidates: np.ndarray, edges: list[int], steps: list[int],
                    batch_size: int, seed: int) -> dict[int, np.ndarray]:
    """Per length bucket, a batch of ``candidates`` (indices) shaped like the bucket's steps.

    Its longest example is the one closest in length to the median longest transcript of the bucket's
    steps, the others drawn at random from the candidates no longer than it, as a shuffled batch is.
    ``lengths`` are the (truncated) lengths of all examples; ``steps`` the longest length of every step.
    """
    rng = np.random.default_rng(seed)
    chosen: dict[int, np.ndarray] = {}
    lower = 0
    for edge in edges:
        inside = [n for n in steps if lower < n <= edge]
        lower = edge
        if not inside:
            continue
        median = float(np.quantile(inside, 0.5, method="higher"))
        longest = candidates[int(np.argmin(np.abs(lengths[candidates] - median)))]
        shorter = candidates[(lengths[candidates] <= lengths[longest]) & (candidates != longest)]
        others = rng.choice(shorter, size=min(batch_size - 1, len(shorter)), replace=False)
        chosen[edge] = np.concatenate([[longest], others]).astype(np.int64)
    return chosen


def estimate_fine_tuning(
    task: Task, model_path: str | Path, tokenizer: PreTrainedTokenizerBase,
    runs: list[Run], settings: FineTuneSettings, *, test_batch_size: int, init_seed: int = 0,
    trust_remote_code: bool = False, buckets: int = DEFAULT_BUCKETS,
) -> FineTuningEstimate:
    """Plan every batch of ``runs``, time a training step and a forward pass per length bucket, and add up.

    See :mod:`isoclr_hf.evaluation.fine_tuning.estimate`. The timed batches are real training examples of
    the first run. Both encoders are timed, each built as its runs build it: the random-init encoder has the
    pretrained one's shapes, but not its weights, and its 15 steps of the demo's half-life run took 106 s
    against the pretrained encoder's 90 s on this project's CPU (one run, under load). Building
    each model and its first step are timed as well: every run builds each model once, every training pays a
    first step (:class:`~isoclr_hf.evaluation.fine_tuning.estimate.ModelSetup`).
    """
    lengths = np.array([len(record.sequence) for record in task.records], dtype=np.int64)
    max_length = int(tokenizer.model_max_length)
    plan = plan_fine_tuning(
        [(lengths[split["train"][subset.indices]], lengths[split["validation"]], lengths[split["test"]])
         for _, subset, split in runs],
        models=ENCODERS, rates=len(settings.rates), batch_size=settings.batch_size, epochs=settings.epochs,
        max_steps=settings.max_steps, max_length=max_length, test_batch_size=test_batch_size, seed=settings.seed)
    steps = plan.steps["pretrained"]
    edges = length_buckets(steps, buckets)
    seed, subset, split = runs[0]
    chosen = split["train"][subset.indices]
    picked = timing_examples(np.minimum(lengths, max_length), chosen, edges, steps, settings.batch_size, seed)
    batches = {edge: labelled_batch(tokenizer, [task.records[i] for i in indices], task.labels[indices])
               for edge, indices in picked.items()}
    timings: dict[str, list[BucketTiming]] = {}
    setups: dict[str, ModelSetup] = {}
    for name in ENCODERS:  # each as its run builds it: same shapes, but not the same weights
        start = time.perf_counter()
        model = _build(task, name, model_path, chosen, seed=seed, init_seed=init_seed,
                       trust_remote_code=trust_remote_code)
        build_seconds = time.perf_counter() - start
        timings[name], first_step_extra = time_buckets(model, batches)
        setups[name] = ModelSetup(build_seconds=build_seconds, first_step_extra=first_step_extra)
        del model
    return estimate_fine_tuning_time(plan, timings, setups)


__all__ = ["ENCODERS", "FineTuningEstimate", "estimate_fine_tuning", "fine_tune_run", "fine_tuning_runs",
           "timing_examples"]
