"""The ridge probe: recovers a linear signal, picks the penalty on validation; both probes' split checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from isoclr_hf.evaluation.probes.logistic import fit_logistic_probe
from isoclr_hf.evaluation.probes.ridge import fit_ridge_probe


def _data(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 20))
    weights = np.linspace(-1, 1, 20)
    return features, 1000 + 50 * (features @ weights) + rng.normal(scale=noise, size=n)


def test_probe_recovers_a_linear_signal_in_original_units() -> None:
    train_x, train_y = _data(300, 1.0, 0)
    val_x, val_y = _data(100, 1.0, 1)
    test_x, test_y = _data(100, 1.0, 2)
    probe = fit_ridge_probe(train_x, train_y, val_x, val_y)
    predictions = probe.predict(test_x)
    assert np.corrcoef(predictions, test_y)[0, 1] > 0.99
    assert abs(predictions.mean() - test_y.mean()) < 20  # original units, not standardised


def test_pure_noise_gets_a_stronger_penalty_than_signal() -> None:
    rng = np.random.default_rng(0)
    train_x, val_x = rng.normal(size=(40, 20)), rng.normal(size=(40, 20))
    noise = fit_ridge_probe(train_x, rng.normal(size=40), val_x, rng.normal(size=40))
    signal_x, signal_y = _data(40, 0.1, 3)
    val_signal_x, val_signal_y = _data(40, 0.1, 4)
    signal = fit_ridge_probe(signal_x, signal_y, val_signal_x, val_signal_y)
    assert noise.alpha > signal.alpha


def _closed_form_ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Ridge with an intercept, from its normal equations: (X^T X + alpha I) b = X^T (y - mean(y))."""
    centred = x - x.mean(axis=0)
    coefficients = np.linalg.solve(centred.T @ centred + alpha * np.eye(x.shape[1]), centred.T @ (y - y.mean()))
    return coefficients, float(y.mean() - x.mean(axis=0) @ coefficients)


def test_probe_equals_the_closed_form_at_the_penalty_best_on_validation() -> None:
    train_x, train_y = _data(60, 5.0, 5)
    val_x, val_y = _data(30, 5.0, 6)
    train_x[:, 3] = 7.0  # a constant feature: kept at scale 1, it gets no weight
    alphas = (0.1, 3.0, 100.0, 3000.0)
    probe = fit_ridge_probe(train_x, train_y, val_x, val_y, alphas=alphas)

    mean, scale = train_x.mean(axis=0), train_x.std(axis=0)
    scale[scale == 0] = 1.0

    def standardise(x: np.ndarray) -> np.ndarray:
        return (x - mean) / scale

    validation_mse = {}
    for alpha in alphas:
        coefficients, intercept = _closed_form_ridge(standardise(train_x), train_y, alpha)
        validation_mse[alpha] = np.mean((standardise(val_x) @ coefficients + intercept - val_y) ** 2)
    best = min(validation_mse, key=validation_mse.__getitem__)
    assert probe.alpha == best
    assert probe.validation_mse == pytest.approx(validation_mse, rel=1e-9)
    coefficients, intercept = _closed_form_ridge(standardise(train_x), train_y, best)
    np.testing.assert_allclose(probe.coefficients, coefficients, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(probe.predict(val_x), standardise(val_x) @ coefficients + intercept, rtol=1e-10)


def test_ties_go_to_the_stronger_penalty() -> None:
    rng = np.random.default_rng(0)
    train_x, val_x = rng.normal(size=(10, 3)), rng.normal(size=(5, 3))
    # Constant labels: every penalty predicts the mean exactly, so all validation errors are equal.
    probe = fit_ridge_probe(train_x, np.full(10, 2.0), val_x, np.full(5, 3.0), alphas=(1.0, 10.0, 5.0))
    assert probe.alpha == 10.0
    np.testing.assert_allclose(probe.predict(val_x), 2.0)


def test_bad_splits_are_refused() -> None:
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="at least 2 training examples"):
        fit_ridge_probe(x[:1], np.zeros(1), x, np.zeros(4))
    with pytest.raises(ValueError, match="validation split is empty"):
        fit_ridge_probe(x, np.zeros(4), x[:0], np.zeros(0))


@pytest.mark.parametrize("shape", [(60, 8), (8, 60)])
def test_the_shared_eigendecomposition_gives_sklearn_ridge(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    train_x, val_x = rng.normal(size=shape), rng.normal(size=(20, shape[1]))
    train_y, val_y = train_x[:, 0] * 3 + rng.normal(size=shape[0]) + 7, val_x[:, 0] * 3 + 7
    fast = fit_ridge_probe(train_x, train_y, val_x, val_y, eigen_threshold=0)
    reference = fit_ridge_probe(train_x, train_y, val_x, val_y)
    assert fast.alpha == reference.alpha
    np.testing.assert_allclose(list(fast.validation_mse.values()), list(reference.validation_mse.values()),
                               rtol=1e-8)
    np.testing.assert_allclose(fast.predict(val_x), reference.predict(val_x), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(("probe", "fit", "labels"), [
    ("ridge", fit_ridge_probe, lambda n: np.arange(n, dtype=float)),
    ("logistic", fit_logistic_probe, lambda n: np.eye(n, 2, dtype=int)),
])
def test_a_probe_refuses_too_few_training_or_no_validation_examples(probe: str, fit: Any, labels: Any) -> None:
    x = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match=f"A {probe} probe needs at least 2 training examples, got 1"):
        fit(x[:1], labels(1), x[1:], labels(5))
    with pytest.raises(ValueError, match=f"The validation split is empty: the {probe} penalty cannot be chosen"):
        fit(x, labels(6), x[:0], labels(0))
