"""The multi-label classification task: records, a 0/1 row of labels per record, and groups.

The classification counterpart of :class:`~isoclr_hf.evaluation.tasks.regression.RegressionTask`,
with the same fields where they mean the same thing, so that splits, low-data subsets and reports
handle both (they look only at ``groups``, ``predefined_split``, ``subset`` and ``task_type``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...annotations.records import TranscriptRecord
from .examples import TaskExamples


@dataclass
class MultiLabelTask(TaskExamples):
    """A multi-label classification benchmark (e.g. subcellular localisation over several compartments).

    Attributes:
        name: Registry name (``dm3loc_localisation``).
        records: One transcript per example.
        labels: 0/1 per example and class. Shape: (n, n_classes).
        groups: Group id per example; a group never straddles train/validation/test. Shape: (n,).
        label_names: One name per class (column of ``labels``).
        dataset_name: Human-readable dataset name for reports.
        source: Where the data comes from.
        categories: A category per example for plots; ``None`` colours by the number of positive classes.
        predefined_split: ``"train"``/``"validation"``/``"test"`` per example, or ``None`` (a grouped
            random split is drawn).
        notes: Choices made while building the task, for the report.
        strata: A stratum per example for a per-stratum breakdown in the report, or ``None``.
    """

    task_type: ClassVar[str] = "multi_label_classification"

    name: str
    records: list[TranscriptRecord]
    labels: np.ndarray
    groups: np.ndarray
    label_names: list[str]
    dataset_name: str
    source: str
    categories: np.ndarray | None = None
    predefined_split: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    strata: np.ndarray | None = None

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels)
        if labels.ndim != 2 or labels.shape[1] != len(self.label_names):
            raise ValueError(f"Task {self.name!r}: labels of shape {labels.shape} for {len(self.label_names)} "
                             "classes; expected (examples, classes).")
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(f"Task {self.name!r}: multi-label targets must be 0 or 1.")
        self.labels = labels.astype(np.int8)
        self.groups = np.asarray(self.groups, dtype=object).reshape(-1)
        self.check_examples()

    @property
    def target_name(self) -> str:
        """The classes joined by commas (reports name the target this way)."""
        return ",".join(self.label_names)


__all__ = ["MultiLabelTask"]
