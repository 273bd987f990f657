"""Streaming FASTA: one record at a time, plain or gzip-compressed, with the line of every header.

The indexed reader (:mod:`.fasta`, pyfaidx) needs a plain or bgzip file; the transcript FASTA files
that tools publish are often plain gzip (CPAT's ``Human_test_coding_mRNA.fa.gz``, DM3Loc's
sequences), which can only be read front to back. This reader does that, keeps only the current
record in memory and says where every problem is (``file:line``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import AnnotationError
from .files import check_utf8, iter_lines

# IUPAC nucleotide codes (U included), either case; gaps and stops are not bases of a transcript.
_NOT_BASE = re.compile(r"[^ACGTUNRYKMSWBDHVacgtunrykmswbdhv]")


@dataclass
class FastaEntry:
    """One FASTA record.

    Attributes:
        header: The header line without ``>`` (leading and trailing white space removed).
        sequence: The bases, lines joined, case kept.
        line: 1-based line number of the header, for error messages.
        problem: Why the record cannot be used (no bases, a character that is not a nucleotide
            code), or ``None``; the reader carries on to the next record, and the caller raises
            or counts it (see :func:`.errors.handle_problem`).
    """

    header: str
    sequence: str
    line: int
    problem: AnnotationError | None = None

    @property
    def name(self) -> str:
        """The first word of the header (the record's id)."""
        words = self.header.split()
        return words[0] if words else ""


def iter_fasta(path: str | Path, what: str = "FASTA") -> Iterator[FastaEntry]:
    """Yield the records of a FASTA file (optionally gzipped; gzip is told by its magic bytes).

    Blank lines and ``;`` comment lines are skipped; sequence lines may be wrapped at any width.

    Args:
        path: The FASTA file.
        what: What the file is, for messages (``"transcript FASTA"``).

    A record with no bases or with a character that is not a nucleotide (IUPAC) code is yielded
    with its ``problem`` set (naming ``file:line``), so that a caller can skip it and go on.

    Raises:
        AnnotationError: The file does not exist as a file, is not text, holds sequence before
            the first header, a header with no name, or no record at all; corrupt gzip. Every
            message about a line names ``file:line``.
    """
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: the {what} does not exist or is not a file", reason="unreadable_file")
    header, header_line, pieces = "", 0, []
    seen_any = False
    problem: AnnotationError | None = None
    for number, text in iter_lines(path):
        where = f"{path}:{number}"
        check_utf8(text, where)
        text = text.strip()
        if not text or text.startswith(";"):
            continue
        if text.startswith(">"):
            if header_line:
                yield _finish(path, header, header_line, pieces, problem)
            header, header_line, pieces, problem = text[1:].strip(), number, [], None
            seen_any = True
            if not header:
                raise AnnotationError(
                    f"{where}: a FASTA header with no name ('>' alone); give every record an id",
                    reason="malformed_line",
                )
            continue
        if not header_line:
            raise AnnotationError(
                f"{where}: sequence before the first FASTA header ('>name'); is this a FASTA file?",
                reason="malformed_line",
            )
        bad = _NOT_BASE.search(text)
        if bad and problem is None:
            problem = AnnotationError(
                f"{where}: {bad.group()!r} at column {bad.start() + 1} of record {header.split()[0]} is not a "
                "nucleotide code (IUPAC letters only; remove gaps, stops and spaces)",
                reason="malformed_line",
                transcript_id=header.split()[0],
            )
        pieces.append(text)
    if header_line:
        yield _finish(path, header, header_line, pieces, problem)
    if not seen_any:
        raise AnnotationError(f"{path}: the {what} has no records (no '>' header line)", reason="empty_file")


def _finish(path: Path, header: str, line: int, pieces: list[str], problem: AnnotationError | None) -> FastaEntry:
    entry = FastaEntry(header=header, sequence="".join(pieces), line=line, problem=problem)
    if not entry.sequence and problem is None:
        entry.problem = AnnotationError(
            f"{path}:{line}: record {entry.name} has no sequence", reason="empty_sequence", transcript_id=entry.name
        )
    return entry
