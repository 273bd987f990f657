"""The real transcripts in the repository's ``data/``, as corpus sources, and the readers they need.

Two bundles:

* :func:`demo_sources`: the demo corpus (human chr22 SQANTI3, human chr9 Ensembl, mouse Mapt).
* :func:`all_real_sources`: every real transcript here, for the released model: the demo's three,
  the 17,306 RefSeq mRNAs of DM3Loc (CDS inferred, exons unknown), CPAT's 4,000 RefSeq mRNAs with
  their BED12 structure and 4,000 non-coding RNAs (FASTA only), and IsoformSwitchAnalyzeR's 1,092
  Cufflinks isoforms (GTF + FASTA); and, for real cross-species pairs, TranscriptOrthology's coding
  transcripts of 256 Ensembl gene families (human, mouse, dog, cow, chicken) and TransDecoder's
  StringTie merge of human chrX RNA-seq (3,501 transcripts, CDS inferred).
  With HCOP orthology (:meth:`OrthologyTable.from_hcop`) one human
  gene is one set whichever id a source names it by, and the mouse gene joins its human ortholog.

How a source names its genes, and so how it joins the others:

=====================  ==================================  =========================================
source                 gene id / gene name                 joins through
=====================  ==================================  =========================================
SQANTI3 chr22          Ensembl ENSG                        HCOP (human Ensembl id)
Ensembl chr9           Ensembl ENSG / symbol               HCOP
GENCODE mouse Mapt     Ensembl ENSMUSG / symbol            HCOP (mouse ortholog of human MAPT)
DM3Loc RefSeq mRNAs    Entrez id / symbol                  HCOP (human Entrez id, symbol)
CPAT RefSeq mRNAs      the Entrez id and symbol DM3Loc     HCOP, where DM3Loc names the accession or
                       gives the accession (or a locus     another transcript of its BED12 locus;
                       mate's), else the BED12 locus       else its locus is its own set
CPAT non-coding RNAs   transcript id                       nothing: each is its own set
IsoformSwitchAnalyzeR  Cufflinks XLOC locus                nothing (no shared id): its own sets
TranscriptOrthology    Ensembl gene id of its species      its transcript ortholog tables (one set per
(236 + 20 families)                                        ortholog gene pair, merged) and HCOP
StringTie chrX         StringTie locus (MSTRG.*); RefSeq   HCOP by the symbol of the locus's
                       symbol on reference transcripts     reference transcripts; else its own set
=====================  ==================================  =========================================

All-real sources come in a fixed order and the build keeps the first record of an accession
(version ignored) and of a sequence, so the sources added later (TranscriptOrthology, StringTie)
only add transcripts the earlier ones lack: StringTie's RefSeq NM_/NR_ models that CPAT or DM3Loc
already hold are left out as ``duplicate_transcript_id``, and identical sequences (CDS-only
isoforms that differ only in their UTRs, the same transcript in the Ensembl 90 and 98 sets) as
``duplicate_sequence``.

Decisions for transcripts whose source has no exon structure (DM3Loc and CPAT non-coding):
``exon_ends == [length]`` and the flag ``exons_unknown``, so the splice track marks only the last
nucleotide, as it does for a single-exon transcript. The downstream tasks built from the same
FASTA (half-life on RefSeq mRNAs, localisation) encode their sequences the same way, so the model
sees one encoding for "structure unknown" in pretraining and evaluation. The CPAT non-coding RNAs
get no CDS (they are curated as non-coding; a longest-ORF guess would give most of them one).
StringTie's transcripts have exons (its GTF) but no CDS: :func:`infer_cds` (longest ORF, flag
``cds_inferred``), as for DM3Loc.
"""

from __future__ import annotations

