"""BED12 transcript models + transcript FASTA -> transcript records.

BED12 is the UCSC form of a transcript model: one line per transcript, 0-based half-open
genomic coordinates, the exons as blocks (``blockSizes``/``blockStarts`` relative to
``chromStart``), the CDS as ``thickStart``..``thickEnd`` (``thickStart == thickEnd``: non-coding).
The mature sequences come from a transcript FASTA (5'->3'); the exon sizes must add up to each
sequence's length.

Decisions:

* **FASTA record -> BED name.** The first word of the header is the name if it is a BED name;
  otherwise its longest ``_``-separated suffix that is a BED name. So the UCSC Table Browser's
  headers ``hg19_ct_UserTrack_3545_NM_173083 range=chr1:226418850-226497204 ... strand=-`` map to
  ``NM_173083``. Where the header also gives ``range=chrom:start-end`` (1-based) and ``strand=``,
  they must agree with the BED line, which guards against a wrong match. FASTA records that no BED
  line names are ignored (as the other readers ignore sequences the annotation does not name).
* **Gene id.** BED has none. By default (``gene_id="locus"``) transcripts on the same chromosome
  and strand whose exons overlap (directly or through other transcripts) share a locus, named
  ``chrom:start-end:strand`` (0-based half-open span of the locus); that groups isoforms as a
  gene id would. ``gene_id="name"`` uses the BED name instead (every transcript its own gene).
* **Columns.** At least 12 (BED12+n extra columns are ignored); the score and itemRgb are not
  read. Lines starting with ``#``, ``track`` or ``browser`` and blank lines are skipped.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import AnnotationError, check_on_error, count_skip, handle_problem
from .files import check_utf8, iter_lines
from .records import TranscriptRecord
from .seqfile import iter_fasta
from .structure import STOP_CODONS

_UNSIGNED = re.compile(r"^[0-9]+$")
_RANGE = re.compile(r"(?:^|\s)range=(\S+):(\d+)-(\d+)(?:\s|$)")
_STRAND = re.compile(r"(?:^|\s)strand=(\S+)(?:\s|$)")
_HEADER_PREFIXES = ("#", "track ", "track\t", "browser ", "browser\t")


@dataclass
class BedTranscript:
    """One BED12 line, checked.

    Attributes:
        name: The transcript name (column 4).
        chromosome: Column 1.
        start: ``chromStart`` (0-based).
        end: ``chromEnd`` (exclusive).
        strand: ``+`` or ``-``.
        thick_start: ``thickStart`` (0-based genomic).
        thick_end: ``thickEnd`` (exclusive); equal to ``thick_start`` for non-coding.
        blocks: ``(start, end)`` 0-based half-open genomic exons, ascending.
        where: ``file:line`` of the line.
    """

    name: str
    chromosome: str
    start: int
    end: int
    strand: str
    thick_start: int
    thick_end: int
    blocks: list[tuple[int, int]]
    where: str

    @property
    def length(self) -> int:
        """Sum of the exon lengths: the length of the mature transcript."""
        return sum(end - start for start, end in self.blocks)

    def exon_ends(self) -> list[int]:
        """Exon ends in transcript coordinates (blocks in transcript order: reversed on ``-``)."""
        sizes = [end - start for start, end in self.blocks]
        if self.strand == "-":
            sizes.reverse()
        ends, total = [], 0
        for size in sizes:
            total += size
            ends.append(total)
        return ends

    def _plus_offset(self, position: int) -> int | None:
        """Offset of genomic ``position`` along the exons, counted from the leftmost exon."""
        offset = 0
        for start, end in self.blocks:
            if start <= position < end:
                return offset + position - start
            offset += end - start
        return None

    def cds(self) -> tuple[int, int] | None:
        """``thickStart``..``thickEnd`` in transcript coordinates (0-based half-open), or ``None``.

        Raises:
            AnnotationError: ``thickStart`` or the last base before ``thickEnd`` lies in an intron.
        """
        if self.thick_start == self.thick_end:
            return None
        first, last = self._plus_offset(self.thick_start), self._plus_offset(self.thick_end - 1)
        if first is None or last is None:
            raise AnnotationError(
                f"{self.where}: transcript {self.name}: thickStart..thickEnd ({self.thick_start}..{self.thick_end}) "
                "starts or ends in an intron, not in an exon block; fix the CDS or the blocks",
                reason="cds_outside_exons",
                transcript_id=self.name,
            )
        if self.strand == "+":
            return first, last + 1
        return self.length - 1 - last, self.length - first


def _unsigned(text: str, column: str, where: str, name: str) -> int:
    if not _UNSIGNED.match(text):
        raise AnnotationError(
            f"{where}: {column} {text!r} is not a non-negative integer (transcript {name or '?'})",
            reason="malformed_line",
            transcript_id=name,
        )
    return int(text)


def _integer_list(text: str, column: str, where: str, name: str) -> list[int]:
    items = text.strip().rstrip(",").split(",")
    return [_unsigned(item.strip(), f"{column} item", where, name) for item in items]


def parse_bed12_line(line: str, where: str) -> BedTranscript | None:
    """Parse one BED12 line; ``None`` for a blank, comment, ``track`` or ``browser`` line.

    Args:
        line: The line, its end removed.
        where: ``file:line``, named by every error.

    Raises:
        AnnotationError: Fewer than 12 columns, a field that is not an integer, a strand other
            than ``+``/``-``, ``blockCount`` unlike the number of sizes or starts, blocks that
            do not start at 0 or end at ``chromEnd``, are empty, unsorted or overlapping, or a
            thick range outside ``chromStart..chromEnd``.
    """
    check_utf8(line, where)
    if not line.strip() or line.startswith(_HEADER_PREFIXES):
        return None
    fields = line.split("\t") if "\t" in line else line.split()
    if len(fields) < 12:
        raise AnnotationError(
            f"{where}: {len(fields)} columns where BED12 has 12 (chrom, chromStart, chromEnd, name, score, strand, "
            "thickStart, thickEnd, itemRgb, blockCount, blockSizes, blockStarts); is this BED12, tab-separated?",
            reason="malformed_line",
        )
    chromosome, name, strand = fields[0].strip(), fields[3].strip(), fields[5].strip()

    def fail(problem: str, reason: str = "malformed_line") -> AnnotationError:
        return AnnotationError(f"{where}: transcript {name or '?'}: {problem}", reason=reason, transcript_id=name)

    if not chromosome or not name:
        raise fail("empty chrom or name column")
    start = _unsigned(fields[1].strip(), "chromStart", where, name)
    end = _unsigned(fields[2].strip(), "chromEnd", where, name)
    thick_start = _unsigned(fields[6].strip(), "thickStart", where, name)
    thick_end = _unsigned(fields[7].strip(), "thickEnd", where, name)
    count = _unsigned(fields[9].strip(), "blockCount", where, name)
    sizes = _integer_list(fields[10], "blockSizes", where, name)
    starts = _integer_list(fields[11], "blockStarts", where, name)
    if strand not in ("+", "-"):
        raise fail(f"strand {strand!r} is not '+' or '-'; a transcript model needs its strand", "bad_strand")
    if start >= end:
        raise fail(f"chromStart {start} is not before chromEnd {end}")
    if count < 1 or count != len(sizes) or count != len(starts):
        raise fail(f"blockCount {count} but {len(sizes)} blockSizes and {len(starts)} blockStarts")
    if not start <= thick_start <= thick_end <= end:
        raise fail(f"thickStart..thickEnd {thick_start}..{thick_end} is not inside chromStart..chromEnd {start}..{end}")
    blocks = [(start + offset, start + offset + size) for offset, size in zip(starts, sizes, strict=True)]
    if starts[0] != 0 or blocks[-1][1] != end:
        raise fail(
            f"the blocks span {blocks[0][0]}..{blocks[-1][1]}, not chromStart..chromEnd {start}..{end} "
            "(the first blockStart must be 0 and the last block must end at chromEnd)"
        )
    for index, (block_start, block_end) in enumerate(blocks):
        if block_end == block_start:
            raise fail(f"block {index + 1} has size 0")
        if index and block_start < blocks[index - 1][1]:
            raise fail(
                f"block {index + 1} ({block_start}..{block_end}) starts before block {index} ends "
                f"({blocks[index - 1][1]}): blocks must be sorted and must not overlap",
                "overlapping_exons",
            )
    return BedTranscript(name, chromosome, start, end, strand, thick_start, thick_end, blocks, where)


def read_bed12(
    bed_path: str | os.PathLike[str], *, on_error: str = "raise", skipped: Counter[str] | None = None
) -> list[BedTranscript]:
    """The transcripts of a BED12 file (plain or gzip-compressed), in file order.

    Raises:
        AnnotationError: A bad line (``on_error="raise"``), a name used twice, or a file with no
            transcript; every message names ``file:line``.
    """
    check_on_error(on_error)
    path = Path(bed_path)
    if not path.is_file():
        raise AnnotationError(f"{path}: the BED12 file does not exist or is not a file", reason="unreadable_file")
    transcripts: list[BedTranscript] = []
    seen: dict[str, str] = {}
    for number, line in iter_lines(path):
        where = f"{path}:{number}"
        try:
            transcript = parse_bed12_line(line, where)
            if transcript is None:
                continue
            if transcript.name in seen:
                raise AnnotationError(
                    f"{where}: transcript {transcript.name} appears again (first at {seen[transcript.name]}); "
                    "BED names must be unique to be matched to the FASTA",
                    reason="duplicate_transcript",
                    transcript_id=transcript.name,
                )
            seen[transcript.name] = where
            transcripts.append(transcript)
        except AnnotationError as error:
            handle_problem(error, on_error, skipped)
    if not transcripts and not (skipped and sum(skipped.values())):
        raise AnnotationError(f"{path}: the BED12 file has no transcript lines", reason="no_transcripts")
    return transcripts


def locus_ids(transcripts: list[BedTranscript]) -> dict[str, str]:
    """Transcript name -> locus id: same chromosome and strand, exons overlapping (transitively).

    The id is ``chrom:start-end:strand``, the 0-based half-open span of the locus.
    """
    groups: dict[tuple[str, str], list[BedTranscript]] = {}
    for transcript in transcripts:
        groups.setdefault((transcript.chromosome, transcript.strand), []).append(transcript)
    parent = {transcript.name: transcript.name for transcript in transcripts}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for members in groups.values():
        exons = sorted((start, end, t.name) for t in members for start, end in t.blocks)
        reach, owner = -1, ""
        for start, end, name in exons:
            if start < reach:
                parent[root(name)] = root(owner)
            if end > reach:
                reach, owner = end, name
    spans: dict[str, tuple[str, int, int, str]] = {}
    for t in transcripts:
        key = root(t.name)
        chromosome, low, high, strand = spans.get(key, (t.chromosome, t.start, t.end, t.strand))
        spans[key] = (chromosome, min(low, t.start), max(high, t.end), strand)
    return {t.name: "{}:{}-{}:{}".format(*spans[root(t.name)]) for t in transcripts}


def _bed_name_of(first_word: str, names: dict[str, BedTranscript]) -> str | None:
    """The BED name a FASTA id stands for: itself, else its longest ``_``-suffix that is a name."""
    if first_word in names:
        return first_word
    parts = first_word.split("_")
    for index in range(1, len(parts)):
        suffix = "_".join(parts[index:])
        if suffix in names:
            return suffix
    return None


def _check_header_locus(header: str, transcript: BedTranscript, where: str) -> None:
    """Where a UCSC header gives ``range=`` and ``strand=``, they must be the BED line's."""
    found = _RANGE.search(header)
    if found and (found.group(1), int(found.group(2)) - 1, int(found.group(3))) != (
        transcript.chromosome,
        transcript.start,
        transcript.end,
    ):
        raise AnnotationError(
            f"{where}: the FASTA header says range={found.group(1)}:{found.group(2)}-{found.group(3)} but "
            f"{transcript.where} puts {transcript.name} at {transcript.chromosome}:{transcript.start + 1}-"
            f"{transcript.end}; the record was matched to the wrong BED line, or the files are of different builds",
            reason="locus_mismatch",
            transcript_id=transcript.name,
        )
    strand = _STRAND.search(header)
    if strand and strand.group(1) != transcript.strand:
        raise AnnotationError(
            f"{where}: the FASTA header says strand={strand.group(1)} but {transcript.where} says "
            f"{transcript.strand} for {transcript.name}",
            reason="locus_mismatch",
            transcript_id=transcript.name,
        )


