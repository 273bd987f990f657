"""Paired comparisons over split seeds (or folds): is the pretrained encoder better, and by how much?

Every run of ``isoclr evaluate`` repeats each encoder/method/training fraction over several split
seeds (or the task's folds). On one seed all contenders see the same training, validation and test
examples, so the comparison is paired: per seed, ``difference = pretrained - other`` (Pearson r,
Spearman rho, macro AUROC and AUPRC for classification; for MSE ``other - pretrained`` so that a
positive difference always favours the pretrained encoder). Over the seeds this module reports
the mean and standard deviation of the differences, a 95% interval, how many seeds favour each
side, and a verdict in plain words.

The interval. A plain t-interval over seeds treats the seeds as independent samples, but the
training sets of different split seeds overlap (80% of the examples each time), which makes the
spread across seeds too small and such an interval optimistic. The interval here is the corrected
resampled t-interval of Nadeau & Bengio (2003, "Inference for the generalization error"): the
variance of the mean difference is ``sd^2 * (1/J + n_test/n_train)`` for ``J`` seeds instead of
``sd^2 / J``, with ``J - 1`` degrees of freedom, where ``n_train`` is the size of the seed's whole training split
(``n_train_split`` in a row; a low-data subset is drawn from it, so its 10 examples do not make the
runs more independent) and ``n_test`` the test split's. It is wider than the plain interval and is
still an approximation; with few seeds (5) it is wide, which is the honest answer. One seed gives no
interval at all and the verdict says so.

A correlation that is undefined (a constant prediction, e.g. a collapsed fine-tuning run) counts
as 0 in a difference: a constant predictor carries no ranking information. The count of such runs
is reported with the comparison.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import stats

# (name, first side, second side); each side is (encoder, method). Differences are first - second.
COMPARISONS: tuple[tuple[str, tuple[str, str], tuple[str, str]], ...] = (
    ("pretrained - random_init (linear probe)", ("pretrained", "linear_probe"), ("random_init", "linear_probe")),
    ("pretrained - kmer_baseline (linear probe vs ridge)", ("pretrained", "linear_probe"), ("kmer_baseline", "ridge")),
    ("pretrained - random_init (fine-tune)", ("pretrained", "fine_tune"), ("random_init", "fine_tune")),
    ("pretrained - kmer_baseline (fine-tune vs ridge)", ("pretrained", "fine_tune"), ("kmer_baseline", "ridge")),
    ("fine-tune - linear probe (pretrained)", ("pretrained", "fine_tune"), ("pretrained", "linear_probe")),
)
HIGHER_IS_BETTER = {"pearson": True, "spearman": True, "mse": False, "auroc_macro": True, "auprc_macro": True}
DEFAULT_METRICS = ("pearson", "spearman", "mse")
CLASSIFICATION_METRICS = ("auroc_macro", "auprc_macro")
BASELINE_METHODS = {"ridge": "ridge", "logistic": "logistic regression"}


STANDARD_ENCODERS = ("pretrained", "random_init", "kmer_baseline")


def comparisons_for(
    baseline_method: str = "ridge", contenders: Iterable[str] = ()
) -> tuple[tuple[str, tuple[str, str], tuple[str, str]], ...]:
    """:data:`COMPARISONS` with the k-mer baseline fitted by ``baseline_method`` (``ridge`` or ``logistic``),
    then ``pretrained - <contender> (linear probe)`` for each contender encoder (``isoclr evaluate --contender``)."""
    words = BASELINE_METHODS.get(baseline_method, baseline_method)
    baseline = ("kmer_baseline", "ridge")
    chosen = COMPARISONS if baseline_method == "ridge" else tuple(
        (name.replace("ridge)", f"{words})"), a, ("kmer_baseline", baseline_method) if b == baseline else b)
        for name, a, b in COMPARISONS)
    return chosen + tuple((f"pretrained - {name} (linear probe)", ("pretrained", "linear_probe"),
                           (name, "linear_probe")) for name in contenders)


def contender_names(results: Iterable[dict[str, Any]]) -> list[str]:
    """Encoders of the results other than pretrained, random_init and kmer_baseline, in order of appearance."""
    return list(dict.fromkeys(r["encoder"] for r in results if r["encoder"] not in STANDARD_ENCODERS))


def pretraining_free_results(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows restricted to the pretraining-free test examples (rows whose ``pretraining_free`` is set):
    each row's ``n_test`` and test metrics replaced by those of ``pretraining_free``."""
    return [{key: value for key, value in {**row, **row["pretraining_free"]}.items()
             if key not in ("pretraining_free", "by_stratum")}
            for row in results if row.get("pretraining_free")]


