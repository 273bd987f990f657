"""Duplicates by accession (version ignored) and by sequence; TranscriptOrthology ortholog tables as gene sets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from isoclr_hf.annotations import SkipLog, TranscriptRecord
from isoclr_hf.annotations.transcript_orthology import read_transcript_orthology_families
from isoclr_hf.corpus import OrthologyTable, build_corpus, summarize_corpus
from isoclr_hf.corpus.build import accession_key
from isoclr_hf.corpus.card import render_corpus_card

DATA = Path(__file__).resolve().parents[2] / "data"
FAMILIES = DATA / "pretraining" / "transcriptorthology_human_mouse_dog" / "guillaudeux_236_families.tar.gz"


def record(transcript_id: str, sequence: str, gene_id: str = "G1", species: str = "homo_sapiens") -> TranscriptRecord:
    return TranscriptRecord(transcript_id=transcript_id, gene_id=gene_id, gene_name="", species=species,
                            sequence=sequence, exon_ends=[len(sequence)])


def _transcripts(corpus) -> list[str]:
    return sorted(t["transcript_id"] for split in corpus.values() for row in split for t in row["transcripts"])


@pytest.mark.parametrize(
    ("given", "key"),
    [("NM_000546.6", "NM_000546"), ("ENST00000269305.9", "ENST00000269305"), ("ENSMUST00000106992.9",
      "ENSMUST00000106992"), ("NR_027232", "NR_027232"), ("MSTRG.2.1", "MSTRG.2.1"), ("PB.12.3", "PB.12.3")],
)
def test_accession_key_drops_only_ensembl_and_refseq_versions(given: str, key: str) -> None:
    assert accession_key(given) == key


def test_the_first_record_of_an_accession_or_a_sequence_is_kept_and_the_rest_counted() -> None:
    records = [
        record("NM_000001.1", "ACGTACGTAC"),
        record("NM_000001.2", "ACGTACGTTT"),  # same accession, another version
        record("MSTRG.5.1", "acgtacgtac", gene_id="MSTRG.5"),  # same sequence, soft-masked
        record("NM_000002.1", "ACGTACGTTT", gene_id="G2"),
        record("NM_000001.1", "ACGTACGTAC", species="mus_musculus"),  # ids are per species
    ]
    skipped = SkipLog()
    corpus = build_corpus(records, skipped=skipped, validation_fraction=0.0, test_fraction=0.0)
    assert _transcripts(corpus) == ["NM_000001.1", "NM_000002.1"]
    assert skipped == {"duplicate_transcript_id": 1, "duplicate_sequence": 2}
    assert skipped.ids["duplicate_sequence"] == ["MSTRG.5.1", "NM_000001.1"]
    kept = build_corpus(records, deduplicate_sequences=False, validation_fraction=0.0, test_fraction=0.0)
    assert _transcripts(kept) == ["MSTRG.5.1", "NM_000001.1", "NM_000001.1", "NM_000002.1"]


def test_ortholog_tables_of_the_archive_make_cross_species_sets() -> None:
    records = list(read_transcript_orthology_families(FAMILIES))
    table = OrthologyTable.load(FAMILIES)
    assert table.name == "transcriptorthology" and len(table) > 0
    alone = summarize_corpus(build_corpus(records))
    joined = summarize_corpus(build_corpus(records, orthology=table))
    assert alone["multi_species_sets"] == 0  # genes alone never span species
    assert joined["multi_species_sets"] > 200 and joined["sets"] < alone["sets"]
    assert joined["transcripts"] == alone["transcripts"]
    # Every merged set holds genes that an ortholog pair of the table joins.
    corpus = build_corpus(records, orthology=table)
    for row in (row for split in corpus.values() for row in split if len(row["species"]) > 1):
        assert row["set_id"].startswith("transcriptorthology:")
        assert all(table.groups_of(t["species"], t["gene_id"]) for t in row["transcripts"])


def test_a_broken_archive_is_named_by_the_orthology_loader(tmp_path: Path) -> None:
    import tarfile

    path = tmp_path / "empty.tar.gz"
    with tarfile.open(path, "w:gz"):
        pass
    with pytest.raises(ValueError, match=r"empty\.tar\.gz: cannot read the TranscriptOrthology archive"):
        OrthologyTable.load(path)


def test_the_card_reports_sets_of_2_members_2_species_and_duplicates() -> None:
    records = [record("T1", "ACGT", "ENSG1"), record("T2", "ACGA", "ENSG1"),
               replace(record("M1", "ACGC", "ENSMUSG1"), species="mus_musculus"), record("T3", "ACGT", "ENSG2")]
    table = OrthologyTable("pairs")
    table.add_group("1", [("homo_sapiens", "ENSG1"), ("mus_musculus", "ENSMUSG1")])
    skipped = SkipLog()
    corpus = build_corpus(records, orthology=table, skipped=skipped, validation_fraction=0.0, test_fraction=0.0)
    summary = summarize_corpus(corpus)
    assert summary["sets"] == 1 and summary["multi_species_sets"] == 1
    text = str(render_corpus_card(summary, [], skipped=dict(skipped)))
    assert "1 sets with 2 or more\ntranscripts" in text and "1 sets with\ntranscripts of 2 or more species" in text
    assert "0 by accession and\n1 by sequence" in text
