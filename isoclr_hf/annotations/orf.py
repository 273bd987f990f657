"""Transcript FASTA without structure: the CDS inferred as the longest ORF.

A transcript FASTA that carries no CDS coordinates (DM3Loc's RefSeq mRNAs, a de novo assembly)
still describes coding RNA. :func:`infer_cds` finds the longest open reading frame that starts at
an ``ATG`` and ends at a stop codon (``TAA``/``TAG``/``TGA``, included), in the three frames of the
given strand only (a transcript FASTA is already 5'->3'). Records that get their CDS this way
carry the flag ``cds_inferred`` (:attr:`TranscriptRecord.cds_inferred`), so that a caller can tell
an inferred CDS from an annotated one; the flag is stored with the record in the corpus.

On RefSeq mRNAs, whose single annotated CDS is usually the longest ORF, the inferred CDS equals
the annotated one for most transcripts (measured in ``tests/annotations/test_orf.py``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import AnnotationError, check_on_error, handle_problem
from .records import TranscriptRecord
from .seqfile import iter_fasta

CDS_INFERRED_FLAG = "cds_inferred"
EXONS_UNKNOWN_FLAG = "exons_unknown"
DEFAULT_MIN_CODONS = 30
"""Shortest ORF taken as a CDS, in codons, the stop codon included (30 codons = 29 amino acids)."""

# DM3Loc's 7 compartments, in the order of its LABEL7 header field (DM3Loc's own code).
DM3LOC_COMPARTMENTS = (
    "Nucleus",
    "Exosome",
    "Cytosol",
    "Cytoplasm",
    "Ribosome",
    "Membrane",
    "Endoplasmic reticulum",
)

_A, _C, _G, _T = (ord(base) for base in "ACGT")


def infer_cds(sequence: str, min_codons: int = DEFAULT_MIN_CODONS) -> tuple[int, int] | None:
    """The longest ``ATG``..stop open reading frame of ``sequence``, or ``None``.

    Only the given strand is searched (three frames). The ORF starts at the first ``ATG`` after
    the previous in-frame stop codon and includes its stop codon; an ORF that runs off the 3' end
    without a stop is not taken. Between ORFs of equal length the 5'-most wins.

    Args:
        sequence: Transcript sequence 5'->3' (either case; ``U`` is read as ``T``).
        min_codons: Shortest ORF accepted, in codons, the stop codon included.

    Returns:
        ``(start, end)``, 0-based half-open in transcript coordinates, ``end - start`` a multiple
        of 3 and ``sequence[end - 3:end]`` a stop codon; ``None`` if no ORF is that long.
    """
    if min_codons < 1:
        raise ValueError(f"min_codons must be at least 1, got {min_codons}")
    bases = np.frombuffer(sequence.upper().replace("U", "T").encode("ascii", "replace"), dtype=np.uint8)
    if bases.size < 3 * min_codons:
        return None
    first, second, third = bases[:-2], bases[1:-1], bases[2:]
    is_atg = (first == _A) & (second == _T) & (third == _G)
    is_stop = (first == _T) & (((second == _A) & ((third == _A) | (third == _G))) | ((second == _G) & (third == _A)))
    best: tuple[int, int] | None = None
    for frame in range(3):
        starts = np.flatnonzero(is_atg[frame::3])  # in codons of this frame
        stops = np.flatnonzero(is_stop[frame::3])
        if not starts.size or not stops.size:
            continue
        previous = np.concatenate(([-1], stops[:-1]))
        first_start = np.searchsorted(starts, previous + 1)  # first ATG after the previous stop
        found = first_start < starts.size
        candidate = np.where(found, starts[np.minimum(first_start, starts.size - 1)], -1)
        valid = found & (candidate < stops)
        if not valid.any():
            continue
        lengths = np.where(valid, stops + 1 - candidate, 0)
        index = int(np.argmax(lengths))  # first of the longest: the 5'-most in this frame
        length = int(lengths[index])
        start = frame + 3 * int(candidate[index])
        if length >= min_codons and (
            best is None or 3 * length > best[1] - best[0] or (3 * length == best[1] - best[0] and start < best[0])
        ):
            best = (start, start + 3 * length)
    return best


def _record(
    transcript_id: str,
    sequence: str,
    *,
    species: str,
    gene_id: str,
    gene_name: str,
    min_codons: int,
) -> TranscriptRecord:
    cds = infer_cds(sequence, min_codons)
    return TranscriptRecord(
        transcript_id=transcript_id,
        gene_id=gene_id or transcript_id,
        gene_name=gene_name,
        species=species,
        sequence=sequence,
        exon_ends=[len(sequence)],
        cds_start=cds[0] if cds else -1,
        cds_end=cds[1] if cds else -1,
        biotype="protein_coding" if cds else "",
        flags=sorted({EXONS_UNKNOWN_FLAG, *([CDS_INFERRED_FLAG] if cds else [])}),
    )


def read_fasta_inferring_cds(
    fasta_path: str | os.PathLike[str],
    *,
    species: str,
    min_codons: int = DEFAULT_MIN_CODONS,
    on_error: str = "raise",
    skipped: Counter[str] | None = None,
) -> Iterator[TranscriptRecord]:
    """Yield the transcripts of a FASTA without structure, each with its CDS inferred.

    The id is the first word of the header and is also the gene id (the file names no gene).
    The exon structure is unknown (``exon_ends == [length]``, flag ``exons_unknown``). The CDS is
    :func:`infer_cds` (flag ``cds_inferred``, biotype ``protein_coding``); a transcript without
    an ORF of ``min_codons`` is non-coding (no CDS, biotype ``""``).

    Args:
        fasta_path: Transcript FASTA, 5'->3', plain or gzip-compressed.
        species: Species, e.g. ``"homo_sapiens"``.
        min_codons: Shortest ORF taken as a CDS (codons, stop included).
        on_error: ``"raise"`` or ``"skip"`` (count in ``skipped``) for a bad record.
        skipped: Counter of skip reasons, updated in place.

    Raises:
        AnnotationError: A bad record (``on_error="raise"``) or a bad file, naming file and line.
    """
    check_on_error(on_error)
    seen: dict[str, int] = {}
    path = Path(fasta_path)
    for entry in iter_fasta(path, "transcript FASTA"):
        try:
            if entry.problem is not None:
                raise entry.problem
            _check_unique(path, entry.name, entry.line, seen)
            yield _record(entry.name, entry.sequence, species=species, gene_id="", gene_name="", min_codons=min_codons)
        except AnnotationError as error:
            error.transcript_id = error.transcript_id or entry.name
            handle_problem(error, on_error, skipped)


def _check_unique(path: Path, transcript_id: str, line: int, seen: dict[str, int]) -> None:
    if transcript_id in seen:
        raise AnnotationError(
            f"{path}:{line}: transcript {transcript_id} appears again (first at line {seen[transcript_id]}); "
            "give every record its own id",
            reason="duplicate_transcript",
            transcript_id=transcript_id,
        )
    seen[transcript_id] = line


def parse_dm3loc_header(header: str, where: str) -> tuple[str, str, str, list[int]]:
    """``(accession, Entrez gene id, gene symbol, 7 labels)`` of a DM3Loc header.

    The header is ``LABEL7,ACCNUM:NM_...,Gene_ID:<Entrez>,Gene_Name:<symbol>``, LABEL7 a string
    of seven ``0``/``1`` in the order of :data:`DM3LOC_COMPARTMENTS`.

    Raises:
        AnnotationError: The header has another layout (naming ``where``).
    """
    fields = header.split(",")
    values: dict[str, str] = {}
    for field in fields[1:]:
        key, _, value = field.partition(":")
        values[key.strip()] = value.strip()
    labels = fields[0].strip()
    if len(fields) != 4 or len(labels) != 7 or set(labels) - {"0", "1"} or not values.get("ACCNUM"):
        raise AnnotationError(
            f"{where}: not a DM3Loc header (expected '>LABEL7,ACCNUM:NM_...,Gene_ID:<Entrez>,Gene_Name:<symbol>' "
            f"with LABEL7 seven 0/1 characters), got {header[:80]!r}",
            reason="malformed_line",
        )
    return values["ACCNUM"], values.get("Gene_ID", ""), values.get("Gene_Name", ""), [int(c) for c in labels]


def read_dm3loc_fasta(
    fasta_path: str | os.PathLike[str],
    *,
    species: str = "homo_sapiens",
    min_codons: int = DEFAULT_MIN_CODONS,
    on_error: str = "raise",
    skipped: Counter[str] | None = None,
) -> tuple[list[TranscriptRecord], np.ndarray]:
    """The mRNAs of DM3Loc's localisation FASTA, with inferred CDS, and their 7 localisation labels.

    A reader, not a task: it returns the records and the label matrix; splitting and scoring are
    the caller's. Records: ``transcript_id`` the RefSeq accession (``NM_...``), ``gene_id`` the
    Entrez gene id (the accession where the header gives none), ``gene_name`` the symbol (the
    join key to the Saluki half-life tables), exons unknown, CDS inferred as in
    :func:`read_fasta_inferring_cds`.

    Args:
        fasta_path: DM3Loc FASTA, plain or gzip-compressed (``data/pretraining/refseq_human_mrna_dm3loc``).
        species: Species of every record.
        min_codons: Shortest ORF taken as a CDS (codons, stop included).
        on_error: ``"raise"`` or ``"skip"`` (count in ``skipped``) for a bad record.
        skipped: Counter of skip reasons, updated in place.

    Returns:
        ``(records, labels)``: ``labels`` is ``uint8`` of shape ``(len(records), 7)``, row ``i``
        for ``records[i]``, columns in the order of :data:`DM3LOC_COMPARTMENTS`.

    Raises:
        AnnotationError: A bad record (``on_error="raise"``) or a bad file, naming file and line.
    """
    check_on_error(on_error)
    path = Path(fasta_path)
    records: list[TranscriptRecord] = []
    labels: list[list[int]] = []
    seen: dict[str, int] = {}
    for entry in iter_fasta(path, "DM3Loc FASTA"):
        try:
            if entry.problem is not None:
                raise entry.problem
            accession, gene_id, gene_name, row = parse_dm3loc_header(entry.header, f"{path}:{entry.line}")
            _check_unique(path, accession, entry.line, seen)
            records.append(
                _record(
                    accession,
                    entry.sequence,
                    species=species,
                    gene_id=gene_id,
                    gene_name=gene_name,
                    min_codons=min_codons,
                )
            )
            labels.append(row)
        except AnnotationError as error:
            error.transcript_id = error.transcript_id or entry.name
            handle_problem(error, on_error, skipped)
    return records, np.asarray(labels, dtype=np.uint8).reshape(-1, len(DM3LOC_COMPARTMENTS))
