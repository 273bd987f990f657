"""One probe run and its result row, for regression and for multi-label classification tasks.

A run fits a probe on the chosen training examples (ridge for regression, per-class logistic
regression for classification; the penalty chosen on the validation split) and scores it on the
test split. Its row holds the report contract's keys and the metrics of the task type:

- regression: ``pearson``, ``spearman``, ``mse``, ``validation_mse``, ``mean_baseline_mse``
  (validation MSE of predicting the training mean) and ``worse_than_mean``;
- classification: ``auroc_macro``, ``auprc_macro``, ``auroc[<class>]``, ``auprc[<class>]``,
  ``validation_auroc_macro`` and ``worse_than_chance`` (validation macro AUROC not above 0.5).

Where the task has ``strata`` (e.g. species), ``by_stratum`` holds the test metrics per stratum.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..metrics import multilabel_metrics, regression_metrics
from ..tasks.classification import MultiLabelTask
from ..tasks.regression import RegressionTask
from .logistic import fit_logistic_probe
from .ridge import fit_ridge_probe

Task = RegressionTask | MultiLabelTask
# Fewest test examples of a stratum for its own metrics (a correlation of 2 points means nothing).
MIN_STRATUM_TEST = 3


def is_classification(task: Task) -> bool:
    """Whether the task is a (multi-label) classification task."""
    return task.task_type != "regression"


def baseline_method(task: Task) -> str:
    """The k-mer baseline's method name: ``ridge`` (regression) or ``logistic`` (classification)."""
    return "logistic" if is_classification(task) else "ridge"


def test_metrics(task: Task, predictions: np.ndarray, test: np.ndarray) -> dict[str, float]:
    """The task type's test metrics of ``predictions`` on the examples ``test``."""
    if is_classification(task):
        assert isinstance(task, MultiLabelTask)
        return multilabel_metrics(predictions, task.labels[test], task.label_names)
    return regression_metrics(predictions, task.labels[test])


def stratum_metrics(task: Task, predictions: np.ndarray, test: np.ndarray) -> dict[str, dict[str, float]]:
    """Test metrics per stratum (strata with at least :data:`MIN_STRATUM_TEST` test examples)."""
    if task.strata is None:
        return {}
    strata = np.asarray(task.strata, dtype=object)[test]
    result = {}
    for stratum in sorted(set(strata.tolist())):
        chosen = np.flatnonzero(strata == stratum)
        if chosen.size >= MIN_STRATUM_TEST:
            result[str(stratum)] = {"n_test": int(chosen.size),
                                    **test_metrics(task, predictions[chosen], test[chosen])}
    return result


def result_row(
    task: Task,
    encoder: str,
    method: str,
    fraction: float,
    seed: int,
    *,
    n_train: int,
    n_train_split: int,
    n_validation: int,
    test: np.ndarray,
    predictions: np.ndarray,
    validation: dict[str, Any],
    free: np.ndarray | None = None,
) -> dict[str, Any]:
    """A report row: the contract's keys, the test metrics, ``validation`` (the task type's validation keys).

    With ``free`` (per example of the task: no pretraining corpus read it), the row also gets
    ``pretraining_free``: ``n_test`` and the test metrics on the free test examples (``None`` where fewer
    than :data:`MIN_STRATUM_TEST` are free).
    """
    row: dict[str, Any] = {
        "encoder": encoder, "method": method, "train_fraction": float(fraction), "seed": int(seed),
        "n_train": int(n_train), "n_test": len(test), **test_metrics(task, predictions, test),
        "split_seed": int(seed), "n_train_split": int(n_train_split), "n_validation": int(n_validation),
        **validation,
    }
    by_stratum = stratum_metrics(task, predictions, test)
    if by_stratum:
        row["by_stratum"] = by_stratum
    if free is not None:
        kept = np.flatnonzero(free[test])
        row["pretraining_free"] = (
            {"n_test": int(kept.size), **test_metrics(task, predictions[kept], test[kept])}
            if kept.size >= MIN_STRATUM_TEST else None)
    return row


def regression_validation(validation_mse: float, mean_baseline_mse: float) -> dict[str, Any]:
    """The validation keys of a regression row."""
    return {"validation_mse": float(validation_mse), "mean_baseline_mse": float(mean_baseline_mse),
            "worse_than_mean": bool(not validation_mse < mean_baseline_mse)}


def classification_validation(validation_auroc_macro: float) -> dict[str, Any]:
    """The validation keys of a classification row (NaN AUROC: no class had both values on validation)."""
    return {"validation_auroc_macro": float(validation_auroc_macro),
            "worse_than_chance": bool(not validation_auroc_macro > 0.5)}


def run_probe(
    task: Task,
    encoder: str,
    features: np.ndarray,
    *,
    chosen: np.ndarray,
    split: dict[str, np.ndarray],
    fraction: float,
    seed: int,
    free: np.ndarray | None = None,
) -> tuple[dict[str, Any], np.ndarray]:
    """Fit the task type's probe on ``features[chosen]``, choose its penalty on validation, score on test.

    Args:
        task: The task (its labels and strata).
        encoder: ``pretrained``, ``random_init``, a contender's name, or ``kmer_baseline`` (the last is
            fitted as the baseline).
        features: Features of every example of ``task``. Shape: (n, d).
        chosen: Training examples of this run (a subset of ``split["train"]``).
        split: ``train``/``validation``/``test`` indices of the run's split seed.
        fraction: Training fraction of the run.
        seed: Split seed.
        free: Per example of ``task``, whether no pretraining corpus read it (adds ``pretraining_free``
            to the row, :func:`result_row`).

    Returns:
        ``(row, test_predictions)``; predictions are values (regression) or class probabilities
        (classification, shape (n_test, k)).
    """
    validation, test = split["validation"], split["test"]
    method = baseline_method(task) if encoder == "kmer_baseline" else "linear_probe"  # contenders: linear probes
    common = {"n_train": len(chosen), "n_train_split": len(split["train"]), "n_validation": len(validation)}
    if is_classification(task):
        probe = fit_logistic_probe(features[chosen], task.labels[chosen], features[validation],
                                   task.labels[validation])
        predictions = probe.predict_proba(features[test])
        assert isinstance(task, MultiLabelTask)
        on_validation = multilabel_metrics(probe.predict_proba(features[validation]), task.labels[validation],
                                           task.label_names)["auroc_macro"]
        extra = classification_validation(on_validation)
        extra["constant_classes"] = [task.label_names[c] for c in probe.constant_classes]
    else:
        labels = task.labels
        ridge = fit_ridge_probe(features[chosen], labels[chosen], features[validation], labels[validation])
        predictions = ridge.predict(features[test])
        baseline = float(np.mean((labels[validation] - labels[chosen].mean()) ** 2))
        extra = regression_validation(ridge.validation_mse[ridge.alpha], baseline)
    row = result_row(task, encoder, method, fraction, seed, test=test, predictions=predictions, validation=extra,
                     free=free, **common)
    return row, predictions


__all__ = ["MIN_STRATUM_TEST", "Task", "baseline_method", "classification_validation", "is_classification",
           "regression_validation", "result_row", "run_probe", "stratum_metrics", "test_metrics"]
