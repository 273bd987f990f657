"""`isoclr embed`: bundled transcripts -> embeddings on disk that equal the model's own output."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from isoclr_hf import IsoCLRModel, IsoCLRTokenizer
from isoclr_hf.cli import main
from tests.tiny_models import tiny_config

DATA = Path(__file__).resolve().parents[2] / "data" / "pretraining"
SQANTI = DATA / "sqanti3_uhr_chr22"
CHR9 = DATA / "ensembl91_chr9_1mb"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    IsoCLRModel(tiny_config()).save_pretrained(folder)
    IsoCLRTokenizer().save_pretrained(folder)
    return folder


def sqanti_arguments() -> list[str]:
    return [
        "--fasta", str(SQANTI / "UHR_chr22.filtered.fasta"),
        "--gtf", str(SQANTI / "UHR_chr22.filtered.gtf"),
        "--sqanti-classification", str(SQANTI / "UHR_chr22_ML_result_classification.txt"),
    ]  # fmt: skip


def test_embed_sqanti_to_parquet_matches_the_model(model_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "emb.parquet"
    code = main(["embed", "--model", str(model_dir), *sqanti_arguments(), "--limit", "12", "--dtype", "float32",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    table = pq.read_table(out).to_pydict()
    assert len(table["transcript_id"]) == 12
    assert "embedded 12 transcripts" in capsys.readouterr().out
    # Recompute the first transcript alone with the model and tokenizer.
    from isoclr_hf.annotations.sqanti import read_sqanti

    first = next(read_sqanti(SQANTI / "UHR_chr22.filtered.fasta", SQANTI / "UHR_chr22.filtered.gtf",
                             SQANTI / "UHR_chr22_ML_result_classification.txt"))  # fmt: skip
    assert table["transcript_id"][0] == first.transcript_id
    model = IsoCLRModel.from_pretrained(model_dir).eval()
    batch = IsoCLRTokenizer()(first.sequence, exon_ends=first.exon_ends, cds=first.cds, return_tensors="pt")
    with torch.no_grad():
        expected = model(**batch).pooler_output[0].numpy()
    np.testing.assert_allclose(np.asarray(table["embedding"][0]), expected, rtol=1e-4, atol=1e-5)


def test_embed_gtf_and_genome_to_npy(model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "chr9.npy"
    gtf = CHR9 / "Homo_sapiens.GRCh38.91_chr9_1_1000000.gtf"
    genome = tmp_path / "genome.fa"  # a copy, so the .fai index is written in tmp_path
    genome.write_bytes((CHR9 / "Homo_sapiens.GRCh38.dna_sm.primary_assembly_chr9_1_1000000.fa").read_bytes())
    # The whole annotation: it holds incomplete CDS (cds_start_NF/cds_end_NF), which must embed too.
    code = main(["embed", "--model", str(model_dir), "--gtf", str(gtf), "--genome", str(genome), "--out", str(out)])
    assert code == 0
    embeddings = np.load(out)
    ids = out.with_suffix(".ids.tsv").read_text().splitlines()
    assert embeddings.shape == (105, tiny_config().hidden_size)
    assert ids[0] == "transcript_id\tgene_id\tlength\ttruncated" and len(ids) == 106
    assert all(line.endswith("\tfalse") for line in ids[1:])
    assert np.isfinite(embeddings).all()


def test_embed_rejects_an_unknown_output_format(model_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["embed", "--model", str(model_dir), *sqanti_arguments(), "--out", str(tmp_path / "emb.csv")]) == 2
    assert capsys.readouterr().err == (
        "isoclr embed: error: --out must end in .parquet or .npy, or have no suffix for a folder of parquet parts; "
        "got emb.csv\n")
    assert not list(tmp_path.glob("emb*"))


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_default_precision_is_float32_like_the_python_api_and_outputs_are_0644(
    model_dir: Path, tmp_path: Path, capsys, umask_022: None
) -> None:
    out = tmp_path / "emb.npy"
    assert main(["embed", "--model", str(model_dir), *sqanti_arguments(), "--limit", "4", "--out", str(out)]) == 0
    assert "in float32 on" in capsys.readouterr().out
    from isoclr_hf.annotations.sqanti import read_sqanti
    from isoclr_hf.inference import embed_records

    records = list(read_sqanti(SQANTI / "UHR_chr22.filtered.fasta", SQANTI / "UHR_chr22.filtered.gtf",
                               SQANTI / "UHR_chr22_ML_result_classification.txt"))[:4]  # fmt: skip
    expected = embed_records(IsoCLRModel.from_pretrained(model_dir), IsoCLRTokenizer(), records, progress=False)
    np.testing.assert_array_equal(np.load(out), expected)
    for path in (out, out.with_suffix(".ids.tsv")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_an_existing_out_is_refused_before_any_work_unless_overwrite(
    model_dir: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "emb.parquet"
    out.write_bytes(b"keep me")
    # The model does not exist either: the existing --out is reported first.
    assert main(["embed", "--model", str(tmp_path / "nope"), *sqanti_arguments(), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"isoclr embed: error: {out} exists; pass --overwrite to replace it\n"
    assert out.read_bytes() == b"keep me"
    argv = ["embed", "--model", str(model_dir), *sqanti_arguments(), "--limit", "2", "--out", str(out), "--overwrite"]
    assert main(argv) == 0
    assert len(pq.read_table(out)) == 2


def test_a_run_folder_means_its_final_model(model_dir: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copytree(model_dir, run / "final")
    out = tmp_path / "emb.npy"
    assert main(["embed", "--model", str(run), *sqanti_arguments(), "--limit", "2", "--out", str(out)]) == 0
    assert f"{run} is a training run folder; using its final model {run / 'final'}" in capsys.readouterr().out


def write_fasta(path: Path, records: dict[str, str]) -> Path:
    path.write_text("".join(f">{name}\n{sequence}\n" for name, sequence in records.items()))
    return path


@pytest.fixture
def long_record_fasta(tmp_path: Path) -> Path:
    """Three transcripts, the second 20,000 nt (the model's maximum is 12,288)."""
    generator = np.random.default_rng(0)
    sequences = {name: "".join(generator.choice(list("ACGT"), size)) for name, size in
                 (("short1", 300), ("long", 20_000), ("short2", 200))}
    return write_fasta(tmp_path / "long.fa", sequences)


def test_an_over_long_record_is_refused_with_the_commands_options_before_any_forward_pass(
    model_dir: Path, long_record_fasta: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "emb.parquet"
    assert main(["embed", "--model", str(model_dir), "--fasta", str(long_record_fasta), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "isoclr embed: error: record 2 ('long') is 20,000 nt, longer than the model's maximum of 12,288 nt: "
        "pass --truncate to embed its 5' 12,288 nt, or --skip-bad-records to skip it\n")
    assert "embedding" not in captured.out + captured.err.replace("isoclr embed", "") and not out.exists()


def test_skip_bad_records_skips_and_counts_an_over_long_record(
    model_dir: Path, long_record_fasta: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "emb.parquet"
    argv = ["embed", "--model", str(model_dir), "--fasta", str(long_record_fasta), "--skip-bad-records", "--quiet"]
    assert main([*argv, "--out", str(out)]) == 0
    assert pq.read_table(out).column("transcript_id").to_pylist() == ["short1", "short2"]
    assert "skipped: longer than the model's maximum 1" in capsys.readouterr().out
    folder = tmp_path / "emb_folder"  # a folder counts it in its manifest
    assert main([*argv, "--shard-size", "2", "--out", str(folder)]) == 0
    assert pq.read_table(folder).column("transcript_id").to_pylist() == ["short1", "short2"]
    manifest = json.loads((folder / ".manifest.json").read_text())
    assert manifest["skipped"] == {"longer than the model's maximum": 1} and manifest["transcripts"] == 2


def test_truncate_marks_the_row_and_counts_the_embedded_nucleotides(
    model_dir: Path, long_record_fasta: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "emb.parquet"
    argv = ["embed", "--model", str(model_dir), "--fasta", str(long_record_fasta), "--truncate", "--quiet"]
    assert main([*argv, "--out", str(out)]) == 0
    table = pq.read_table(out).to_pydict()
    assert table["length"] == [300, 20_000, 200] and table["truncated"] == [False, True, False]
    output = capsys.readouterr().out
    assert "embedded 3 transcripts (12,788 nt)" in output and "1 truncated to their 5' 12,288 nt" in output
    # What was embedded is the 5' 12,288 nt, as a transcript of that length.
    sequence = next(line for line in long_record_fasta.read_text().splitlines()[3:4])
    model = IsoCLRModel.from_pretrained(model_dir).eval()
    with torch.no_grad():
        expected = model(**IsoCLRTokenizer()(sequence[:12_288], return_tensors="pt")).pooler_output[0].numpy()
    np.testing.assert_allclose(np.asarray(table["embedding"][1]), expected, rtol=0, atol=1e-5)
    npy = tmp_path / "emb.npy"
    assert main([*argv, "--out", str(npy)]) == 0
    assert npy.with_suffix(".ids.tsv").read_text().splitlines()[2] == "long\tlong\t20000\ttrue"


def test_every_record_is_checked_before_the_first_forward_pass(model_dir: Path, tmp_path: Path, capsys) -> None:
    fasta = write_fasta(tmp_path / "bad.fa", {"good1": "ACGTACGTAC", "bad2": "ACGTXACGTA", "good3": "ACGTTT"})
    assert main(["embed", "--model", str(model_dir), "--fasta", str(fasta), "--out", str(tmp_path / "e.npy")]) == 2
    captured = capsys.readouterr()
    # The record and the position counted from 1, as sequence tools count ('ACGTX...': X is the 5th letter).
    assert captured.err.startswith("isoclr embed: error: record 2 ('bad2'): character 'X' at position 5 (1-based) "
                                   "is not a nucleotide")
    # Refused before any forward pass: no "embedding N transcripts" line and no progress bar before the error.
    assert "embedding" not in captured.out and "embedding" not in captured.err.split("error:")[0]
    assert "%|" not in captured.err and "transcript/s" not in captured.err
    assert not list(tmp_path.glob("e.*"))


def test_the_embed_module_imports_no_heavy_library_at_the_top() -> None:
    """`isoclr embed --help` and refused arguments need no torch, transformers, datasets or ray."""
    import ast

    import isoclr_hf.cli.embed as embed_command

    tree = ast.parse(Path(embed_command.__file__).read_text())
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            top_level.add((node.module or "").split(".")[0] if node.level == 0 else f"relative:{node.module}")
    assert top_level == {"__future__", "argparse", "itertools", "os", "collections", "pathlib", "typing"}
