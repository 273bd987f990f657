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
