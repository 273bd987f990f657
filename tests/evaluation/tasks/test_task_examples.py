"""The per-example fields of both task types: lengths checked, ``subset`` picks every one of them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from isoclr_hf.annotations.records import TranscriptRecord
from isoclr_hf.evaluation.tasks.classification import MultiLabelTask
from isoclr_hf.evaluation.tasks.examples import PER_EXAMPLE_FIELDS
from isoclr_hf.evaluation.tasks.regression import RegressionTask


def _records(n: int) -> list[TranscriptRecord]:
    return [TranscriptRecord(transcript_id=f"t{i}", gene_id=f"g{i}", gene_name="", species="homo_sapiens",
                             sequence="ACGT" * (i + 1), exon_ends=[4 * (i + 1)]) for i in range(n)]


def _tasks(n: int = 5) -> list[RegressionTask | MultiLabelTask]:
    common = {"name": "t", "records": _records(n), "groups": [f"g{i}" for i in range(n)], "dataset_name": "d",
              "source": "s", "categories": np.arange(n), "predefined_split": np.array(["train"] * n),
              "notes": ["a note"], "strata": np.array(["human"] * n)}
    return [RegressionTask(labels=np.arange(n, dtype=float), target_name="y", **common),
            MultiLabelTask(labels=np.eye(n, 2, dtype=int), label_names=["A", "B"], **common)]


@pytest.mark.parametrize("task", _tasks(), ids=["regression", "classification"])
def test_subset_picks_every_per_example_field_in_order_and_keeps_the_rest(
    task: RegressionTask | MultiLabelTask,
) -> None:
    part = task.subset([3, 1])
    assert type(part) is type(task) and len(part) == 2
    assert [r.transcript_id for r in part.records] == ["t3", "t1"]
    for name in PER_EXAMPLE_FIELDS:
        np.testing.assert_array_equal(getattr(part, name), np.asarray(getattr(task, name))[[3, 1]])
    for field in dataclasses.fields(task):
        if field.name not in (*PER_EXAMPLE_FIELDS, "records"):
            assert getattr(part, field.name) == getattr(task, field.name), field.name
    part.notes.append("another")
    assert task.notes == ["a note"]  # lists are copied, not shared


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_a_field_of_the_wrong_length_and_an_empty_task_are_refused(kind: str) -> None:
    task = _tasks()[kind == "classification"]
    with pytest.raises(ValueError, match=r"Task 't': strata has 4 entries for 5 records"):
        dataclasses.replace(task, strata=task.strata[:4])
    with pytest.raises(ValueError, match=r"Task 't' has no examples"):
        task.subset([])
