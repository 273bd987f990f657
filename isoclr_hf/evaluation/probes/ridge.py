"""Ridge probe on frozen features, the penalty chosen on the validation split.

Used for the linear probe on pooled embeddings and for the k-mer/length/GC baseline, so the two
differ only in their features. Standardisation is scikit-learn's (``StandardScaler``); the penalty
is chosen on a held-out validation split, as in the paper's linear probing (``RidgeCV`` chooses by
cross-validation instead).

The fits: scikit-learn's ``Ridge`` refits from scratch for every penalty (a Gram matrix and a
Cholesky solve each time), which on the 5,721 k-mer columns and 10,000 training examples costs
minutes per probe. Small problems (``min(n, d) <= 2,000``) use ``Ridge``; larger ones use one
eigendecomposition of ``X^T X`` (or of ``X X^T`` when there are fewer examples than features) for
all penalties, which gives the same coefficients (checked against ``Ridge`` in the tests).
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


def standardised_splits(
    probe: str, train_features: np.ndarray, validation_features: np.ndarray, *, n_train: int, n_validation: int
) -> tuple[StandardScaler, np.ndarray, np.ndarray]:
    """Check a probe's splits, then standardise both with the training split's mean and standard deviation.

    Args:
        probe: The probe's name for the messages (``ridge``, ``logistic``).
        train_features: Shape: (n_train, d).
        validation_features: Shape: (n_validation, d).
        n_train: Training labels given.
        n_validation: Validation labels given.

    Returns:
        ``(scaler, train_x, validation_x)``, features as float64.

    Raises:
        ValueError: Fewer than 2 training examples, or no validation example (the penalty is chosen there).
    """
    if n_train < 2:
        raise ValueError(f"A {probe} probe needs at least 2 training examples, got {n_train}.")
    if n_validation == 0:
        raise ValueError(f"The validation split is empty: the {probe} penalty cannot be chosen.")
    scaler = StandardScaler()
    train_x = scaler.fit_transform(np.asarray(train_features, dtype=np.float64))  # (n_train, d)
    validation_x = scaler.transform(np.asarray(validation_features, dtype=np.float64))  # (n_validation, d)
    return scaler, train_x, validation_x


def fit_ridge_probe(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    validation_features: np.ndarray,
    validation_labels: np.ndarray,
    *,
    alphas: tuple[float, ...] = DEFAULT_ALPHAS,
    eigen_threshold: int = 2000,
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
        eigen_threshold: Above this ``min(n_train, d)`` all penalties share one eigendecomposition
            instead of one ``sklearn.linear_model.Ridge`` fit each (same result, faster).

    Returns:
        The probe fitted on the training split with the chosen penalty (the validation split
        only chooses the penalty, as in the paper's linear probing).
    """
    train_labels = np.asarray(train_labels, dtype=np.float64)
    validation_labels = np.asarray(validation_labels, dtype=np.float64)
    scaler, train_x, validation_x = standardised_splits("ridge", train_features, validation_features,
                                                        n_train=len(train_labels), n_validation=len(validation_labels))
    if min(train_x.shape) <= eigen_threshold:
        fits = {alpha: Ridge(alpha=alpha).fit(train_x, train_labels) for alpha in alphas}
        coefficients = {alpha: fit.coef_ for alpha, fit in fits.items()}
        intercept = {alpha: float(fit.intercept_) for alpha, fit in fits.items()}
    else:
        coefficients = _ridge_path(train_x, train_labels - train_labels.mean(), alphas)
        intercept = dict.fromkeys(alphas, float(train_labels.mean()))  # the features are centred
    scores = {alpha: float(mean_squared_error(validation_labels, validation_x @ coefficients[alpha] + intercept[alpha]))
              for alpha in alphas}
    best = min(scores, key=lambda a: (scores[a], -a))  # ties: the stronger penalty
    return RidgeProbe(scaler.mean_, scaler.scale_, coefficients[best], intercept[best], best, scores)


def _ridge_path(x: np.ndarray, y: np.ndarray, alphas: tuple[float, ...]) -> dict[float, np.ndarray]:
    """Ridge coefficients ``(X^T X + alpha I)^-1 X^T y`` for every penalty from one eigendecomposition.

    Args:
        x: Centred features. Shape: (n, d).
        y: Centred labels. Shape: (n,).
        alphas: Penalties.

    Returns:
        Penalty -> coefficients. Shape of each: (d,).
    """
    n, d = x.shape
    if n >= d:
        eigenvalues, vectors = np.linalg.eigh(x.T @ x)  # (d,), (d, d)
        projected = vectors.T @ (x.T @ y)  # (d,)
        return {alpha: vectors @ (projected / (np.maximum(eigenvalues, 0.0) + alpha)) for alpha in alphas}
    eigenvalues, vectors = np.linalg.eigh(x @ x.T)  # (n,), (n, n); the dual (kernel) form
    projected = vectors.T @ y  # (n,)
    return {alpha: x.T @ (vectors @ (projected / (np.maximum(eigenvalues, 0.0) + alpha))) for alpha in alphas}


__all__ = ["DEFAULT_ALPHAS", "RidgeProbe", "fit_ridge_probe", "standardised_splits"]
