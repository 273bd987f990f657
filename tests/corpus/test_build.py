"""build_corpus: gene sets, filters, split by set, determinism."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from isoclr_hf.annotations import SkipLog, TranscriptRecord, read_annotation
from isoclr_hf.corpus import SPLIT_NAMES, build_corpus, summarize_corpus

PRETRAINING = Path(__file__).resolve().parents[2] / "data" / "pretraining"


@pytest.fixture(scope="module")
def chr9_records() -> list[TranscriptRecord]:
    folder = PRETRAINING / "ensembl91_chr9_1mb"
    return list(
        read_annotation(
            folder / "Homo_sapiens.GRCh38.91_chr9_1_1000000.gtf",
            folder / "Homo_sapiens.GRCh38.dna_sm.primary_assembly_chr9_1_1000000.fa",
            species="homo_sapiens",
        )
    )


def _rows(corpus):
    return {name: split.to_list() for name, split in corpus.items()}


def test_one_row_per_gene_holding_all_its_transcripts(chr9_records):
    corpus = build_corpus(chr9_records, validation_fraction=0.2, test_fraction=0.2)
    assert list(corpus) == list(SPLIT_NAMES)
    genes = Counter(record.gene_id for record in chr9_records)
    seen = {}
    for name, split in corpus.items():
        for row in split:
            assert row["set_size"] == len(row["transcripts"]) == genes[row["set_id"]]
            assert row["species"] == ["homo_sapiens"]
            assert {t["gene_id"] for t in row["transcripts"]} == {row["set_id"]}
            seen[row["set_id"]] = name
    assert seen.keys() == genes.keys()
    by_id = {r.transcript_id: r for r in chr9_records}
    for split in corpus.values():
        for row in split:
            for transcript in row["transcripts"]:
                assert TranscriptRecord.from_dict(transcript) == by_id[transcript["transcript_id"]]


def test_the_same_records_in_any_order_give_the_same_corpus(chr9_records):
    shuffled = chr9_records[:]
    random.Random(1).shuffle(shuffled)
    assert _rows(build_corpus(shuffled)) == _rows(build_corpus(chr9_records))


def test_default_max_length_is_the_models_maximum(chr9_records):
    from isoclr_hf.models.isoclr.configuration_isoclr import IsoCLRConfig

    limit = IsoCLRConfig().max_sequence_length
    record = chr9_records[0]
    at_limit = TranscriptRecord("AT_LIMIT", "G_AT", "", "homo_sapiens", "A" * limit, [limit])
    over = TranscriptRecord("OVER", "G_OVER", "", "homo_sapiens", "A" * (limit + 1), [limit + 1])
    skipped = Counter()
    corpus = build_corpus([record, at_limit, over], skipped=skipped)
    kept = {t["transcript_id"] for split in corpus.values() for row in split for t in row["transcripts"]}
    assert kept == {record.transcript_id, "AT_LIMIT"} and skipped == Counter({"longer_than_max_length": 1})


def test_filters_leave_out_transcripts_and_count_them(chr9_records):
    skipped = Counter()
    longest = max(len(r.sequence) for r in chr9_records)
    corpus = build_corpus(
        chr9_records,
        max_length=longest - 1,
        biotypes={"protein_coding", "unprocessed_pseudogene"},
        min_isoforms=2,
        skipped=skipped,
    )
    kept = [t for split in corpus.values() for row in split for t in row["transcripts"]]
    assert skipped["longer_than_max_length"] == sum(len(r.sequence) == longest for r in chr9_records)
    assert skipped["biotype_not_selected"] == sum(
        r.biotype not in {"protein_coding", "unprocessed_pseudogene"} and len(r.sequence) < longest
        for r in chr9_records
    )
    assert all(t["biotype"] in {"protein_coding", "unprocessed_pseudogene"} for t in kept)
    assert all(row["set_size"] >= 2 for split in corpus.values() for row in split)
    assert len(kept) + sum(skipped.values()) == len(chr9_records)


def test_duplicate_transcripts_are_kept_once(chr9_records):
    skipped = Counter()
    corpus = build_corpus(chr9_records + chr9_records[:3], skipped=skipped)
    assert skipped == Counter({"duplicate_transcript_id": 3})
    assert sum(split.num_rows and sum(split["set_size"]) for split in corpus.values()) == len(chr9_records)


def test_summary_counts_match_the_rows(chr9_records):
    corpus = build_corpus(chr9_records)
    summary = summarize_corpus(corpus)
    assert summary["transcripts"] == len(chr9_records)
    assert summary["sets"] == len({r.gene_id for r in chr9_records})
    assert summary["transcripts_per_species"] == {"homo_sapiens": len(chr9_records)}


def test_bad_settings_are_refused(chr9_records):
    with pytest.raises(ValueError, match="fraction"):
        build_corpus(chr9_records, validation_fraction=0.6, test_fraction=0.5)
    with pytest.raises(ValueError, match="min_isoforms"):
        build_corpus(chr9_records, min_isoforms=0)


def test_no_transcripts_is_an_error_not_an_empty_corpus(chr9_records):
    with pytest.raises(ValueError, match="no transcripts"):
        build_corpus([])
    skipped = Counter()
    with pytest.raises(ValueError, match="longer_than_max_length"):
        build_corpus(chr9_records, max_length=1, skipped=skipped)
    with pytest.raises(ValueError, match="no gene set has 1000 or more"):
        build_corpus(chr9_records, min_isoforms=1000)


def test_a_skip_log_keeps_the_ids_left_out(chr9_records):
    skipped = SkipLog()
    build_corpus(chr9_records + chr9_records[:2], skipped=skipped)
    assert skipped.ids == {"duplicate_transcript_id": [r.transcript_id for r in chr9_records[:2]]}
