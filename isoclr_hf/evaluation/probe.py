"""Ridge probe on frozen features, the penalty chosen on the validation split.

Used for the linear probe on pooled embeddings and for the k-mer/length/GC baseline, so the two
differ only in their features. All penalties are solved from one SVD of the standardised training
features, so a grid of 15 penalties costs about as much as one fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Penalties tried, on standardised features; wide enough for 10 to 30,000 training examples.
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-2, 5, 15))


@dataclass
class RidgeProbe:
    """A fitted ridge probe: standardise, linear map, predictions in the targets' original units.

    Attributes:
        feature_mean: Training-split feature means. Shape: (d,).
        feature_scale: Training-split feature standard deviations (1 where constant). Shape: (d,).
        coefficients: Ridge coefficients on standardised features. Shape: (d,).
        intercept: The training-split label mean.
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

    Minimises ``||y - mean(y) - X b||^2 + alpha ||b||^2`` on standardised training features ``X``
    (the objective of ``sklearn.linear_model.Ridge`` with an intercept), for every alpha at once:
    with ``X = U S V^T``, ``b(alpha) = V diag(s / (s^2 + alpha)) U^T (y - mean(y))``.

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
    train_x = np.asarray(train_features, dtype=np.float64)
    mean = train_x.mean(axis=0)
    scale = train_x.std(axis=0)
    scale[scale == 0] = 1.0
    train_x = (train_x - mean) / scale  # (n, d)
    validation_x = (np.asarray(validation_features, dtype=np.float64) - mean) / scale
    intercept = float(train_labels.mean())
    u, s, vt = np.linalg.svd(train_x, full_matrices=False)  # (n, r), (r,), (r, d)
    projected = u.T @ (train_labels - intercept)  # (r,)
    scores: dict[float, float] = {}
    coefficients: dict[float, np.ndarray] = {}
    for alpha in alphas:
        coefficients[alpha] = vt.T @ (s / (s**2 + alpha) * projected)  # (d,)
        residual = validation_x @ coefficients[alpha] + intercept - validation_labels
        scores[alpha] = float(np.mean(residual**2))
    best = min(scores, key=lambda a: (scores[a], -a))  # ties: the stronger penalty
    return RidgeProbe(mean, scale, coefficients[best], intercept, best, scores)


__all__ = ["DEFAULT_ALPHAS", "RidgeProbe", "fit_ridge_probe"]
