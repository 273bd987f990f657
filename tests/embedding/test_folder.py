"""`isoclr embed --out DIR`: parts + manifest, equal to one file, resumed, refused when mixed, rank shares."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from isoclr_hf.cli import main
from isoclr_hf.embedding import EmbeddingFolder, numbered_shards
from isoclr_hf.embedding.folder import MANIFEST
from tests.embedding.helpers import SQANTI, assert_same_embeddings, save_tiny_model, sqanti_arguments


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def single_file(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("single") / "emb.parquet"
    assert main(["embed", "--model", str(model_dir), *sqanti_arguments(12), "--quiet", "--out", str(out)]) == 0
    return out


def embed_folder(model_dir: Path, out: Path, *extra: str, limit: int = 12) -> int:
    return main(["embed", "--model", str(model_dir), *sqanti_arguments(limit), "--quiet", "--shard-size", "5",
                 "--out", str(out), *extra])


def test_a_folder_holds_parts_and_a_manifest_and_equals_the_single_file(
    model_dir: Path, single_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "emb"
    assert embed_folder(model_dir, out) == 0
    assert "complete: 12 transcripts in 3 part(s)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "part-00000.parquet", "part-00001.parquet",
                                                     "part-00002.parquet"]
    assert [pq.read_metadata(out / f"part-0000{i}.parquet").num_rows for i in range(3)] == [5, 5, 2]
    assert_same_embeddings(out, single_file)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] and manifest["transcripts"] == 12 and manifest["dtype"] == "float32"
    assert manifest["inputs"]["fasta"]["name"] == "UHR_chr22.filtered.fasta"
    assert len(manifest["model_fingerprint"]) == 64
    assert [shard["rows"] for shard in manifest["shards"]] == [5, 5, 2]
    assert set(manifest["versions"]) == {"isoclr-hf", "torch", "transformers"}
    assert pq.read_table(out).column_names == ["transcript_id", "gene_id", "gene_name", "species", "length",
                                               "truncated", "embedding"]
    import datasets

    loaded = datasets.load_dataset("parquet", data_dir=str(out), split="train", cache_dir=str(tmp_path / "cache"))
    assert sorted(loaded["transcript_id"]) == sorted(pq.read_table(single_file).column("transcript_id").to_pylist())


def test_a_rerun_embeds_only_the_missing_parts(model_dir: Path, single_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "emb"
    assert embed_folder(model_dir, out) == 0
    kept = (out / "part-00000.parquet").stat().st_mtime_ns
    (out / "part-00001.parquet").unlink()  # as if the process embedding it was killed
    manifest = json.loads((out / MANIFEST).read_text())
    capsys.readouterr()
    assert embed_folder(model_dir, out) == 0
    output = capsys.readouterr().out
    assert "(2 part(s) already written)" in output and "2 found done" in output
    assert "embedded 1 shard(s), 5 transcripts" in output
    assert (out / "part-00000.parquet").stat().st_mtime_ns == kept
    assert_same_embeddings(out, single_file)
    assert json.loads((out / MANIFEST).read_text())["shards"] == manifest["shards"]


def test_another_model_or_input_or_option_is_refused_not_mixed(model_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "emb"
    assert embed_folder(model_dir, out, limit=4) == 0
    parts = {p.name: p.read_bytes() for p in out.iterdir()}
    other_model = save_tiny_model(tmp_path / "other_model", seed=1)
    capsys.readouterr()
    assert embed_folder(other_model, out, limit=4) == 2
    error = capsys.readouterr().err
    assert "holds embeddings made with other settings (model_fingerprint: folder has" in error
    assert embed_folder(model_dir, out, "--dtype", "bfloat16", limit=4) == 2
    assert "dtype: folder has \"float32\", this run \"bfloat16\"" in capsys.readouterr().err
    fasta = tmp_path / "changed.fasta"  # the same file with one transcript fewer
    lines = (SQANTI / "UHR_chr22.filtered.fasta").read_text().splitlines(keepends=True)
    second = [i for i, line in enumerate(lines) if line.startswith(">")][1]
    fasta.write_text("".join(lines[second:]))
    argv = ["embed", "--model", str(model_dir), "--fasta", str(fasta), "--gtf", str(SQANTI / "UHR_chr22.filtered.gtf"),
            "--sqanti-classification", str(SQANTI / "UHR_chr22_ML_result_classification.txt"), "--limit", "4",
            "--quiet", "--shard-size", "5", "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    assert "inputs: folder has" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == parts


def test_a_part_of_other_records_is_refused(model_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "emb"
    assert embed_folder(model_dir, out) == 0
    shutil.copy(out / "part-00000.parquet", out / "part-00001.parquet")  # the wrong shard's records
    (out / "part-00002.parquet").unlink()
    capsys.readouterr()
    assert embed_folder(model_dir, out) == 2
    assert "part-00001.parquet was written from other input records than shard 1" in capsys.readouterr().err


def test_the_ranks_of_two_processes_share_the_shards_and_the_last_writes_the_totals(
    model_dir: Path, single_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "emb"
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert embed_folder(model_dir, out) == 0
    assert sorted(p.name for p in out.glob("part-*")) == ["part-00001.parquet"]  # shards 1 (of 0, 1, 2)
    assert "complete" not in json.loads((out / MANIFEST).read_text())
    monkeypatch.setenv("RANK", "0")
    assert embed_folder(model_dir, out) == 0
    assert "complete: 12 transcripts in 3 part(s)" in capsys.readouterr().out
    assert_same_embeddings(out, single_file)


def test_outputs_that_cannot_be_a_folder_are_refused_before_the_model_loads(tmp_path: Path, capsys) -> None:
    nope = str(tmp_path / "no_model")  # the model does not exist: each error below comes first
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    assert main(["embed", "--model", nope, *sqanti_arguments(4), "--out", str(occupied)]) == 2
    assert "holds files but no .manifest.json" in capsys.readouterr().err
    assert main(["embed", "--model", nope, *sqanti_arguments(4), "--out", str(tmp_path / "d"), "--overwrite"]) == 2
    assert "a folder is resumed, never overwritten" in capsys.readouterr().err
    assert main(["embed", "--model", nope, *sqanti_arguments(4), "--engine", "ray", "--out",
                 str(tmp_path / "x.parquet")]) == 2
    assert "--engine ray writes a folder" in capsys.readouterr().err
    assert main(["embed", "--model", nope, "--fasta", str(tmp_path / "missing.fa"), "--out", str(tmp_path / "d")]) == 2
    assert f"--fasta {tmp_path / 'missing.fa'}: no such file" in capsys.readouterr().err
    assert not (tmp_path / "d").exists() and [p.name for p in occupied.iterdir()] == ["notes.txt"]


def test_numbered_shards_cut_a_stream_in_order() -> None:
    shards = list(numbered_shards(iter(range(11)), 4))  # type: ignore[arg-type]
    assert shards == [(0, [0, 1, 2, 3]), (1, [4, 5, 6, 7]), (2, [8, 9, 10])]
    with pytest.raises(ValueError, match="--shard-size must be at least 1"):
        list(numbered_shards(iter([]), 0))


def test_finish_waits_for_every_part(tmp_path: Path) -> None:
    folder = EmbeddingFolder(tmp_path / "emb")
    assert folder.prepare({"dtype": "float32"}) is False
    assert folder.prepare({"dtype": "float32"}) is True
    assert folder.finish(2) is None
    from collections import Counter

    import pyarrow as pa

    table = pa.table({"transcript_id": ["a"], "embedding": pa.array([np.zeros(3, dtype=np.float32)])})
    folder.write_part(1, table, fingerprint="f1", skipped=Counter({"too long": 2}))
    assert folder.finish(2) is None
    folder.write_part(0, table, fingerprint="f0", skipped=Counter())
    manifest = folder.finish(2, Counter({"unreadable": 1}))
    assert manifest is not None and manifest["transcripts"] == 2
    assert manifest["skipped"] == {"too long": 2, "unreadable": 1}
    assert not [p for p in folder.path.iterdir() if p.name.startswith(".part")]
