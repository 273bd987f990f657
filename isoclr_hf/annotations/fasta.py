"""Transcript FASTA (GENCODE/Ensembl cDNA, SQANTI3, ...) -> transcript records.

Sequences are read through a ``.fai`` index (pyfaidx), one transcript at a time. The exon
structure comes from an optional GTF/GFF3 with the same transcript ids (sequence length must equal
the summed exon lengths); the CDS from the annotation's CDS rows, else from GENCODE headers
(``>ENST...|ENSG...|...|name|gene|length|UTR5:1-60|CDS:61-1041|UTR3:1042-2618|``); DM3Loc headers
(``>0100000,ACCNUM:NM_001507,Gene_ID:2862,Gene_Name:MLNR``) give the accession, Entrez id and symbol.
Line ends (LF or CRLF) are stripped from headers. Two records with one transcript id are refused, naming
the id and the header lines (which of them is meant cannot be known; nothing is kept silently).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import AnnotationError, check_on_error, handle_problem
from .files import iter_lines
from .genome import check_fetched, open_fasta
from .gtf import iter_transcript_rows
from .orf import parse_dm3loc_header
from .records import TranscriptRecord
from .structure import (
    STOP_CODONS,
    TranscriptRows,
    cds_in_transcript,
    check_cds,
    exon_ends_of,
    infer_missing_stop_codon,
    ordered_exons,
    strip_version,
)

_REGION = re.compile(r"^(UTR5|CDS|UTR3):(\d+)-(\d+)$")
_DM3LOC = re.compile(r"^[01]{7},ACCNUM:")
SHOWN_DUPLICATES = 5  # repeated ids named in the error


@dataclass
class HeaderFields:
    """What a GENCODE transcript FASTA header says (empty strings / -1 where it says nothing)."""

    transcript_id: str
    gene_id: str = ""
    gene_name: str = ""
    biotype: str = ""
    cds_start: int = -1
    cds_end: int = -1


def parse_transcript_header(header: str) -> HeaderFields:
    """The fields of a transcript FASTA header in one of the layouts the package ships; line ends stripped.

    - DM3Loc (``>0100000,ACCNUM:NM_001507,Gene_ID:2862,Gene_Name:MLNR``): the RefSeq accession, the
      Entrez gene id and the gene symbol;
    - GENCODE (``>ENST...|ENSG...|...``) and anything else: :func:`parse_gencode_header`.
    """
    header = header.strip()
    if _DM3LOC.match(header):
        accession, entrez_id, symbol, _ = parse_dm3loc_header(header.split()[0], "FASTA header")
        return HeaderFields(transcript_id=accession, gene_id=entrez_id, gene_name=symbol)
    return parse_gencode_header(header)


def transcript_id_of(name: str) -> str:
    """The transcript id of a FASTA record name (its header's first word), as :func:`parse_transcript_header`."""
    return parse_transcript_header(name).transcript_id


def parse_gencode_header(header: str) -> HeaderFields:
    """Parse ``ENST|ENSG|OTTHUMG|OTTHUMT|transcript name|gene name|length|[UTR5:..|CDS:a-b|UTR3:..|][biotype|]``.

    Other headers (Ensembl cDNA ``ENST... cdna chromosome:...``, plain ids) give the id only.
    ``CDS:a-b`` is 1-based inclusive and includes the stop codon.
    """
    words = header.split()
    fields = words[0].split("|") if words else [""]
    parsed = HeaderFields(transcript_id=fields[0])
    if len(fields) < 7:
        return parsed
    parsed.gene_id, parsed.gene_name = strip_version(fields[1]), fields[5]
    for field in fields[7:]:
        match = _REGION.match(field)
        if match and match.group(1) == "CDS":
            parsed.cds_start, parsed.cds_end = int(match.group(2)) - 1, int(match.group(3))
        elif field and not match:
            parsed.biotype = field
    if parsed.cds_start >= 0 and not parsed.biotype:
        parsed.biotype = "protein_coding"
    return parsed


class TranscriptFasta:
    """Indexed transcript FASTA, looked up by transcript id with or without an Ensembl version."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"transcript FASTA not found: {self.path}")
        seen: set[str] = set()
        repeated: list[str] = []

        def key(name: str) -> str:  # called once per record as the index is read
            transcript_id = transcript_id_of(name)
            if transcript_id in seen:
                repeated.append(transcript_id)
            seen.add(transcript_id)
            return transcript_id

        self._fasta = open_fasta(self.path, "transcript FASTA", key_function=key, read_long_names=True,
                                 duplicate_action="first")
        if repeated:
            self._fasta.close()
            self._refuse_repeated_ids(repeated)
        self._by_unversioned: dict[str, str] | None = None

    def _refuse_repeated_ids(self, repeated: list[str]) -> None:
        """Name the ids used by several records, with their header lines: which one is meant is unknowable."""
        shown = list(dict.fromkeys(repeated))[:SHOWN_DUPLICATES]
        lines: dict[str, list[int]] = {transcript_id: [] for transcript_id in shown}
        for number, text in iter_lines(self.path):
            if text.startswith(">"):
                transcript_id = transcript_id_of(text[1:].split()[0]) if text[1:].split() else ""
                if transcript_id in lines:
                    lines[transcript_id].append(number)
        listing = "; ".join(f"{transcript_id} (lines {', '.join(map(str, numbers))})"
                            for transcript_id, numbers in lines.items())
        more = len(set(repeated)) - len(shown)
        raise AnnotationError(
            f"{self.path}: transcript id(s) used by more than one record: {listing}"
            + (f" and {more} more" if more > 0 else "")
            + "; transcript ids must be unique: rename or remove the repeats",
            reason="duplicate_transcript_id",
            transcript_id=shown[0],
        )

    def close(self) -> None:
        self._fasta.close()

    def ids(self) -> list[str]:
        return list(self._fasta.keys())

    def key_of(self, transcript_id: str) -> str | None:
        if transcript_id in self._fasta:
            return transcript_id
        if self._by_unversioned is None:
            self._by_unversioned = {strip_version(key): key for key in self._fasta.keys()}  # noqa: SIM118 (iterating yields records)
        return self._by_unversioned.get(strip_version(transcript_id))

    def sequence(self, key: str) -> str:
        """The transcript's bases, checked against the length the index gives it."""
        record = self._fasta[key]
        try:
            bases = str(record[:])
        except UnicodeDecodeError:
            bases = "\ufffd"  # bytes where bases should be: reported below as not bases
        return check_fetched(bases, len(record), f"transcript {key}", self.path)

    def header(self, key: str) -> str:
        try:
            return self._fasta[key].long_name.rstrip("\r\n")
        except UnicodeDecodeError:
            raise AnnotationError(
                f"{self.path}: the header of transcript {key} is not UTF-8 text; the .fai index does not fit the "
                "file (delete it to rebuild it)",
                reason="stale_index",
                transcript_id=key,
            ) from None


def records_from_exon_annotation(
    fasta: TranscriptFasta,
    annotation_path: Path,
    *,
    species: str,
    on_error: str,
    skipped: Counter[str] | None,
    describe: Callable[[TranscriptRows, str, str], TranscriptRecord | None],
) -> Iterator[TranscriptRecord]:
    """Records from an annotation's exon structure and a transcript FASTA's sequences.

    ``describe(rows, sequence, header)`` makes the record once the sequence is found and checked
    against the exons; it may return ``None`` to leave a transcript out silently or raise
    :class:`AnnotationError`.
    """

    def build(batch: list[TranscriptRows]) -> Iterator[TranscriptRecord]:
        for rows in batch:
            try:
                key = fasta.key_of(rows.transcript_id)
                if key is None:
                    raise AnnotationError(
                        f"{rows.where}: transcript {rows.transcript_id} is not in the transcript FASTA {fasta.path}",
                        reason="transcript_missing_from_fasta",
                    )
                sequence, exons = fasta.sequence(key), ordered_exons(rows)
                if len(sequence) != exon_ends_of(exons)[-1]:
                    raise AnnotationError(
                        f"{rows.where}: transcript {rows.transcript_id} has {len(sequence)} nt in {fasta.path} "
                        f"but its exons in {annotation_path} sum to {exon_ends_of(exons)[-1]} nt",
                        reason="length_mismatch",
                    )
                record = describe(rows, sequence, fasta.header(key))
                if record is not None:
                    record.species = species
                    yield record
            except AnnotationError as error:
                error.transcript_id = error.transcript_id or rows.transcript_id
                handle_problem(error, on_error, skipped)

    for batch in iter_transcript_rows(annotation_path, on_error=on_error, skipped=skipped):
        yield from build(batch)


def _checked_header_cds(
    transcript_id: str, sequence: str, header: HeaderFields, path: Path
) -> tuple[int, int, list[str]]:
    """The header's CDS after bounds checks, with flags for an incomplete CDS."""
    start, end = header.cds_start, header.cds_end
    if start < 0:
        return -1, -1, []
    if end > len(sequence) or start >= end:
        raise AnnotationError(
            f"{path}: transcript {transcript_id}: header CDS {start + 1}-{end} is outside its {len(sequence)} nt",
            reason="cds_outside_exons",
        )
    flags = []
    if sequence[start : start + 3] != "ATG":
        flags.append("cds_start_NF")
    if sequence[end - 3 : end] not in STOP_CODONS and sequence[end : end + 3] in STOP_CODONS:
        end += 3  # a header that left the stop codon out
    if sequence[end - 3 : end] not in STOP_CODONS or (end - start) % 3:
        flags.append("cds_end_NF")
    return start, end, flags


def read_transcript_fasta(
    fasta_path: str | os.PathLike[str],
    *,
    species: str,
    annotation_path: str | os.PathLike[str] | None = None,
    on_error: str = "raise",
    skipped: Counter[str] | None = None,
) -> Iterator[TranscriptRecord]:
    """Yield the transcripts of a transcript FASTA.

    Args:
        fasta_path: Transcript FASTA (mature sequences, 5'->3'); GENCODE headers are parsed for
            gene id, gene name, biotype and CDS.
        species: Species, e.g. ``"homo_sapiens"``.
        annotation_path: Optional GTF/GFF3 with the same transcript ids (versions may differ):
            gives exon ends, gene fields, biotype, flags and the CDS (from its CDS/stop_codon rows).
            Without it, exon structure is unknown (``exon_ends == [length]``, flag ``exons_unknown``)
            and only the FASTA's transcripts are read.
        on_error: ``"raise"`` or ``"skip"`` (count in ``skipped``) for a bad record.
        skipped: Counter of skip reasons, updated in place.
    """
    check_on_error(on_error)
    fasta = TranscriptFasta(fasta_path)
    try:
        if annotation_path is None:
            yield from _records_from_headers(fasta, species, on_error, skipped)
            return

        def describe(rows: TranscriptRows, sequence: str, header_text: str) -> TranscriptRecord:
            header = parse_transcript_header(header_text)
            exons = ordered_exons(rows)
            flags = list(rows.flags)
            if rows.cds:
                cds_start, cds_end = cds_in_transcript(rows, exons)
                cds_end = infer_missing_stop_codon(rows, sequence, cds_start, cds_end)
                check_cds(rows, sequence, cds_start, cds_end)
                flags = list(rows.flags)
            else:
                cds_start, cds_end, header_flags = _checked_header_cds(rows.transcript_id, sequence, header, fasta.path)
                flags += header_flags
            return TranscriptRecord(
                transcript_id=rows.transcript_id,
                gene_id=strip_version(rows.gene_id) or header.gene_id or rows.transcript_id,
                gene_name=rows.gene_name or header.gene_name,
                species=species,
                sequence=sequence,
                exon_ends=exon_ends_of(exons),
                cds_start=cds_start,
                cds_end=cds_end,
                biotype=rows.biotype or header.biotype,
                flags=sorted(set(flags)),
            )

        yield from records_from_exon_annotation(
            fasta, Path(annotation_path), species=species, on_error=on_error, skipped=skipped, describe=describe
        )
    finally:
        fasta.close()


def _records_from_headers(
    fasta: TranscriptFasta, species: str, on_error: str, skipped: Counter[str] | None
) -> Iterator[TranscriptRecord]:
    for key in fasta.ids():
        try:
            header, sequence = parse_transcript_header(fasta.header(key)), fasta.sequence(key)
            if not sequence:
                raise AnnotationError(f"{fasta.path}: transcript {key} has an empty sequence", reason="empty_sequence")
            cds_start, cds_end, flags = _checked_header_cds(key, sequence, header, fasta.path)
            yield TranscriptRecord(
                transcript_id=key,
                gene_id=header.gene_id or key,
                gene_name=header.gene_name,
                species=species,
                sequence=sequence,
                exon_ends=[len(sequence)],
                cds_start=cds_start,
                cds_end=cds_end,
                biotype=header.biotype,
                flags=sorted({*flags, "exons_unknown"}),
            )
        except AnnotationError as error:
            error.transcript_id = error.transcript_id or key
            handle_problem(error, on_error, skipped)
