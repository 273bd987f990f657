"""The headline table of a released model's evaluation, read from its ``isoclr evaluate`` reports.

Prints a Markdown table (one row per report): the task, its examples and training sizes, the main
metric (Pearson r for regression, macro AUROC for classification) of the pretrained probe, the
random-init probe and the k-mer baseline at each training fraction, and the paired differences
(pretrained - random-init at every fraction; pretrained - k-mer at the smallest and the largest) with
their 95% interval and the seeds where they are positive. Nothing is typed in by hand:

    python benchmarks/release_table.py benchmarks/results/release/*/report.json
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

MAIN_METRIC = {"regression": "pearson", "multi_label_classification": "auroc_macro"}
ENCODERS = ("pretrained", "random_init", "kmer_baseline")


def _mean(rows: list[dict[str, Any]], encoder: str, fraction: float, metric: str) -> float:
    values = [r[metric] for r in rows if r["encoder"] == encoder and r["train_fraction"] == fraction
              and r["method"] != "fine_tune"]
    return statistics.fmean(values) if values else float("nan")


def _difference(report: dict[str, Any], b: str, fraction: float, metric: str) -> str:
    for comparison in report["comparisons"]:
        if (comparison["a"] == "pretrained/linear_probe" and comparison["b"].startswith(b)
                and comparison["train_fraction"] == fraction and comparison["metric"] == metric):
            c = comparison
            return (f"{c['mean_difference']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}], "
                    f"{c['n_positive']}/{c['n_seeds']}")
    return "n/a"


def table(reports: list[dict[str, Any]]) -> str:
    """The Markdown table of ``reports`` (see the module docstring)."""
    lines = ["| task | metric | examples | n train (smallest / largest fraction), n test | fraction: pretrained / "
             "random-init / k-mer | pretrained - random-init | pretrained - k-mer |",
             "|---|---|---:|---|---|---|---|"]
    for report in reports:
        metric = MAIN_METRIC[report["task_type"]]
        rows = [r for r in report["results"] if r["method"] != "fine_tune"]
        fractions = sorted({r["train_fraction"] for r in rows})
        n_train = [statistics.fmean(r["n_train"] for r in rows if r["train_fraction"] == f and
                                    r["encoder"] == "pretrained") for f in (fractions[0], fractions[-1])]
        n_test = statistics.fmean(r["n_test"] for r in rows if r["encoder"] == "pretrained")
        scores = "; ".join(f"{f:g}: " + " / ".join(f"{_mean(rows, e, f, metric):.3f}" for e in ENCODERS)
                           for f in fractions)
        versus_random = "; ".join(f"{f:g}: {_difference(report, 'random_init', f, metric)}" for f in fractions)
        versus_kmer = "; ".join(f"{f:g}: {_difference(report, 'kmer_baseline', f, metric)}"
                                for f in (fractions[0], fractions[-1]))
        examples = f"{sum(report['splits'].values()):,}"  # the split of seed 0 covers every example used
        if report["settings"].get("max_examples"):
            examples += f" (subsample of about {report['settings']['max_examples']:,})"
        lines.append(f"| {report['task']} | {metric} | {examples} | {n_train[0]:,.0f} / {n_train[1]:,.0f}, "
                     f"{n_test:,.0f} | {scores} | {versus_random} | {versus_kmer} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="report.json files of isoclr evaluate")
    args = parser.parse_args(argv)
    print(table([json.loads(path.read_text(encoding="utf-8")) for path in args.reports]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
