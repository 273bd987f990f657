"""The ridge probe: recovers a linear signal, picks the penalty on validation, original units."""

from __future__ import annotations

import numpy as np

from isoclr_hf.evaluation.probe import fit_ridge_probe


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


def test_probe_equals_sklearn_ridge_at_the_chosen_penalty() -> None:
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    train_x, train_y = _data(60, 5.0, 5)
    val_x, val_y = _data(30, 5.0, 6)
    probe = fit_ridge_probe(train_x, train_y, val_x, val_y)
    scaler = StandardScaler().fit(train_x)
    reference = Ridge(alpha=probe.alpha).fit(scaler.transform(train_x), train_y)
    np.testing.assert_allclose(probe.predict(val_x), reference.predict(scaler.transform(val_x)), rtol=1e-8)
