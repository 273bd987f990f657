"""Paired comparisons over seeds: intervals, counts and verdicts on results whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from isoclr_hf.evaluation.reports.statistics import comparisons_markdown, paired_comparisons, paired_interval


def _rows(encoder: str, method: str, pearson: list[float], *, fraction: float = 1.0, mse: list[float] | None = None,
          n_train: int = 800, n_test: int = 100) -> list[dict]:
    mse = mse or [1.0] * len(pearson)
    return [{"encoder": encoder, "method": method, "train_fraction": fraction, "seed": seed, "n_train": n_train,
             "n_test": n_test, "pearson": r, "spearman": r, "mse": m} for seed, (r, m) in enumerate(zip(pearson, mse))]


def test_interval_is_the_t_interval_widened_for_overlapping_training_sets() -> None:
    differences = np.array([1.0, 2.0, 3.0])
    mean, sd, low, high = paired_interval(differences)
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert (mean, sd) == (2.0, 1.0) and (low, high) == pytest.approx((2 - half, 2 + half))
    _, _, low_c, high_c = paired_interval(differences, n_train=800, n_test=100)
    half_c = stats.t.ppf(0.975, 2) * math.sqrt(1 / 3 + 100 / 800)
    assert (low_c, high_c) == pytest.approx((2 - half_c, 2 + half_c))
    assert math.isnan(paired_interval(np.array([0.5]))[2])


def test_a_consistent_gain_is_beyond_noise_and_a_coin_flip_is_within_noise() -> None:
    random_init = [0.30, 0.35, 0.40, 0.32, 0.38]
    results = (_rows("pretrained", "linear_probe", [r + 0.1 + 0.005 * i for i, r in enumerate(random_init)],
                     mse=[0.8] * 5)
               + _rows("random_init", "linear_probe", random_init, mse=[1.0] * 5)
               + _rows("kmer_baseline", "ridge", [r + 0.1 + d for r, d in zip(random_init, [0.05, -0.05, 0.04,
                                                                                              -0.06, 0.03])]))
    comparisons = {(c["comparison"], c["metric"]): c for c in paired_comparisons(results)}
    gain = comparisons[("pretrained - random_init (linear probe)", "pearson")]
    assert gain["n_seeds"] == 5 and gain["n_positive"] == 5 and not gain["within_noise"]
    assert gain["mean_difference"] == pytest.approx(0.11)
    assert gain["verdict"].startswith("pretrained above random_init: 5/5 seeds, pearson +0.110, 95% CI [")
    assert gain["n_train"] == 800 and gain["n_test"] == 100
    mse = comparisons[("pretrained - random_init (linear probe)", "mse")]
    assert mse["mean_difference"] == pytest.approx(0.2) and mse["n_positive"] == 5  # lower MSE favours pretrained
    noise = comparisons[("pretrained - kmer_baseline (linear probe vs ridge)", "pearson")]
    assert noise["within_noise"] and noise["ci_low"] < 0 < noise["ci_high"]
    assert "within noise" in noise["verdict"] and noise["n_positive"] == 2
    assert not any(c["comparison"].endswith("(fine-tune)") for c in comparisons.values())  # no fine-tune rows
    table = comparisons_markdown(paired_comparisons(results))
    assert "| 1 | 800 | 100 | pretrained - random_init (linear probe) | 5 | +0.110 |" in table
    assert "- At training fraction 1 (n = 800): pretrained above random_init: 5/5 seeds" in table


def test_collapsed_runs_count_as_zero_correlation_and_one_seed_gives_no_interval() -> None:
    results = (_rows("pretrained", "fine_tune", [0.5, 0.6, 0.55])
               + _rows("random_init", "fine_tune", [float("nan"), float("nan"), 0.1]))
    chosen = next(c for c in paired_comparisons(results, metrics=("pearson",)) if "fine-tune)" in c["comparison"])
    assert chosen["n_undefined"] == 2 and chosen["mean_difference"] == pytest.approx((0.5 + 0.6 + 0.45) / 3)
    assert "predicted a constant" in comparisons_markdown([chosen])
    single = paired_comparisons(_rows("pretrained", "linear_probe", [0.5]) + _rows("random_init", "linear_probe",
                                                                                     [0.4]), metrics=("pearson",))
    assert single[0]["within_noise"] is None and "from one run, no interval" in single[0]["verdict"]
    table = comparisons_markdown(single)
    assert "| one run, no interval |" in table and "within noise" not in table


def test_pairs_are_matched_per_training_fraction() -> None:
    results = (_rows("pretrained", "linear_probe", [0.2] * 5, fraction=0.1, n_train=80)
               + _rows("random_init", "linear_probe", [0.25] * 5, fraction=0.1, n_train=80)
               + _rows("pretrained", "linear_probe", [0.6] * 5) + _rows("random_init", "linear_probe", [0.4] * 5))
    by_fraction = {c["train_fraction"]: c for c in paired_comparisons(results, metrics=("pearson",))}
    assert by_fraction[0.1]["mean_difference"] == pytest.approx(-0.05) and by_fraction[0.1]["n_train"] == 80
    assert by_fraction[0.1]["verdict"].startswith("pretrained below random_init: 5/5 seeds favour random_init")
    assert by_fraction[1.0]["mean_difference"] == pytest.approx(0.2)
