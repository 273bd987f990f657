"""The evaluation report: ``report.json`` (the figures), ``report.md`` (a table) and plots.

``report.json`` follows the report contract that the model-card code reads::

    {"task", "task_type": "regression", "target_names", "dataset": {"name", "source"}, "model",
     "results": [{"encoder", "method", "train_fraction", "seed", "n_train", "n_test",
                  "pearson", "spearman", "mse"}, ...], ...}

plus ``comparisons`` (paired differences over seeds with 95% intervals and a verdict in words, see
:mod:`isoclr_hf.evaluation.statistics`), and ``settings``, ``notes``, ``splits`` and ``timings``
for the reader. ``report.md`` has the results table, the comparisons table with one sentence per
comparison, and a warning for every run whose validation MSE was not below predicting the
training mean (rows with ``worse_than_mean``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic_files import atomic_write, new_file_mode
from .statistics import comparisons_markdown, paired_comparisons

ENCODER_ORDER = {"pretrained": 0, "random_init": 1, "kmer_baseline": 2}
METHOD_ORDER = {"linear_probe": 0, "fine_tune": 1, "ridge": 2}


def summarise(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Mean and standard deviation over seeds per encoder, method and training fraction."""
    frame = pd.DataFrame(results)
    grouped = frame.groupby(["encoder", "method", "train_fraction"], sort=False)
    summary = grouped.agg(
        n_train=("n_train", "mean"), n_test=("n_test", "mean"), runs=("seed", "size"),
        pearson=("pearson", "mean"), pearson_sd=("pearson", "std"),
        spearman=("spearman", "mean"), spearman_sd=("spearman", "std"),
        mse=("mse", "mean"), mse_sd=("mse", "std"),
    ).reset_index()
    summary["order"] = summary["encoder"].map(ENCODER_ORDER).fillna(9) * 10 + summary["method"].map(METHOD_ORDER)
    return summary.sort_values(["train_fraction", "order"]).drop(columns="order").reset_index(drop=True)


def _with_spread(mean: float, sd: float, style: str = ".3f") -> str:
    """``mean ± sd`` (``style`` is the format spec; ``.4g`` keeps small MSEs readable)."""
    if math.isnan(mean):
        return "nan"
    return f"{mean:{style}}" if math.isnan(sd) else f"{mean:{style}} ± {sd:{style}}"


def markdown_table(results: list[dict[str, Any]]) -> str:
    """The results as a markdown table (mean ± sd over seeds)."""
    lines = [
        "| train fraction | n train | n test | encoder | method | runs | Pearson r | Spearman rho | MSE |",
        "|---:|---:|---:|---|---|---:|---:|---:|---:|",
    ]
    for row in summarise(results).itertuples(index=False):
        lines.append(
            f"| {row.train_fraction:g} | {row.n_train:.0f} | {row.n_test:.0f} | {row.encoder} | {row.method} | "
            f"{row.runs} | "
            f"{_with_spread(row.pearson, row.pearson_sd)} | {_with_spread(row.spearman, row.spearman_sd)} | "
            f"{_with_spread(row.mse, row.mse_sd, '.4g')} |"
        )
    return "\n".join(lines)


