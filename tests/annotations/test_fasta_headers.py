"""Transcript FASTA headers as the package ships them (DM3Loc, GENCODE), CRLF or LF; repeated ids; no .fai beside."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoclr_hf.annotations import AnnotationError
from isoclr_hf.annotations.fasta import read_transcript_fasta

DM3LOC = [(">0100000,ACCNUM:NM_001507,Gene_ID:2862,Gene_Name:MLNR", "ATGGGCAGCCCCTGGAACGGCAGCGAC" * 3),
          (">1000001,ACCNUM:NM_001524,Gene_ID:3060,Gene_Name:HCRT", "CACAATTGACGGAC" * 4)]
GENCODE = [(">ENST00000641515.2|ENSG00000186092.7|OTTHUMG00000001094.4|OTTHUMT00000003223.4|OR4F5-201|OR4F5|"
            "2618|UTR5:1-60|CDS:61-1041|UTR3:1042-2618|", "A" * 60 + "ATG" + "GCC" * 325 + "TAA" + "C" * 1577),
           (">ENST00000456328.2|ENSG00000290825.1|-|-|DDX11L2-202|DDX11L2|1657|lncRNA|", "ACGT" * 30)]


def _fasta(path: Path, records: list[tuple[str, str]], line_end: str) -> Path:
    path.write_bytes("".join(f"{header}{line_end}{sequence}{line_end}" for header, sequence in records).encode())
    return path


def _read(path: Path) -> list:
    return list(read_transcript_fasta(path, species="homo_sapiens"))


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_dm3loc_headers_give_accession_entrez_id_and_symbol(tmp_path: Path, line_end: str) -> None:
    records = _read(_fasta(tmp_path / "dm3loc.fa", DM3LOC, line_end))
    assert [(r.transcript_id, r.gene_id, r.gene_name) for r in records] == [
        ("NM_001507", "2862", "MLNR"), ("NM_001524", "3060", "HCRT")]
    assert [r.sequence for r in records] == [sequence for _, sequence in DM3LOC]


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_gencode_headers_give_ids_names_biotype_and_cds(tmp_path: Path, line_end: str) -> None:
    coding, lnc = _read(_fasta(tmp_path / "gencode.fa", GENCODE, line_end))
    assert (coding.transcript_id, coding.gene_id, coding.gene_name, coding.biotype) == (
        "ENST00000641515.2", "ENSG00000186092", "OR4F5", "protein_coding")
    assert (coding.cds_start, coding.cds_end) == (60, 1041)
    assert (lnc.transcript_id, lnc.gene_name, lnc.biotype, lnc.cds_start) == ("ENST00000456328.2", "DDX11L2",
                                                                              "lncRNA", -1)
    assert "\r" not in coding.sequence + lnc.sequence


def test_two_records_with_one_id_are_refused_naming_the_id_and_lines(tmp_path: Path) -> None:
    path = _fasta(tmp_path / "twice.fa", [(">tx1", "A" * 90), (">tx2", "C" * 30), (">tx1", "G" * 60)], "\n")
    with pytest.raises(AnnotationError, match=r"twice\.fa: transcript id\(s\) used by more than one record: "
                                              r"tx1 \(lines 1, 5\)") as error:
        _read(path)
    assert error.value.reason == "duplicate_transcript_id"


def test_the_index_is_not_written_next_to_the_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _read(_fasta(inputs / "dm3loc.fa", DM3LOC, "\n"))
    assert sorted(p.name for p in inputs.iterdir()) == ["dm3loc.fa"]
    assert len(list((tmp_path / "cache" / "isoclr_hf" / "fai").glob("dm3loc.fa.*.fai"))) == 1
