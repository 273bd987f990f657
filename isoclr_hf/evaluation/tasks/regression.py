"""The regression task (records, labels, groups) and the checks of the tables tasks are read from.

A task is a list of transcript records, one measured label per record and a group per record. A
group is a gene, or the source 3'UTR of MPRA variants: records of one group always land on the same
side of a split (:mod:`isoclr_hf.evaluation.tasks.splits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from ...annotations.records import TranscriptRecord
from .examples import TaskExamples

# Letters the tokenizer accepts (DNA/RNA, N and the IUPAC ambiguity codes, either case).
_NOT_NUCLEOTIDE = re.compile(r"[^ACGTUNRYSWKMBDHVacgtunryswkmbdhv]")
SPLIT_NAMES = ("train", "validation", "test")


@dataclass
class RegressionTask(TaskExamples):
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
        strata: A stratum per example (e.g. the species) over which the report also gives the test
            metrics separately; ``None``: no breakdown.
    """

    task_type: ClassVar[str] = "regression"

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
    strata: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.float64).reshape(-1)
        self.groups = np.asarray(self.groups, dtype=object).reshape(-1)
        self.check_examples()


def first_non_nucleotide(sequence: str) -> tuple[int, str] | None:
    """``(index, character)`` of the first character the tokenizer does not accept (index from 0), or ``None``."""
    bad = _NOT_NUCLEOTIDE.search(sequence)
    return None if bad is None else (bad.start(), bad.group())


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
                f"{path}: line {line}: character {bad.group()!r} at position {bad.start() + 1} (1-based) is not a "
                "nucleotide (allowed: A, C, G, T/U, N and the IUPAC codes R Y S W K M B D H V)."
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


__all__ = ["SPLIT_NAMES", "RegressionTask", "check_columns", "check_labels", "check_sequences",
           "first_non_nucleotide"]
