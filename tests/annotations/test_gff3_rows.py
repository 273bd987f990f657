"""GFF3 Parent problems (self-parent, cycles) and errors that name the bad row (file:line), not the first row."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoclr_hf.annotations import AnnotationError, SkipLog, read_annotation

GENOME = "ACGT" * 100  # chr1, 400 nt


def _files(tmp_path: Path, rows: list[str]) -> tuple[Path, Path]:
    genome = tmp_path / "genome.fa"
    genome.write_text(">chr1\n" + "\n".join(GENOME[i:i + 60] for i in range(0, len(GENOME), 60)) + "\n")
    gff = tmp_path / "a.gff3"
    gff.write_text("##gff-version 3\n" + "".join("\t".join(row.split()) + "\n" for row in rows))
    return gff, genome


def _row(feature: str, start: int, end: int, attributes: str) -> str:
    return f"chr1 test {feature} {start} {end} . + . {attributes}"


GOOD = [
    _row("gene", 1, 300, "ID=gene:G1;Name=GENE1"),
    _row("mRNA", 1, 300, "ID=transcript:T1;Parent=gene:G1"),
    _row("exon", 1, 100, "Parent=transcript:T1"),
    _row("exon", 201, 300, "Parent=transcript:T1"),
    _row("CDS", 31, 60, "Parent=transcript:T1"),
]


def _read(tmp_path: Path, rows: list[str], **kwargs) -> list:
    gff, genome = _files(tmp_path, rows)
    return list(read_annotation(gff, genome, species="homo_sapiens", **kwargs))


def test_the_good_file_reads(tmp_path: Path) -> None:
    (record,) = _read(tmp_path, GOOD)
    assert (record.transcript_id, record.gene_id, record.gene_name, record.exon_ends) == ("T1", "G1", "GENE1",
                                                                                          [100, 200])


def test_an_mrna_that_is_its_own_parent_is_named(tmp_path: Path) -> None:
    rows = [*GOOD, _row("mRNA", 1, 100, "ID=transcript:T2;Parent=transcript:T2"),
            _row("exon", 1, 100, "Parent=transcript:T2")]
    with pytest.raises(AnnotationError, match=r"a\.gff3:7: mRNA transcript:T2 is its own Parent") as error:
        _read(tmp_path, rows)
    assert error.value.reason == "parent_cycle"
    skipped = SkipLog()
    assert [r.transcript_id for r in _read(tmp_path, rows, on_error="skip", skipped=skipped)] == ["T1"]
    assert skipped["parent_cycle"] == 1


@pytest.mark.parametrize(("rows", "cycle"), [
    ([_row("gene", 1, 300, "ID=gene:G1;Parent=transcript:T1"), *GOOD[1:]],
     ("transcript:T1", "gene:G1")),
    ([_row("gene", 1, 300, "ID=gene:G1;Parent=gene:G0"), _row("gene", 1, 300, "ID=gene:G0;Parent=gene:G1"),
      *GOOD[1:]], ("gene:G1", "gene:G0")),
])
def test_parent_cycles_are_named_as_cycles(tmp_path: Path, rows: list[str], cycle: tuple[str, str]) -> None:
    with pytest.raises(AnnotationError, match="Parent cycle") as error:
        _read(tmp_path, rows)
    message = str(error.value)
    assert any(f"{a} -> {b} -> {a}" in message for a, b in (cycle, cycle[::-1])), message
    assert "has no exon rows" not in message
    assert error.value.reason == "parent_cycle"


def test_an_overlapping_exon_names_its_own_row(tmp_path: Path) -> None:
    rows = [*GOOD, _row("exon", 90, 150, "Parent=transcript:T1")]  # line 7, overlaps the first exon
    with pytest.raises(AnnotationError, match=r"a\.gff3:7: transcript T1 has overlapping exons"):
        _read(tmp_path, rows)


def test_a_cds_outside_the_exons_names_its_own_row(tmp_path: Path) -> None:
    rows = [*GOOD, _row("CDS", 120, 150, "Parent=transcript:T1")]  # line 7, in the intron
    with pytest.raises(AnnotationError, match=r"a\.gff3:7: transcript T1 has a CDS row \(chr1:120-150\) outside"):
        _read(tmp_path, rows)