def paired_interval(
    differences: np.ndarray, *, n_train: float | None = None, n_test: float | None = None, level: float = 0.95
) -> tuple[float, float, float, float]:
    """Mean, sd and a ``level`` interval of paired differences over seeds.

    Args:
        differences: One difference per seed. Shape: (J,).
        n_train, n_test: Training and test sizes per seed; when both are given the variance gets the
            Nadeau-Bengio correction for overlapping training sets (see the module docstring),
            otherwise the plain t-interval is returned.
        level: Coverage of the interval.

    Returns:
        ``(mean, sd, low, high)``; sd, low and high are NaN with fewer than two seeds.
    """
    differences = np.asarray(differences, dtype=np.float64).reshape(-1)
    count = differences.size
    if count == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(differences.mean())
    if count < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(differences.std(ddof=1))
    factor = 1.0 / count
    if n_train and n_test:
        factor += float(n_test) / float(n_train)
    half = float(stats.t.ppf(0.5 + level / 2, count - 1)) * sd * math.sqrt(factor)
    return mean, sd, mean - half, mean + half


def _metric_value(row: dict[str, Any], metric: str) -> tuple[float, bool]:
    """The metric of a run, and whether it was undefined (a correlation of a constant prediction)."""
    value = row.get(metric)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (0.0, True) if metric in ("pearson", "spearman") else (math.nan, True)
    return float(value), False


def _by_key(results: Iterable[dict[str, Any]], encoder: str, method: str) -> dict[tuple[float, int], dict[str, Any]]:
    return {(float(r["train_fraction"]), int(r["seed"])): r for r in results
            if r["encoder"] == encoder and r["method"] == method}


def verdict(name: str, metric: str, mean: float, low: float, high: float, positive: int, count: int) -> str:
    """A sentence saying which side the seeds favour and whether the difference is within noise."""
    winner, loser = (part.strip() for part in name.split("(")[0].split(" - "))
    what = f"{metric} {mean:+.3f}"
    if count == 1:
        return f"{name}: {what} from one run, no interval: no conclusion."
    if count < 2 or math.isnan(low):
        return f"{name}: {what} on {count} seed(s), no interval: no conclusion."
    interval = f"95% CI [{low:+.3f}, {high:+.3f}]"
    if low > 0:
        return f"{winner} above {loser}: {positive}/{count} seeds, {what}, {interval}."
    if high < 0:
        return f"{winner} below {loser}: {count - positive}/{count} seeds favour {loser}, {what}, {interval}."
    return (f"{name}: within noise ({interval} includes 0); {positive}/{count} seeds favour {winner}, {what}.")


