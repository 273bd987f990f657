"""TranscriptOrthology archives: CDS records with exon ends from the blocks, species from the ids, ortholog pairs."""

from __future__ import annotations

import io
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from isoclr_hf.annotations import AnnotationError, SkipLog
from isoclr_hf.annotations.transcript_orthology import (
    cds_flags,
    ensembl_accession,
    read_transcript_orthology_alignments,
    read_transcript_orthology_families,
    read_transcript_orthology_pairs,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "pretraining" / "transcriptorthology_human_mouse_dog"
FAMILIES = DATA / "guillaudeux_236_families.tar.gz"
ALIGNMENTS = DATA / "twenty_families_ensembl98.tar.gz"


def archive(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "families.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


FASTA = "dataset/transcripts sequences/ENSGT01.fasta"
HOMOLOGS = "dataset/data/ENSGT01/ENSGT01_homologs.csv"


def test_the_236_families_read_whole_with_exon_ends_from_the_blocks() -> None:
    records = list(read_transcript_orthology_families(FAMILIES))
    assert len(records) == 3653  # data/SOURCES.md: 1,977 human, 1,354 mouse, 322 dog
    assert Counter(r.species for r in records) == {"homo_sapiens": 1977, "mus_musculus": 1354,
                                                   "canis_lupus_familiaris": 322}
    assert len({r.gene_id for r in records}) == 759
    for record in records:
        assert record.exon_ends[-1] == len(record.sequence) == record.cds_end and record.cds_start == 0
        assert record.exon_ends == sorted(set(record.exon_ends))
        assert ("cds_end_NF" in record.flags) == (len(record.sequence) % 3 != 0)
        assert "_" not in record.transcript_id and "_" not in record.gene_id
    multi_exon = sum(len(r.exon_ends) > 1 for r in records)
    assert multi_exon > 3000


def test_a_family_record_joins_its_blocks_in_order(tmp_path: Path) -> None:
    path = archive(tmp_path, {FASTA: ">ENSMUST00000000001_90_90:ENSMUSG00000000001_90:+\nseq1:ATGAAA\nseq2:CCCGG\n\n"})
    (record,) = read_transcript_orthology_families(path)
    assert (record.transcript_id, record.gene_id, record.species) == (
        "ENSMUST00000000001", "ENSMUSG00000000001", "mus_musculus")
    assert record.sequence == "ATGAAACCCGG" and record.exon_ends == [6, 11]
    assert (record.cds_start, record.cds_end) == (0, 11) and record.flags == ["cds_end_NF"]  # 11 nt: partial


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (">ENST00000000001_90_90:ENSG00000000001_90:+\nseq2:ATG\nseq1:AAA\n", "in order"),
        (">ENST00000000001_90_90:ENSG00000000001_90\nseq1:ATG\n", "TRANSCRIPT:GENE:STRAND"),
        (">ENSXYZT00000000001_90_90:ENSG00000000001_90:+\nseq1:ATG\n", "known species"),
        (">ENST00000000001_90_90:ENSG00000000001_90:+\nseq1:ATGXXQ\n", "outside A, C, G, T, N: QX"),
        (">ENST00000000001_90_90:ENSMUSG00000000001_90:+\nseq1:ATG\n", "names gene"),
    ],
)
def test_a_bad_family_record_is_named_or_skipped(tmp_path: Path, text: str, problem: str) -> None:
    path = archive(tmp_path, {FASTA: text + ">ENST00000000002_90_90:ENSG00000000002_90:-\nseq1:ATGCCC\n"})
    with pytest.raises(AnnotationError, match=problem) as error:
        list(read_transcript_orthology_families(path))
    assert FASTA in str(error.value) and ":1" in str(error.value)  # archive member and line
    skipped = SkipLog()
    kept = list(read_transcript_orthology_families(path, on_error="skip", skipped=skipped))
    assert [r.transcript_id for r in kept] == ["ENST00000000002"] and sum(skipped.values()) == 1


def test_the_20_families_strip_alignment_gaps_and_take_genes_from_gtot() -> None:
    records = list(read_transcript_orthology_alignments(ALIGNMENTS))
    assert len(records) == 1402  # data/SOURCES.md
    assert set(Counter(r.species for r in records)) == {
        "homo_sapiens", "mus_musculus", "canis_lupus_familiaris", "bos_taurus", "gallus_gallus"}
    for record in records:
        assert "-" not in record.sequence and record.exon_ends == [len(record.sequence)]
        assert "exons_unknown" in record.flags
        assert ensembl_accession(record.gene_id, "test")[1] == record.species


def test_ortholog_pairs_join_genes_of_different_species_only() -> None:
    pairs = read_transcript_orthology_pairs(FAMILIES)
    assert pairs and all(p.first_species != p.second_species for p in pairs)
    genes = {(r.species, r.gene_id) for r in read_transcript_orthology_families(FAMILIES)}
    assert all((p.first_species, p.first_gene) in genes and (p.second_species, p.second_gene) in genes for p in pairs)
    species_pairs = {frozenset((p.first_species, p.second_species)) for p in pairs}
    assert frozenset(("homo_sapiens", "mus_musculus")) in species_pairs
    twenty = read_transcript_orthology_pairs(ALIGNMENTS)
    assert {p.first_species for p in twenty} >= {"bos_taurus", "gallus_gallus"}


def test_homolog_rows_give_pairs_and_null_gives_none(tmp_path: Path) -> None:
    fasta = (">ENST00000000001_90_90:ENSG00000000001_90:+\nseq1:ATG\n"
             ">ENSMUST00000000002_90_90:ENSMUSG00000000002_90:+\nseq1:ATG\n"
             ">ENST00000000003_90_90:ENSG00000000003_90:+\nseq1:ATG\n")
    homologs = ("id_transcript;id_transcript;orthologs\n"
                "ENST00000000001_90_90;ENST00000000001_90_90;ENSMUST00000000002_90_90:ENST00000000003_90_90\n"
                "ENST00000000003_90_90;ENST00000000003_90_90;null\n")
    pairs = read_transcript_orthology_pairs(archive(tmp_path, {FASTA: fasta, HOMOLOGS: homologs}))
    assert [(p.first_gene, p.second_gene) for p in pairs] == [("ENSG00000000001", "ENSMUSG00000000002")]


def test_an_archive_without_tables_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError, match=r"no \*_homologs\.csv or \*_clustering\.csv"):
        read_transcript_orthology_pairs(archive(tmp_path, {"README": "nothing"}))
    with pytest.raises(AnnotationError, match="cannot read the TranscriptOrthology archive"):
        list(read_transcript_orthology_families(tmp_path / "missing.tar.gz"))


def test_cds_flags() -> None:
    assert cds_flags("ATGAAACCC") == [] and cds_flags("atgaaa") == []
    assert cds_flags("CCCAAA") == ["cds_start_NF"] and cds_flags("ATGAA") == ["cds_end_NF"]
