"""Regression metrics of one target: Pearson r, Spearman rho (scipy.stats) and MSE (sklearn)."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import mean_squared_error


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


__all__ = ["regression_metrics"]
