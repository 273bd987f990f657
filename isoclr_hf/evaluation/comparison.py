"""The side-by-side comparison behind ``isoclr evaluate``.

In one run, on one split of one task: the encoder under test (``pretrained``), the same
architecture freshly initialised with a fixed seed (``random_init``), and a ridge on k-mer, length
and GC features (``kmer_baseline``). Both encoders are linear-probed at every training fraction and
seed and fully fine-tuned at the chosen fractions; the baseline is fitted at every fraction and seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from transformers import PreTrainedTokenizerBase

from ..models.isoclr.modeling_isoclr import IsoCLRForSequenceClassification, IsoCLRModel
from ..training.fine_tuning import FineTuneSettings, build_regression_model, fine_tune, load_tokenizer, predict_records
from .embedding import embed_records
from .features import sequence_features
from .loading import load_encoder, resolve_model_path
from .low_data import DEFAULT_FRACTIONS, DEFAULT_MIN_TRAIN, DEFAULT_SEEDS, training_subsets
from .metrics import regression_metrics
from .probe import fit_ridge_probe
from .splits import subsample_groups, task_split
from .tasks import RegressionTask


@dataclass
class ComparisonSettings:
    """What ``isoclr evaluate`` runs.

    Attributes:
        fractions: Training fractions of the low-data curve (probes and baseline).
        seeds: Seeds of the low-data draws.
        min_train: Fewest training examples at any fraction.
        fine_tune_fractions: Fractions at which both encoders are fine-tuned (empty: no fine-tuning).
        fine_tune_seeds: Seeds of the fine-tuning runs.
        fine_tune: Fine-tuning hyperparameters.
        max_examples: Subsample the task to about this many examples, whole groups at a time
            (``None``: all).
        batch_size: Batch size for embedding.
        split_seed: Seed of the grouped split (tasks without their own folds) and of subsampling.
        init_seed: Seed of the random-initialisation control.
    """

    fractions: tuple[float, ...] = DEFAULT_FRACTIONS
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    min_train: int = DEFAULT_MIN_TRAIN
    fine_tune_fractions: tuple[float, ...] = (1.0,)
    fine_tune_seeds: tuple[int, ...] = (0,)
    fine_tune: FineTuneSettings = field(default_factory=FineTuneSettings)
    max_examples: int | None = 2000
    batch_size: int = 64
    split_seed: int = 0
    init_seed: int = 0


@dataclass
class ComparisonOutcome:
    """Everything the report needs.

    Attributes:
        task: The (possibly subsampled) task that was evaluated.
        split: Indices of train/validation/test into ``task``.
        results: One dict per run, with the keys of the report contract.
        test_predictions: ``"encoder/method"`` -> predictions on the test split of the full-data run
            (first seed).
        embeddings: ``"pretrained"``/``"random_init"`` -> embeddings of all examples. Shape: (n, hidden).
        head: The pretrained encoder fine-tuned on the full training split (first seed), or ``None``.
        floored_fractions: Fractions whose subsets were raised to ``min_train`` examples.
        timings: Seconds spent per stage.
        tokenizer: The model's tokenizer (saved with the head).
    """

    task: RegressionTask
    split: dict[str, np.ndarray]
    results: list[dict[str, object]]
    test_predictions: dict[str, np.ndarray]
    embeddings: dict[str, np.ndarray]
    head: IsoCLRForSequenceClassification | None
    floored_fractions: list[float]
    timings: dict[str, float]
    tokenizer: PreTrainedTokenizerBase | None = None


def _encoders(model_path: str | Path, init_seed: int, *, trust_remote_code: bool = False) -> dict[str, IsoCLRModel]:
    """The encoder under test (loaded strictly) and the same architecture freshly initialised."""
    pretrained = load_encoder(model_path, trust_remote_code=trust_remote_code)
    torch.manual_seed(init_seed)
    return {"pretrained": pretrained, "random_init": type(pretrained)(pretrained.config)}


def _result(encoder: str, method: str, fraction: float, seed: int, n_train: int, labels: np.ndarray,
            predictions: np.ndarray) -> dict[str, object]:
    return {"encoder": encoder, "method": method, "train_fraction": float(fraction), "seed": int(seed),
            "n_train": int(n_train), "n_test": len(labels), **regression_metrics(predictions, labels)}


def run_comparison(
    task: RegressionTask,
    model_path: str | Path,
    *,
    settings: ComparisonSettings | None = None,
    accelerator: Accelerator | None = None,
    progress: bool = True,
    trust_remote_code: bool = False,
) -> ComparisonOutcome:
    """Probe, fine-tune and compare on one task; see the module docstring.

    ``model_path`` is loaded strictly (see :mod:`isoclr_hf.evaluation.loading`): IsoCLR folders with
    this package's classes; other model types only with ``trust_remote_code=True``.

    Raises:
        ModelLoadingError: naming the folder or file, for a model that cannot be loaded as it is.
    """
    settings = settings or ComparisonSettings()
    model_path = resolve_model_path(model_path)
    # Load (and so check) the model before any work on the task.
    tokenizer = load_tokenizer(model_path, trust_remote_code=trust_remote_code)
    encoders = _encoders(model_path, settings.init_seed, trust_remote_code=trust_remote_code)
    timings: dict[str, float] = {}
    if settings.max_examples is not None and len(task) > settings.max_examples:
        task = task.subset(subsample_groups(task.groups, settings.max_examples, seed=settings.split_seed))
        task.notes.append(f"Subsampled to {len(task)} examples (whole groups; --max-examples "
                          f"{settings.max_examples}; --full uses all).")
    split = task_split(task, seed=settings.split_seed)
    train, validation, test = (task.subset(split[name]) for name in ("train", "validation", "test"))

    start = time.perf_counter()
    features = {"kmer_baseline": sequence_features(task.records)}
    embeddings: dict[str, np.ndarray] = {}
    for name, encoder in encoders.items():
        embeddings[name] = embed_records(encoder, tokenizer, task.records, batch_size=settings.batch_size,
                                         progress=progress, truncation=True)
        features[name] = embeddings[name]
    timings["features_s"] = time.perf_counter() - start

    start = time.perf_counter()
    results: list[dict[str, object]] = []
    test_predictions: dict[str, np.ndarray] = {}
    subsets = training_subsets(len(train), fractions=settings.fractions, seeds=settings.seeds,
                               min_train=settings.min_train)
    floored = sorted({s.fraction for s in subsets if s.floored})
    for subset in subsets:
        chosen = split["train"][subset.indices]
        for name, matrix in features.items():
            probe = fit_ridge_probe(matrix[chosen], task.labels[chosen],
                                    matrix[split["validation"]], validation.labels)
            predictions = probe.predict(matrix[split["test"]])
            method = "ridge" if name == "kmer_baseline" else "linear_probe"
            results.append(_result(name, method, subset.fraction, subset.seed, len(chosen), test.labels, predictions))
            if subset.fraction == max(settings.fractions) and subset.seed == settings.seeds[0]:
                test_predictions[f"{name}/{method}"] = predictions
    timings["probes_s"] = time.perf_counter() - start

    start = time.perf_counter()
    head = None
    tune_subsets = training_subsets(len(train), fractions=settings.fine_tune_fractions,
                                    seeds=settings.fine_tune_seeds, min_train=settings.min_train)
    for subset in tune_subsets if settings.fine_tune_fractions else []:
        chosen = train.subset(subset.indices)
        for name in ("pretrained", "random_init"):
            model = build_regression_model(
                model_path, target_name=task.target_name, target_mean=float(chosen.labels.mean()),
                target_std=float(chosen.labels.std()), pretrained=name == "pretrained",
                seed=settings.init_seed if name == "random_init" else subset.seed,
                trust_remote_code=trust_remote_code,
            )
            tune_settings = FineTuneSettings(**{**settings.fine_tune.__dict__, "seed": subset.seed})
            model, _ = fine_tune(model, tokenizer, chosen.records, chosen.labels, validation.records,
                                 validation.labels, settings=tune_settings, accelerator=accelerator,
                                 progress=progress)
            predictions = predict_records(model, tokenizer, test.records, batch_size=settings.batch_size)
            results.append(_result(name, "fine_tune", subset.fraction, subset.seed, len(chosen), test.labels,
                                   predictions))
            full_first = subset.fraction == max(settings.fine_tune_fractions) and subset.seed == tune_subsets[0].seed
            if full_first:
                test_predictions[f"{name}/fine_tune"] = predictions
                if name == "pretrained":
                    head = model
    timings["fine_tuning_s"] = time.perf_counter() - start
    return ComparisonOutcome(task, split, results, test_predictions, embeddings, head, floored, timings, tokenizer)


__all__ = ["ComparisonOutcome", "ComparisonSettings", "run_comparison"]
