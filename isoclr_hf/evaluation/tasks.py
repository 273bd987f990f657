"""The task registry: the bundled regression benchmarks by name, and mRNABench-layout files by path.

The bundled tasks (``data/benchmarks``, see ``data/SOURCES.md``) are built by
:mod:`isoclr_hf.evaluation.task_loaders`; a path to an mRNABench-layout parquet file is a task too.
The task itself (:class:`~isoclr_hf.evaluation.regression_task.RegressionTask`) and the input
checks live in :mod:`isoclr_hf.evaluation.regression_task`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .regression_task import SPLIT_NAMES, RegressionTask
from .task_loaders import load_mrnabench_task, load_saluki_halflife, load_siegel_3utr, load_te_5utr

TaskLoader = Callable[[Path], RegressionTask]


def _te_loader(cell_line: str) -> TaskLoader:
    def load(data_dir: Path) -> RegressionTask:
        return load_te_5utr(data_dir, cell_line)

    load.__doc__ = f"Translation efficiency of endogenous 5'UTR reporters in {cell_line} (log2 TE)."
    return load


# Loaders ``loader(data_dir) -> RegressionTask`` by task name; add an entry to register a task.
TASKS: dict[str, TaskLoader] = {
    "saluki_halflife_human": load_saluki_halflife,
    "siegel_3utr_jurkat": load_siegel_3utr,
    "te_5utr_hek293": _te_loader("HEK293"),
    "te_5utr_muscle": _te_loader("MUSCLE"),
    "te_5utr_pc3": _te_loader("PC3"),
}


def default_data_dir() -> Path:
    """The repository's ``data/`` folder (where the bundled benchmarks live)."""
    return Path(__file__).resolve().parents[2] / "data"


def load_task(name_or_path: str | Path, *, data_dir: Path | str | None = None) -> RegressionTask:
    """Load a registered task by name, or an mRNABench-layout parquet file by path.

    Args:
        name_or_path: A name from :data:`TASKS` (see ``isoclr evaluate --help``) or a ``.parquet``
            file with columns ``sequence``, ``cds``, ``splice``, ``target``, ``gene``.
        data_dir: Folder holding ``benchmarks/`` and ``pretraining/`` (default: the repository's
            ``data/``).

    Returns:
        The task.
    """
    text = str(name_or_path)
    if text in TASKS:
        return TASKS[text](Path(data_dir) if data_dir is not None else default_data_dir())
    if text.endswith(".parquet") or Path(text).is_file():
        return load_mrnabench_task(Path(text))
    raise ValueError(
        f"Unknown task {text!r}: choose one of {', '.join(sorted(TASKS))}, or pass the path of an "
        "mRNABench-layout .parquet file."
    )


def task_names() -> list[str]:
    """Names of the registered tasks."""
    return sorted(TASKS)


__all__ = ["SPLIT_NAMES", "TASKS", "RegressionTask", "TaskLoader", "default_data_dir", "load_task", "task_names"]
