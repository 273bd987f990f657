"""Transcript FASTA reader: GENCODE headers, and agreement with GTF + genome down to the tokens."""

from __future__ import annotations

import numpy as np
import pytest

from isoclr_hf.annotations import read_annotation, read_transcript_fasta
from isoclr_hf.annotations.fasta import parse_gencode_header
from isoclr_hf.models.isoclr.tokenization_isoclr import IsoCLRTokenizer


def test_gencode_header_gives_gene_name_biotype_and_cds():
    coding = parse_gencode_header(
        "ENST00000641515.2|ENSG00000186092.7|OTTHUMG00000001094.4|OTTHUMT00000003223.4|OR4F5-201|OR4F5|2618|"
        "UTR5:1-60|CDS:61-1041|UTR3:1042-2618|"
    )
    assert (coding.transcript_id, coding.gene_id, coding.gene_name) == ("ENST00000641515.2", "ENSG00000186092", "OR4F5")
    assert (coding.cds_start, coding.cds_end, coding.biotype) == (60, 1041, "protein_coding")
    lnc = parse_gencode_header("ENST00000456328.2|ENSG00000290825.1|-|-|DDX11L2-202|DDX11L2|1657|lncRNA|")
    assert (lnc.cds_start, lnc.biotype) == (-1, "lncRNA")
    assert parse_gencode_header("ENST00000421620.2 cdna chromosome:GRCh38:9:12134:13783:1").transcript_id == (
        "ENST00000421620.2"
    )


def _write_gencode_fasta(records, path):
    """A GENCODE-style transcript FASTA of ``records`` (versions added, as GENCODE writes ids)."""
    with open(path, "w") as handle:
        for r in records:
            regions = ""
            if r.is_coding:
                regions = (
                    f"UTR5:1-{r.cds_start}|CDS:{r.cds_start + 1}-{r.cds_end}|UTR3:{r.cds_end + 1}-{len(r.sequence)}|"
                )
            versioned = r.transcript_id if "." in r.transcript_id else f"{r.transcript_id}.1"
            handle.write(f">{versioned}|{r.gene_id}.1|-|-|{r.gene_name}-201|{r.gene_name}|{len(r.sequence)}|")
            handle.write(f"{regions or r.biotype + '|'}\n")
            handle.writelines(r.sequence[i : i + 60] + "\n" for i in range(0, len(r.sequence), 60))
    return path


def _tokens(records):
    tokenizer = IsoCLRTokenizer()
    batch = tokenizer(
        [r.sequence for r in records],
        exon_ends=[r.exon_ends for r in records],
        cds=[r.cds for r in records],
        allow_incomplete_cds=True,
        return_tensors="np",
    )
    return {name: np.asarray(batch[name]) for name in ("input_ids", "cds_track", "splice_track", "attention_mask")}


@pytest.mark.parametrize("source", ["chr9", "mapt"])
def test_gtf_genome_and_transcript_fasta_give_identical_tokens(
    source, chr9_gtf, chr9_genome, mapt_gtf, mapt_genome, tmp_path
):
    gtf, genome, species = (
        (chr9_gtf, chr9_genome, "homo_sapiens") if source == "chr9" else (mapt_gtf, mapt_genome, "mus_musculus")
    )
    from_genome = sorted(read_annotation(gtf, genome, species=species), key=lambda r: r.transcript_id)
    fasta = _write_gencode_fasta(from_genome, tmp_path / "transcripts.fa")
    with_annotation = sorted(
        read_transcript_fasta(fasta, species=species, annotation_path=gtf), key=lambda r: r.transcript_id
    )
    assert with_annotation == from_genome
    for name, values in _tokens(with_annotation).items():
        np.testing.assert_array_equal(values, _tokens(from_genome)[name], err_msg=name)

    header_only = sorted(read_transcript_fasta(fasta, species=species), key=lambda r: r.transcript_id)
    complete = [i for i, r in enumerate(from_genome) if not {"cds_start_NF", "cds_end_NF"} & set(r.flags)]
    assert [header_only[i].cds for i in complete] == [from_genome[i].cds for i in complete]
    assert [r.sequence for r in header_only] == [r.sequence for r in from_genome]
    assert all("exons_unknown" in r.flags for r in header_only)
