"""Readers for the TranscriptOrthology data sets (Ouedraogo et al., UdeS-CoBIUS/TranscriptOrthology).

Coding transcripts of Ensembl gene families over several species, with transcript-level ortholog
tables: real cross-species positive pairs. Both layouts are read straight from their ``tar.gz``
(see data/SOURCES.md):

* the 236-family set (Ensembl 90; human, mouse, dog): ``dataset/transcripts sequences/<family>.fasta``
  with headers ``>ENST00000361272_90_90:ENSG00000198791_90:-`` and one line per exon block
  (``seq1:ATG...``, ``seq2:...``) that, joined in order, give the CDS, so exon ends are known;
  ``dataset/data/<family>/<family>_homologs.csv`` (``id_transcript;id_transcript;orthologs``, the
  orthologs ``:``-separated or ``null``);
* the 20-family set (Ensembl 98; human, mouse, dog, cow, chicken): ``<family>_98_cds_alg.csv``
  (``id_transcript;alg``, a gapped CDS alignment: the CDS once ``-`` is stripped; no exon
  structure), ``_gtot.csv`` (``id_transcript;id_gene``) and ``_clustering.csv`` (one row per
  transcript, its ortholog cluster ``:``-separated in the third column).

Records: the transcript id is the Ensembl accession with the release suffix dropped
(``ENST00000361272_90_90`` -> ``ENST00000361272``), so the build's accession check sees the same
transcript in both sets and in other Ensembl sources; the gene id likewise. The sequence is the CDS
alone (no UTRs, and almost always no stop codon): ``cds_start = 0``, ``cds_end = length``, with
``cds_start_NF`` where it does not begin with ATG (402 of 3,653) and ``cds_end_NF`` where its length is
not a multiple of 3 (616 of 3,653: partial CDS). The species comes from the Ensembl id prefix
(:data:`SPECIES_OF_PREFIX`).
"""

from __future__ import annotations

import csv
import io
import re
import tarfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import AnnotationError, check_on_error, handle_problem
from .orf import EXONS_UNKNOWN_FLAG
from .records import TranscriptRecord

#: Ensembl stable id prefixes (transcript and gene) of the species in these sets.
SPECIES_OF_PREFIX = {
    "ENST": "homo_sapiens",
    "ENSG": "homo_sapiens",
    "ENSMUST": "mus_musculus",
    "ENSMUSG": "mus_musculus",
    "ENSCAFT": "canis_lupus_familiaris",
    "ENSCAFG": "canis_lupus_familiaris",
    "ENSBTAT": "bos_taurus",
    "ENSBTAG": "bos_taurus",
    "ENSGALT": "gallus_gallus",
    "ENSGALG": "gallus_gallus",
}
_ENSEMBL_ID = re.compile(r"^(ENS[A-Z]*?)([TG])(\d{11})(?:_\d+)*$")
_BLOCK = re.compile(r"^seq(\d+):([A-Za-z]*)$")
_NUCLEOTIDES = re.compile(r"^[ACGTNacgtn]+$")
_FAMILY_FASTA = re.compile(r"(^|/)dataset/transcripts sequences/([^/]+)\.fasta$")
_HOMOLOGS = re.compile(r"_homologs\.csv$")
_ALIGNMENT = re.compile(r"_cds_alg\.csv$")
_GENE_TABLE = re.compile(r"_gtot\.csv$")
_CLUSTERING = re.compile(r"_clustering\.csv$")


def ensembl_accession(identifier: str, where: str) -> tuple[str, str]:
    """``(accession, species)`` of a TranscriptOrthology id: ``ENSMUST00000001_90_90`` -> ``ENSMUST00000001``.

    Raises:
        AnnotationError: Not an Ensembl id of a species in :data:`SPECIES_OF_PREFIX`.
    """
    found = _ENSEMBL_ID.match(identifier.strip())
    species = SPECIES_OF_PREFIX.get(found.group(1) + found.group(2)) if found else None
    if found is None or species is None:
        raise AnnotationError(
            f"{where}: {identifier!r} is not an Ensembl transcript or gene id of a known species "
            f"(prefixes {', '.join(sorted(SPECIES_OF_PREFIX))})",
            reason="unknown_ensembl_id",
        )
    return found.group(1) + found.group(2) + found.group(3), species


