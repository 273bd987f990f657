"""A corpus folder: save/load round trip, Parquet export, card, push to the Hub (HTTP replaced), atomic writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard, HfApi

from isoclr_hf.annotations import read_annotation
from isoclr_hf.corpus import build_corpus, load_corpus, save_corpus, summarize_corpus
from isoclr_hf.corpus.card import CorpusSource, render_corpus_card
from isoclr_hf.corpus.hub import push_corpus_to_hub

MAPT = Path(__file__).resolve().parents[2] / "data" / "pretraining" / "gencode_mouse_mapt"


@pytest.fixture(scope="module")
def corpus() -> datasets.DatasetDict:
    records = read_annotation(
        MAPT / "MAPT.Mouse.genedb.gtf", MAPT / "MAPT.Mouse.reference.fasta", species="mus_musculus"
    )
    records = list(records)
    # A few one-transcript "genes" so that the splits are not all empty.
    # Each gets its own first 6 nt: the build leaves out a sequence it already has.
    singles = [
        type(r)(**{**r.to_dict(), "transcript_id": f"T{i}", "gene_id": f"G{i}",
                   "sequence": "".join("ACGT"[(i >> (2 * k)) & 3] for k in range(6)) + r.sequence[6:]})
        for i, r in enumerate(records * 3)
    ]
    return build_corpus(records + singles, validation_fraction=0.2, test_fraction=0.2)


@pytest.fixture
def card(corpus) -> DatasetCard:
    source = CorpusSource(
        name="mapt", kind="gtf", files=["MAPT.Mouse.genedb.gtf"], species="mus_musculus", license="gpl-2.0"
    )
    return render_corpus_card(summarize_corpus(corpus), [source], skipped={"malformed_line": 2})


def _rows(dataset_dict):
    return {name: split.to_list() for name, split in dataset_dict.items()}


def test_save_and_load_round_trip_with_parquet_copy(corpus, card, tmp_path):
    out = save_corpus(corpus, tmp_path / "corpus", card=card, summary={"sets": 1})
    assert _rows(load_corpus(out)) == _rows(corpus)
    from_parquet = datasets.load_dataset(
        "parquet", data_files={name: str(out / f"data/{name}-00000-of-00001.parquet") for name in corpus},
        cache_dir=str(tmp_path / "cache"),
    )  # fmt: skip
    assert _rows(from_parquet) == _rows(corpus)
    assert (out / "README.md").is_file() and (out / "build_summary.json").is_file()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_a_corpus_with_empty_splits_loads_back(tmp_path):
    records = read_annotation(
        MAPT / "MAPT.Mouse.genedb.gtf", MAPT / "MAPT.Mouse.reference.fasta", species="mus_musculus"
    )
    one_gene = build_corpus(records)  # one set: two of the three splits are empty
    assert sorted(len(split) for split in one_gene.values()) == [0, 0, 1]
    assert _rows(load_corpus(save_corpus(one_gene, tmp_path / "corpus"))) == _rows(one_gene)


def test_existing_folder_is_kept_unless_overwrite(corpus, tmp_path):
    out = save_corpus(corpus, tmp_path / "corpus")
    with pytest.raises(FileExistsError, match="--overwrite"):
        save_corpus(corpus, out)
    save_corpus(corpus, out, overwrite=True)
    assert _rows(load_corpus(out)) == _rows(corpus)
    assert [p.name for p in tmp_path.iterdir()] == ["corpus"]


def test_failed_save_leaves_nothing(corpus, tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(datasets.Dataset, "to_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        save_corpus(corpus, tmp_path / "corpus")
    assert list(tmp_path.iterdir()) == []


def test_card_has_licenses_counts_and_split_files(corpus, card):
    summary = summarize_corpus(corpus)
    assert card.data.license == "gpl-2.0"
    assert [entry["split"] for entry in card.data.configs[0]["data_files"]] == ["train", "validation", "test"]
    assert f"{summary['sets']:,} gene sets" in card.text
    assert "| malformed_line | 2 |" in card.text
    assert DatasetCard(str(card)).data.to_dict() == card.data.to_dict()  # the YAML block parses back


def test_push_uploads_parquet_and_card_that_load_back(corpus, card, tmp_path, monkeypatch):
    remote = tmp_path / "remote"
    calls = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create_repo", repo_id, kwargs.get("repo_type")))

    def create_commit(self, repo_id, operations, **kwargs):
        calls.append(("create_commit", repo_id, kwargs.get("repo_type")))
        for operation in operations:
            target = remote / operation.path_in_repo
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(operation.path_or_fileobj, target)
        return "https://huggingface.co/datasets/user/corpus/commit/0"

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "create_commit", create_commit)
    out = save_corpus(corpus, tmp_path / "corpus", card=card)
    push_corpus_to_hub(out, "user/corpus", token="hf_fake")
    assert calls == [
        ("create_repo", "user/corpus", "dataset"),
        ("create_commit", "user/corpus", "dataset"),
    ]
    assert sorted(str(p.relative_to(remote)) for p in remote.rglob("*") if p.is_file()) == [
        "README.md", *sorted(f"data/{name}-00000-of-00001.parquet" for name in corpus)
    ]  # fmt: skip
    pushed = datasets.load_dataset(str(remote), cache_dir=str(tmp_path / "cache"))  # reads the card's configs
    assert _rows(pushed) == _rows(corpus)


def test_push_refuses_a_folder_without_parquet(tmp_path):
    with pytest.raises(FileNotFoundError, match="build-corpus"):
        push_corpus_to_hub(tmp_path, "user/corpus", token="hf_fake")
