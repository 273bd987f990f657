"""CDS inferred as the longest ORF: checked against a naive search, against the annotated CDS of the bundled
coding transcripts (agreement measured and asserted), and the DM3Loc localisation FASTA read with its labels."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isoclr_hf.annotations import AnnotationError, SkipLog, TranscriptRecord, read_annotation, read_sqanti
from isoclr_hf.annotations.bed import read_bed12_fasta
from isoclr_hf.annotations.orf import (
    DM3LOC_COMPARTMENTS,
    infer_cds,
    read_dm3loc_fasta,
    read_fasta_inferring_cds,
)

DATA = Path(__file__).resolve().parents[2] / "data"
DM3LOC = DATA / "pretraining" / "refseq_human_mrna_dm3loc" / "dm3loc_human_refseq_mrna.fasta.gz"
CPAT = DATA / "pretraining" / "cpat_refseq_hg19"
INCOMPLETE = {"cds_start_NF", "cds_end_NF"}


def _naive_longest_orf(sequence: str, min_codons: int) -> tuple[int, int] | None:
    sequence = sequence.upper().replace("U", "T")
    best = None
    for frame in range(3):
        start = None
        for position in range(frame, len(sequence) - 2, 3):
            codon = sequence[position : position + 3]
            if codon == "ATG" and start is None:
                start = position
            elif codon in ("TAA", "TAG", "TGA") and start is not None:
                end = position + 3
                if (end - start) // 3 >= min_codons and (best is None or end - start > best[1] - best[0] or (
                    end - start == best[1] - best[0] and start < best[0])):  # fmt: skip
                    best = (start, end)
                start = None
            elif codon in ("TAA", "TAG", "TGA"):
                start = None
    return best


@settings(max_examples=400, deadline=None)
@given(
    sequence=st.text(alphabet="ACGTU", max_size=120)
    | st.lists(st.sampled_from(["ATG", "TAA", "TGA", "TAG", "GCC", "A", "C"]), max_size=40).map("".join),
    min_codons=st.integers(1, 8),
)
def test_infer_cds_is_the_longest_atg_to_stop_orf(sequence, min_codons):
    found = infer_cds(sequence, min_codons)
    assert found == _naive_longest_orf(sequence, min_codons)
    if found is not None:
        start, end = found
        assert sequence[start : start + 3].upper().replace("U", "T") == "ATG" and (end - start) % 3 == 0
        assert sequence[end - 3 : end].upper().replace("U", "T") in ("TAA", "TAG", "TGA")


def test_infer_cds_examples():
    assert infer_cds("CCATGAAATAGCC", min_codons=3) == (2, 11)
    assert infer_cds("CCATGAAATAGCC", min_codons=4) is None
    assert infer_cds("ATGAAAAAA", min_codons=1) is None  # no stop: not an ORF
    assert infer_cds("atgtaa", min_codons=2) == (0, 6)
    with pytest.raises(ValueError, match="min_codons"):
        infer_cds("ATG", min_codons=0)


def _agreement(records: list[TranscriptRecord]) -> tuple[int, int]:
    return sum(infer_cds(record.sequence) == record.cds for record in records), len(records)


def test_inferred_cds_agrees_with_the_annotated_cds_of_the_bundled_coding_transcripts():
    folder = DATA / "pretraining" / "sqanti3_uhr_chr22"
    sqanti = [
        record
        for record in read_sqanti(
            folder / "UHR_chr22.filtered.fasta",
            folder / "UHR_chr22.filtered.gtf",
            folder / "UHR_chr22_ML_result_classification.txt",
            species="homo_sapiens",
        )
        if record.is_coding
    ]
    folder = DATA / "pretraining" / "ensembl91_chr9_1mb"
    ensembl = [
        record
        for record in read_annotation(
            folder / "Homo_sapiens.GRCh38.91_chr9_1_1000000.gtf",
            folder / "Homo_sapiens.GRCh38.dna_sm.primary_assembly_chr9_1_1000000.fa",
            species="homo_sapiens",
        )
        if record.is_coding
    ]
    refseq = list(
        read_bed12_fasta(
            CPAT / "Human_test_coding_mRNA_hg19.bed.gz", CPAT / "Human_test_coding_mRNA.fa.gz", species="homo_sapiens"
        )
    )
    results = {
        "sqanti3 chr22, all coding": _agreement(sqanti),
        "sqanti3 chr22, complete CDS": _agreement([r for r in sqanti if not INCOMPLETE & set(r.flags)]),
        "ensembl91 chr9, all coding": _agreement(ensembl),
        "ensembl91 chr9, complete CDS": _agreement([r for r in ensembl if not INCOMPLETE & set(r.flags)]),
        "cpat refseq, all coding": _agreement(refseq),
    }
    for name, (equal, total) in results.items():
        print(f"longest ORF == annotated CDS (start and end), {name}: {equal}/{total} = {equal / total:.1%}")
    # Measured: 1243/1367, 1243/1290, 28/41, 28/30, 3908/4000.
    assert results["sqanti3 chr22, complete CDS"][0] / results["sqanti3 chr22, complete CDS"][1] > 0.95
    assert results["sqanti3 chr22, all coding"][0] / results["sqanti3 chr22, all coding"][1] > 0.88
    assert results["ensembl91 chr9, complete CDS"][0] / results["ensembl91 chr9, complete CDS"][1] > 0.9
    assert results["cpat refseq, all coding"][0] / results["cpat refseq, all coding"][1] > 0.97


def test_dm3loc_fasta_gives_records_with_inferred_cds_and_seven_labels():
    records, labels = read_dm3loc_fasta(DM3LOC)
    assert len(records) == 17306 and labels.shape == (17306, 7) and labels.dtype == np.uint8
    assert len(DM3LOC_COMPARTMENTS) == 7
    assert labels.sum(axis=0).tolist() == [11923, 17156, 2338, 9652, 5210, 3232, 1976]  # as SOURCES.md counts
    first = records[0]
    assert (first.transcript_id, first.gene_id, first.gene_name) == ("NM_001507", "2862", "MLNR")
    assert labels[0].tolist() == [0, 1, 0, 0, 0, 0, 0]
    coding = [record for record in records if record.is_coding]
    assert all(record.cds_inferred and "exons_unknown" in record.flags for record in coding)
    assert all(record.exon_ends == [len(record.sequence)] for record in records)
    atg_first = sum(record.cds_start == record.sequence.upper().find("ATG") for record in coding)
    print(f"DM3Loc: {len(coding)}/{len(records)} with an inferred CDS; {atg_first} start at the first ATG")
    assert len(coding) > 0.99 * len(records)
    assert len({record.gene_name for record in records}) == len(records)


def test_inferred_flag_round_trips_through_the_stored_row():
    record = next(read_fasta_inferring_cds(CPAT / "Human_test_noncoding_RNA.fa.gz", species="homo_sapiens"))
    annotated = TranscriptRecord("t", "g", "", "homo_sapiens", "ATGTAA", [6], 0, 6)
    assert not annotated.cds_inferred
    stored = TranscriptRecord.from_dict(record.to_dict())
    assert stored == record and stored.cds_inferred == record.is_coding


def test_noncoding_fasta_reads_with_some_orfs():
    records = list(read_fasta_inferring_cds(CPAT / "Human_test_noncoding_RNA.fa.gz", species="homo_sapiens"))
    coding = sum(record.is_coding for record in records)
    print(f"CPAT non-coding RNAs: {coding}/{len(records)} have an ATG..stop ORF of 30 codons or more")
    assert len(records) == 4000 and all(record.gene_id == record.transcript_id for record in records)
    assert all(record.biotype == ("protein_coding" if record.is_coding else "") for record in records)


GOOD = ">0100000,ACCNUM:NM_1,Gene_ID:1,Gene_Name:A\nACGT\n"
SECOND = ">0100000,ACCNUM:NM_2,Gene_ID:2,Gene_Name:B\n"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (">01,ACCNUM:NM_2,Gene_ID:2,Gene_Name:B\nACGT\n", 3, "malformed_line"),
        (GOOD, 3, "duplicate_transcript"),
        (SECOND + "AC-GT\n", 4, "malformed_line"),
        (SECOND, 3, "empty_sequence"),
    ],
)
def test_bad_dm3loc_records_name_file_and_line(tmp_path, text, line, reason):
    path = tmp_path / "dm3loc.fa"
    path.write_text(GOOD + text)
    with pytest.raises(AnnotationError, match=rf"^{re.escape(str(path))}:{line}: ") as caught:
        read_dm3loc_fasta(path)
    assert caught.value.reason == reason
    skipped = SkipLog()
    records, labels = read_dm3loc_fasta(path, on_error="skip", skipped=skipped)
    assert [record.transcript_id for record in records] == ["NM_1"] and labels.shape == (1, 7)
    assert skipped[reason] == 1


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (b"ACGT\n>a\nACGT\n", r":1: sequence before the first FASTA header"),
        (b">a\nACGT\n>\nACGT\n", r":3: a FASTA header with no name"),
        (b">a\nAC\xffGT\n", r":2: not UTF-8"),
        (b"\n\n", r": the transcript FASTA has no records"),
        (b"\x1f\x8b\x08\x00garbage", r": the gzip data is truncated or corrupt"),
    ],
)
def test_bad_fasta_files_name_file_and_line(tmp_path, data, pattern):
    path = tmp_path / "t.fa"
    path.write_bytes(data)
    with pytest.raises(AnnotationError, match=re.escape(str(path)) + pattern):
        list(read_fasta_inferring_cds(path, species="homo_sapiens"))