import gzip
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..annotations import (
    TranscriptRecord,
    infer_cds,
    read_bed12_fasta,
    read_dm3loc_fasta,
    read_fasta_inferring_cds,
    read_transcript_fasta,
    read_transcript_orthology_alignments,
    read_transcript_orthology_families,
)
from ..annotations.errors import count_skip
from ..annotations.files import is_gzip
from ..annotations.orf import CDS_INFERRED_FLAG, EXONS_UNKNOWN_FLAG

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEMO_ORTHOLOGY = "orthology/human_mouse_1to1_orthologs.tsv"
HCOP_ORTHOLOGY = "orthology/babelgene_hcop_human_to_19species.tsv.gz"
ORTHOLOGY_ORIGINS = {
    "human_mouse_1to1_orthologs.tsv": "vagarwal87/saluki_paper @ 3aa4e56a, Apache-2.0",
    "homologene_b68.tsv.gz": "NCBI HomoloGene build 68 via oganm/homologene @ 9a9f99c4, MIT",
    "babelgene_hcop_human_to_19species.tsv.gz": "HGNC HCOP via igordot/babelgene @ ab61c52, MIT",
    "guillaudeux_236_families.tar.gz": "UdeS-CoBIUS/TranscriptOrthology (236 families, homologs tables), MIT",
    "twenty_families_ensembl98.tar.gz": "UdeS-CoBIUS/TranscriptOrthology (20 families, clustering tables), MIT",
}
#: Source kinds read here (the CLI reads ``gtf``, ``transcripts`` and ``mrnabench`` itself).
KINDS = ("dm3loc", "bed12", "noncoding_fasta", "gzip_transcripts", "transcript_orthology_families",
         "transcript_orthology_alignments", "stringtie_transcripts")
_TRANSCRIPT_ORTHOLOGY = "pretraining/transcriptorthology_human_mouse_dog"
_FAMILIES = f"{_TRANSCRIPT_ORTHOLOGY}/guillaudeux_236_families.tar.gz"
_ALIGNMENTS = f"{_TRANSCRIPT_ORTHOLOGY}/twenty_families_ensembl98.tar.gz"
_DM3LOC = "pretraining/refseq_human_mrna_dm3loc/dm3loc_human_refseq_mrna.fasta.gz"
_GTF_TRANSCRIPT_ID = re.compile(r'transcript_id "([^"]+)"')
_ACCESSION = re.compile(r"ACCNUM:([^,\s]+),Gene_ID:([^,\s]*),Gene_Name:([^,\s]*)")


def demo_sources(data_dir: Path = DATA_DIR) -> list[dict[str, Any]]:
    """The demo corpus's three sources (see data/SOURCES.md)."""
    pretraining = data_dir / "pretraining"
    sqanti, chr9, mapt = (
        pretraining / name for name in ("sqanti3_uhr_chr22", "ensembl91_chr9_1mb", "gencode_mouse_mapt")
    )
    return [
        {
            "kind": "transcripts",
            "path": str(sqanti / "UHR_chr22.filtered.fasta"),
            "annotation": str(sqanti / "UHR_chr22.filtered.gtf"),
            "classification": str(sqanti / "UHR_chr22_ML_result_classification.txt"),
            "species": "homo_sapiens",
            "license": "gpl-3.0",
            "name": "sqanti3_uhr_chr22",
            "origin": "ConesaLab/SQANTI3 @ 7aea86e4",
        },
        {
            "kind": "gtf",
            "path": str(chr9 / "Homo_sapiens.GRCh38.91_chr9_1_1000000.gtf"),
            "genome": str(chr9 / "Homo_sapiens.GRCh38.dna_sm.primary_assembly_chr9_1_1000000.fa"),
            "species": "homo_sapiens",
            "license": "gpl-3.0",
            "name": "ensembl91_chr9_1mb",
            "origin": "GoekeLab/bambu @ 42dbb390",
        },
        {
            "kind": "gtf",
            "path": str(mapt / "MAPT.Mouse.genedb.gtf"),
            "genome": str(mapt / "MAPT.Mouse.reference.fasta"),
            "species": "mus_musculus",
            "license": "gpl-2.0",
            "name": "gencode_mouse_mapt",
            "origin": "ablab/IsoQuant @ 71683c2b",
        },
    ]


