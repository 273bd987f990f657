"""benchmarks/release_table.py reads the figures of the release's reports instead of a hand-typed table."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

REPOSITORY = Path(__file__).resolve().parents[2]


def _release_table() -> ModuleType:
    """benchmarks/release_table.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("release_table", REPOSITORY / "benchmarks" / "release_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_holds_each_reports_comparisons() -> None:
    paths = sorted((REPOSITORY / "benchmarks" / "results" / "release").glob("*/report.json"))
    assert paths, "the release's reports are committed"
    reports = [json.loads(path.read_text()) for path in paths]
    module = _release_table()
    text = module.table(reports)
    lines = text.splitlines()
    assert len(lines) == 2 + len(reports)
    for report, line in zip(reports, lines[2:], strict=True):
        assert line.startswith(f"| {report['task']} |")
        for comparison in report["comparisons"]:
            if (comparison["a"] == "pretrained/linear_probe" and comparison["b"] == "random_init/linear_probe"
                    and comparison["metric"] == module.MAIN_METRIC[report["task_type"]]):
                assert f"{comparison['mean_difference']:+.3f}" in line


def _synthetic_report() -> dict:
    """A report with a contender and pretraining-free scores, built by the package's own report code."""
    import numpy as np

    from isoclr_hf.evaluation.reports.writing import report_dict

    rng = np.random.default_rng(0)
    rows = []
    for seed in range(5):
        for fraction in (0.1, 1.0):
            for encoder, method, level in (("pretrained", "linear_probe", 0.5), ("random_init", "linear_probe", 0.2),
                                           ("kmer_baseline", "ridge", 0.4), ("previous", "linear_probe", 0.45)):
                value = level + fraction * 0.1 + rng.normal(0, 0.01)
                rows.append({"encoder": encoder, "method": method, "train_fraction": fraction, "seed": seed,
                             "n_train": int(1000 * fraction), "n_train_split": 1000, "n_test": 200,
                             "pearson": value, "spearman": value, "mse": 1 - value,
                             "pretraining_free": {"n_test": 50, "pearson": value - 0.1, "spearman": value - 0.1,
                                                  "mse": 1.1 - value}})
    return report_dict(task_name="toy", target_name="y", dataset_name="toy", source="here", model="m",
                       results=rows, extra={"splits": {"train": 1000, "validation": 125, "test": 200},
                                            "settings": {"max_examples": None}})


def test_contenders_get_a_column_and_the_pretraining_free_view_reads_its_own_scores() -> None:
    module = _release_table()
    report = _synthetic_report()
    full, free = module.table([report]), module.table([report], pretraining_free=True)
    assert "pretrained - previous |" in full.splitlines()[0]
    assert "random-init / k-mer / previous" in full.splitlines()[0]
    assert ", 200 |" in full and ", 50 |" in free  # n test of each view
    for text, key in ((full, "comparisons"), (free, "comparisons_pretraining_free")):
        for comparison in report[key]:
            if comparison["b"] == "previous/linear_probe" and comparison["metric"] == "pearson":
                assert f"{comparison['mean_difference']:+.3f} [{comparison['ci_low']:+.3f}" in text