def cds_flags(sequence: str) -> list[str]:
    """``cds_start_NF`` (no ATG first) / ``cds_end_NF`` (not a multiple of 3) for a CDS-only sequence.

    The stop codon is not part of these sequences (96% end without one: Ensembl's CDS as the
    authors exported it), so a missing stop alone does not make the CDS incomplete.
    """
    flags = []
    if not sequence.upper().startswith("ATG"):
        flags.append("cds_start_NF")
    if len(sequence) % 3:
        flags.append("cds_end_NF")
    return flags


def _cds_record(transcript_id: str, gene_id: str, species: str, sequence: str, exon_ends: list[int],
                flags: list[str]) -> TranscriptRecord:
    return TranscriptRecord(
        transcript_id=transcript_id,
        gene_id=gene_id,
        gene_name="",
        species=species,
        sequence=sequence,
        exon_ends=exon_ends,
        cds_start=0,
        cds_end=len(sequence),
        biotype="protein_coding",
        flags=sorted({*flags, *cds_flags(sequence)}),
    )


def _check_sequence(sequence: str, where: str, transcript_id: str) -> None:
    if not sequence:
        raise AnnotationError(f"{where}: transcript {transcript_id} has an empty sequence", reason="empty_sequence",
                              transcript_id=transcript_id)
    if not _NUCLEOTIDES.match(sequence):
        bad = sorted(set(sequence.upper()) - set("ACGTN"))
        raise AnnotationError(
            f"{where}: transcript {transcript_id} has characters outside A, C, G, T, N: {''.join(bad)}",
            reason="bad_sequence_character", transcript_id=transcript_id,
        )


def _text_members(path: Path, pattern: re.Pattern[str]) -> Iterator[tuple[str, str]]:
    """``(member name, text)`` of the archive's files whose name matches ``pattern``, in archive order."""
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if member.isfile() and pattern.search(member.name):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield member.name, handle.read().decode("utf-8")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise AnnotationError(f"{path}: cannot read the TranscriptOrthology archive: {error}",
                              reason="bad_archive") from None


@dataclass
class _FastaEntry:
    header: str
    line: int
    blocks: list[tuple[int, str]]


def _family_entries(text: str) -> Iterator[_FastaEntry]:
    entry: _FastaEntry | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line.startswith(">"):
            if entry is not None:
                yield entry
            entry = _FastaEntry(line[1:], number, [])
        elif line and entry is not None:
            block = _BLOCK.match(line)
            entry.blocks.append((int(block.group(1)), block.group(2)) if block else (-number, line))
    if entry is not None:
        yield entry


def _family_record(entry: _FastaEntry, where: str) -> TranscriptRecord:
    fields = entry.header.split(":")
    if len(fields) != 3 or fields[2] not in ("+", "-"):
        raise AnnotationError(f"{where}: header {entry.header!r} is not TRANSCRIPT:GENE:STRAND",
                              reason="bad_header")
    transcript_id, species = ensembl_accession(fields[0], where)
    gene_id, gene_species = ensembl_accession(fields[1], where)
    if gene_species != species:
        raise AnnotationError(f"{where}: transcript {transcript_id} ({species}) names gene {gene_id} of "
                              f"{gene_species}", reason="bad_header", transcript_id=transcript_id)
    numbers = [number for number, _ in entry.blocks]
    if not entry.blocks or numbers != list(range(1, len(numbers) + 1)):
        raise AnnotationError(
            f"{where}: transcript {transcript_id}: expected exon block lines seq1:, seq2:, ... in order, "
            f"got {len(entry.blocks)} lines" + (" (a line without seqN:)" if any(n < 0 for n in numbers) else ""),
            reason="bad_exon_blocks", transcript_id=transcript_id,
        )
    if any(not block for _, block in entry.blocks):
        raise AnnotationError(f"{where}: transcript {transcript_id} has an empty exon block", reason="bad_exon_blocks",
                              transcript_id=transcript_id)
    sequence = "".join(block for _, block in entry.blocks)
    _check_sequence(sequence, where, transcript_id)
    exon_ends, end = [], 0
    for _, block in entry.blocks:
        end += len(block)
        exon_ends.append(end)
    return _cds_record(transcript_id, gene_id, species, sequence, exon_ends, [])


