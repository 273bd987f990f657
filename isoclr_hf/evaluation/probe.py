"""Ridge probe on frozen features, the penalty chosen on the validation split.

Used for the linear probe on pooled embeddings and for the k-mer/length/GC baseline, so the two
differ only in their features. Standardisation and the fits are scikit-learn's
(``StandardScaler``, ``Ridge``); only the choice of the penalty on a held-out validation split, as
in the paper's linear probing, is done here (``RidgeCV`` chooses by cross-validation instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.preprocessing import StandardScaler

# Penalties tried, on standardised features; wide enough for 10 to 30,000 training examples.
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-2, 5, 15))


@dataclass
class RidgeProbe:
    """A fitted ridge probe: standardise, linear map, predictions in the targets' original units.

    Attributes:
        feature_mean: Training-split feature means. Shape: (d,).
        feature_scale: Training-split feature standard deviations (1 where constant). Shape: (d,).
        coefficients: Ridge coefficients on standardised features. Shape: (d,).
        intercept: The training-split label mean (the standardised features have mean 0).
        alpha: The chosen penalty.
        validation_mse: Validation MSE of each penalty tried, in original units.
    """

    feature_mean: np.ndarray
    feature_scale: np.ndarray
    coefficients: np.ndarray
    intercept: float
    alpha: float
    validation_mse: dict[float, float]

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predictions in original units. Shape: (n, d) -> (n,)."""
        standardised = (np.asarray(features, dtype=np.float64) - self.feature_mean) / self.feature_scale
        return standardised @ self.coefficients + self.intercept


def fit_ridge_probe(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    validation_features: np.ndarray,
    validation_labels: np.ndarray,
    *,
    alphas: tuple[float, ...] = DEFAULT_ALPHAS,
) -> RidgeProbe:
    """Fit ridge regressions on the training split and keep the penalty best on validation (MSE).

    Each fit minimises ``||y - mean(y) - X b||^2 + alpha ||b||^2`` on the training features ``X``
    standardised with the training split's mean and standard deviation (``sklearn.linear_model.Ridge``
    with an intercept).

    Args:
        train_features: Shape: (n_train, d).
        train_labels: Shape: (n_train,).
        validation_features: Shape: (n_validation, d).
        validation_labels: Shape: (n_validation,).
        alphas: Penalties to try.

    Returns:
        The probe fitted on the training split with the chosen penalty (the validation split
        only chooses the penalty, as in the paper's linear probing).
    """
    train_labels = np.asarray(train_labels, dtype=np.float64)
    validation_labels = np.asarray(validation_labels, dtype=np.float64)
    if len(train_labels) < 2:
        raise ValueError(f"A ridge probe needs at least 2 training examples, got {len(train_labels)}.")
    if len(validation_labels) == 0:
        raise ValueError("The validation split is empty: the ridge penalty cannot be chosen.")
    scaler = StandardScaler()
    train_x = scaler.fit_transform(np.asarray(train_features, dtype=np.float64))  # (n_train, d)
    validation_x = scaler.transform(np.asarray(validation_features, dtype=np.float64))  # (n_validation, d)
    fits = {alpha: Ridge(alpha=alpha).fit(train_x, train_labels) for alpha in alphas}
    scores = {alpha: float(mean_squared_error(validation_labels, fit.predict(validation_x)))
              for alpha, fit in fits.items()}
    best = min(scores, key=lambda a: (scores[a], -a))  # ties: the stronger penalty
    chosen = fits[best]
    return RidgeProbe(scaler.mean_, scaler.scale_, chosen.coef_, float(chosen.intercept_), best, scores)


__all__ = ["DEFAULT_ALPHAS", "RidgeProbe", "fit_ridge_probe"]
