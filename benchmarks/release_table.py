"""The headline table of a released model's evaluation, read from its ``isoclr evaluate`` reports.

Prints a Markdown table (one row per report): the task, its examples and training sizes, the main
metric (Pearson r for regression, macro AUROC for classification) of the pretrained probe, the
random-init probe and the k-mer baseline at each training fraction, and the paired differences
(pretrained - random-init at every fraction; pretrained - k-mer at the smallest and the largest) with
their 95% interval and the seeds where they are positive. Reports with contenders (``isoclr evaluate
--contender NAME=MODEL``) get a column ``pretrained - NAME`` per contender; ``--pretraining-free`` reads the
same runs scored on the test examples no pretraining corpus read (``isoclr evaluate --pretraining-corpus``),
with their own ``n test``. Nothing is typed in by hand:

    python benchmarks/release_table.py benchmarks/results/release/*/report.json
    python benchmarks/release_table.py --pretraining-free benchmarks/results/release/*/report.json
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from isoclr_hf.evaluation.reports.statistics import STANDARD_ENCODERS as ENCODERS
from isoclr_hf.evaluation.reports.statistics import contender_names, pretraining_free_results

MAIN_METRIC = {"regression": "pearson", "multi_label_classification": "auroc_macro"}


def _free_view(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every row and comparison restricted to its pretraining-free test examples."""
    rows = pretraining_free_results(report["results"])
    if not rows:
        raise ValueError(f"{report['task']}: no pretraining-free results (run isoclr evaluate --pretraining-corpus)")
    return {**report, "results": rows, "comparisons": report.get("comparisons_pretraining_free", [])}


def _mean(rows: list[dict[str, Any]], encoder: str, fraction: float, metric: str) -> float:
    values = [r[metric] for r in rows if r["encoder"] == encoder and r["train_fraction"] == fraction
              and r["method"] != "fine_tune"]
    return statistics.fmean(values) if values else float("nan")


def _difference(report: dict[str, Any], b: str, fraction: float, metric: str) -> str:
    for comparison in report["comparisons"]:
        if (comparison["a"] == "pretrained/linear_probe" and comparison["b"].split("/")[0] == b
                and comparison["train_fraction"] == fraction and comparison["metric"] == metric):
            c = comparison
            return (f"{c['mean_difference']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}], "
                    f"{c['n_positive']}/{c['n_seeds']}")
    return "n/a"


def table(reports: list[dict[str, Any]], *, pretraining_free: bool = False) -> str:
    """The Markdown table of ``reports`` (see the module docstring)."""
    if pretraining_free:
        reports = [_free_view(report) for report in reports]
    contenders = list(dict.fromkeys(name for report in reports for name in contender_names(report["results"])))
    lines = ["| task | metric | examples | n train (smallest / largest fraction), n test | fraction: pretrained / "
             "random-init / k-mer" + "".join(f" / {name}" for name in contenders) + " | pretrained - random-init | "
             "pretrained - k-mer |" + "".join(f" pretrained - {name} |" for name in contenders),
             "|---|---|---:|---|---|---|---|" + "---|" * len(contenders)]
    for report in reports:
        metric = MAIN_METRIC[report["task_type"]]
        rows = [r for r in report["results"] if r["method"] != "fine_tune"]
        fractions = sorted({r["train_fraction"] for r in rows})
        n_train = [statistics.fmean(r["n_train"] for r in rows if r["train_fraction"] == f and
                                    r["encoder"] == "pretrained") for f in (fractions[0], fractions[-1])]
        n_test = statistics.fmean(r["n_test"] for r in rows if r["encoder"] == "pretrained")
        scores = "; ".join(f"{f:g}: " + " / ".join(f"{_mean(rows, e, f, metric):.3f}"
                                                    for e in (*ENCODERS, *contenders)) for f in fractions)
        versus_random = "; ".join(f"{f:g}: {_difference(report, 'random_init', f, metric)}" for f in fractions)
        versus_kmer = "; ".join(f"{f:g}: {_difference(report, 'kmer_baseline', f, metric)}"
                                for f in (fractions[0], fractions[-1]))
        examples = f"{sum(report['splits'].values()):,}"  # the split of seed 0 covers every example used
        if report["settings"].get("max_examples"):
            examples += f" (subsample of about {report['settings']['max_examples']:,})"
        versus_contenders = "".join(
            " " + "; ".join(f"{f:g}: {_difference(report, name, f, metric)}" for f in fractions) + " |"
            for name in contenders)
        lines.append(f"| {report['task']} | {metric} | {examples} | {n_train[0]:,.0f} / {n_train[1]:,.0f}, "
                     f"{n_test:,.0f} | {scores} | {versus_random} | {versus_kmer} |{versus_contenders}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="report.json files of isoclr evaluate")
    parser.add_argument("--pretraining-free", action="store_true",
                        help="the test examples no pretraining corpus read (isoclr evaluate --pretraining-corpus)")
    args = parser.parse_args(argv)
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in args.reports]
    print(table(reports, pretraining_free=args.pretraining_free))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
