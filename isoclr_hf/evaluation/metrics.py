"""Test metrics: regression (Pearson r, Spearman rho from scipy.stats, MSE from sklearn) and multi-label
classification (AUROC and AUPRC per class and macro, sklearn)."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import average_precision_score, mean_squared_error, roc_auc_score


def regression_metrics(predictions: np.ndarray, references: np.ndarray) -> dict[str, float]:
    """Pearson r, Spearman rho and MSE of one regression target.

    Args:
        predictions: Predicted values. Shape: (n,).
        references: Measured values, same units. Shape: (n,).

    Returns:
        ``{"pearson": r, "spearman": rho, "mse": mse}``; the correlations are NaN when either input
        is constant (a correlation is undefined there; scipy would warn and return NaN).
    """
    predictions = np.asarray(predictions, dtype=np.float64).reshape(-1)
    references = np.asarray(references, dtype=np.float64).reshape(-1)
    if predictions.shape != references.shape:
        raise ValueError(f"Got {predictions.size} predictions for {references.size} references.")
    if predictions.size < 2:
        raise ValueError(f"Need at least 2 examples to compute correlations, got {predictions.size}.")
    if not np.all(np.isfinite(predictions)):
        raise ValueError("Predictions contain NaN or infinite values (did training diverge?).")
    constant = np.ptp(predictions) == 0 or np.ptp(references) == 0
    return {
        "pearson": math.nan if constant else float(pearsonr(references, predictions)[0]),
        "spearman": math.nan if constant else float(spearmanr(references, predictions)[0]),
        "mse": float(mean_squared_error(references, predictions)),
    }


CLASSIFICATION_METRICS = ("auroc_macro", "auprc_macro")


def per_class_key(metric: str, label_name: str) -> str:
    """The row key of one class's metric: ``auroc[Nucleus]``."""
    return f"{metric}[{label_name}]"


def multilabel_metrics(scores: np.ndarray, labels: np.ndarray, label_names: list[str]) -> dict[str, float]:
    """AUROC and AUPRC (average precision) per class, and their macro means over the defined classes.

    Args:
        scores: Predicted scores (probabilities or logits), higher meaning more likely. Shape: (n, k).
        labels: 0/1 truth. Shape: (n, k).
        label_names: Name of each of the k classes.

    Returns:
        ``auroc_macro``, ``auprc_macro`` and ``auroc[name]``/``auprc[name]`` per class. A class whose
        test labels are all 0 or all 1 has no AUROC or AUPRC (NaN) and is left out of the macro
        means; the macro means are NaN when no class is defined.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.shape != labels.shape or scores.ndim != 2 or scores.shape[1] != len(label_names):
        raise ValueError(f"Got scores of shape {scores.shape} for labels of shape {labels.shape} and "
                         f"{len(label_names)} classes.")
    if not np.all(np.isfinite(scores)):
        raise ValueError("Scores contain NaN or infinite values (did training diverge?).")
    result: dict[str, float] = {}
    aurocs, auprcs = [], []
    for column, name in enumerate(label_names):
        truth = labels[:, column]
        if truth.min() == truth.max():
            auroc = auprc = math.nan
        else:
            auroc = float(roc_auc_score(truth, scores[:, column]))
            auprc = float(average_precision_score(truth, scores[:, column]))
            aurocs.append(auroc)
            auprcs.append(auprc)
        result[per_class_key("auroc", name)] = auroc
        result[per_class_key("auprc", name)] = auprc
    return {"auroc_macro": float(np.mean(aurocs)) if aurocs else math.nan,
            "auprc_macro": float(np.mean(auprcs)) if auprcs else math.nan, **result}


__all__ = ["CLASSIFICATION_METRICS", "multilabel_metrics", "per_class_key", "regression_metrics"]
