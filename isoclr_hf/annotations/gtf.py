"""GTF / GFF3 + genome FASTA -> transcript records (GENCODE, Ensembl, RefSeq).

Memory model: a first pass over the annotation notes the last line of each chromosome (a dict of
chromosome names; GENCODE human takes seconds). The second pass streams the rows and keeps those
of the transcripts still open, grouped by chromosome; once the last line of a chromosome is read,
its transcripts are built, yielded and dropped. For a file grouped by chromosome, as every
GENCODE/Ensembl/RefSeq release is, that is one chromosome's rows at a time (a few tuples per exon:
for human chr1, about a tenth of GENCODE, some tens of MB); rows in any other order are still read
correctly, holding more. The genome is read through its index
(:class:`~isoclr_hf.annotations.genome.IndexedGenome`), exon by exon.
"""

from __future__ import annotations

import gzip
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote

from .errors import AnnotationError, check_on_error, handle_problem
from .genome import IndexedGenome
from .records import TranscriptRecord
from .structure import QUALITY_TAGS, TranscriptRows, build_record

_GTF_ATTRIBUTE = re.compile(r'\s*([^\s";]+)\s+(?:"([^"]*)"|([^";\s]+))\s*;?')
_STRUCTURE_FEATURES = frozenset({"exon", "CDS", "stop_codon"})
_IGNORED_CHILD_FEATURES = frozenset(
    {"start_codon", "five_prime_UTR", "three_prime_UTR", "UTR", "five_prime_utr", "three_prime_utr", "Selenocysteine"}
)
_GFF3_BIOTYPE_BY_FEATURE = {"mRNA": "protein_coding", "lnc_RNA": "lncRNA"}


