"""Logistic-regression probe for multi-label classification, one classifier per class (one-vs-rest).

The classification counterpart of :mod:`isoclr_hf.evaluation.probes.ridge`: features standardised on the
training split (``StandardScaler``), then per class a scikit-learn ``LogisticRegression`` (L2,
lbfgs) fitted at each inverse penalty ``C`` of a small grid; the ``C`` with the best validation
AUROC is kept per class (validation log loss where the validation split holds a single class).
The grid runs from the strongest penalty to the weakest with ``warm_start``, so each fit starts
from the previous solution, and stops once two ``C`` in a row score below the best (the weak
penalties are the slow fits, and past the optimum the validation score only falls further): on
1,600 examples x 5,721 k-mer columns that is about a second per class.

A class with a single value in the training subset (a low-data draw with no positive) cannot be
fitted: it predicts its training frequency for every example (a constant, AUROC 0.5 at best) and
is counted in ``constant_classes``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

from .ridge import standardised_splits

# Inverse penalties tried, on standardised features (strong -> weak).
DEFAULT_CS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
MAX_ITERATIONS = 200
# Stop the grid after this many C values in a row that score below the best.
PATIENCE = 2


@dataclass
class LogisticProbe:
    """Fitted per-class logistic regressions on standardised features.

    Attributes:
        feature_mean: Training-split feature means. Shape: (d,).
        feature_scale: Training-split feature standard deviations (1 where constant). Shape: (d,).
        coefficients: One row per class. Shape: (k, d).
        intercepts: Shape: (k,).
        inverse_penalties: The ``C`` chosen per class (NaN for a constant class). Shape: (k,).
        validation_scores: Validation AUROC (or minus log loss) of the chosen ``C`` per class. Shape: (k,).
        constant_classes: Classes with a single value in the training subset (predicting their frequency).
    """

    feature_mean: np.ndarray
    feature_scale: np.ndarray
    coefficients: np.ndarray
    intercepts: np.ndarray
    inverse_penalties: np.ndarray
    validation_scores: np.ndarray
    constant_classes: list[int] = field(default_factory=list)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Probability of each class. Shape: (n, d) -> (n, k)."""
        standardised = (np.asarray(features, dtype=np.float64) - self.feature_mean) / self.feature_scale
        return expit(standardised @ self.coefficients.T + self.intercepts)  # (n, k)


def _score(truth: np.ndarray, probabilities: np.ndarray) -> float:
    """Validation AUROC, or minus the log loss when the validation split holds a single class."""
    if truth.min() != truth.max():
        return float(roc_auc_score(truth, probabilities))
    return -float(log_loss(truth, probabilities, labels=[0, 1]))


def fit_logistic_probe(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    validation_features: np.ndarray,
    validation_labels: np.ndarray,
    *,
    inverse_penalties: tuple[float, ...] = DEFAULT_CS,
) -> LogisticProbe:
    """Fit one logistic regression per class; choose each class's ``C`` on the validation split.

    Args:
        train_features: Shape: (n_train, d).
        train_labels: 0/1. Shape: (n_train, k).
        validation_features: Shape: (n_validation, d).
        validation_labels: 0/1. Shape: (n_validation, k).
        inverse_penalties: ``C`` values to try (scikit-learn's inverse L2 penalty).

    Returns:
        The probe fitted on the training split with each class's chosen ``C``.
    """
    train_labels = np.asarray(train_labels)
    validation_labels = np.asarray(validation_labels)
    if train_labels.ndim != 2 or validation_labels.ndim != 2:
        raise ValueError("Multi-label targets must have shape (examples, classes).")
    scaler, train_x, validation_x = standardised_splits("logistic", train_features, validation_features,
                                                        n_train=len(train_labels), n_validation=len(validation_labels))
    k, d = train_labels.shape[1], train_x.shape[1]
    coefficients, intercepts = np.zeros((k, d)), np.zeros(k)
    chosen, scores, constant = np.full(k, np.nan), np.full(k, np.nan), []
    for column in range(k):
        truth = train_labels[:, column]
        if truth.min() == truth.max():
            frequency = float(np.clip(truth.mean(), 1e-6, 1 - 1e-6))
            intercepts[column] = np.log(frequency / (1 - frequency))
            constant.append(column)
            continue
        model = LogisticRegression(C=inverse_penalties[0], max_iter=MAX_ITERATIONS, warm_start=True)
        best: tuple[float, float, np.ndarray, float] | None = None
        worse_in_a_row = 0
        for c in sorted(inverse_penalties):
            if worse_in_a_row >= PATIENCE:
                break
            model.set_params(C=c)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # the validation split judges the fit
                model.fit(train_x, truth)
            score = _score(validation_labels[:, column], model.predict_proba(validation_x)[:, 1])
            if best is None or score > best[0]:  # ties: the stronger penalty (seen first)
                best = (score, c, model.coef_[0].copy(), float(model.intercept_[0]))
                worse_in_a_row = 0
            else:
                worse_in_a_row += 1
        assert best is not None
        scores[column], chosen[column], coefficients[column], intercepts[column] = best
    return LogisticProbe(scaler.mean_, scaler.scale_, coefficients, intercepts, chosen, scores, constant)


__all__ = ["DEFAULT_CS", "LogisticProbe", "fit_logistic_probe"]
