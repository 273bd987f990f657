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
from isoclr_hf.evaluation.fine_tuning.engine import predict_records
from isoclr_hf.evaluation.tasks.registry import load_task
from isoclr_hf.loading import load_tokenizer
from tests.hub.isolated_python import run_without_package
from tests.tiny_tasks import save_tiny_encoder, write_mrnabench_parquet

# 250 examples: the smallest test split the command accepts is 20 (a grouped 10% of ~250 is ~25).
SMALL_RUN = ["--max-examples", "250", "--fractions", "0.05,1", "--seeds", "0,1", "--fine-tune", "--epochs", "1",
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
    assert report["settings"]["max_examples"] == 250
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
    path = write_mrnabench_parquet(tmp_path / "bench.parquet", genes=80)
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
    assert "bench.parquet: row 3: character '#' at position 5 (1-based)" in err


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
    path = write_mrnabench_parquet(tmp_path / "bench.parquet", genes=80)
    argv = ["--model", str(run), "--task", str(path), "--out", str(out), *SMALL_RUN, "--fine-tune-fractions",
            "none", "--overwrite"]
    assert _evaluate(argv) == 0
    assert f"{run} is a training run folder; using its final model {run / 'final'}" in capsys.readouterr().out
    assert "an earlier report" not in (out / "report.md").read_text()
    assert not (out / "head").exists()
    assert json.loads((out / "report.json").read_text())["model"] == str(run / "final")


PROBES_ONLY = ["--fractions", "1", "--seeds", "0", "--fine-tune-fractions", "none", "--no-head", "--quiet"]


def _user_table(rows: int, genes: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sequences = ["".join(rng.choice(list("ACGU"), size=int(rng.integers(60, 100)))) for _ in range(rows)]
    return pd.DataFrame({"seq": sequences, "y": [s.count("G") / len(s) + rng.normal(0, 0.01) for s in sequences],
                         "y2": rng.normal(size=rows), "gene": [f"g{i % genes}" for i in range(rows)]})


def test_evaluate_a_csv_task_with_named_columns(model_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "utrs.csv"
    _user_table(240, 80).to_csv(path, index=False)
    out = tmp_path / "report"
    argv = ["--model", str(model_dir), "--task", str(path), "--sequence-column", "seq", "--target-column", "y",
            "--group-column", "gene", "--out", str(out), *PROBES_ONLY]
    assert _evaluate(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["task"] == "utrs" and report["target_names"] == ["y"]
    assert report["dataset"]["source"] == str(path)
    assert report["splits"]["test"] >= 20
    assert any("'gene' column" in note for note in report["notes"])
    assert any("non-coding" in note for note in report["notes"])


def test_several_targets_are_evaluated_in_turn_and_a_missing_group_column_warns(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "utrs.tsv.gz"
    _user_table(240, 80).drop(columns=["gene"]).to_csv(path, sep="\t", index=False)
    out = tmp_path / "report"
    argv = ["--model", str(model_dir), "--task", str(path), "--sequence-column", "seq", "--target-column", "y",
            "--target-column", "y2", "--out", str(out), *PROBES_ONLY]
    assert _evaluate(argv) == 0
    assert "could straddle train/validation/test" in capsys.readouterr().err
    for target in ("y", "y2"):
        report = json.loads((out / target / "report.json").read_text())
        assert report["task"] == f"utrs_{target}" and report["target_names"] == [target]


def test_a_task_with_fewer_than_20_test_examples_is_refused(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "small.csv"
    _user_table(60, 20).to_csv(path, index=False)
    out = tmp_path / "report"
    argv = ["--model", str(model_dir), "--task", str(path), "--sequence-column", "seq", "--target-column", "y",
            "--group-column", "gene", "--out", str(out), *PROBES_ONLY]
    assert _evaluate(argv) == 2
    err = capsys.readouterr().err
    assert "Task 'small': the test split of split seed 0 has" in err and "at least 20" in err
    assert not out.exists()


def test_a_missing_column_lists_the_columns_present(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "utrs.csv"
    _user_table(30, 10).to_csv(path, index=False)
    argv = ["--model", str(model_dir), "--task", str(path), "--target-column", "y", "--out", str(tmp_path / "o")]
    assert _evaluate(argv) == 2
    assert f"{path}: missing column(s) sequence; the file has the columns seq, y, y2, gene" in capsys.readouterr().err


def _corpus_holding(sequences: list[str], folder: Path) -> Path:
    """A corpus folder whose transcripts are ``sequences`` (one gene each, symbols no task uses)."""
    from isoclr_hf.annotations import TranscriptRecord
    from isoclr_hf.corpus import build_corpus, save_corpus

    records = [TranscriptRecord(f"t{i}", f"g{i}", f"CORPUSGENE{i}", "homo_sapiens", s.replace("U", "T"), [len(s)])
               for i, s in enumerate(sequences)]
    save_corpus(build_corpus(records), folder)
    return folder


def test_contenders_and_the_pretraining_free_test_are_reported_side_by_side(model_dir: Path, tmp_path: Path) -> None:
    table = _user_table(240, 80)
    path = tmp_path / "utrs.csv"
    table.to_csv(path, index=False)
    read = set(table["seq"][::3])  # a third of the examples were "pretraining transcripts"
    corpus = _corpus_holding(sorted(read), tmp_path / "corpus")
    contender = save_tiny_encoder(tmp_path / "other", seed=1)
    out = tmp_path / "report"
    argv = ["--model", str(model_dir), "--task", str(path), "--sequence-column", "seq", "--target-column", "y",
            "--group-column", "gene", "--out", str(out), "--fractions", "1", "--seeds", "0,1,2",
            "--fine-tune-fractions", "none", "--no-head", "--quiet", "--no-cache",
            "--contender", f"previous={contender}", "--pretraining-corpus", str(corpus)]
    assert _evaluate(argv) == 0
    report = json.loads((out / "report.json").read_text())
    rows = report["results"]
    assert {r["encoder"] for r in rows} == {"pretrained", "random_init", "kmer_baseline", "previous"}
    for row in rows:
        free = row["pretraining_free"]
        # n_test of the free part = the test examples whose sequence the corpus does not hold
        assert 0 < free["n_test"] < row["n_test"]
        assert free["n_test"] == pytest.approx(row["n_test"] * 2 / 3, abs=0.25 * row["n_test"])
    same_split = {(r["seed"], r["pretraining_free"]["n_test"]) for r in rows}
    assert len(same_split) == 3  # every encoder is scored on the same free examples of a seed
    names = {c["comparison"] for c in report["comparisons"]}
    assert "pretrained - previous (linear probe)" in names
    assert {c["comparison"] for c in report["comparisons_pretraining_free"]} == names
    text = (out / "report.md").read_text()
    assert "## Test examples free of pretraining leakage" in text and "| previous | linear_probe |" in text
    assert any("Pretraining-free test" in note for note in report["notes"])


def test_contender_and_corpus_mistakes_are_refused_before_any_work(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--model", str(model_dir), "--task", "te_5utr_pc3", *PROBES_ONLY]
    with pytest.raises(SystemExit) as exit_info:
        _evaluate([*base, "--out", str(tmp_path / "a"), "--contender", "no-equals-sign"])
    assert exit_info.value.code == 2 and "expected NAME=MODEL" in capsys.readouterr().err
    assert _evaluate([*base, "--out", str(tmp_path / "b"), "--contender", f"random_init={model_dir}"]) == 2
    assert "contender name 'random_init'" in capsys.readouterr().err
    assert _evaluate([*base, "--out", str(tmp_path / "c"), "--contender", f"old={tmp_path / 'missing'}"]) == 2
    assert "missing" in capsys.readouterr().err
    assert _evaluate([*base, "--out", str(tmp_path / "d"), "--pretraining-corpus", str(tmp_path)]) == 2
    assert "not a corpus folder" in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in "abcd")
