"""`isoclr push`: the command line pushes one commit with the card's model-index from a report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.cli import push as push_command
from tests.hub.fake_hub import ENDPOINT, fake_hub_http
from tests.hub.published_models import tiny_head


def run_push(argv: list[str]) -> int:
    """Parse with the subcommand's own parser (as `isoclr push ...` does) and run it."""
    parser = argparse.ArgumentParser(prog="isoclr push")
    push_command.add_arguments(parser)
    return push_command.run(parser.parse_args(argv))


def test_cli_push_uploads_card_with_model_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    model_dir = tmp_path / "head"
    tiny_head().save_pretrained(model_dir)
    IsoCLRTokenizer().save_pretrained(model_dir)
    report = {"task": "half_life_human", "task_type": "regression", "target_names": ["half_life"],
              "dataset": {"name": "Saluki human half-life", "source": "saluki_halflife"}, "model": str(model_dir),
              "results": [{"encoder": "pretrained", "method": "linear_probe", "train_fraction": 1.0, "seed": s,
                           "n_train": 100, "n_test": 20, "pearson": 0.5 + 0.1 * s, "spearman": 0.4, "mse": 0.8}
                          for s in range(2)]}
    (tmp_path / "report.json").write_text(json.dumps(report))
    (tmp_path / "data.md").write_text("Saluki half-life PC1 of 256 chr22 genes.")
    monkeypatch.setenv("HF_ENDPOINT", ENDPOINT)
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", ENDPOINT)
    with fake_hub_http() as hub:
        code = run_push(["--model", str(model_dir), "--repo-id", "lab/tiny-hl", "--token", "hf_test",
                         "--evaluation-report", str(tmp_path / "report.json"),
                         "--training-data", str(tmp_path / "data.md"), "--dataset", "lab/saluki"])
    assert code == 0
    assert len(hub.commits) == 1 and "lab/tiny-hl" in capsys.readouterr().out
    card = ModelCard(hub.commits[0].files["README.md"].decode())
    pearson = [r for r in card.data.eval_results if r.metric_type == "pearsonr"]
    assert [r.metric_value for r in pearson] == [pytest.approx(0.55)]
    assert "Saluki half-life PC1 of 256 chr22 genes." in card.text and card.data.datasets == ["lab/saluki"]


def test_cli_push_is_a_registered_subcommand() -> None:
    from isoclr_hf.cli import SUBCOMMANDS

    assert SUBCOMMANDS["push"] == "push"
    assert (push_command.__doc__ or "").strip().splitlines()[0].startswith("Push a saved model")


def test_cli_push_names_a_missing_or_broken_folder_before_uploading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from isoclr_hf.cli import main

    missing = tmp_path / "nope"
    assert main(["push", "--model", str(missing), "--repo-id", "lab/x", "--token", "hf_test"]) == 2
    assert capsys.readouterr().err == f"isoclr push: error: no such model folder: {missing}\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["push", "--model", str(empty), "--repo-id", "lab/x", "--token", "hf_test"]) == 2
    assert capsys.readouterr().err == f"isoclr push: error: {empty}: no config.json in the model folder\n"


def test_cli_push_of_a_run_folder_pushes_its_final_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    tiny_head().save_pretrained(run / "final")
    IsoCLRTokenizer().save_pretrained(run / "final")
    monkeypatch.setenv("HF_ENDPOINT", ENDPOINT)
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", ENDPOINT)
    with fake_hub_http() as hub:
        assert run_push(["--model", str(run), "--repo-id", "lab/tiny-run", "--token", "hf_test"]) == 0
    assert "config.json" in hub.commits[0].files
    assert f"using its final model {run / 'final'}" in capsys.readouterr().out


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder written as `isoclr build-corpus` writes one: Parquet splits, card, save_to_disk files."""
    from isoclr_hf.annotations import read_annotation
    from isoclr_hf.corpus import build_corpus, save_corpus, summarize_corpus
    from isoclr_hf.corpus.card import CorpusSource, render_corpus_card

    mapt = Path(__file__).resolve().parents[2] / "data" / "pretraining" / "gencode_mouse_mapt"
    records = list(read_annotation(mapt / "MAPT.Mouse.genedb.gtf", mapt / "MAPT.Mouse.reference.fasta",
                                   species="mus_musculus"))
    singles = [type(r)(**{**r.to_dict(), "transcript_id": f"T{i}", "gene_id": f"G{i}"}) for i, r in enumerate(records)]
    corpus = build_corpus(records + singles, validation_fraction=0.2, test_fraction=0.2)
    source = CorpusSource(name="mapt", kind="gtf", files=["MAPT.Mouse.genedb.gtf"], species="mus_musculus")
    card = render_corpus_card(summarize_corpus(corpus), [source])
    return save_corpus(corpus, tmp_path_factory.mktemp("corpus") / "mapt", card=card)


def test_cli_push_of_a_corpus_makes_one_dataset_commit_of_its_parquet_and_card(
    corpus_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", ENDPOINT)
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", ENDPOINT)
    with fake_hub_http() as hub:
        code = run_push(["--corpus", str(corpus_folder), "--repo-id", "lab/mapt-gene-sets", "--token", "hf_test",
                         "--revision", "v1"])
    assert code == 0 and not hub.unhandled
    [commit] = hub.commits
    assert (commit.repo_id, commit.repo_type, commit.revision) == ("lab/mapt-gene-sets", "dataset", "v1")
    local = {"README.md", *(p.relative_to(corpus_folder).as_posix() for p in corpus_folder.glob("data/*.parquet"))}
    assert set(commit.files) - {".gitattributes"} == local  # not the save_to_disk copy nor the summary
    for name in local:
        assert commit.files[name] == (corpus_folder / name).read_bytes()
    assert "dataset lab/mapt-gene-sets (v1)" in capsys.readouterr().out


def test_cli_push_of_a_corpus_refuses_model_card_options(corpus_folder: Path, tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text("{}")
    with pytest.raises(ValueError, match="--evaluation-report, --base-model describe a model card"):
        run_push(["--corpus", str(corpus_folder), "--repo-id", "lab/x", "--token", "hf_test",
                  "--evaluation-report", str(tmp_path / "report.json"), "--base-model", "lab/isoclr-s"])


def test_cli_push_of_a_corpus_given_as_model_names_the_corpus_option(corpus_folder: Path) -> None:
    with pytest.raises(ValueError, match=r"is a corpus folder .* push it with --corpus"):
        run_push(["--model", str(corpus_folder), "--repo-id", "lab/x", "--token", "hf_test"])


def test_cli_push_needs_exactly_one_of_model_and_corpus(corpus_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        run_push(["--repo-id", "lab/x"])
    with pytest.raises(SystemExit):
        run_push(["--model", str(tmp_path), "--corpus", str(corpus_folder), "--repo-id", "lab/x"])
