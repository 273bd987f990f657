"""Mean squared error, as an ``evaluate`` metric (sklearn.metrics.mean_squared_error)."""

import datasets
import evaluate
from sklearn.metrics import mean_squared_error

_DESCRIPTION = "Mean squared error between predictions and references (sklearn.metrics.mean_squared_error)."
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of float): Predicted values.
    references (list of float): Measured values.
Returns:
    mse (float): Mean of the squared differences, in the squared units of the references.
"""


class Mse(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("float64"),
                                        "references": datasets.Value("float64")}),
        )

    def _compute(self, predictions, references):  # type: ignore[no-untyped-def]
        return {"mse": float(mean_squared_error(references, predictions))}
