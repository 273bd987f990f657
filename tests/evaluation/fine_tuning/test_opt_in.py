"""Fine-tuning is opt-in, announces its time estimate before it starts, and works for classification;
strata (species) get their own test metrics."""

from __future__ import annotations

import argparse
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from isoclr_hf.cli.evaluate import add_arguments, settings_from_args
from isoclr_hf.evaluation import comparison
from isoclr_hf.evaluation.comparison import ComparisonSettings, run_comparison
from isoclr_hf.evaluation.fine_tuning.settings import FineTuneSettings
from isoclr_hf.evaluation.probes.runs import stratum_metrics
from isoclr_hf.evaluation.reports.tables import stratum_table
from isoclr_hf.evaluation.reports.writing import report_dict
from isoclr_hf.evaluation.tasks.registry import load_task
from isoclr_hf.evaluation.tasks.regression import RegressionTask
from tests.evaluation.dm3loc_subset import write_dm3loc_subset

TINY_TUNE = FineTuneSettings(epochs=1, batch_size=8, max_steps=2, learning_rates=(1e-3,))


def _settings(argv: list[str]) -> ComparisonSettings:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return settings_from_args(parser.parse_args(["--model", "m", "--task", "t", "--out", "o", *argv]))


def test_fine_tuning_runs_only_when_asked() -> None:
    assert _settings([]).fine_tune_fractions == ()
    assert ComparisonSettings().fine_tune_fractions == ()
    assert _settings(["--fine-tune"]).fine_tune_fractions == (1.0,)
    assert _settings(["--fine-tune", "--fine-tune-fractions", "0.1,1"]).fine_tune_fractions == (0.1, 1.0)
    assert _settings(["--fine-tune-fractions", "none"]).fine_tune_fractions == ()
    for option in (["--epochs", "2"], ["--fine-tune-fractions", "0.1,1"], ["--learning-rate", "0.001"]):
        with pytest.raises(ValueError, match=f"{option[0]} set.*only with --fine-tune"):
            _settings(option)  # a fine-tuning option alone is a mistake, not a silent no-op
    assert _settings(["--fine-tune", "--fine-tune-fractions", "none"]).fine_tune_fractions == ()
    assert _settings(["--fine-tune"]).fine_tune.epochs == 3


def test_the_estimate_counts_every_step_and_is_announced_before_fine_tuning_starts(
    tiny_model_dir: Path, bundled_tasks: dict
) -> None:
    heard: list[str] = []
    order: list[str] = []
    real = comparison.fine_tune_run

    def recording(*args: object, **kwargs: object) -> object:
        order.append("fine-tune")
        return real(*args, **kwargs)

    settings = ComparisonSettings(fractions=(1.0,), seeds=(0,), fine_tune_fractions=(1.0,), fine_tune=TINY_TUNE,
                                  max_examples=150)
    with mock.patch.object(comparison, "fine_tune_run", side_effect=recording):
        outcome = run_comparison(bundled_tasks["te_5utr_hek293"], tiny_model_dir, settings=settings, progress=False,
                                 announce=lambda text: (heard.append(text), order.append("estimate")))
    assert order[0] == "estimate" and order.count("fine-tune") == 2
    assert heard[0].startswith("Fine-tuning estimate: 2 trainings, 4 steps (")  # 2 encoders x 2 steps
    assert "per length bucket (pretrained: <= " in heard[0] and "; random_init: <= " in heard[0]  # each timed
    assert any(note.startswith("Fine-tuning estimate") for note in outcome.task.notes)


def test_classification_fine_tuning_uses_bce_and_reports_auroc(tiny_model_dir: Path, tmp_path: Path) -> None:
    task = load_task("dm3loc_localisation", data_dir=write_dm3loc_subset(tmp_path, 220))
    settings = ComparisonSettings(fractions=(1.0,), seeds=(0, 1), fine_tune_fractions=(1.0,), fine_tune_seeds=(0,),
                                  fine_tune=TINY_TUNE, batch_size=16)
    outcome = run_comparison(task, tiny_model_dir, settings=settings, progress=False, announce=lambda text: None)
    tuned = [r for r in outcome.results if r["method"] == "fine_tune"]
    assert {r["encoder"] for r in tuned} == {"pretrained", "random_init"}
    assert all(0 <= r["auroc_macro"] <= 1 and r["learning_rate"] == 1e-3 for r in tuned)
    head = outcome.head
    assert head.config.problem_type == "multi_label_classification" and head.config.num_labels == 6
    assert head.config.id2label[0] == "Nucleus"
    assert outcome.test_predictions["pretrained/fine_tune"].shape == (len(outcome.split["test"]), 6)
    report = report_dict(task_name=task.name, target_name=task.target_name, dataset_name="d", source="s", model="m",
                         results=outcome.results, task_type=task.task_type, target_names=task.label_names)
    assert any(c["comparison"] == "fine-tune - linear probe (pretrained)" and c["metric"] == "auroc_macro"
               for c in report["comparisons"])


def test_every_stratum_gets_its_own_test_metrics() -> None:
    rng = np.random.default_rng(0)
    labels = rng.normal(size=40)
    task = RegressionTask(name="t", records=[None] * 40, labels=labels, groups=np.arange(40), target_name="y",  # type: ignore[list-item]
                          dataset_name="d", source="s", strata=np.array(["human"] * 30 + ["mouse"] * 8 + ["frog"] * 2))
    test = np.arange(40)
    predictions = labels + rng.normal(0, 0.5, size=40)
    by_stratum = stratum_metrics(task, predictions, test)
    assert set(by_stratum) == {"human", "mouse"}  # 2 frog examples are too few for a correlation
    assert by_stratum["mouse"]["n_test"] == 8
    assert by_stratum["human"]["pearson"] == pytest.approx(np.corrcoef(labels[:30], predictions[:30])[0, 1])
    assert task.subset([0, 35]).strata.tolist() == ["human", "mouse"]
    rows = [{"encoder": "pretrained", "method": "linear_probe", "train_fraction": 1.0, "seed": s, "n_train": 100,
             "n_test": 40, "pearson": 0.5, "spearman": 0.5, "mse": 1.0, "by_stratum": by_stratum} for s in (0, 1)]
    table = stratum_table(rows)
    assert "| human | 1 | 100 | 30 | pretrained | linear_probe | 2 |" in table and "| mouse |" in table


def test_the_icodon_task_has_species_strata() -> None:
    task = load_task("icodon_decay")
    assert sorted(set(task.strata)) == ["human", "mouse", "xenopus", "zebrafish"]
    assert load_task("icodon_decay_mouse").strata is None