def report_dict(
    *,
    task_name: str,
    target_name: str,
    dataset_name: str,
    source: str,
    model: str,
    results: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``report.json`` content (contract keys first, then ``comparisons``, then ``extra``).

    ``comparisons`` are the paired differences of :func:`~isoclr_hf.evaluation.statistics.paired_comparisons`
    over the seeds of ``results``.
    """
    return {
        "task": task_name,
        "task_type": "regression",
        "target_names": [target_name],
        "dataset": {"name": dataset_name, "source": source},
        "model": model,
        "results": results,
        "comparisons": paired_comparisons(results),
        **(extra or {}),
    }


def worse_than_mean_warnings(results: list[dict[str, Any]]) -> list[str]:
    """Sentences on runs whose validation MSE did not beat predicting the training mean (``worse_than_mean``).

    Fine-tuning runs get one sentence per encoder and fraction with the worst case in figures; probes
    and the k-mer ridge (whose strongest penalty is close to the mean predictor) one sentence each,
    listing the fractions.
    """
    flagged: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    totals: dict[tuple[str, str, float], int] = {}
    for row in results:
        key = (row["encoder"], row["method"], float(row["train_fraction"]))
        totals[key] = totals.get(key, 0) + 1
        if row.get("worse_than_mean"):
            flagged.setdefault(key, []).append(row)
    sentences = []
    for (encoder, method, fraction), rows in sorted(flagged.items()):
        if method != "fine_tune":
            continue
        worst = max(rows, key=lambda r: float(r["validation_mse"]) - float(r["mean_baseline_mse"]))
        sentences.append(
            f"{encoder} fine-tuning at training fraction {fraction:g}: in {len(rows)} of "
            f"{totals[(encoder, method, fraction)]} runs the best validation MSE was not below predicting the "
            f"training mean (e.g. seed {worst['seed']}: {float(worst['validation_mse']):.4g} vs "
            f"{float(worst['mean_baseline_mse']):.4g}); those runs learnt nothing usable, and their test figures "
            "say nothing about the encoder."
        )
    others: dict[tuple[str, str], list[str]] = {}
    for (encoder, method, fraction), rows in sorted(flagged.items()):
        if method != "fine_tune":
            others.setdefault((encoder, method), []).append(
                f"{len(rows)}/{totals[(encoder, method, fraction)]} runs at fraction {fraction:g}")
    for (encoder, method), parts in others.items():
        sentences.append(f"{encoder} {method.replace('_', ' ')}: no better than predicting the training mean on "
                         f"validation in {', '.join(parts)} (the penalty chosen shrinks it to about the mean).")
    return sentences


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def write_json(report: dict[str, Any], path: Path) -> None:
    """Write ``report`` as JSON (NaN becomes null), atomically."""
    atomic_write(path, lambda p: p.write_text(json.dumps(_json_safe(report), indent=1) + "\n", encoding="utf-8"))


def write_markdown(report: dict[str, Any], path: Path, *, plots: list[str], notes: list[str]) -> str:
    """Write ``report.md``: the table, the paired comparisons, warnings, the notes and links to the plots.

    Returns:
        The results table.
    """
    table = markdown_table(report["results"])
    comparisons = report.get("comparisons")
    if comparisons is None:
        comparisons = paired_comparisons(report["results"])
    warnings = worse_than_mean_warnings(report["results"])
    comparison_part = comparisons_markdown(comparisons, metric="pearson")
    statistics_part = [
        "## Paired comparisons (Pearson r)",
        "",
        "Per seed, the two sides share the split and the training subset; the difference is first - second. "
        "The 95% interval is the corrected resampled t-interval (Nadeau & Bengio), which widens the plain "
        "t-interval because the seeds' training sets overlap; a difference is within noise when its interval "
        "includes 0. Spearman rho and MSE comparisons are in report.json.",
        "",
        comparison_part,
        "",
    ] if comparison_part else []
    warning_part = ["## Runs worse than predicting the training mean", "",
                    *[f"- {sentence}" for sentence in warnings], ""] if warnings else []
    parts = [
        f"# {report['task']}: {report['dataset']['name']}",
        "",
        f"Model: `{report['model']}`. Target: `{report['target_names'][0]}`. Source: {report['dataset']['source']}.",
        "",
        "Test split metrics; mean ± standard deviation over seeds where a row has several runs.",
        "",
        table,
        "",
        *warning_part,
        *statistics_part,
        "## Notes",
        "",
        *[f"- {note}" for note in notes],
        "",
        "## Plots",
        "",
        *[f"![{name}]({name})" for name in plots],
        "",
    ]
    atomic_write(path, lambda p: p.write_text("\n".join(parts), encoding="utf-8"))
    return table


def plot_low_data_curve(results: list[dict[str, Any]], path: Path) -> None:
    """Pearson r against training examples, one line per encoder and method, error bars = sd over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = summarise(results)
    figure, axis = plt.subplots(figsize=(6, 4))
    for (encoder, method), rows in summary.groupby(["encoder", "method"], sort=False):
        rows = rows.sort_values("n_train")
        axis.errorbar(rows["n_train"], rows["pearson"], yerr=rows["pearson_sd"].fillna(0), marker="o",
                      capsize=3, label=f"{encoder} {method}")
    axis.set_xscale("log")
    axis.set_xlabel("training examples")
    axis.set_ylabel("Pearson r (test)")
    axis.legend(fontsize=7)
    figure.tight_layout()
    atomic_write(path, lambda p: figure.savefig(p, dpi=120, format="png"))
    plt.close(figure)


def plot_predicted_vs_measured(predictions: dict[str, np.ndarray], measured: np.ndarray, path: Path) -> None:
    """One scatter panel per encoder/method: predicted against measured on the test split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(predictions, key=lambda n: (ENCODER_ORDER.get(n.split("/")[0], 9), n))
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.2 * rows), squeeze=False)
    for axis, name in zip(axes.flat, names):
        axis.scatter(measured, predictions[name], s=6, alpha=0.5)
        low, high = float(np.min(measured)), float(np.max(measured))
        axis.plot([low, high], [low, high], color="grey", linewidth=0.8)
        axis.set_title(name, fontsize=8)
        axis.set_xlabel("measured", fontsize=8)
        axis.set_ylabel("predicted", fontsize=8)
    for axis in list(axes.flat)[len(names):]:
        axis.axis("off")
    figure.tight_layout()
    atomic_write(path, lambda p: figure.savefig(p, dpi=120, format="png"))
    plt.close(figure)


def plot_embedding_map(embeddings: np.ndarray, colour: np.ndarray, path: Path, *, title: str) -> None:
    """2-D PCA of the embeddings, coloured by a numeric label or by category."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    points = PCA(n_components=2).fit_transform(np.asarray(embeddings, dtype=np.float64))  # (n, 2)
    figure, axis = plt.subplots(figsize=(5, 4))
    colour = np.asarray(colour)
    if colour.dtype.kind in "fiu":
        scatter = axis.scatter(points[:, 0], points[:, 1], c=colour, s=6, cmap="viridis")
        figure.colorbar(scatter, ax=axis, label="label")
    else:
        for category in sorted(set(colour.tolist())):
            chosen = colour == category
            axis.scatter(points[chosen, 0], points[chosen, 1], s=6, label=str(category))
        axis.legend(fontsize=7)
    axis.set_title(title, fontsize=9)
    axis.set_xlabel("PC 1")
    axis.set_ylabel("PC 2")
    figure.tight_layout()
    atomic_write(path, lambda p: figure.savefig(p, dpi=120, format="png"))
    plt.close(figure)


__all__ = [
    "atomic_write",
    "markdown_table",
    "new_file_mode",
    "plot_embedding_map",
    "plot_low_data_curve",
    "plot_predicted_vs_measured",
    "report_dict",
    "summarise",
    "worse_than_mean_warnings",
    "write_json",
    "write_markdown",
]