def read_bed12_fasta(
    bed_path: str | os.PathLike[str],
    fasta_path: str | os.PathLike[str],
    *,
    species: str,
    gene_id: str = "locus",
    on_error: str = "raise",
    skipped: Counter[str] | None = None,
) -> Iterator[TranscriptRecord]:
    """Yield the transcripts of a BED12 file with their sequences from a transcript FASTA.

    Records come in FASTA order; the FASTA is streamed, so only the BED lines are held in memory.
    The CDS (``thickStart``..``thickEnd``, converted to transcript coordinates on both strands)
    gets the flag ``cds_start_NF`` where it does not start with ``ATG`` and ``cds_end_NF`` where
    it does not end with a stop codon or is not a multiple of 3; biotype is ``protein_coding``
    with a CDS, ``""`` without.

    Args:
        bed_path: BED12 file (plain or gzip-compressed).
        fasta_path: Transcript FASTA (plain or gzip-compressed); see the module notes for how its
            headers are matched to BED names.
        species: Species, e.g. ``"homo_sapiens"``.
        gene_id: ``"locus"`` (overlapping transcripts on one strand share a gene id) or
            ``"name"`` (the BED name).
        on_error: ``"raise"`` or ``"skip"`` (count in ``skipped``) for a bad record.
        skipped: Counter of skip reasons, updated in place.

    Raises:
        AnnotationError: A bad BED line or FASTA record (``on_error="raise"``): every message
            names the file and line and the transcript; e.g. a sequence whose length is not the
            sum of its exon blocks, or a BED transcript the FASTA lacks.
    """
    check_on_error(on_error)
    if gene_id not in ("locus", "name"):
        raise ValueError(f"gene_id must be 'locus' or 'name', got {gene_id!r}")
    fasta = Path(fasta_path)
    transcripts = read_bed12(bed_path, on_error=on_error, skipped=skipped)
    by_name = {transcript.name: transcript for transcript in transcripts}
    genes = locus_ids(transcripts) if gene_id == "locus" else {name: name for name in by_name}
    done: set[str] = set()
    for entry in iter_fasta(fasta, "transcript FASTA"):
        name = _bed_name_of(entry.name, by_name)
        if name is None or name in done:
            continue  # not in the BED, or a second record for the same transcript (the first is used)
        done.add(name)
        transcript = by_name[name]
        where = f"{fasta}:{entry.line}"
        try:
            if entry.problem is not None:
                raise entry.problem
            _check_header_locus(entry.header, transcript, where)
            sequence = entry.sequence
            if len(sequence) != transcript.length:
                raise AnnotationError(
                    f"{where}: transcript {name} has {len(sequence):,} nt but its exon blocks at {transcript.where} "
                    f"sum to {transcript.length:,} nt; the FASTA and the BED describe different transcripts",
                    reason="length_mismatch",
                )
            cds = transcript.cds()
            flags: list[str] = []
            if cds is not None:
                upper = sequence[cds[0] : cds[1]].upper().replace("U", "T")
                if not upper.startswith("ATG"):
                    flags.append("cds_start_NF")
                if upper[-3:] not in STOP_CODONS or len(upper) % 3:
                    flags.append("cds_end_NF")
            yield TranscriptRecord(
                transcript_id=name,
                gene_id=genes[name],
                gene_name="",
                species=species,
                sequence=sequence,
                exon_ends=transcript.exon_ends(),
                cds_start=cds[0] if cds else -1,
                cds_end=cds[1] if cds else -1,
                biotype="protein_coding" if cds else "",
                flags=flags,
            )
        except AnnotationError as error:
            error.transcript_id = error.transcript_id or name
            handle_problem(error, on_error, skipped)
    for transcript in transcripts:
        if transcript.name not in done:
            problem = AnnotationError(
                f"{transcript.where}: transcript {transcript.name} is not in the transcript FASTA {fasta}",
                reason="transcript_missing_from_fasta",
                transcript_id=transcript.name,
            )
            if on_error == "raise":
                raise problem
            count_skip(skipped, problem.reason, transcript.name)
