"""The comparison run: one split per seed shared by all contenders, distinct n per fraction, flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isoclr_hf.evaluation.comparison import ComparisonSettings, run_comparison
from isoclr_hf.evaluation.fine_tuning.settings import FineTuneSettings
from isoclr_hf.evaluation.reports.writing import report_dict


def test_every_seed_has_its_own_split_shared_by_all_contenders(tiny_model_dir: Path, bundled_tasks: dict) -> None:
    settings = ComparisonSettings(fractions=(0.01, 0.02, 1.0), seeds=(0, 1, 2, 3, 4), min_train=10,
                                  fine_tune_fractions=(1.0,), fine_tune_seeds=(0, 1),
                                  fine_tune=FineTuneSettings(epochs=1, batch_size=8, max_steps=1,
                                                             learning_rates=(1e-4, 1e-3)),
                                  max_examples=150)
    task = bundled_tasks["te_5utr_hek293"]
    notes_before = list(task.notes)
    heard: list[str] = []
    outcome = run_comparison(task, tiny_model_dir, settings=settings, progress=False, announce=heard.append)
    assert task.notes == notes_before  # the caller's task is not changed
    # The estimate before fine-tuning, and the actual time against it after.
    estimate, actual = (m for m in heard if m.startswith("Fine-tuning"))
    assert estimate.startswith("Fine-tuning estimate: ")
    assert actual.startswith("Fine-tuning took ") and "the estimate was" in actual
    assert outcome.timings["fine_tuning_estimate_s"] > 0 and any("Fine-tuning took" in n for n in outcome.task.notes)
    assert len({tuple(split["test"]) for split in outcome.splits.values()}) == 5
    rows = outcome.results
    # 1% and 2% of ~120 training examples both give the floor of 10: merged into 2%.
    assert sorted({r["train_fraction"] for r in rows}) == [0.02, 1.0] and outcome.merged_fractions == {0.01: 0.02}
    assert any("merged" in note for note in outcome.task.notes)
    for seed, split in outcome.splits.items():
        for row in (r for r in rows if r["seed"] == seed):
            assert row["n_test"] == len(split["test"]) and row["n_validation"] == len(split["validation"])
            assert row["split_seed"] == seed and isinstance(row["worse_than_mean"], bool)
            assert row["n_train_split"] == len(split["train"])
            expected = len(split["train"]) if row["train_fraction"] == 1.0 else 10
            assert row["n_train"] == expected
    tuned = [r for r in rows if r["method"] == "fine_tune"]
    assert {(r["encoder"], r["seed"]) for r in tuned} == {(e, s) for e in ("pretrained", "random_init") for s in (0, 1)}
    assert all(r["learning_rate"] in (1e-4, 1e-3) for r in tuned)
    assert np.isfinite([r["mean_baseline_mse"] for r in rows]).all()
    comparisons = report_dict(task_name="t", target_name="y", dataset_name="d", source="s", model="m",
                              results=rows)["comparisons"]
    probe = next(c for c in comparisons if c["comparison"] == "pretrained - random_init (linear probe)"
                 and c["train_fraction"] == 1.0 and c["metric"] == "pearson")
    assert probe["n_seeds"] == 5 and probe["seeds"] == [0, 1, 2, 3, 4]
    tune = next(c for c in comparisons if c["comparison"] == "pretrained - random_init (fine-tune)"
                and c["metric"] == "pearson")
    assert tune["n_seeds"] == 2