def all_real_sources(data_dir: Path = DATA_DIR) -> list[dict[str, Any]]:
    """Every real transcript source in ``data/``: the demo's three, four added for the first release, and three
    with cross-species ortholog sets and RNA-seq isoforms (issue 24).

    CPAT's mRNAs come before DM3Loc's: 2,020 accessions are in both, and the build keeps the first
    record of a transcript id, here the one with its exon structure and annotated CDS.
    """
    pretraining = data_dir / "pretraining"
    cpat, isa = pretraining / "cpat_refseq_hg19", pretraining / "isoformswitchanalyzer_chr1"
    stringtie = pretraining / "transdecoder_stringtie_chrX"
    return [
        *demo_sources(data_dir),
        {
            "kind": "bed12",
            "path": str(cpat / "Human_test_coding_mRNA_hg19.bed.gz"),
            "sequences": str(cpat / "Human_test_coding_mRNA.fa.gz"),
            "gene_names": str(data_dir / _DM3LOC),
            "species": "homo_sapiens",
            "license": "gpl-2.0",
            "name": "cpat_refseq_coding_hg19",
            "origin": "liguowang/CPAT @ c54e4bb",
        },
        {
            "kind": "dm3loc",
            "path": str(data_dir / _DM3LOC),
            "species": "homo_sapiens",
            "license": "mit",
            "name": "refseq_human_mrna_dm3loc",
            "origin": "duolinwang/DM3Loc, PyPI dm3loc==1.2.0 (localisation labels not read)",
        },
        {
            "kind": "noncoding_fasta",
            "path": str(cpat / "Human_test_noncoding_RNA.fa.gz"),
            "species": "homo_sapiens",
            "license": "gpl-2.0",
            "name": "cpat_noncoding_hg19",
            "origin": "liguowang/CPAT @ c54e4bb",
        },
        {
            "kind": "gzip_transcripts",
            "path": str(isa / "example_isoform_nt.fasta.gz"),
            "annotation": str(isa / "example.gtf.gz"),
            "species": "homo_sapiens",
            "license": "gpl-2.0",
            "name": "isoformswitchanalyzer_chr1",
            "origin": "Bioconductor IsoformSwitchAnalyzeR extdata (Debian r-bioc-isoformswitchanalyzer)",
        },
        {
            "kind": "transcript_orthology_families",
            "path": str(data_dir / _FAMILIES),
            "species": "homo_sapiens, mus_musculus, canis_lupus_familiaris",
            "license": "mit",
            "name": "transcriptorthology_236_families",
            "origin": "UdeS-CoBIUS/TranscriptOrthology, Guillaudeux et al. dataset (Ensembl 90)",
        },
        {
            "kind": "transcript_orthology_alignments",
            "path": str(data_dir / _ALIGNMENTS),
            "species": "homo_sapiens, mus_musculus, canis_lupus_familiaris, bos_taurus, gallus_gallus",
            "license": "mit",
            "name": "transcriptorthology_20_families",
            "origin": "UdeS-CoBIUS/TranscriptOrthology, 20 families (Ensembl 98)",
        },
        {
            "kind": "stringtie_transcripts",
            "path": str(stringtie / "stringtie_merged.transcripts.fasta.gz"),
            "annotation": str(stringtie / "stringtie_merged.gtf.gz"),
            "species": "homo_sapiens",
            "license": "bsd-3-clause",
            "name": "transdecoder_stringtie_chrx",
            "origin": "TransDecoder 5.0.1 sample data (Debian transdecoder-doc), StringTie merge of chrX RNA-seq",
        },
    ]


