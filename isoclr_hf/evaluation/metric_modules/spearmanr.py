"""Spearman rank correlation, as an ``evaluate`` metric (scipy.stats.spearmanr)."""

import datasets
import evaluate
import numpy as np
from scipy.stats import spearmanr

_DESCRIPTION = "Spearman rank correlation rho between predictions and references (scipy.stats.spearmanr)."
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of float): Predicted values.
    references (list of float): Measured values.
Returns:
    spearmanr (float): Spearman rho in [-1, 1]; NaN when either input is constant.
"""


class Spearmanr(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("float64"),
                                        "references": datasets.Value("float64")}),
        )

    def _compute(self, predictions, references):  # type: ignore[no-untyped-def]
        predictions, references = np.asarray(predictions, float), np.asarray(references, float)
        if predictions.std() == 0 or references.std() == 0:
            return {"spearmanr": float("nan")}
        return {"spearmanr": float(spearmanr(references, predictions)[0])}
