"""SQANTI3 output (transcript FASTA + GTF + classification table) -> transcript records.

The GTF gives each isoform's exons (it has only transcript/exon rows); the FASTA its mature
sequence (checked against the summed exon lengths); the classification table its gene
(``associated_gene``, version stripped), whether it is coding, and its CDS (``CDS_start`` /
``CDS_end``: 1-based inclusive in transcript coordinates, stop codon included). Only isoforms with
``filter_result == "Isoform"`` are kept when the table has that column (output of SQANTI3's
filter). An ORF that does not start with M (``ORF_seq``) is flagged ``cds_start_NF``; one without
a final ``*``, ``cds_end_NF``. The table is read once (the needed columns only) and kept as a
dict: a few hundred bytes per isoform.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import AnnotationError, check_on_error
from .fasta import TranscriptFasta, records_from_exon_annotation
from .records import TranscriptRecord
from .structure import TranscriptRows, exon_ends_of, ordered_exons, strip_version

_REQUIRED_COLUMNS = ("isoform", "associated_gene", "coding", "CDS_start", "CDS_end")
_OPTIONAL_COLUMNS = ("structural_category", "ORF_seq", "filter_result")


def read_classification(path: Path) -> dict[str, dict[str, Any]]:
    """The classification table, keyed by isoform id, reduced to the columns the reader uses.

    Raises:
        ValueError: A required column is missing.
    """
    try:
        header = pd.read_csv(path, sep="\t", nrows=0).columns
    except (ValueError, EOFError, OSError) as error:  # pandas parser, decoding and gzip errors
        raise AnnotationError(
            f"{path}: cannot read the SQANTI3 classification table: {error}", reason="unreadable_file"
        ) from None
    missing = [column for column in _REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ValueError(f"SQANTI3 classification table {path} lacks the column(s) {', '.join(missing)}")
    columns = [*_REQUIRED_COLUMNS, *(column for column in _OPTIONAL_COLUMNS if column in header)]
    try:
        table = pd.read_csv(path, sep="\t", usecols=columns, dtype={"associated_gene": str, "ORF_seq": str})
    except (ValueError, EOFError) as error:
        raise AnnotationError(
            f"{path}: cannot read the SQANTI3 classification table: {error}", reason="unreadable_file"
        ) from None
    return table.set_index("isoform").to_dict(orient="index")


def _describe(rows: TranscriptRows, sequence: str, row: dict[str, Any], where: str) -> TranscriptRecord:
    exons = ordered_exons(rows)
    flags = [str(row["structural_category"])] if pd.notna(row.get("structural_category")) else []
    cds_start = cds_end = -1
    if row["coding"] == "coding":
        if pd.isna(row["CDS_start"]) or pd.isna(row["CDS_end"]):
            raise AnnotationError(
                f"{where}: coding isoform {rows.transcript_id} has no CDS_start/CDS_end", reason="cds_outside_exons"
            )
        cds_start, cds_end = int(row["CDS_start"]) - 1, int(row["CDS_end"])  # 1-based inclusive -> half-open
        if not 0 <= cds_start < cds_end <= len(sequence):
            raise AnnotationError(
                f"{where}: isoform {rows.transcript_id}: CDS {cds_start + 1}-{cds_end} is outside its "
                f"{len(sequence)} nt",
                reason="cds_outside_exons",
            )
        orf = row.get("ORF_seq")
        if isinstance(orf, str) and orf:
            flags += [] if orf.startswith("M") else ["cds_start_NF"]
            flags += [] if orf.endswith("*") else ["cds_end_NF"]
    return TranscriptRecord(
        transcript_id=rows.transcript_id,
        gene_id=strip_version(str(row["associated_gene"])),
        gene_name="",
        species="",
        sequence=sequence,
        exon_ends=exon_ends_of(exons),
        cds_start=cds_start,
        cds_end=cds_end,
        biotype="protein_coding" if cds_start >= 0 else "non_coding",
        flags=sorted(set(flags)),
    )


def read_sqanti(
    fasta_path: str | os.PathLike[str],
    gtf_path: str | os.PathLike[str],
    classification_path: str | os.PathLike[str],
    *,
    species: str = "homo_sapiens",
    on_error: str = "raise",
    skipped: Counter[str] | None = None,
) -> Iterator[TranscriptRecord]:
    """Yield the isoforms of a SQANTI3 run that pass its filter.

    Args:
        fasta_path: SQANTI3 transcript FASTA (e.g. ``*.filtered.fasta``).
        gtf_path: The matching GTF (exon rows; ids like ``PB.3796.2``).
        classification_path: The classification table (``*_classification.txt``).
        species: Species of the sample.
        on_error: ``"raise"`` or ``"skip"`` for a bad isoform: absent from the table or the FASTA,
            length not equal to its exons, CDS outside the sequence. Isoforms the table marks as
            artifacts are left out and counted as ``sqanti_artifact`` either way.
        skipped: Counter of skip reasons, updated in place.
    """
    check_on_error(on_error)
    classification_path = Path(classification_path)
    table = read_classification(classification_path)
    fasta = TranscriptFasta(fasta_path)

    def describe(rows: TranscriptRows, sequence: str, header: str) -> TranscriptRecord | None:
        row = table.get(rows.transcript_id)
        if row is None:
            raise AnnotationError(
                f"{rows.where}: isoform {rows.transcript_id} is not in the classification table {classification_path}",
                reason="transcript_missing_from_table",
            )
        if row.get("filter_result", "Isoform") != "Isoform":
            if skipped is not None:
                skipped["sqanti_artifact"] += 1
            return None
        return _describe(rows, sequence, row, f"{classification_path} (isoform {rows.transcript_id})")

    try:
        yield from records_from_exon_annotation(
            fasta, Path(gtf_path), species=species, on_error=on_error, skipped=skipped, describe=describe
        )
    finally:
        fasta.close()