def paired_comparisons(
    results: list[dict[str, Any]], *, metrics: tuple[str, ...] = DEFAULT_METRICS, level: float = 0.95,
    baseline_method: str = "ridge",
) -> list[dict[str, Any]]:
    """Every comparison of :data:`COMPARISONS` that the results allow, per training fraction and metric.

    Runs are paired on ``(train_fraction, seed)``: the same split seed and the same training subset.
    A comparison needs both sides at that fraction on at least one common seed.

    Args:
        results: Report rows (``encoder``, ``method``, ``train_fraction``, ``seed``, ``n_train``,
            ``n_test`` and the metrics).
        metrics: Metrics to compare.
        level: Coverage of the intervals.
        baseline_method: The k-mer baseline's method: ``ridge`` (regression) or ``logistic``
            (classification, :func:`comparisons_for`).

    Returns:
        One dict per comparison, fraction and metric: ``comparison``, ``a``/``b`` (``"encoder/method"``),
        ``train_fraction``, ``metric``, ``n_seeds``, ``seeds``, ``n_train``, ``n_test`` (means over
        seeds), ``mean_difference``, ``sd_difference``, ``ci_low``, ``ci_high``, ``ci_level``,
        ``n_positive`` (seeds favouring the pretrained/first side), ``n_undefined`` (runs with an
        undefined correlation, counted as 0), ``within_noise`` (None where there is no interval: one run)
        and ``verdict``.
    """
    rows: list[dict[str, Any]] = []
    for name, (encoder_a, method_a), (encoder_b, method_b) in comparisons_for(baseline_method,
                                                                               contender_names(results)):
        side_a, side_b = _by_key(results, encoder_a, method_a), _by_key(results, encoder_b, method_b)
        keys = sorted(set(side_a) & set(side_b))
        for fraction in sorted({key[0] for key in keys}):
            seeds = [key for key in keys if key[0] == fraction]
            for metric in metrics:
                sign = 1.0 if HIGHER_IS_BETTER.get(metric, True) else -1.0
                differences, undefined = [], 0
                for key in seeds:
                    a, a_undefined = _metric_value(side_a[key], metric)
                    b, b_undefined = _metric_value(side_b[key], metric)
                    undefined += a_undefined + b_undefined
                    if not (math.isnan(a) or math.isnan(b)):
                        differences.append(sign * (a - b))
                values = np.asarray(differences)
                n_train = float(np.mean([side_a[k]["n_train"] for k in seeds]))
                n_test = float(np.mean([side_a[k]["n_test"] for k in seeds]))
                pool = float(np.mean([side_a[k].get("n_train_split", side_a[k]["n_train"]) for k in seeds]))
                mean, sd, low, high = paired_interval(values, n_train=pool, n_test=n_test, level=level)
                positive = int((values > 0).sum())
                # No interval (one run, or a degenerate one): no claim either way, rather than "within noise".
                within = None if values.size < 2 or math.isnan(low) else bool(low <= 0 <= high)
                rows.append({
                    "comparison": name, "a": f"{encoder_a}/{method_a}", "b": f"{encoder_b}/{method_b}",
                    "train_fraction": fraction, "metric": metric, "n_seeds": int(values.size),
                    "seeds": [int(k[1]) for k in seeds], "n_train": n_train, "n_test": n_test,
                    "mean_difference": mean, "sd_difference": sd, "ci_low": low, "ci_high": high,
                    "ci_level": level, "n_positive": positive, "n_undefined": int(undefined),
                    "within_noise": within,
                    "verdict": verdict(name, metric, mean, low, high, positive, int(values.size)),
                })
    return rows


def _noise_word(comparison: dict[str, Any]) -> str:
    if comparison["within_noise"] is None:
        return "one run, no interval" if comparison["n_seeds"] == 1 else "no interval"
    return "within noise" if comparison["within_noise"] else "beyond noise"


def _undefined_note(comparison: dict[str, Any]) -> str:
    if comparison["metric"] in ("pearson", "spearman"):
        return f" ({comparison['n_undefined']} run(s) predicted a constant; counted as r = 0.)"
    return f" ({comparison['n_undefined']} run(s) had no {comparison['metric']}; those seeds are left out.)"


def comparisons_markdown(comparisons: list[dict[str, Any]], *, metric: str = "pearson") -> str:
    """The comparisons of one metric as a markdown table followed by one sentence each."""
    chosen = [c for c in comparisons if c["metric"] == metric]
    if not chosen:
        return ""
    lines = [
        f"| train fraction | n train | n test | comparison | seeds | mean difference ({metric}) | 95% CI | "
        "seeds favouring first | verdict |",
        "|---:|---:|---:|---|---:|---:|---|---:|---|",
    ]
    for c in chosen:
        interval = ("n/a" if c["ci_low"] is None or math.isnan(c["ci_low"])
                    else f"[{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]")
        mean = "nan" if math.isnan(c["mean_difference"]) else f"{c['mean_difference']:+.3f}"
        lines.append(
            f"| {c['train_fraction']:g} | {c['n_train']:.0f} | {c['n_test']:.0f} | {c['comparison']} | "
            f"{c['n_seeds']} | {mean} | {interval} | {c['n_positive']}/{c['n_seeds']} | "
            f"{_noise_word(c)} |"
        )
    sentences = [f"- At training fraction {c['train_fraction']:g} (n = {c['n_train']:.0f}): {c['verdict']}"
                 + (_undefined_note(c) if c["n_undefined"] else "")
                 for c in chosen]
    return "\n".join([*lines, "", *sentences])


__all__ = [
    "BASELINE_METHODS",
    "CLASSIFICATION_METRICS",
    "COMPARISONS",
    "DEFAULT_METRICS",
    "HIGHER_IS_BETTER",
    "STANDARD_ENCODERS",
    "comparisons_for",
    "comparisons_markdown",
    "contender_names",
    "paired_comparisons",
    "paired_interval",
    "pretraining_free_results",
    "verdict",
]
