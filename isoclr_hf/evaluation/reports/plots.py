"""The report's plots: the low-data curve, predicted against measured, and a 2-D map of the embeddings.

matplotlib is imported inside each function (with the Agg backend), so importing the report code stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...atomic_files import atomic_write
from .tables import ENCODER_ORDER, METRIC_TITLES, metric_names, summarise


def plot_low_data_curve(results: list[dict[str, Any]], path: Path) -> None:
    """The first metric (Pearson r, or macro AUROC) against training examples, one line per encoder and
    method, error bars = sd over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = metric_names(results)[0]
    summary = summarise(results)
    figure, axis = plt.subplots(figsize=(6, 4))
    for (encoder, method), rows in summary.groupby(["encoder", "method"], sort=False):
        rows = rows.sort_values("n_train")
        axis.errorbar(rows["n_train"], rows[metric], yerr=rows[f"{metric}_sd"].fillna(0), marker="o",
                      capsize=3, label=f"{encoder} {method}")
    axis.set_xscale("log")
    axis.set_xlabel("training examples")
    axis.set_ylabel(f"{METRIC_TITLES[metric]} (test)")
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


__all__ = ["plot_embedding_map", "plot_low_data_curve", "plot_predicted_vs_measured"]