def read_transcript_orthology_families(
    path: str | Path, *, on_error: str = "raise", skipped: Counter[str] | None = None
) -> Iterator[TranscriptRecord]:
    """Transcripts of the 236-family archive: CDS with exon ends from the exon blocks.

    Args:
        path: ``guillaudeux_236_families.tar.gz`` (or any archive with ``dataset/transcripts sequences/*.fasta``).
        on_error: ``"raise"`` or ``"skip"`` (count in ``skipped``) for a bad record.
        skipped: Counter of skip reasons, updated in place.

    Raises:
        AnnotationError: A bad record (``on_error="raise"``) or an unreadable archive, naming the
            archive member and line.
    """
    check_on_error(on_error)
    path = Path(path)
    count = 0
    for name, text in _text_members(path, _FAMILY_FASTA):
        for entry in _family_entries(text):
            where = f"{path}:{name}:{entry.line}"
            try:
                yield _family_record(entry, where)
                count += 1
            except AnnotationError as error:
                error.transcript_id = error.transcript_id or entry.header.split("_")[0]
                handle_problem(error, on_error, skipped)
    if count == 0 and not skipped:
        raise AnnotationError(f"{path}: no 'dataset/transcripts sequences/*.fasta' transcripts in the archive",
                              reason="bad_archive")


