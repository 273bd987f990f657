"""Regression metrics equal the textbook formulas, refuse bad input and give NaN where undefined."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from isoclr_hf.evaluation import metrics


def test_metrics_match_the_formulas() -> None:
    rng = np.random.default_rng(0)
    references = rng.normal(size=200)
    predictions = references + rng.normal(scale=0.7, size=200)
    result = metrics.regression_metrics(predictions, references)
    assert result["pearson"] == pytest.approx(np.corrcoef(predictions, references)[0, 1])
    assert result["spearman"] == pytest.approx(np.corrcoef(rankdata(predictions), rankdata(references))[0, 1])
    assert result["mse"] == pytest.approx(np.mean((predictions - references) ** 2))


def test_constant_predictions_give_nan_correlation_not_a_crash() -> None:
    result = metrics.regression_metrics(np.zeros(10), np.arange(10.0))
    assert np.isnan(result["pearson"]) and np.isnan(result["spearman"])
    assert result["mse"] == pytest.approx(np.mean(np.arange(10.0) ** 2))


def test_non_finite_predictions_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        metrics.regression_metrics(np.array([1.0, np.nan, 2.0]), np.array([1.0, 2.0, 3.0]))


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="3 predictions for 4 references"):
        metrics.regression_metrics(np.zeros(3), np.zeros(4))
