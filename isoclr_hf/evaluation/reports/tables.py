"""The report's tables: mean ± sd over seeds per encoder, method and fraction; per class; per stratum.

Which metrics a table shows follows the rows: ``pearson``/``spearman``/``mse`` for a regression
task, ``auroc_macro``/``auprc_macro`` (and ``auroc[<class>]``/``auprc[<class>]`` per class) for
a multi-label classification task.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..metrics import CLASSIFICATION_METRICS, per_class_key
from ..tasks.splits import MIN_TEST_EXAMPLES

REGRESSION_METRICS = ("pearson", "spearman", "mse")
METRIC_TITLES = {"pearson": "Pearson r", "spearman": "Spearman rho", "mse": "MSE", "auroc_macro": "macro AUROC",
                 "auprc_macro": "macro AUPRC", "auroc": "AUROC", "auprc": "AUPRC"}
ENCODER_ORDER = {"pretrained": 0, "random_init": 1, "kmer_baseline": 2}
METHOD_ORDER = {"linear_probe": 0, "fine_tune": 1, "ridge": 2, "logistic": 2}


def metric_names(results: list[dict[str, Any]]) -> tuple[str, ...]:
    """The task type's metrics: classification when the rows carry ``auroc_macro``, else regression."""
    return CLASSIFICATION_METRICS if results and "auroc_macro" in results[0] else REGRESSION_METRICS


def with_spread(mean: float, sd: float, style: str = ".3f") -> str:
    """``mean ± sd`` (``style`` is the format spec; ``.4g`` keeps small MSEs readable)."""
    if mean is None or math.isnan(mean):
        return "nan"
    return f"{mean:{style}}" if sd is None or math.isnan(sd) else f"{mean:{style}} ± {sd:{style}}"


def _style(metric: str) -> str:
    return ".4g" if metric == "mse" else ".3f"


