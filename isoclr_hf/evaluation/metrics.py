"""Regression metrics (Pearson r, Spearman rho, MSE) computed with Hugging Face ``evaluate``.

``evaluate.load("pearsonr")`` downloads the metric script from the Hub and fails offline; evaluate
0.4 ships no metric scripts. The package therefore carries the three metrics as local ``evaluate``
modules (``metric_modules/*.py``, backed by scipy and sklearn) and loads them by path, which works
with no network.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import evaluate
import numpy as np

METRIC_MODULES = Path(__file__).resolve().parent / "metric_modules"
METRIC_NAMES = {"pearson": "pearsonr", "spearman": "spearmanr", "mse": "mse"}


@functools.cache
def load_metric(name: str) -> Any:
    """Load one of the local metric modules (``pearsonr``, ``spearmanr``, ``mse``) with ``evaluate``."""
    if name not in METRIC_NAMES.values():
        raise ValueError(f"Unknown metric {name!r}; choose one of {', '.join(METRIC_NAMES.values())}.")
    return evaluate.load(str(METRIC_MODULES / f"{name}.py"))


def regression_metrics(predictions: np.ndarray, references: np.ndarray) -> dict[str, float]:
    """Pearson r, Spearman rho and MSE of one regression target.

    Args:
        predictions: Predicted values. Shape: (n,).
        references: Measured values, same units. Shape: (n,).

    Returns:
        ``{"pearson": r, "spearman": rho, "mse": mse}``; the correlations are NaN when either input
        is constant.
    """
    predictions = np.asarray(predictions, dtype=np.float64).reshape(-1)
    references = np.asarray(references, dtype=np.float64).reshape(-1)
    if predictions.shape != references.shape:
        raise ValueError(f"Got {predictions.size} predictions for {references.size} references.")
    if predictions.size < 2:
        raise ValueError(f"Need at least 2 examples to compute correlations, got {predictions.size}.")
    if not np.all(np.isfinite(predictions)):
        raise ValueError("Predictions contain NaN or infinite values (did training diverge?).")
    result = {}
    for key, module in METRIC_NAMES.items():
        value = load_metric(module).compute(predictions=predictions.tolist(), references=references.tolist())[module]
        result[key] = float(value) if value is not None else math.nan
    return result


__all__ = ["METRIC_NAMES", "load_metric", "regression_metrics"]