def open_text(path: Path) -> TextIO:
    """Open a plain or gzip-compressed text file."""
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def detect_format(path: Path) -> str:
    """``"gtf"`` or ``"gff3"``, from the extension, else from the first rows."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".gff3", ".gff")):
        return "gff3"
    if name.endswith(".gtf"):
        return "gtf"
    with open_text(path) as handle:
        for line in handle:
            if line.startswith("##gff-version 3"):
                return "gff3"
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 9:
                return "gff3" if "=" in fields[8] and '"' not in fields[8] else "gtf"
    raise ValueError(f"cannot tell whether {path} is GTF or GFF3: no 9-column rows; name it .gtf or .gff3")


def parse_gtf_attributes(text: str) -> dict[str, list[str]]:
    """GTF column 9 (``key "value"; ...``) -> {key: [values]} (keys like ``tag`` repeat)."""
    attributes: dict[str, list[str]] = {}
    for key, quoted, bare in _GTF_ATTRIBUTE.findall(text):
        attributes.setdefault(key, []).append(quoted if bare == "" else bare)
    return attributes


def parse_gff3_attributes(text: str) -> dict[str, list[str]]:
    """GFF3 column 9 (``key=v1,v2;...``, percent-encoded) -> {key: [values]}."""
    attributes: dict[str, list[str]] = {}
    for item in text.strip().strip(";").split(";"):
        if "=" in item:
            key, _, value = item.partition("=")
            attributes[key.strip()] = [unquote(v) for v in value.split(",")]
    return attributes


def _parse_row(fields: list[str], where: str) -> tuple[str, str, int, int, str, int]:
    """Columns 1, 3, 4, 5, 7, 8 of a feature row, checked."""
    if len(fields) != 9:
        raise AnnotationError(
            f"{where}: malformed line: {len(fields)} tab-separated columns, expected 9", reason="malformed_line"
        )
    try:
        start, end = int(fields[3]), int(fields[4])
    except ValueError:
        raise AnnotationError(
            f"{where}: malformed line: start/end {fields[3]!r}, {fields[4]!r} are not integers", reason="malformed_line"
        ) from None
    # Only structure rows need a proper interval: SQANTI3 writes minus-strand transcript rows end-first.
    if start < 1 or (end < start and fields[2] in _STRUCTURE_FEATURES):
        raise AnnotationError(
            f"{where}: malformed line: interval {start}-{end} is empty or not 1-based", reason="malformed_line"
        )
    if fields[6] not in ("+", "-", "."):
        raise AnnotationError(
            f"{where}: malformed line: strand {fields[6]!r} is not +, - or .", reason="malformed_line"
        )
    frame = int(fields[7]) if fields[7] in ("0", "1", "2") else -1
    return fields[0], fields[2], start, end, fields[6], frame


def _first(attributes: dict[str, list[str]], *keys: str) -> str:
    for key in keys:
        if attributes.get(key):
            return attributes[key][0]
    return ""


class AnnotationRowStream:
    """Groups feature rows by transcript, one chromosome block at a time."""

    def __init__(self, path: Path, file_format: str) -> None:
        self.path = path
        self.format = file_format
        self.open: dict[str, dict[str, TranscriptRows]] = {}  # chromosome -> transcript key -> rows
        self.chromosome_of: dict[str, str] = {}  # open transcript key -> its chromosome
        self.genes: dict[str, tuple[str, str, str]] = {}  # GFF3 gene ID -> (gene_id, name, biotype)

    def rows_for(self, key: str, chromosome: str, strand: str, where: str) -> TranscriptRows:
        known_chromosome = self.chromosome_of.setdefault(key, chromosome)
        if known_chromosome != chromosome:
            raise AnnotationError(
                f"{where}: transcript {key} has rows on {known_chromosome} and on {chromosome}; "
                "a transcript must lie on one chromosome",
                reason="transcript_on_several_chromosomes",
            )
        transcripts = self.open.setdefault(chromosome, {})
        rows = transcripts.get(key)
        if rows is None:
            rows = transcripts[key] = TranscriptRows(
                transcript_id=key, chromosome=chromosome, strand=strand, where=where
            )
        return rows

    def add_gtf_row(self, fields: list[str], where: str) -> None:
        chromosome, feature, start, end, strand, frame = _parse_row(fields, where)
        if feature not in _STRUCTURE_FEATURES and feature != "transcript":
            return
        attributes = parse_gtf_attributes(fields[8])
        transcript_id = _first(attributes, "transcript_id")
        if not transcript_id:
            raise AnnotationError(f"{where}: {feature} row without a transcript_id attribute", reason="malformed_line")
        rows = self.rows_for(transcript_id, chromosome, strand, where)
        if not rows.gene_id:
            rows.gene_id = _first(attributes, "gene_id")
            rows.gene_name = _first(attributes, "gene_name", "gene")
            rows.biotype = _first(attributes, "transcript_biotype", "transcript_type")
            rows.flags = [tag for tag in attributes.get("tag", []) if tag in QUALITY_TAGS]
        self._add_piece(rows, feature, start, end, frame)

    def add_gff3_row(self, fields: list[str], where: str) -> None:
        chromosome, feature, start, end, strand, frame = _parse_row(fields, where)
        attributes = parse_gff3_attributes(fields[8])
        identifier, parents = _first(attributes, "ID"), attributes.get("Parent", [])
        if feature in _STRUCTURE_FEATURES:
            for parent in parents:
                self._add_piece(self.rows_for(parent, chromosome, strand, where), feature, start, end, frame)
        elif feature in _IGNORED_CHILD_FEATURES or not identifier:
            return
        elif not parents:  # a gene
            gene_id = _first(attributes, "gene_id") or _entrez_id(attributes) or _without_prefix(identifier)
            biotype = _first(attributes, "biotype", "gene_type", "gene_biotype")
            self.genes[identifier] = (gene_id, _first(attributes, "Name", "gene_name", "gene"), biotype)
        else:  # a transcript (mRNA, lnc_RNA, transcript, ...)
            rows = self.rows_for(identifier, chromosome, strand, where)
            rows.transcript_id = _first(attributes, "transcript_id") or _without_prefix(identifier)
            rows.parent = parents[0]
            rows.gene_id = _first(attributes, "gene_id")
            rows.gene_name = _first(attributes, "gene_name", "gene")
            rows.biotype = _first(attributes, "transcript_biotype", "transcript_type", "biotype") or (
                _GFF3_BIOTYPE_BY_FEATURE.get(feature, feature)
            )
            rows.flags = [tag for tag in attributes.get("tag", []) if tag in QUALITY_TAGS]

    @staticmethod
    def _add_piece(rows: TranscriptRows, feature: str, start: int, end: int, frame: int) -> None:
        if feature == "exon":
            rows.exons.append((start, end))
        elif feature == "CDS":
            rows.cds.append((start, end, frame))
        elif feature == "stop_codon":
            rows.stop_codons.append((start, end))

    def take_open(self, chromosome: str) -> list[TranscriptRows]:
        """The transcripts of ``chromosome``, GFF3 gene fields filled in; they are forgotten here."""
        transcripts = self.open.pop(chromosome, {})
        for key in transcripts:
            del self.chromosome_of[key]
        finished = list(transcripts.values())
        for rows in finished:
            gene_id, gene_name, _ = self.genes.get(rows.parent, ("", "", ""))
            rows.gene_id = rows.gene_id or gene_id or _without_prefix(rows.parent)
            rows.gene_name = rows.gene_name or gene_name
        return finished


def _without_prefix(identifier: str) -> str:
    """``transcript:ENST...`` / ``gene-MAPT`` / ``rna-NM_...`` -> the id without the GFF3 prefix."""
    for prefix in ("transcript:", "gene:", "gene-", "rna-"):
        if identifier.startswith(prefix):
            return identifier[len(prefix) :]
    return identifier


def _entrez_id(attributes: dict[str, list[str]]) -> str:
    for reference in attributes.get("Dbxref", []):
        if reference.startswith("GeneID:"):
            return reference.removeprefix("GeneID:")
    return ""


def read_annotation(
    annotation_path: str | os.PathLike[str],
    genome_path: str | os.PathLike[str],
    *,
    species: str,
    on_error: str = "raise",
    skipped: Counter[str] | None = None,
) -> Iterator[TranscriptRecord]:
    """Yield the transcripts of a GTF or GFF3 annotation, sequences taken from the genome FASTA.

    Args:
        annotation_path: GTF or GFF3 (optionally gzipped), from GENCODE, Ensembl or RefSeq.
        genome_path: Genome FASTA the annotation was made on (soft-masked accepted; read through
            a ``.fai`` index, never loaded whole). Chromosome ``9`` matches ``chr9`` and back.
        species: Species of the annotation, e.g. ``"homo_sapiens"``.
        on_error: ``"raise"`` stops at the first bad record with an error naming the file, line and
            transcript; ``"skip"`` leaves the record out and counts it in ``skipped``.
        skipped: Counter of skip reasons (``malformed_line``, ``overlapping_exons``,
            ``cds_outside_exons``, ``chromosome_missing_from_genome``, ...), updated in place.

    Yields:
        One :class:`TranscriptRecord` per transcript: uppercase sequence 5'->3' (minus-strand
        transcripts reverse-complemented), exon ends, CDS including the stop codon, biotype, and
        the ``cds_start_NF``/``cds_end_NF``/``mRNA_*_NF`` tags as flags.
    """
    check_on_error(on_error)
    path = Path(annotation_path)
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    with IndexedGenome(genome_path) as genome:
        for batch in iter_transcript_rows(path, on_error=on_error, skipped=skipped):
            for rows in batch:
                try:
                    yield build_record(rows, genome, species)
                except AnnotationError as error:
                    handle_problem(error, on_error, skipped)


def iter_transcript_rows(path: Path, *, on_error: str, skipped: Counter[str] | None) -> Iterator[list[TranscriptRows]]:
    """Stream a GTF/GFF3 and yield its transcripts' rows, a chromosome at a time (see module docstring)."""
    last_line_of: dict[str, int] = {}
    with open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.startswith("#"):
                last_line_of[line[: line.find("\t")]] = line_number
    stream = AnnotationRowStream(path, detect_format(path))
    add_row = stream.add_gtf_row if stream.format == "gtf" else stream.add_gff3_row
    with open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            try:
                add_row(fields, f"{path}:{line_number}")
            except AnnotationError as error:
                handle_problem(error, on_error, skipped)
            if last_line_of.get(fields[0]) == line_number:
                yield stream.take_open(fields[0])
