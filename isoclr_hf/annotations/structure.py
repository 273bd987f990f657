"""From a transcript's genomic rows (exons, CDS, stop codon) to its mature sequence and annotation.

Shared by the GTF/GFF3 reader (sequence from the genome) and the SQANTI3 reader (exons only, to
check the transcript FASTA). Coordinates in here are GTF's: 1-based, inclusive.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from .errors import AnnotationError
from .genome import IndexedGenome
from .records import TranscriptRecord

INCOMPLETE_CDS_TAGS = ("cds_start_NF", "cds_end_NF")
QUALITY_TAGS = frozenset({*INCOMPLETE_CDS_TAGS, "mRNA_start_NF", "mRNA_end_NF"})
STOP_CODONS = frozenset({"TAA", "TAG", "TGA"})
_ENSEMBL_VERSION = re.compile(r"(ENS[A-Z]*\d{11})\.\d+")


def strip_version(identifier: str) -> str:
    """Drop Ensembl version suffixes: ``ENSG00000186868.15`` -> ``ENSG00000186868``.

    Every Ensembl id inside is stripped (``ENSG...1_ENSG...1`` fusion genes of SQANTI3,
    ``ENSG....20_PAR_Y`` keeps its ``_PAR_Y``); other ids are returned unchanged.
    """
    return _ENSEMBL_VERSION.sub(r"\1", identifier) if "ENS" in identifier else identifier


@dataclass
class TranscriptRows:
    """What the annotation says about one transcript, gathered from its rows.

    Attributes:
        exons: ``(start, end)`` 1-based inclusive genomic intervals, in file order.
        cds: ``(start, end, frame)`` of the CDS rows (frame -1 where the file gives ``.``).
        stop_codons: ``(start, end)`` of the stop_codon rows.
        where: ``file:line`` of the first row, for error messages.
        transcript_where: ``file:line`` of the transcript row (``""`` before one is read).
        gene_where: ``file:line`` of the row the gene id was taken from.
        piece_where: ``file:line`` of each exon/CDS/stop_codon row, by ``(feature, start, end)``, so an
            error about one names its row.
    """

    transcript_id: str
    chromosome: str
    strand: str
    where: str
    gene_id: str = ""
    gene_name: str = ""
    biotype: str = ""
    parent: str = ""
    flags: list[str] = field(default_factory=list)
    exons: list[tuple[int, int]] = field(default_factory=list)
    cds: list[tuple[int, int, int]] = field(default_factory=list)
    stop_codons: list[tuple[int, int]] = field(default_factory=list)
    transcript_where: str = ""
    gene_where: str = ""
    piece_where: dict[tuple[str, int, int], str] = field(default_factory=dict)


def ordered_exons(rows: TranscriptRows) -> list[tuple[int, int]]:
    """Exons in transcript (5'->3') order, after checking they do not overlap.

    Raises:
        AnnotationError: No exons, or two exons overlap.
    """
    if not rows.exons:
        raise AnnotationError(f"{rows.where}: transcript {rows.transcript_id} has no exon rows", reason="no_exons")
    exons = sorted(rows.exons)
    for (_, previous_end), (start, end) in itertools.pairwise(exons):
        if start <= previous_end:
            raise AnnotationError(
                f"{rows.piece_where.get(('exon', start, end), rows.where)}: transcript {rows.transcript_id} has "
                "overlapping exons "
                f"({rows.chromosome}:{start}-{end} starts before the previous exon ends at {previous_end})",
                reason="overlapping_exons",
            )
    return exons[::-1] if rows.strand == "-" else exons


def exon_ends_of(exons: list[tuple[int, int]]) -> list[int]:
    """Cumulative exon lengths: 0-based exclusive exon ends in transcript coordinates."""
    ends, total = [], 0
    for start, end in exons:
        total += end - start + 1
        ends.append(total)
    return ends


def transcript_position(rows: TranscriptRows, exons: list[tuple[int, int]], position: int) -> int:
    """0-based transcript coordinate of the genomic base ``position`` (1-based).

    Raises:
        AnnotationError: ``position`` lies in no exon.
    """
    offset = 0
    for start, end in exons:
        if start <= position <= end:
            return offset + (position - start if rows.strand != "-" else end - position)
        offset += end - start + 1
    raise AnnotationError(
        f"{rows.where}: transcript {rows.transcript_id} has a CDS/stop codon base at "
        f"{rows.chromosome}:{position} outside its exons",
        reason="cds_outside_exons",
    )


def cds_in_transcript(rows: TranscriptRows, exons: list[tuple[int, int]]) -> tuple[int, int]:
    """``(cds_start, cds_end)``, 0-based half-open in transcript coordinates, stop codon included.

    GTF from GENCODE, Ensembl and RefSeq leaves the stop codon out of the CDS rows and gives it a
    ``stop_codon`` row; GFF3 from Ensembl and RefSeq puts it in the CDS rows. Taking the span of
    CDS and stop_codon rows together gives the CDS with its stop codon under both conventions.
    For a CDS whose start is not annotated (``cds_start_NF``) the start moves by the first CDS
    row's frame, so that the CDS track marks real codon starts. Returns ``(-1, -1)`` without CDS.

    Raises:
        AnnotationError: A CDS or stop-codon base lies outside the exons.
    """
    if not rows.cds:
        return -1, -1
    pieces = [(start, end) for start, end, _ in rows.cds] + rows.stop_codons
    for feature, (start, end) in zip(["CDS"] * len(rows.cds) + ["stop_codon"] * len(rows.stop_codons), pieces,
                                     strict=True):
        try:
            transcript_position(rows, exons, start), transcript_position(rows, exons, end)  # each end in an exon
        except AnnotationError as error:  # name the row of the piece, not the transcript's first row
            where = rows.piece_where.get((feature, start, end))
            if where is None:
                raise
            raise AnnotationError(
                f"{where}: transcript {rows.transcript_id} has a {feature} row ({rows.chromosome}:{start}-{end}) "
                "outside its exons",
                reason=error.reason,
            ) from None
    low, high = min(start for start, _ in pieces), max(end for _, end in pieces)
    five_prime, three_prime = (high, low) if rows.strand == "-" else (low, high)
    cds_start = transcript_position(rows, exons, five_prime)
    cds_end = transcript_position(rows, exons, three_prime) + 1
    first_row = max(rows.cds, key=lambda row: row[1]) if rows.strand == "-" else min(rows.cds)
    if "cds_start_NF" in rows.flags and first_row[2] > 0:
        cds_start += first_row[2]
    return cds_start, cds_end


def check_cds(rows: TranscriptRows, sequence: str, cds_start: int, cds_end: int) -> None:
    """Check a CDS not flagged incomplete is a whole number of codons.

    Raises:
        AnnotationError: An unflagged CDS whose length is not a multiple of 3.
    """
    if cds_start < 0 or any(tag in rows.flags for tag in INCOMPLETE_CDS_TAGS):
        return
    if (cds_end - cds_start) % 3:
        raise AnnotationError(
            f"{rows.where}: transcript {rows.transcript_id} has a CDS of {cds_end - cds_start} nt, not a multiple "
            "of 3, and is not tagged cds_start_NF/cds_end_NF",
            reason="cds_length_not_multiple_of_3",
        )


def infer_missing_stop_codon(rows: TranscriptRows, sequence: str, cds_start: int, cds_end: int) -> int:
    """Extend a complete CDS by the stop codon that follows it when the file has no stop_codon row.

    A GTF written without stop_codon rows (some converters drop them) leaves the stop codon out
    of the CDS; the codon after the CDS is then a stop codon. Returns the (possibly) new end.
    """
    if cds_start < 0 or rows.stop_codons or "cds_end_NF" in rows.flags:
        return cds_end
    if sequence[cds_end - 3 : cds_end] not in STOP_CODONS and sequence[cds_end : cds_end + 3] in STOP_CODONS:
        rows.flags.append("stop_codon_inferred")
        return cds_end + 3
    return cds_end


def build_record(rows: TranscriptRows, genome: IndexedGenome, species: str) -> TranscriptRecord:
    """Assemble the mature transcript of ``rows`` from the genome.

    Raises:
        AnnotationError: Bad exons or CDS, or a chromosome/interval the genome does not have.
    """
    exons = ordered_exons(rows)
    try:
        sequence = "".join(genome.fetch(rows.chromosome, start - 1, end, rows.strand) for start, end in exons)
    except AnnotationError as error:
        raise AnnotationError(
            f"{rows.where}: transcript {rows.transcript_id}: {error}",
            reason=error.reason,
            transcript_id=rows.transcript_id,
        ) from None
    cds_start, cds_end = cds_in_transcript(rows, exons)
    cds_end = infer_missing_stop_codon(rows, sequence, cds_start, cds_end)
    check_cds(rows, sequence, cds_start, cds_end)
    return TranscriptRecord(
        transcript_id=rows.transcript_id,
        gene_id=strip_version(rows.gene_id) or rows.transcript_id,
        gene_name=rows.gene_name,
        species=species,
        sequence=sequence,
        exon_ends=exon_ends_of(exons),
        cds_start=cds_start,
        cds_end=cds_end,
        biotype=rows.biotype,
        flags=sorted(set(rows.flags)),
    )
