"""What the task dataclasses share: one entry per example in each per-example field, ``len`` and ``subset``.

:class:`~isoclr_hf.evaluation.tasks.regression.RegressionTask` and
:class:`~isoclr_hf.evaluation.tasks.classification.MultiLabelTask` differ in their labels (one number vs a
0/1 row per class) and hold the same per-example fields; splits, low-data subsets and reports rely on
these behaving the same in both.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import numpy as np

# Fields with one entry per record (None where a task has no such field).
PER_EXAMPLE_FIELDS = ("labels", "groups", "categories", "predefined_split", "strata")

TaskT = TypeVar("TaskT", bound="TaskExamples")


class TaskExamples:
    """Mixin for the task dataclasses (fields ``name``, ``records``, ``notes`` and :data:`PER_EXAMPLE_FIELDS`)."""

    name: str
    records: list[Any]
    notes: list[str]

    def check_examples(self) -> None:
        """Raise a ``ValueError`` naming the task when a per-example field's length is not the record count.

        Also refuses a task without examples.
        """
        n = len(self.records)
        for attribute in PER_EXAMPLE_FIELDS:
            value = getattr(self, attribute)
            if value is not None and len(value) != n:
                raise ValueError(f"Task {self.name!r}: {attribute} has {len(value)} entries for {n} records.")
        if n == 0:
            raise ValueError(f"Task {self.name!r} has no examples; check the input file and filters.")

    def __len__(self) -> int:
        return len(self.records)

    def subset(self: TaskT, indices: np.ndarray | list[int]) -> TaskT:
        """The task restricted to ``indices`` (in that order); every other field is kept (lists copied)."""
        indices = np.asarray(indices, dtype=np.int64)
        picked = {name: None if getattr(self, name) is None else np.asarray(getattr(self, name))[indices]
                  for name in PER_EXAMPLE_FIELDS}
        copies = {field.name: list(getattr(self, field.name)) for field in dataclasses.fields(self)  # type: ignore[arg-type]
                  if isinstance(getattr(self, field.name), list) and field.name != "records"}
        return dataclasses.replace(self, records=[self.records[i] for i in indices], **copies, **picked)  # type: ignore[type-var]


__all__ = ["PER_EXAMPLE_FIELDS", "TaskExamples"]
