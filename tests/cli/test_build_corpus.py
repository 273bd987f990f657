"""`isoclr build-corpus`: the bundled demo build, several sources, failures that leave nothing."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import pytest

from isoclr_hf.annotations import AnnotationError
from isoclr_hf.cli import build_corpus as command
from isoclr_hf.cli import main
from isoclr_hf.corpus import load_corpus

PRETRAINING = Path(__file__).resolve().parents[2] / "data" / "pretraining"
CHR9 = PRETRAINING / "ensembl91_chr9_1mb"
MAPT = PRETRAINING / "gencode_mouse_mapt"


def build_corpus_command(argv: list[str]) -> int:
    """Run the subcommand as `isoclr build-corpus ARGV` does."""
    parser = argparse.ArgumentParser(prog="isoclr build-corpus")
    command.add_arguments(parser)
    return command.run(parser.parse_args(argv))


def test_bundled_demo_corpus_builds_with_one_command(tmp_path, capsys):
    out = tmp_path / "demo"
    assert build_corpus_command(["--bundled", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    corpus = load_corpus(out)
    summary = json.loads((out / "build_summary.json").read_text())
    transcripts = [t for split in corpus.values() for row in split for t in row["transcripts"]]
    assert summary["transcripts"] == len(transcripts)
    assert {t["species"] for t in transcripts} == {"homo_sapiens", "mus_musculus"}
    assert {"sqanti3_uhr_chr22", "ensembl91_chr9_1mb", "gencode_mouse_mapt"} <= set(
        (out / "README.md").read_text().split()
    )
    assert f"gene sets: {summary['sets']:,}" in printed and "skipped: none" in printed


def test_each_option_belongs_to_the_source_before_it(tmp_path):
    out = tmp_path / "corpus"
    argv = ["--gtf", str(CHR9 / "Homo_sapiens.GRCh38.91_chr9_1_1000000.gtf"),
            "--genome", str(CHR9 / "Homo_sapiens.GRCh38.dna_sm.primary_assembly_chr9_1_1000000.fa"),
            "--gtf", str(MAPT / "MAPT.Mouse.genedb.gtf"), "--genome", str(MAPT / "MAPT.Mouse.reference.fasta"),
            "--species", "mus_musculus", "--out", str(out)]  # fmt: skip
    assert build_corpus_command(argv) == 0
    species_of_gene = {
        t["gene_id"][:7]: t["species"]
        for split in load_corpus(out).values()
        for row in split
        for t in row["transcripts"]
    }
    assert species_of_gene == {"ENSG000": "homo_sapiens", "ENSMUSG": "mus_musculus"}


def _broken_gtf(tmp_path: Path) -> Path:
    lines = (MAPT / "MAPT.Mouse.genedb.gtf").read_text().splitlines()
    lines[5] = "\t".join(lines[5].split("\t")[:4])  # a truncated row
    broken = tmp_path / "broken.gtf"
    broken.write_text("\n".join(lines) + "\n")
    return broken


def _gtf_argv(gtf: Path, out: Path, *extra: str) -> list[str]:
    return ["--gtf", str(gtf), "--genome", str(MAPT / "MAPT.Mouse.reference.fasta"), "--species", "mus_musculus",
            *extra, "--out", str(out)]  # fmt: skip


def _no_trace_of(out: Path) -> None:
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_failed_build_leaves_no_corpus(tmp_path):
    out = tmp_path / "corpus"
    with pytest.raises(AnnotationError, match=r"broken\.gtf:6:"):
        build_corpus_command(_gtf_argv(_broken_gtf(tmp_path), out))
    _no_trace_of(out)


def test_skip_mode_counts_bad_transcripts_by_id_in_the_summary(tmp_path, capsys):
    out = tmp_path / "corpus"
    assert build_corpus_command(_gtf_argv(_broken_gtf(tmp_path), out, "--on-error", "skip")) == 0
    summary = json.loads((out / "build_summary.json").read_text())
    assert summary["skipped"]["malformed_line"] == 1
    assert summary["skipped_examples"] == {"malformed_line": ["ENSMUST00000106992.9"]}
    transcripts = [
        t["transcript_id"] for split in load_corpus(out).values() for row in split for t in row["transcripts"]
    ]
    assert "ENSMUST00000106992.9" not in transcripts and transcripts
    printed = capsys.readouterr().out
    assert "malformed_line 1" in printed and "malformed_line: ENSMUST00000106992.9" in printed


def test_existing_out_is_refused_before_any_input_is_read(tmp_path, monkeypatch):
    out = tmp_path / "corpus"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    monkeypatch.setattr(command, "read_source", lambda *a, **k: pytest.fail("input read before --out was checked"))
    with pytest.raises(FileExistsError, match="--overwrite"):
        build_corpus_command(_gtf_argv(MAPT / "MAPT.Mouse.genedb.gtf", out))
    with pytest.raises(FileExistsError, match="not a corpus"):  # --overwrite replaces only a corpus folder
        build_corpus_command(_gtf_argv(MAPT / "MAPT.Mouse.genedb.gtf", out, "--overwrite"))
    assert (out / "keep.txt").read_text() == "mine"


def test_overwrite_replaces_a_corpus(tmp_path):
    out = tmp_path / "corpus"
    assert build_corpus_command(_gtf_argv(MAPT / "MAPT.Mouse.genedb.gtf", out)) == 0
    assert build_corpus_command(_gtf_argv(MAPT / "MAPT.Mouse.genedb.gtf", out, "--overwrite")) == 0
    assert load_corpus(out)


def test_missing_input_files_are_refused_before_reading(tmp_path):
    argv = ["--gtf", str(MAPT / "MAPT.Mouse.genedb.gtf"), "--genome", str(tmp_path / "none.fa"), "--out",
            str(tmp_path / "corpus")]  # fmt: skip
    with pytest.raises(FileNotFoundError, match=r"--genome of --gtf .*none\.fa: does not exist"):
        build_corpus_command(argv)


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_a_source_without_transcripts_is_an_error(tmp_path, on_error):
    empty, out = tmp_path / "empty.gtf", tmp_path / "corpus"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"empty\.gtf"):
        build_corpus_command(_gtf_argv(empty, out, "--on-error", on_error))
    _no_trace_of(out)
    all_bad = tmp_path / "all_bad.gtf"  # every transcript skipped: nothing built
    all_bad.write_text((MAPT / "MAPT.Mouse.genedb.gtf").read_text().replace("\t+\t", "\t.\t"))
    with pytest.raises(ValueError, match=r"all_bad\.gtf") as error:
        build_corpus_command(_gtf_argv(all_bad, out, "--on-error", on_error))
    assert "unknown_strand" in str(error.value) or "strand '.'" in str(error.value)
    _no_trace_of(out)


def test_entry_point_prints_one_line_naming_the_file_and_exits_2(tmp_path, capsys):
    packed = gzip.compress((MAPT / "MAPT.Mouse.genedb.gtf").read_bytes())
    truncated = tmp_path / "truncated.gtf.gz"
    truncated.write_bytes(packed[: len(packed) // 2])
    out = tmp_path / "corpus"
    assert main(["build-corpus", *_gtf_argv(truncated, out)]) == 2
    error = capsys.readouterr().err.strip().split("\r")[-1]  # after the cleared progress bar
    assert error.startswith("isoclr build-corpus: error: ") and str(truncated) in error
    assert "\n" not in error and "Traceback" not in error
    _no_trace_of(out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--genome", "g.fa", "--out", "x"], "must follow"),
        (["--gtf", "a.gtf", "--out", "x"], "needs --genome"),
    ],
)
def test_misplaced_or_missing_options_are_explained(argv, message, capsys, tmp_path):
    argv = [str(tmp_path / a) if a == "x" else a for a in argv]
    try:
        code = main(["build-corpus", *argv])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("fraction", ["-0.1", "1", "1.5"])
def test_a_hold_out_fraction_outside_0_1_is_refused_before_reading(tmp_path, monkeypatch, fraction):
    monkeypatch.setattr(command, "read_source", lambda *a, **k: pytest.fail("input read before the check"))
    with pytest.raises(ValueError, match=rf"--hold-out-genes must be a fraction in \[0, 1\), got {float(fraction)}"):
        build_corpus_command(_gtf_argv(MAPT / "MAPT.Mouse.genedb.gtf", tmp_path / "corpus",
                                       "--hold-out-genes", fraction))
    assert not (tmp_path / "corpus").exists()
