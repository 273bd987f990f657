"""`isoclr evaluate`: one command from a model folder and a task to a report and a head."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from transformers import AutoModelForSequenceClassification

from isoclr_hf.cli import main
from isoclr_hf.evaluation.tasks import load_task
from isoclr_hf.training.fine_tuning import load_tokenizer, predict_records
from tests.hub.isolated_python import run_without_package
from tests.tiny_tasks import save_tiny_encoder, write_mrnabench_parquet

SMALL_RUN = ["--max-examples", "120", "--fractions", "0.05,1", "--seeds", "0,1", "--epochs", "1",
             "--max-steps", "2", "--batch-size", "8", "--quiet"]


def _evaluate(argv: list[str]) -> int:
    return main(["evaluate", *argv])


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_encoder(tmp_path_factory.mktemp("encoder"))


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_evaluate_writes_the_report_plots_and_a_loadable_head(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], umask_022: None
) -> None:
    out = tmp_path / "report"
    assert _evaluate(["--model", str(model_dir), "--task", "te_5utr_pc3", "--out", str(out), *SMALL_RUN]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["task"] == "te_5utr_pc3" and report["target_names"] == ["log2_te"]
    runs = {(r["encoder"], r["method"]) for r in report["results"]}
    assert runs == {("pretrained", "linear_probe"), ("random_init", "linear_probe"), ("kmer_baseline", "ridge"),
                    ("pretrained", "fine_tune"), ("random_init", "fine_tune")}
    low = [r for r in report["results"] if r["train_fraction"] == 0.05]
    assert {r["seed"] for r in low} == {0, 1} and all(r["n_train"] >= 10 for r in low)
    assert report["settings"]["max_examples"] == 120
    table = (out / "report.md").read_text()
    assert "| kmer_baseline | ridge |" in table and "| pretrained | fine_tune |" in table
    assert "| pretrained | fine_tune |" in capsys.readouterr().out
    for plot in ("low_data_curve.png", "predicted_vs_measured.png", "embedding_map.png"):
        assert (out / plot).stat().st_size > 0
    for name in ("report.json", "report.md", "low_data_curve.png", "predicted_vs_measured.png", "embedding_map.png"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name
    head = AutoModelForSequenceClassification.from_pretrained(out / "head", trust_remote_code=True)
    assert head.config.target_names == ["log2_te"]
    task = load_task("te_5utr_pc3")
    predictions = predict_records(head, load_tokenizer(out / "head"), task.records[:10])
    assert abs(float(np.mean(predictions)) - float(np.mean(task.labels))) < 3 * float(np.std(task.labels))
    # A publishable folder: the pipeline and the card, for a user without this package.
    assert "log2_te" in (out / "head" / "README.md").read_text()
    result = run_without_package(
        f"""
        import json
        from transformers import pipeline
        predict = pipeline(model={str(out / "head")!r}, trust_remote_code=True)
        print(json.dumps(predict({{"sequence": "AUGGCCAAAUAGGCUUCCGA", "cds": (0, 12)}})))
        """,
        tmp_path / "isolated",
    )
    prediction = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(prediction) == {"log2_te"} and np.isfinite(prediction["log2_te"])


def test_evaluate_runs_on_an_mrnabench_parquet(model_dir: Path, tmp_path: Path) -> None:
    path = write_mrnabench_parquet(tmp_path / "bench.parquet", genes=15)
    out = tmp_path / "report"
    argv = ["--model", str(model_dir), "--task", str(path), "--out", str(out), *SMALL_RUN, "--fine-tune-fractions",
            "none", "--no-head"]
    assert _evaluate(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["dataset"]["source"] == str(path)
    assert not any(r["method"] == "fine_tune" for r in report["results"])
    assert not (out / "head").exists()


def test_a_bad_task_file_gives_a_clear_error_and_exit_code_2(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_mrnabench_parquet(tmp_path / "bench.parquet")
    table = pd.read_parquet(path)
    table.loc[2, "sequence"] = "ACGT#ACGT"
    table.to_parquet(path)
    assert _evaluate(["--model", str(model_dir), "--task", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("isoclr evaluate: error: ") and len(err.strip().splitlines()) == 1
    assert "line 3: character '#' at position 4" in err


def test_an_existing_out_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.md").write_text("an earlier report")
    # Neither the model nor the task exists: the existing --out is reported first.
    assert _evaluate(["--model", str(tmp_path / "nope"), "--task", "nope", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"isoclr evaluate: error: {out} exists and is not empty; "
                                       "pass --overwrite to replace its report\n")
    assert (out / "report.md").read_text() == "an earlier report"


def test_overwrite_replaces_the_report_and_a_run_folder_means_its_final_model(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(model_dir, run / "final")
    out = tmp_path / "report"
    (out / "head").mkdir(parents=True)
    (out / "head" / "config.json").write_text("{}")  # an earlier run's head
    (out / "report.md").write_text("an earlier report")
    path = write_mrnabench_parquet(tmp_path / "bench.parquet", genes=15)
    argv = ["--model", str(run), "--task", str(path), "--out", str(out), *SMALL_RUN, "--fine-tune-fractions",
            "none", "--overwrite"]
    assert _evaluate(argv) == 0
    assert f"{run} is a training run folder; using its final model {run / 'final'}" in capsys.readouterr().out
    assert "an earlier report" not in (out / "report.md").read_text()
    assert not (out / "head").exists()
    assert json.loads((out / "report.json").read_text())["model"] == str(run / "final")
