"""Pearson correlation coefficient, as an ``evaluate`` metric (scipy.stats.pearsonr)."""

import datasets
import evaluate
import numpy as np
from scipy.stats import pearsonr

_DESCRIPTION = "Pearson correlation coefficient r between predictions and references (scipy.stats.pearsonr)."
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of float): Predicted values.
    references (list of float): Measured values.
Returns:
    pearsonr (float): Pearson r in [-1, 1]; NaN when either input is constant.
"""


class Pearsonr(evaluate.Metric):
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
            return {"pearsonr": float("nan")}
        return {"pearsonr": float(pearsonr(references, predictions)[0])}