def summarise(results: list[dict[str, Any]], metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Mean and standard deviation over seeds per encoder, method and training fraction.

    Columns: ``encoder``, ``method``, ``train_fraction``, ``n_train``, ``n_test``, ``runs``, ``seeds`` (the
    split seeds of the row's runs, a sorted tuple), and per metric ``<metric>`` (mean) and ``<metric>_sd``.
    """
    metrics = metrics or metric_names(results)
    frame = pd.DataFrame(results)
    for metric in metrics:
        frame[metric] = pd.to_numeric(frame[metric], errors="coerce")
    grouped = frame.groupby(["encoder", "method", "train_fraction"], sort=False)
    aggregations: dict[str, Any] = {"n_train": ("n_train", "mean"), "n_test": ("n_test", "mean"),
                                    "runs": ("seed", "size"), "seeds": ("seed", lambda s: tuple(sorted(set(s))))}
    for metric in metrics:
        aggregations[metric] = (metric, "mean")
        aggregations[f"{metric}_sd"] = (metric, "std")
    summary = grouped.agg(**aggregations).reset_index()
    summary["order"] = (summary["encoder"].map(ENCODER_ORDER).fillna(9) * 10
                        + summary["method"].map(METHOD_ORDER).fillna(9))
    return summary.sort_values(["train_fraction", "order"]).drop(columns="order").reset_index(drop=True)


def seed_list(seeds: tuple[int, ...] | list[int]) -> str:
    """Split seeds as a reader scans them: runs of three or more joined (``0-4``, ``0, 1``, ``0-2, 7``)."""
    values = sorted(int(seed) for seed in seeds)
    parts: list[str] = []
    start = previous = None
    for value in [*values, None]:
        if value is not None and previous is not None and value == previous + 1:
            previous = value
            continue
        if start is not None:
            run = range(start, previous + 1)
            parts.append(f"{start}-{previous}" if len(run) >= 3 else ", ".join(map(str, run)))
        start = previous = value
    return ", ".join(parts)


def split_notes(summary: pd.DataFrame) -> list[str]:
    """One sentence per training fraction whose rows ran on different split seeds (so on different splits).

    Fine-tuning usually runs on fewer seeds than the probes (``--fine-tune-seeds``): its row and a probe
    row of the same fraction then average over different train/test splits, and their n differ.
    """
    notes = []
    for fraction, rows in summary.groupby("train_fraction", sort=True):
        by_seeds: dict[tuple[int, ...], list[dict[str, Any]]] = {}
        for row in rows.to_dict("records"):
            by_seeds.setdefault(tuple(row["seeds"]), []).append(row)
        if len(by_seeds) < 2:
            continue
        parts = []
        for seeds, members in by_seeds.items():
            names = ", ".join(f"{r['encoder']} {r['method']}" for r in members)
            word = "seed" if len(seeds) == 1 else "seeds"
            parts.append(f"{names} on split {word} {seed_list(seeds)} (n train {members[0]['n_train']:.0f}, "
                         f"n test {members[0]['n_test']:.0f}{' on average' if len(seeds) > 1 else ''})")
        notes.append(f"At training fraction {fraction:g} the rows are on different splits: {'; '.join(parts)}. "
                     "Their means are not comparable as they stand; the paired comparisons below pair runs on the "
                     "same split seed.")
    return notes


def markdown_table(results: list[dict[str, Any]]) -> str:
    """The results as a markdown table (mean ± sd over seeds), with a note under it where rows' splits differ.

    The ``split seeds`` column names the split seed(s) of each row's runs, so a fine-tuning row on one seed
    and a probe row over five are told apart (see :func:`split_notes`).
    """
    metrics = metric_names(results)
    header = " | ".join(METRIC_TITLES[m] for m in metrics)
    lines = [f"| train fraction | n train | n test | encoder | method | runs | split seeds | {header} |",
             "|---:|---:|---:|---|---|---:|---|" + "---:|" * len(metrics)]
    summary = summarise(results, metrics)
    for row in summary.to_dict("records"):
        cells = " | ".join(with_spread(row[m], row[f"{m}_sd"], _style(m)) for m in metrics)
        lines.append(f"| {row['train_fraction']:g} | {row['n_train']:.0f} | {row['n_test']:.0f} | {row['encoder']} | "
                     f"{row['method']} | {row['runs']} | {seed_list(row['seeds'])} | {cells} |")
    notes = split_notes(summary)
    return "\n".join(lines + ([""] + [f"Note: {note}" for note in notes] if notes else []))


def per_class_table(results: list[dict[str, Any]], label_names: list[str]) -> str:
    """AUROC and AUPRC per class (mean ± sd over seeds) at the largest training fraction, per encoder and method."""
    if not results or not label_names:
        return ""
    largest = max(float(r["train_fraction"]) for r in results)
    chosen = [r for r in results if float(r["train_fraction"]) == largest]
    keys = [per_class_key(m, name) for name in label_names for m in ("auroc", "auprc")]
    summary = summarise(chosen, tuple(keys))
    lines = ["| encoder | method | runs | " + " | ".join(f"{name} AUROC | {name} AUPRC" for name in label_names) + " |",
             "|---|---|---:|" + "---:|" * len(keys)]
    for row in summary.to_dict("records"):
        cells = " | ".join(with_spread(row[k], row[f"{k}_sd"]) for k in keys)
        lines.append(f"| {row['encoder']} | {row['method']} | {row['runs']} | {cells} |")
    return f"Training fraction {largest:g}; test split; mean ± sd over seeds.\n\n" + "\n".join(lines)


def stratum_table(results: list[dict[str, Any]]) -> str:
    """Test metrics per stratum (e.g. species), mean ± sd over seeds, per fraction, encoder and method."""
    rows = [{"encoder": r["encoder"], "method": r["method"], "train_fraction": r["train_fraction"], "seed": r["seed"],
             "stratum": stratum, "n_train": r["n_train"], **values}
            for r in results for stratum, values in (r.get("by_stratum") or {}).items()]
    if not rows:
        return ""
    metrics = metric_names([r for r in results if r.get("by_stratum")])
    frame = pd.DataFrame(rows)
    header = " | ".join(METRIC_TITLES[m] for m in metrics)
    lines = [f"| stratum | train fraction | n train | n test | encoder | method | runs | {header} |",
             "|---|---:|---:|---:|---|---|---:|" + "---:|" * len(metrics)]
    small = sorted(str(s) for s, n in frame.groupby("stratum")["n_test"].mean().items() if n < MIN_TEST_EXAMPLES)
    for stratum, part in frame.groupby("stratum", sort=True):
        summary = summarise(part.drop(columns="stratum").to_dict("records"), metrics)
        for row in summary.to_dict("records"):
            cells = " | ".join(with_spread(row[m], row[f"{m}_sd"], _style(m)) for m in metrics)
            lines.append(f"| {stratum} | {row['train_fraction']:g} | {row['n_train']:.0f} | {row['n_test']:.0f} | "
                         f"{row['encoder']} | {row['method']} | {row['runs']} | {cells} |")
    if small:
        lines += ["", f"Fewer than {MIN_TEST_EXAMPLES} test examples per split in {', '.join(small)}: those rows are "
                  "shown for completeness, and their figures are noise."]
    return "\n".join(lines)


__all__ = ["ENCODER_ORDER", "METHOD_ORDER", "METRIC_TITLES", "REGRESSION_METRICS", "markdown_table", "metric_names",
           "per_class_table", "seed_list", "split_notes", "stratum_table", "summarise", "with_spread"]
