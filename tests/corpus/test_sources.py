"""The bundled sources: every real transcript in data/, joined into gene sets across sources."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from isoclr_hf.annotations import TranscriptRecord
from isoclr_hf.cli import main
from isoclr_hf.corpus import load_corpus
from isoclr_hf.corpus.sources import (
    all_real_sources,
    demo_sources,
    name_bed12_genes,
    read_noncoding_fasta,
    refseq_gene_names,
)


def _record(transcript_id: str, gene_id: str) -> TranscriptRecord:
    return TranscriptRecord(transcript_id, gene_id, "", "homo_sapiens", "ACGT", [4])


def test_bed12_records_take_the_refseq_gene_of_their_accession_or_locus_mate():
    records = [
        _record("NM_1.2", "chr1:0-10:+"),  # named
        _record("NM_2", "chr1:0-10:+"),  # not named: takes its locus mate's gene
        _record("NM_3", "chr2:0-10:+"),  # not named, alone: keeps the locus
        _record("NM_4", "chr3:0-10:+"),  # locus with two named genes: NM_6 keeps the locus
        _record("NM_5", "chr3:0-10:+"),
        _record("NM_6", "chr3:0-10:+"),
    ]
    names = {"NM_1": ("100", "AAA"), "NM_4": ("400", "DDD"), "NM_5": ("500", "EEE")}
    genes = [(r.gene_id, r.gene_name) for r in name_bed12_genes(records, names)]
    assert genes == [("100", "AAA"), ("100", "AAA"), ("chr2:0-10:+", ""), ("400", "DDD"), ("500", "EEE"),
                     ("chr3:0-10:+", "")]  # fmt: skip


def test_refseq_gene_names_read_from_dm3loc_headers(tmp_path):
    fasta = tmp_path / "dm3loc.fasta.gz"
    with gzip.open(fasta, "wt") as handle:
        handle.write(">0100000,ACCNUM:NM_001507.2,Gene_ID:2862,Gene_Name:MLNR\nACGT\n>1000000,ACCNUM:NM_9,Gene_ID:,"
                     "Gene_Name:\nACGT\n")  # fmt: skip
    assert refseq_gene_names(fasta) == {"NM_001507": ("2862", "MLNR"), "NM_9": ("", "")}


def test_noncoding_fasta_gets_no_cds_and_unknown_exons(tmp_path):
    fasta = tmp_path / "nc.fa"
    fasta.write_text(">lnc1 range=chr1:1-120\n" + "ATG" + "GCC" * 40 + "TAA\n")  # an ORF a guess would take
    (record,) = read_noncoding_fasta(fasta, species="homo_sapiens", on_error="raise", skipped=Counter())
    assert (record.cds_start, record.cds_end, record.biotype) == (-1, -1, "non_coding")
    assert record.flags == ["exons_unknown"] and record.exon_ends == [len(record.sequence)]


def test_every_real_source_is_in_the_repository():
    sources = all_real_sources()
    assert sources[:3] == demo_sources()
    for source in sources:
        for key in ("path", "genome", "annotation", "classification", "sequences", "gene_names"):
            if key in source:
                assert Path(source[key]).is_file(), source[key]


@pytest.mark.slow
def test_all_real_corpus_joins_sources_into_gene_sets(tmp_path, capsys):
    out = tmp_path / "all"
    assert main(["build-corpus", "--all-real", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "build_summary.json").read_text())
    rows = [row for split in load_corpus(out).values() for row in split]
    source_of = {}
    for row in rows:
        for t in row["transcripts"]:
            kind = ("refseq" if t["transcript_id"].startswith("NM_") else "ensembl" if t["gene_id"].startswith("ENS")
                    else "other")  # fmt: skip
            source_of.setdefault(row["set_id"], set()).add(kind)
    # Sets that join RefSeq mRNAs with Ensembl-named transcripts (SQANTI3, chr9) exist only through HCOP.
    assert sum({"refseq", "ensembl"} <= kinds for kinds in source_of.values()) >= 10
    (mapt,) = [row for row in rows if any(t["gene_id"] == "ENSMUSG00000018411" for t in row["transcripts"])]
    assert mapt["set_id"] == "hcop:4137" and "homo_sapiens" in mapt["species"]
    assert summary["transcripts"] > 30_000 and summary["nucleotides"] > 80_000_000
    assert summary["skipped"]["duplicate_transcript_id"] > 2_000  # CPAT accessions also in DM3Loc: CPAT's kept
    # TranscriptOrthology: cross-species sets (every 236-family gene set spans human and mouse, often dog).
    assert summary["multi_species_sets"] > 200 and summary["isoforms_per_set"]["sets_with_2_or_more"] > 1_500
    assert set(summary["transcripts_per_species"]) == {
        "homo_sapiens", "mus_musculus", "canis_lupus_familiaris", "bos_taurus", "gallus_gallus"}
    # StringTie: RefSeq models already given by CPAT/DM3Loc are duplicates; unstranded models are left out.
    assert summary["skipped"]["duplicate_sequence"] > 0 and summary["skipped"]["strand_unknown"] == 304
    stringtie = [t for row in rows for t in row["transcripts"] if t["transcript_id"].startswith("MSTRG.")]
    assert len(stringtie) > 500 and all(len(t["exon_ends"]) >= 1 for t in stringtie)
    card = (out / "README.md").read_text()
    assert f"{summary['multi_species_sets']:,} sets with\ntranscripts of 2 or more species" in card
    assert f"{summary['skipped']['duplicate_sequence']:,} by sequence" in card
    assert f"nucleotides: {summary['nucleotides']:,}" in printed
    flags = Counter(flag for row in rows for t in row["transcripts"] for flag in t["flags"])
    assert flags["exons_unknown"] > 15_000 and flags["cds_inferred"] > 10_000