def all_real_orthology(data_dir: Path = DATA_DIR) -> list[Path]:
    """The orthology of an all-real build: HCOP, and the transcript ortholog tables of both TranscriptOrthology sets."""
    return [data_dir / HCOP_ORTHOLOGY, data_dir / _FAMILIES, data_dir / _ALIGNMENTS]


def refseq_gene_names(path: str | Path) -> dict[str, tuple[str, str]]:
    """``accession (version stripped) -> (Entrez id, symbol)`` from the headers of DM3Loc's FASTA."""
    names: dict[str, tuple[str, str]] = {}
    path = Path(path)
    with gzip.open(path, "rt") if is_gzip(path) else open(path) as handle:
        for line in handle:
            if line.startswith(">"):
                found = _ACCESSION.search(line)
                if found:
                    names[found.group(1).split(".")[0]] = (found.group(2), found.group(3))
    return names


def name_bed12_genes(
    records: list[TranscriptRecord], names: dict[str, tuple[str, str]]
) -> list[TranscriptRecord]:
    """Give BED12 records (gene id = locus) the RefSeq gene of their accession, or of a locus mate.

    A record whose accession ``names`` has gets that Entrez id and symbol; one that is missing
    takes the gene of the other transcripts of its locus when they name exactly one gene; else it
    keeps its locus id.
    """
    genes_of_locus: dict[str, set[tuple[str, str]]] = {}
    for record in records:
        gene = names.get(record.transcript_id.split(".")[0])
        if gene and gene[0]:
            genes_of_locus.setdefault(record.gene_id, set()).add(gene)
    for record in records:
        gene = names.get(record.transcript_id.split(".")[0])
        if not (gene and gene[0]):
            mates = genes_of_locus.get(record.gene_id, set())
            gene = next(iter(mates)) if len(mates) == 1 else None
        if gene:
            record.gene_id, record.gene_name = gene
    return records


def read_noncoding_fasta(
    path: str | Path, *, species: str, on_error: str, skipped: Counter[str]
) -> Iterator[TranscriptRecord]:
    """Transcripts of a FASTA of non-coding RNAs: no CDS, exons unknown, each its own gene."""
    for record in read_fasta_inferring_cds(path, species=species, on_error=on_error, skipped=skipped):
        record.cds_start = record.cds_end = -1
        record.biotype = "non_coding"
        record.flags = [EXONS_UNKNOWN_FLAG]
        yield record


def read_gzip_transcripts(
    path: str | Path, annotation: str | Path, *, species: str, on_error: str, skipped: Counter[str]
) -> Iterator[TranscriptRecord]:
    """:func:`read_transcript_fasta` of a gzip-compressed FASTA (decompressed to a temporary file for its index)."""
    with tempfile.TemporaryDirectory(prefix="isoclr_fasta_") as folder:
        plain = Path(folder) / Path(path).name.removesuffix(".gz")
        with gzip.open(path, "rb") as source, open(plain, "wb") as target:
            shutil.copyfileobj(source, target)
        yield from read_transcript_fasta(
            plain, species=species, annotation_path=annotation, on_error=on_error, skipped=skipped
        )


def read_stringtie_transcripts(
    path: str | Path, annotation: str | Path, *, species: str, on_error: str, skipped: Counter[str]
) -> Iterator[TranscriptRecord]:
    """A StringTie merge's transcripts (FASTA + GTF, plain or gzip), the CDS inferred (:func:`infer_cds`).

    For assemblies such as StringTie's, whose GTF has exons but no CDS rows, and whose FASTA headers
    carry a second word (the locus) after the transcript id. Transcripts without a
    strand (``.``: StringTie's single-exon models of unstranded reads, 304 of the 3,501 here) are left
    out and counted as ``strand_unknown``: which way their sequence reads 5'->3' is not known.
    """
    with tempfile.TemporaryDirectory(prefix="isoclr_stringtie_") as folder:
        stranded, fasta = Path(folder) / "stranded.gtf", Path(folder) / Path(path).name.removesuffix(".gz")
        unstranded = _write_stranded_rows(annotation, stranded)
        for transcript_id in unstranded:
            count_skip(skipped, "strand_unknown", transcript_id)
        _write_first_word_headers(path, fasta)
        for record in read_transcript_fasta(fasta, species=species, annotation_path=stranded, on_error=on_error,
                                            skipped=skipped):
            if record.cds_start < 0:
                cds = infer_cds(record.sequence.upper())
                if cds is not None:
                    record.cds_start, record.cds_end = cds
                    record.biotype = record.biotype or "protein_coding"
                    record.flags = sorted({*record.flags, CDS_INFERRED_FLAG})
            yield record


