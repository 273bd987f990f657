"""The evaluation report: ``report.json`` (the figures), ``report.md`` (a table) and plots.

``report.json`` follows the report contract that the model-card code reads::

    {"task", "task_type": "regression", "target_names", "dataset": {"name", "source"}, "model",
     "results": [{"encoder", "method", "train_fraction", "seed", "n_train", "n_test",
                  "pearson", "spearman", "mse"}, ...], ...}

For a multi-label classification task ``task_type`` is ``"multi_label_classification"``,
``target_names`` the classes, and each result has ``auroc_macro``, ``auprc_macro`` and
``auroc[<class>]``/``auprc[<class>]`` instead of the regression metrics. Rows of a task with
strata (iCodon's species) carry ``by_stratum``, tabulated per stratum in ``report.md``.

plus ``comparisons`` (paired differences over seeds with 95% intervals and a verdict in words, see
:mod:`isoclr_hf.evaluation.reports.statistics`), and ``settings``, ``notes``, ``splits`` and ``timings``
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

from ...atomic_files import atomic_write, new_file_mode
from .statistics import comparisons_markdown, paired_comparisons, pretraining_free_results
from .tables import (
    METRIC_TITLES,
    markdown_table,
    metric_names,
    per_class_table,
    stratum_table,
    summarise,
)


def report_dict(
    *,
    task_name: str,
    target_name: str,
    dataset_name: str,
    source: str,
    model: str,
    results: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
    task_type: str = "regression",
    target_names: list[str] | None = None,
) -> dict[str, Any]:
    """The ``report.json`` content (contract keys first, then ``comparisons``, then ``extra``).

    Where rows carry ``pretraining_free`` (``isoclr evaluate --pretraining-corpus``), ``extra`` gets
    ``comparisons_pretraining_free``: the same comparisons on the test examples no pretraining corpus read.
    ``comparisons`` are the paired differences of :func:`~isoclr_hf.evaluation.reports.statistics.paired_comparisons`
    over the seeds of ``results``, on the task type's metrics. ``target_names`` (the classes of a
    classification task) replaces ``[target_name]`` when given.
    """
    classification = task_type != "regression"
    free = pretraining_free_results(results)
    if free:
        extra = {"comparisons_pretraining_free": paired_comparisons(
            free, metrics=metric_names(results), baseline_method="logistic" if classification else "ridge"),
            **(extra or {})}
    return {
        "task": task_name,
        "task_type": task_type,
        "target_names": list(target_names) if target_names else [target_name],
        "dataset": {"name": dataset_name, "source": source},
        "model": model,
        "results": results,
        "comparisons": paired_comparisons(results, metrics=metric_names(results),
                                          baseline_method="logistic" if classification else "ridge"),
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
    return sentences + worse_than_chance_warnings(results)


def worse_than_chance_warnings(results: list[dict[str, Any]]) -> list[str]:
    """Sentences on classification runs whose validation macro AUROC was not above 0.5 (``worse_than_chance``)."""
    flagged: dict[tuple[str, str, float], list[int]] = {}
    for row in results:
        if row.get("worse_than_chance"):
            flagged.setdefault((row["encoder"], row["method"], float(row["train_fraction"])), []).append(row["seed"])
    return [f"{encoder} {method.replace('_', ' ')} at training fraction {fraction:g}: validation macro AUROC not above "
            f"0.5 (chance) on seed(s) {', '.join(str(s) for s in seeds)}; those runs learnt nothing usable."
            for (encoder, method, fraction), seeds in sorted(flagged.items())]


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
    results = report["results"]
    table = markdown_table(results)
    metrics = metric_names(results)
    classification = report.get("task_type", "regression") != "regression"
    comparisons = report.get("comparisons")
    if comparisons is None:
        comparisons = paired_comparisons(results, metrics=metrics,
                                         baseline_method="logistic" if classification else "ridge")
    warnings = worse_than_mean_warnings(results)
    shown = metrics if classification else metrics[:1]
    statistics_part: list[str] = []
    for metric in shown:
        comparison_part = comparisons_markdown(comparisons, metric=metric)
        if not comparison_part:
            continue
        rest = ("" if classification else
                " Spearman rho and MSE comparisons are in report.json.")
        statistics_part += [
            f"## Paired comparisons ({METRIC_TITLES[metric]})",
            "",
            "Per seed, the two sides share the split and the training subset; the difference is first - second. "
            "The 95% interval is the corrected resampled t-interval (Nadeau & Bengio), which widens the plain "
            "t-interval because the seeds' training sets overlap; a difference is within noise when its interval "
            "includes 0." + rest,
            "",
            comparison_part,
            "",
        ]
    free_section = _pretraining_free_section(report, metrics, classification)
    class_part = per_class_table(results, list(report["target_names"])) if classification else ""
    class_section = ["## Per class", "", class_part, ""] if class_part else []
    strata = stratum_table(results)
    stratum_section = ["## Per stratum", "", "Test metrics of each stratum's examples (e.g. species) within the same "
                       "runs; mean ± sd over seeds.", "", strata, ""] if strata else []
    title = "no better than chance" if classification else "worse than predicting the training mean"
    warning_part = [f"## Runs {title}", "",
                    *[f"- {sentence}" for sentence in warnings], ""] if warnings else []
    parts = [
        f"# {report['task']}: {report['dataset']['name']}",
        "",
        f"Model: `{report['model']}`. "
        + (f"Classes: {', '.join(report['target_names'])}." if classification
           else f"Target: `{report['target_names'][0]}`.")
        + f" Source: {report['dataset']['source']}.",
        "",
        "Test split metrics; mean ± standard deviation over seeds where a row has several runs.",
        "",
        table,
        "",
        *class_section,
        *stratum_section,
        *warning_part,
        *statistics_part,
        *free_section,
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


def _pretraining_free_section(report: dict[str, Any], metrics: tuple[str, ...], classification: bool) -> list[str]:
    """``report.md``'s part on the pretraining-free test examples (empty without them)."""
    free = pretraining_free_results(report["results"])
    if not free:
        return []
    comparisons = report.get("comparisons_pretraining_free") or paired_comparisons(
        free, metrics=metrics, baseline_method="logistic" if classification else "ridge")
    metric = metrics[0]
    return [
        "## Test examples free of pretraining leakage",
        "",
        "The same runs scored only on the test examples that no pretraining corpus read (not the same sequence, "
        "not contained by their first and last 32-mers, not the same gene symbol of the same species); "
        "`n test` is their number. Compare with the full test above: a pretrained encoder that gains only on "
        "examples it read in pretraining gains less here.",
        "",
        markdown_table(free),
        "",
        f"Paired comparisons on these examples ({METRIC_TITLES[metric]}; 95% corrected resampled t-interval):",
        "",
        comparisons_markdown(comparisons, metric=metric),
        "",
    ]


__all__ = [
    "atomic_write",
    "markdown_table",
    "metric_names",
    "new_file_mode",
    "report_dict",
    "summarise",
    "worse_than_chance_warnings",
    "worse_than_mean_warnings",
    "write_json",
    "write_markdown",
]
