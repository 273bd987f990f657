"""The mRNABench parquet layout -> transcript records.

mRNABench (and Orthrus) store one transcript a row: ``sequence`` plus per-nucleotide ``cds``
(1 at the first nucleotide of every codon) and ``splice`` (1 at the last nucleotide of every
exon) arrays, a ``gene`` and a ``target``. The file is read in batches (pyarrow), never whole.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import AnnotationError, check_on_error, handle_problem
from .records import TranscriptRecord
from .structure import strip_version

_ID_COLUMNS = ("transcript_id", "transcript", "id", "name")


def tracks_to_annotation(
    cds: Sequence[int] | np.ndarray, splice: Sequence[int] | np.ndarray
) -> tuple[list[int], int, int]:
    """Convert mRNABench per-nucleotide tracks to record fields.

    Args:
        cds: Length-L 0/1 array, 1 at the first nucleotide of every codon of the CDS.
        splice: Length-L 0/1 array, 1 at the last nucleotide of every exon.

    Returns:
        ``(exon_ends, cds_start, cds_end)``: 0-based exclusive exon ends (the last is L, added if
        the track leaves it out), and the CDS as 0-based half-open (the last marked codon's three
        nucleotides included, clipped to L), or ``(-1, -1)`` without marks.
    """
    cds_array, splice_array = np.asarray(cds), np.asarray(splice)
    length = len(splice_array)
    exon_ends = (np.flatnonzero(splice_array) + 1).tolist()
    if not exon_ends or exon_ends[-1] != length:
        exon_ends.append(length)
    codon_starts = np.flatnonzero(cds_array)
    if codon_starts.size == 0:
        return exon_ends, -1, -1
    return exon_ends, int(codon_starts[0]), min(int(codon_starts[-1]) + 3, len(cds_array))


def _record_from_row(row: dict[str, Any], number: int, path: Path, species: str) -> TranscriptRecord:
    """The record of data row ``number`` (counted from 1, as the messages and the fallback id count it)."""
    transcript_id = next((str(row[c]) for c in _ID_COLUMNS if row.get(c) is not None), f"{path.stem}:{number}")
    sequence = row.get("sequence")
    if not isinstance(sequence, str) or not sequence:
        raise AnnotationError(
            f"{path} row {number} ({transcript_id}): no sequence",
            reason="empty_sequence",
            transcript_id=transcript_id,
        )
    cds, splice = row.get("cds"), row.get("splice")
    if cds is None or splice is None or len(cds) != len(sequence) or len(splice) != len(sequence):
        raise AnnotationError(
            f"{path} row {number} ({transcript_id}): the cds/splice tracks must have one value per nucleotide "
            f"({len(sequence)})",
            reason="track_length_mismatch",
            transcript_id=transcript_id,
        )
    exon_ends, cds_start, cds_end = tracks_to_annotation(cds, splice)
    gene = str(row["gene"]) if row.get("gene") is not None else transcript_id
    flags = ["cds_end_NF"] if cds_start >= 0 and (cds_end - cds_start) % 3 else []
    return TranscriptRecord(
        transcript_id=transcript_id,
        gene_id=strip_version(gene),
        gene_name=str(row.get("gene_name") or ""),
        species=str(row.get("species") or species),
        sequence=sequence.upper(),
        exon_ends=exon_ends,
        cds_start=cds_start,
        cds_end=cds_end,
        biotype="protein_coding" if cds_start >= 0 else "",
        flags=flags,
    )


def read_mrnabench_parquet(
    path: str | os.PathLike[str],
    *,
    species: str = "homo_sapiens",
    on_error: str = "raise",
    skipped: Counter[str] | None = None,
) -> Iterator[TranscriptRecord]:
    """Yield the transcripts of an mRNABench-layout parquet file.

    Args:
        path: Parquet with ``sequence``, ``cds``, ``splice`` and optionally ``gene``, an id column
            (``transcript_id``/``transcript``/``id``/``name``) and ``species``.
        species: Species where the file has no ``species`` column.
        on_error: ``"raise"`` or ``"skip"`` (counted in ``skipped``) for a bad row.
        skipped: Counter of skip reasons, updated in place.
    """
    check_on_error(on_error)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mRNABench parquet not found: {path}")
    try:
        parquet = pq.ParquetFile(path)
    except pa.ArrowException as error:
        raise AnnotationError(f"{path}: not a readable Parquet file ({error})", reason="unreadable_file") from None
    missing = {"sequence", "cds", "splice"} - set(parquet.schema_arrow.names)
    if missing:
        raise ValueError(f"{path} is not in the mRNABench layout: no column(s) {', '.join(sorted(missing))}")
    number = 1  # data rows counted from 1
    for batch in parquet.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            try:
                yield _record_from_row(row, number, path, species)
            except AnnotationError as error:
                handle_problem(error, on_error, skipped)
            number += 1