def _semicolon_rows(text: str, where: str, header: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    rows = csv.reader(io.StringIO(text), delimiter=";")
    first = next(rows, None)
    if first is None or tuple(column.strip() for column in first[-len(header):]) != header:
        raise AnnotationError(f"{where}: expected the header {';'.join(header)}, got {first!r}", reason="bad_header")
    for number, row in enumerate(rows, start=2):
        if row:
            yield number, row


def read_transcript_orthology_alignments(
    path: str | Path, *, on_error: str = "raise", skipped: Counter[str] | None = None
) -> Iterator[TranscriptRecord]:
    """Transcripts of the 20-family archive: the CDS of each gapped alignment row (``-`` stripped).

    Exon structure is unknown (``exon_ends == [length]``, flag ``exons_unknown``); the gene comes
    from the family's ``_gtot.csv``.

    Raises:
        AnnotationError: A bad record (``on_error="raise"``), a transcript missing from the gene
            table, or an unreadable archive, naming the archive member and line.
    """
    check_on_error(on_error)
    path = Path(path)
    genes = _gene_tables(path)
    count = 0
    for name, text in _text_members(path, _ALIGNMENT):
        for number, row in _semicolon_rows(text, f"{path}:{name}", ("id_transcript", "alg")):
            where = f"{path}:{name}:{number}"
            try:
                if len(row) != 2:
                    raise AnnotationError(f"{where}: expected 2 fields (id_transcript;alg), got {len(row)}",
                                          reason="bad_row")
                transcript_id, species = ensembl_accession(row[0], where)
                if transcript_id not in genes:
                    raise AnnotationError(f"{where}: transcript {transcript_id} is in no _gtot.csv gene table",
                                          reason="gene_unknown", transcript_id=transcript_id)
                sequence = row[1].replace("-", "").strip()
                _check_sequence(sequence, where, transcript_id)
                yield _cds_record(transcript_id, genes[transcript_id], species, sequence, [len(sequence)],
                                  [EXONS_UNKNOWN_FLAG])
                count += 1
            except AnnotationError as error:
                error.transcript_id = error.transcript_id or row[0].split("_")[0]
                handle_problem(error, on_error, skipped)
    if count == 0 and not skipped:
        raise AnnotationError(f"{path}: no *_cds_alg.csv alignments in the archive", reason="bad_archive")


def _gene_tables(path: Path) -> dict[str, str]:
    """``transcript accession -> gene accession`` from every ``_gtot.csv`` of the archive."""
    genes: dict[str, str] = {}
    for name, text in _text_members(path, _GENE_TABLE):
        for number, row in _semicolon_rows(text, f"{path}:{name}", ("id_transcript", "id_gene")):
            where = f"{path}:{name}:{number}"
            genes[ensembl_accession(row[0], where)[0]] = ensembl_accession(row[1], where)[0]
    return genes


def _family_genes(path: Path) -> dict[str, str]:
    """``transcript accession -> gene accession`` from the 236-family FASTA headers."""
    genes: dict[str, str] = {}
    for name, text in _text_members(path, _FAMILY_FASTA):
        for entry in _family_entries(text):
            fields = entry.header.split(":")
            if len(fields) == 3:
                where = f"{path}:{name}:{entry.line}"
                genes[ensembl_accession(fields[0], where)[0]] = ensembl_accession(fields[1], where)[0]
    return genes


@dataclass(frozen=True)
class GeneOrthologPair:
    """Two genes of different species that have an ortholog transcript pair."""

    first_species: str
    first_gene: str
    second_species: str
    second_gene: str
    transcript: str  # the transcript whose row gave the pair (names the group)


def read_transcript_orthology_pairs(path: str | Path) -> list[GeneOrthologPair]:
    """Cross-species gene pairs from an archive's transcript ortholog tables (either layout).

    The 236-family ``_homologs.csv`` and the 20-family ``_clustering.csv`` list, per transcript,
    its ortholog transcripts; each pair of transcripts of *different* species gives the pair of
    their genes. Same-species members of a cluster are left out: within a species they are
    isoforms or paralogs, and joining paralogs would chain whole gene families into one set.

    Raises:
        AnnotationError: A row that names an unknown id, or an archive with neither table.
    """
    path = Path(path)
    genes = {**_family_genes(path), **_gene_tables(path)}
    pairs: list[GeneOrthologPair] = []
    tables = 0
    # Both tables: the transcript in column 1, its orthologs (":"-separated, or "null") in column 2.
    for pattern, header in ((_HOMOLOGS, ("id_transcript", "orthologs")),
                            (_CLUSTERING, ("id_transcript", "orthoorthologues", "tsm_scores"))):
        for name, text in _text_members(path, pattern):
            tables += 1
            for number, row in _semicolon_rows(text, f"{path}:{name}", header):
                where = f"{path}:{name}:{number}"
                if len(row) < 3:
                    raise AnnotationError(f"{where}: expected 3 or more fields, got {len(row)}", reason="bad_row")
                transcript, species = ensembl_accession(row[1], where)
                orthologs = row[2].strip()
                if transcript not in genes or orthologs in ("", "null"):
                    continue
                for other in orthologs.split(":"):
                    other_id, other_species = ensembl_accession(other, where)
                    if other_species != species and other_id in genes:
                        pairs.append(GeneOrthologPair(species, genes[transcript], other_species, genes[other_id],
                                                      transcript))
    if tables == 0:
        raise AnnotationError(f"{path}: no *_homologs.csv or *_clustering.csv ortholog table in the archive",
                              reason="bad_archive")
    return pairs


__all__ = [
    "SPECIES_OF_PREFIX",
    "GeneOrthologPair",
    "cds_flags",
    "ensembl_accession",
    "read_transcript_orthology_alignments",
    "read_transcript_orthology_families",
    "read_transcript_orthology_pairs",
]
