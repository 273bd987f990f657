"""The evaluation report: ``report.json`` (the figures), ``report.md`` (a table) and plots.

``report.json`` follows the report contract that the model-card code reads::

    {"task", "task_type": "regression", "target_names", "dataset": {"name", "source"}, "model",
     "results": [{"encoder", "method", "train_fraction", "seed", "n_train", "n_test",
                  "pearson", "spearman", "mse"}, ...], ...}

plus ``settings``, ``notes``, ``splits`` and ``timings`` for the reader.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic_files import atomic_write, new_file_mode

ENCODER_ORDER = {"pretrained": 0, "random_init": 1, "kmer_baseline": 2}
METHOD_ORDER = {"linear_probe": 0, "fine_tune": 1, "ridge": 2}


def summarise(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Mean and standard deviation over seeds per encoder, method and training fraction."""
    frame = pd.DataFrame(results)
    grouped = frame.groupby(["encoder", "method", "train_fraction"], sort=False)
    summary = grouped.agg(
        n_train=("n_train", "mean"), n_test=("n_test", "first"), runs=("seed", "size"),
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
        "| train fraction | n train | encoder | method | runs | Pearson r | Spearman rho | MSE |",
        "|---:|---:|---|---|---:|---:|---:|---:|",
    ]
    for row in summarise(results).itertuples(index=False):
        lines.append(
            f"| {row.train_fraction:g} | {row.n_train:.0f} | {row.encoder} | {row.method} | {row.runs} | "
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
    """The ``report.json`` content (contract keys first, then ``extra``)."""
    return {
        "task": task_name,
        "task_type": "regression",
        "target_names": [target_name],
        "dataset": {"name": dataset_name, "source": source},
        "model": model,
        "results": results,
        **(extra or {}),
    }


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
    """Write ``report.md``: the table, the notes and links to the plots. Returns the table."""
    table = markdown_table(report["results"])
    parts = [
        f"# {report['task']}: {report['dataset']['name']}",
        "",
        f"Model: `{report['model']}`. Target: `{report['target_names'][0]}`. Source: {report['dataset']['source']}.",
        "",
        "Test split metrics; mean ± standard deviation over seeds where a row has several runs.",
        "",
        table,
        "",
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
    "write_json",
    "write_markdown",
]
