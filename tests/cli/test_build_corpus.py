"""`isoclr build-corpus`: the bundled demo build, several sources, failures that leave nothing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from isoclr_hf.cli import build_corpus as command
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


def test_failed_build_leaves_no_corpus(tmp_path, capsys):
    out = tmp_path / "corpus"
    argv = [
        "--gtf",
        str(_broken_gtf(tmp_path)),
        "--genome",
        str(MAPT / "MAPT.Mouse.reference.fasta"),
        "--out",
        str(out),
    ]
    assert build_corpus_command(argv) == 1
    error = capsys.readouterr().err
    assert "broken.gtf:6" in error and "No corpus was written" in error
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_skip_mode_counts_bad_records_in_the_summary(tmp_path, capsys):
    out = tmp_path / "corpus"
    argv = ["--gtf", str(_broken_gtf(tmp_path)), "--genome", str(MAPT / "MAPT.Mouse.reference.fasta"),
            "--species", "mus_musculus", "--on-error", "skip", "--out", str(out)]  # fmt: skip
    assert build_corpus_command(argv) == 0
    assert json.loads((out / "build_summary.json").read_text())["skipped"]["malformed_line"] == 1
    assert "malformed_line 1" in capsys.readouterr().out


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
        code = build_corpus_command(argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code != 0
    assert message in capsys.readouterr().err
