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

import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from .errors import AnnotationError, check_on_error, handle_problem
from .files import check_utf8, iter_lines
from .genome import IndexedGenome
from .records import TranscriptRecord
from .structure import QUALITY_TAGS, TranscriptRows, build_record

_GTF_ATTRIBUTE = re.compile(r'\s*([^\s";]+)\s+(?:"([^"]*)"|([^";\s]+))\s*;?')
_STRUCTURE_FEATURES = frozenset({"exon", "CDS", "stop_codon"})
_IGNORED_CHILD_FEATURES = frozenset(
    {"start_codon", "five_prime_UTR", "three_prime_UTR", "UTR", "five_prime_utr", "three_prime_utr", "Selenocysteine"}
)
_GFF3_BIOTYPE_BY_FEATURE = {"mRNA": "protein_coding", "lnc_RNA": "lncRNA"}


def detect_format(path: Path) -> str:
    """``"gtf"`` or ``"gff3"``, from the extension, else from the first rows."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".gff3", ".gff")):
        return "gff3"
    if name.endswith(".gtf"):
        return "gtf"
    for line_number, line in iter_lines(path):
        check_utf8(line, f"{path}:{line_number}")
        if line.startswith("##gff-version 3"):
            return "gff3"
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) == 9:
            return "gff3" if "=" in fields[8] and '"' not in fields[8] else "gtf"
    raise AnnotationError(
        f"cannot tell whether {path} is GTF or GFF3: no 9-column rows; name it .gtf or .gff3",
        reason="unknown_format",
    )


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


_GTF_TRANSCRIPT_ID = re.compile(r'transcript_id\s+"?([^";\s]+)')
_GFF3_PARENT = re.compile(r"(?:^|[\t;])Parent=([^;\t]+)")


class AnnotationRowStream:
    """Groups feature rows by transcript, one chromosome block at a time.

    In skip mode a bad row takes its whole transcript out: the transcript named by the row, or,
    for a row too broken to name one, the transcripts of the rows on either side of it.
    """

    def __init__(self, path: Path, file_format: str) -> None:
        self.path = path
        self.format = file_format
        self.open: dict[str, dict[str, TranscriptRows]] = {}  # chromosome -> transcript key -> rows
        self.chromosome_of: dict[str, str] = {}  # open transcript key -> its chromosome
        self.genes: dict[str, tuple[str, str, str]] = {}  # GFF3 gene ID -> (gene_id, name, biotype)
        self.parent_of: dict[str, tuple[str, str]] = {}  # GFF3 ID -> (its first Parent, file:line), for cycles
        self.bad: dict[str, AnnotationError] = {}  # transcript key -> first problem (skip mode)
        self.taken: dict[str, str] = {}  # transcript id -> where its first row was, once built
        self.last_key = ""  # transcript of the last row read
        self.taint_next: AnnotationError | None = None  # a broken row taints the next transcript
        self.transcripts_seen = 0

    def rows_for(self, key: str, chromosome: str, strand: str, where: str) -> TranscriptRows:
        if strand not in ("+", "-"):
            raise AnnotationError(
                f"{where}: transcript {key} has strand {strand!r}: without a strand its sequence cannot be read "
                "5'->3'; give the strand (+ or -) or leave the transcript out (--on-error skip)",
                reason="unknown_strand",
                transcript_id=key,
            )
        known_chromosome = self.chromosome_of.setdefault(key, chromosome)
        if known_chromosome != chromosome:
            raise AnnotationError(
                f"{where}: transcript {key} has rows on {known_chromosome} and on {chromosome}; "
                "a transcript must lie on one chromosome (or the id is used twice)",
                reason="transcript_on_several_chromosomes",
                transcript_id=key,
            )
        transcripts = self.open.setdefault(chromosome, {})
        rows = transcripts.get(key)
        if rows is None:
            rows = transcripts[key] = TranscriptRows(
                transcript_id=key, chromosome=chromosome, strand=strand, where=where
            )
            self.transcripts_seen += 1
        elif rows.strand != strand:
            raise AnnotationError(
                f"{where}: transcript {key} has a row on strand {strand} but its rows from {rows.where} are on "
                f"strand {rows.strand}",
                reason="strand_conflict",
                transcript_id=key,
            )
        self.last_key = key
        if self.taint_next is not None:
            self.bad.setdefault(key, self.taint_next)
            self.taint_next = None
        return rows

    def _transcript_row(self, rows: TranscriptRows, key: str, where: str) -> None:
        """Note the transcript row of ``rows``; a second one means the id is used twice."""
        if rows.transcript_where:
            raise AnnotationError(
                f"{where}: transcript id {key} is used again (its transcript row is already at "
                f"{rows.transcript_where}); transcript ids must be unique",
                reason="duplicate_transcript_id",
                transcript_id=key,
            )
        rows.transcript_where = where

    def add_gtf_row(self, fields: list[str], where: str) -> None:
        chromosome, feature, start, end, strand, frame = _parse_row(fields, where)
        if feature not in _STRUCTURE_FEATURES and feature != "transcript":
            return
        attributes = parse_gtf_attributes(fields[8])
        transcript_id = _first(attributes, "transcript_id")
        if not transcript_id:
            raise AnnotationError(f"{where}: {feature} row without a transcript_id attribute", reason="malformed_line")
        rows = self.rows_for(transcript_id, chromosome, strand, where)
        if feature == "transcript":
            self._transcript_row(rows, transcript_id, where)
        gene_id = _first(attributes, "gene_id")
        if not rows.gene_id:
            rows.gene_id = gene_id
            rows.gene_where = where
            rows.gene_name = _first(attributes, "gene_name", "gene")
            rows.biotype = _first(attributes, "transcript_biotype", "transcript_type")
            rows.flags = [tag for tag in attributes.get("tag", []) if tag in QUALITY_TAGS]
        elif gene_id and gene_id != rows.gene_id:
            raise AnnotationError(
                f"{where}: transcript id {transcript_id} is in gene {gene_id} here but in gene {rows.gene_id} at "
                f"{rows.gene_where}; transcript ids must be unique",
                reason="duplicate_transcript_id",
                transcript_id=transcript_id,
            )
        self._add_piece(rows, feature, start, end, frame, where)

    def add_gff3_row(self, fields: list[str], where: str) -> None:
        chromosome, feature, start, end, strand, frame = _parse_row(fields, where)
        attributes = parse_gff3_attributes(fields[8])
        identifier, parents = _first(attributes, "ID"), attributes.get("Parent", [])
        if identifier and identifier in parents:
            raise AnnotationError(
                f"{where}: {feature} {identifier} is its own Parent (a Parent cycle); its Parent must be its gene",
                reason="parent_cycle",
                transcript_id=identifier,
            )
        if identifier and parents:
            self.parent_of.setdefault(identifier, (parents[0], where))
        if feature in _STRUCTURE_FEATURES:
            for parent in parents:
                self._add_piece(self.rows_for(parent, chromosome, strand, where), feature, start, end, frame, where)
        elif feature in _IGNORED_CHILD_FEATURES or not identifier:
            return
        elif not parents:  # a gene
            gene_id = _first(attributes, "gene_id") or _entrez_id(attributes) or _without_prefix(identifier)
            biotype = _first(attributes, "biotype", "gene_type", "gene_biotype")
            self.genes[identifier] = (gene_id, _first(attributes, "Name", "gene_name", "gene"), biotype)
        else:  # a transcript (mRNA, lnc_RNA, transcript, ...)
            rows = self.rows_for(identifier, chromosome, strand, where)
            self._transcript_row(rows, identifier, where)
            rows.transcript_id = _first(attributes, "transcript_id") or _without_prefix(identifier)
            rows.parent = parents[0]
            rows.gene_id = _first(attributes, "gene_id")
            rows.gene_name = _first(attributes, "gene_name", "gene")
            rows.biotype = _first(attributes, "transcript_biotype", "transcript_type", "biotype") or (
                _GFF3_BIOTYPE_BY_FEATURE.get(feature, feature)
            )
            rows.flags = [tag for tag in attributes.get("tag", []) if tag in QUALITY_TAGS]

    def mark_bad(self, error: AnnotationError, line: str) -> list[AnnotationError]:
        """Skip mode: take the transcript(s) a bad row belongs to out of the build.

        Returns the problems that belong to no transcript (counted at once by the caller).
        """
        keys = [error.transcript_id] if error.transcript_id else self._keys_named_in(line)
        if not keys:  # too broken to name its transcript: the transcripts around it go
            if self.last_key in self.chromosome_of:
                self.bad.setdefault(self.last_key, error)
            self.taint_next = self.taint_next or error
            return []
        for key in keys:
            self.bad.setdefault(key, error)
        return []

    def _keys_named_in(self, line: str) -> list[str]:
        if self.format == "gtf":
            match = _GTF_TRANSCRIPT_ID.search(line)
            return [match.group(1)] if match else []
        match = _GFF3_PARENT.search(line)
        return [unquote(parent) for parent in match.group(1).split(",")] if match else []

    @staticmethod
    def _add_piece(rows: TranscriptRows, feature: str, start: int, end: int, frame: int, where: str) -> None:
        rows.piece_where.setdefault((feature, start, end), where)
        if feature == "exon":
            rows.exons.append((start, end))
        elif feature == "CDS":
            rows.cds.append((start, end, frame))
        elif feature == "stop_codon":
            rows.stop_codons.append((start, end))

    def take_open(self, chromosome: str) -> tuple[list[TranscriptRows], list[AnnotationError]]:
        """The transcripts of ``chromosome``, GFF3 gene fields filled in; they are forgotten here.

        Returns the good transcripts and the problems of the bad ones (one per transcript, its
        ``transcript_id`` set): rows marked bad, or an id already built from an earlier block.
        """
        transcripts = self.open.pop(chromosome, {})
        for key in transcripts:
            del self.chromosome_of[key]
        finished, problems = [], []
        for key, rows in transcripts.items():
            cycle = self.parent_cycle(key) if self.format == "gff3" else None
            if cycle is not None:
                self.bad.setdefault(key, cycle)
            gene_id, gene_name, _ = self.genes.get(rows.parent, ("", "", ""))
            rows.gene_id = rows.gene_id or gene_id or _without_prefix(rows.parent)
            rows.gene_name = rows.gene_name or gene_name
            error = self.bad.pop(key, None)
            if error is None and rows.transcript_id in self.taken:
                error = AnnotationError(
                    f"{rows.where}: transcript id {rows.transcript_id} is used again (first at "
                    f"{self.taken[rows.transcript_id]}); transcript ids must be unique",
                    reason="duplicate_transcript_id",
                )
            if error is not None:
                error.transcript_id = rows.transcript_id
                problems.append(error)
                continue
            self.taken[rows.transcript_id] = rows.where
            finished.append(rows)
        return finished, problems

    def parent_cycle(self, key: str) -> AnnotationError | None:
        """The Parent cycle above a GFF3 feature (gene <-> mRNA, gene <-> gene, ...), or None."""
        chain, wheres, current = [key], [], key
        while current in self.parent_of:
            current, where = self.parent_of[current]
            wheres.append(where)
            if current in chain:
                cycle = [*chain[chain.index(current):], current]
                return AnnotationError(
                    f"{wheres[-1]}: Parent cycle {' -> '.join(cycle)} (rows at {', '.join(wheres)}); a transcript's "
                    "Parent must lead to a gene without a Parent",
                    reason="parent_cycle",
                    transcript_id=key,
                )
            chain.append(current)
        return None

    def leftover_problems(self) -> list[AnnotationError]:
        """Problems of rows whose transcript never had a good row, at the end of the file."""
        problems = []
        for key, error in self.bad.items():
            error.transcript_id = _without_prefix(key) if self.format == "gff3" else key
            problems.append(error)
        if self.taint_next is not None:
            problems.append(self.taint_next)
        self.bad, self.taint_next = {}, None
        return problems


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
            transcript; ``"skip"`` leaves the whole transcript out (all its rows, even for one bad
            row) and counts it once in ``skipped``. Transcripts need a strand (``+``/``-``) and a
            unique id (a second transcript row or a second gene for one id is an error).
        skipped: Counter of skip reasons (``malformed_line``, ``overlapping_exons``,
            ``cds_outside_exons``, ``chromosome_missing_from_genome``, ``unknown_strand``,
            ``duplicate_transcript_id``, ``stale_index``, ...), updated in place; a
            :class:`~isoclr_hf.annotations.errors.SkipLog` also keeps the transcript ids.

    Raises:
        AnnotationError: A bad record (raise mode); in either mode a file that cannot be read (a
            truncated gzip, a genome shorter than its ``.fai``) or that has no transcripts.

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
                    error.transcript_id = error.transcript_id or rows.transcript_id
                    handle_problem(error, on_error, skipped)


def iter_transcript_rows(path: Path, *, on_error: str, skipped: Counter[str] | None) -> Iterator[list[TranscriptRows]]:
    """Stream a GTF/GFF3 and yield its transcripts' rows, a chromosome at a time (see module docstring).

    A bad row raises (``on_error="raise"``) or takes its whole transcript out, counted once under
    the row's problem with the transcript id (``on_error="skip"``).

    Raises:
        AnnotationError: A bad row (raise mode); in either mode a file that cannot be read (truncated
            gzip), that has no rows, or whose rows describe no transcript.
    """
    last_line_of: dict[str, int] = {}
    data_lines = 0
    for line_number, line in iter_lines(path):  # first pass: also fails early on unreadable files
        if line.startswith("#") or not line.strip():
            continue
        if on_error == "raise":
            check_utf8(line, f"{path}:{line_number}")
        data_lines += 1
        last_line_of[line[: line.find("\t")]] = line_number
    if not data_lines:
        raise AnnotationError(
            f"{path} has no annotation rows (it is empty or holds only comments)", reason="empty_file"
        )
    stream = AnnotationRowStream(path, detect_format(path))
    add_row = stream.add_gtf_row if stream.format == "gtf" else stream.add_gff3_row
    problems_counted = 0

    def report(problems: list[AnnotationError]) -> None:
        nonlocal problems_counted
        for problem in problems:
            problems_counted += 1
            handle_problem(problem, on_error, skipped)

    for line_number, line in iter_lines(path):
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        try:
            check_utf8(line, f"{path}:{line_number}")
            add_row(fields, f"{path}:{line_number}")
        except AnnotationError as error:
            if on_error == "raise":
                raise
            report(stream.mark_bad(error, line))
        if last_line_of.get(fields[0]) == line_number:
            finished, problems = stream.take_open(fields[0])
            report(problems)
            yield finished
    report(stream.leftover_problems())
    if not stream.transcripts_seen and not problems_counted:
        raise AnnotationError(
            f"{path} describes no transcripts: none of its {data_lines:,} rows is a transcript, exon or CDS row "
            "of a transcript",
            reason="no_transcripts",
        )