def _write_first_word_headers(path: str | Path, target: Path) -> None:
    """Copy a (gzip) FASTA to ``target`` with each header cut to its first word (``>MSTRG.2.1 MSTRG.2`` ->
    ``>MSTRG.2.1``), the transcript id the GTF names."""
    source = Path(path)
    with gzip.open(source, "rt") if is_gzip(source) else open(source) as lines, open(target, "w") as kept:
        for line in lines:
            kept.write(line.split(maxsplit=1)[0] + "\n" if line.startswith(">") else line)


def _write_stranded_rows(annotation: str | Path, target: Path) -> list[str]:
    """Copy the GTF rows whose strand is ``+`` or ``-`` to ``target``; returns the transcripts left out."""
    left_out: list[str] = []
    source = Path(annotation)
    with gzip.open(source, "rt") if is_gzip(source) else open(source) as rows, open(target, "w") as kept:
        for row in rows:
            fields = row.split("\t")
            if len(fields) >= 9 and fields[6] == ".":
                if fields[2] == "transcript":
                    found = _GTF_TRANSCRIPT_ID.search(fields[8])
                    left_out.append(found.group(1) if found else f"{source.name}:{fields[0]}:{fields[3]}")
                continue
            kept.write(row)
    return left_out


def read_bundled_source(source: dict[str, Any], on_error: str, skipped: Counter[str]) -> Iterator[TranscriptRecord]:
    """The records of a source of one of :data:`KINDS`."""
    kind, path, species = source["kind"], source["path"], source["species"]
    if kind == "dm3loc":
        records, _labels = read_dm3loc_fasta(path, species=species, on_error=on_error, skipped=skipped)
        return iter(records)
    if kind == "bed12":
        records = list(read_bed12_fasta(path, source["sequences"], species=species, on_error=on_error,
                                        skipped=skipped))
        if "gene_names" in source:
            records = name_bed12_genes(records, refseq_gene_names(source["gene_names"]))
        return iter(records)
    if kind == "noncoding_fasta":
        return read_noncoding_fasta(path, species=species, on_error=on_error, skipped=skipped)
    if kind == "gzip_transcripts":
        return read_gzip_transcripts(path, source["annotation"], species=species, on_error=on_error, skipped=skipped)
    if kind == "stringtie_transcripts":
        return read_stringtie_transcripts(path, source["annotation"], species=species, on_error=on_error,
                                                   skipped=skipped)
    # TranscriptOrthology: the species of each record comes from its Ensembl id, not the source.
    if kind == "transcript_orthology_families":
        return read_transcript_orthology_families(path, on_error=on_error, skipped=skipped)
    if kind == "transcript_orthology_alignments":
        return read_transcript_orthology_alignments(path, on_error=on_error, skipped=skipped)
    raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(KINDS)}")


__all__ = [
    "DATA_DIR",
    "DEMO_ORTHOLOGY",
    "HCOP_ORTHOLOGY",
    "KINDS",
    "ORTHOLOGY_ORIGINS",
    "all_real_orthology",
    "all_real_sources",
    "demo_sources",
    "name_bed12_genes",
    "read_bundled_source",
    "read_gzip_transcripts",
    "read_noncoding_fasta",
    "read_stringtie_transcripts",
    "refseq_gene_names",
]
