"""Regression tasks with measured labels: the task object, input checks and the task registry.

A task is a list of transcript records, one label per record, and a group per record (a gene, or
the source 3'UTR of MPRA variants): records of one group always land on the same side of a split.
The bundled tasks (``data/benchmarks``, see ``data/SOURCES.md``) are built by
:mod:`isoclr_hf.evaluation.task_loaders`; a path to an mRNABench-layout parquet file is a task too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..annotations.records import TranscriptRecord

# Letters the tokenizer accepts (DNA/RNA, N and the IUPAC ambiguity codes, either case).
_NOT_NUCLEOTIDE = re.compile(r"[^ACGTUNRYSWKMBDHVacgtunryswkmbdhv]")
SPLIT_NAMES = ("train", "validation", "test")


@dataclass
class RegressionTask:
    """A regression benchmark: records, labels and the groups that splits keep together.

    Attributes:
        name: Registry name (``saluki_halflife_human``, ``siegel_3utr_jurkat``, ...).
        records: One transcript (or transcript fragment) per example.
        labels: Measured target in its original units. Shape: (n,).
        groups: Group id per example; a group never straddles train/validation/test. Shape: (n,).
        target_name: Name of the target (stored as ``target_names`` in fine-tuned heads).
        dataset_name: Human-readable dataset name for reports and model cards.
        source: Where the data comes from (paper, repository, file).
        categories: A category per example for plots (e.g. biotype); ``None`` colours by label.
        predefined_split: ``"train"``/``"validation"``/``"test"`` per example where the dataset
            defines its own folds (Saluki), else ``None`` (a grouped random split is drawn).
        notes: Choices made while building the task (filters, grouping rule), for the report.
    """

    name: str
    records: list[TranscriptRecord]
    labels: np.ndarray
    groups: np.ndarray
    target_name: str
    dataset_name: str
    source: str
    categories: np.ndarray | None = None
    predefined_split: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.float64).reshape(-1)
        self.groups = np.asarray(self.groups, dtype=object).reshape(-1)
        n = len(self.records)
        for attribute in ("labels", "groups", "categories", "predefined_split"):
            value = getattr(self, attribute)
            if value is not None and len(value) != n:
                raise ValueError(f"Task {self.name!r}: {attribute} has {len(value)} entries for {n} records.")
        if n == 0:
            raise ValueError(f"Task {self.name!r} has no examples; check the input file and filters.")

    def __len__(self) -> int:
        return len(self.records)

    def subset(self, indices: np.ndarray | list[int]) -> RegressionTask:
        """The task restricted to ``indices`` (in that order)."""
        indices = np.asarray(indices, dtype=np.int64)
        return RegressionTask(
            name=self.name,
            records=[self.records[i] for i in indices],
            labels=self.labels[indices],
            groups=self.groups[indices],
            target_name=self.target_name,
            dataset_name=self.dataset_name,
            source=self.source,
            categories=None if self.categories is None else np.asarray(self.categories)[indices],
            predefined_split=None if self.predefined_split is None else np.asarray(self.predefined_split)[indices],
            notes=list(self.notes),
        )


def check_sequences(sequences: list[str], path: Path | str, *, first_line: int = 1) -> None:
    """Raise a ``ValueError`` naming the file and line of an empty sequence or an unknown character.

    Args:
        sequences: Sequences in file order.
        path: The file they come from (for the message).
        first_line: Line number of ``sequences[0]`` in the file (1-based).
    """
    for offset, sequence in enumerate(sequences):
        line = first_line + offset
        if not isinstance(sequence, str) or not sequence:
            raise ValueError(f"{path}: line {line}: empty or missing sequence.")
        bad = _NOT_NUCLEOTIDE.search(sequence)
        if bad is not None:
            raise ValueError(
                f"{path}: line {line}: character {bad.group()!r} at position {bad.start()} is not a nucleotide "
                "(allowed: A, C, G, T/U, N and the IUPAC codes R Y S W K M B D H V)."
            )


def check_labels(labels: np.ndarray, path: Path | str, *, first_line: int = 1, column: str = "label") -> None:
    """Raise a ``ValueError`` naming the file and lines where a label is missing or not finite."""
    labels = np.asarray(labels, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(labels))
    if bad.size:
        lines = ", ".join(str(first_line + int(i)) for i in bad[:5])
        more = f" and {bad.size - 5} more" if bad.size > 5 else ""
        raise ValueError(
            f"{path}: {bad.size} missing or non-finite {column} values (NaN/inf) at line(s) {lines}{more}; "
            "drop those rows or fill them before evaluating."
        )


def check_columns(present: list[str], required: list[str], path: Path | str) -> None:
    """Raise a ``ValueError`` listing the required columns a table lacks."""
    missing = [name for name in required if name not in present]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, present)) or 'none'}."
        )


TaskLoader = Callable[[Path], RegressionTask]
TASKS: dict[str, TaskLoader] = {}


def register_task(name: str) -> Callable[[TaskLoader], TaskLoader]:
    """Decorator: register a loader ``loader(data_dir) -> RegressionTask`` under ``name``."""

    def decorate(loader: TaskLoader) -> TaskLoader:
        TASKS[name] = loader
        return loader

    return decorate


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
    from . import task_loaders

    text = str(name_or_path)
    if text in TASKS:
        return TASKS[text](Path(data_dir) if data_dir is not None else default_data_dir())
    if text.endswith(".parquet") or Path(text).is_file():
        return task_loaders.load_mrnabench_task(Path(text))
    raise ValueError(
        f"Unknown task {text!r}: choose one of {', '.join(sorted(TASKS))}, or pass the path of an "
        "mRNABench-layout .parquet file."
    )


def task_names() -> list[str]:
    """Names of the registered tasks."""
    from . import task_loaders  # noqa: F401

    return sorted(TASKS)


__all__ = [
    "SPLIT_NAMES",
    "TASKS",
    "RegressionTask",
    "check_columns",
    "check_labels",
    "check_sequences",
    "default_data_dir",
    "load_task",
    "register_task",
    "task_names",
]
