"""Random access into a genome FASTA through its ``.fai`` index (pyfaidx): never loaded whole.

A 3 GB genome costs the index (a few KB) plus the bases of the exons being read. An index already
beside the FASTA (``genome.fa.fai``, from samtools) is used; otherwise the index is written to a cache
folder (``$XDG_CACHE_HOME/isoclr_hf/fai``, by default ``~/.cache/isoclr_hf/fai``), never next to the
user's files, under a name that changes with the FASTA's path, size and modification time (so an edited FASTA gets a
fresh index). Chromosome names are matched with or without the ``chr`` prefix
(Ensembl ``9`` / ``MT`` against UCSC/GENCODE ``chr9`` / ``chrM``), so an Ensembl GTF works against a
UCSC genome and the other way round.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pyfaidx

from .errors import AnnotationError

_COMPLEMENT = str.maketrans("ACGTUNRYKMSWBDHVacgtunrykmswbdhv", "TGCAANYRMKSWVHDBtgcaanyrmkswvhdb")


def reverse_complement(sequence: str) -> str:
    """Reverse complement of a DNA sequence (IUPAC codes included; case kept)."""
    return sequence.translate(_COMPLEMENT)[::-1]


def _alternative_names(name: str) -> list[str]:
    """Names the same chromosome goes by in the other naming convention."""
    if name.startswith("chr"):
        bare = name[3:]
        return [bare, "MT"] if bare == "M" else [bare]
    return ["chrM", f"chr{name}"] if name == "MT" else [f"chr{name}"]


def index_path_for(fasta_path: Path) -> str | None:
    """Where the ``.fai`` is: an existing one beside the FASTA (None: pyfaidx's default), else the cache folder."""
    if Path(f"{fasta_path}.fai").exists():
        return None
    stat = fasta_path.stat()
    key = f"{fasta_path.resolve()}\t{stat.st_size}\t{stat.st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser()) / "isoclr_hf" / "fai"
    cache.mkdir(parents=True, exist_ok=True)
    return str(cache / f"{fasta_path.name}.{digest}.fai")


_NOT_SEQUENCE = re.compile(r"[^A-Z*.-]")


def _first_undecodable_line(path: Path) -> tuple[int, int, int] | None:
    """``(line, column, byte)`` of the first byte of ``path`` that is not UTF-8, or ``None``."""
    with open(path, "rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                return line_number, error.start + 1, raw[error.start]
    return None


def open_fasta(path: Path, what: str, **options: Any) -> pyfaidx.Fasta:
    """``pyfaidx.Fasta`` of ``path``, its errors turned into :class:`AnnotationError` naming the file.

    ``what`` names the file in messages ("genome FASTA", "transcript FASTA"). After opening, the
    index is checked against the file's size, so that a ``.fai`` left from a longer file (a
    truncated download, a FASTA replaced by another) is reported instead of read as short or
    garbled sequences.
    """
    indexname = index_path_for(path)
    fai = indexname or f"{path}.fai"
    with open(path, "rb") as handle:
        head = handle.read(18)
    named_gz = path.name.lower().endswith((".gz", ".bgz"))
    gzipped = head[:2] == b"\x1f\x8b"
    bgzipped = gzipped and len(head) >= 14 and bool(head[3] & 4) and head[12:14] == b"BC"
    problem = ""
    if gzipped and not bgzipped:
        problem = "is gzip-compressed, and only bgzip compression can be read through an index: decompress it"
    elif bgzipped and not named_gz:
        problem = "is bgzip-compressed but not named .gz: name it .gz"
    elif named_gz and not gzipped:
        problem = "is named .gz but is not compressed: rename it"
    if problem:
        raise AnnotationError(f"{path}: the {what} {problem}", reason="unreadable_file")
    try:
        fasta = pyfaidx.Fasta(str(path), indexname=indexname, as_raw=True, sequence_always_upper=True, **options)
    except UnicodeDecodeError:
        found = _first_undecodable_line(path)
        where = f"{path}:{found[0]}" if found else str(path)
        detail = f" (byte 0x{found[2]:02x} at column {found[1]})" if found else ""
        raise AnnotationError(
            f"{where}: the {what} is not text{detail}; is it a binary or compressed file? "
            "(gzip is read only as bgzip: bgzip -c or decompress it)",
            reason="unreadable_file",
        ) from None
    except ImportError as error:  # bgzip needs Biopython
        raise AnnotationError(
            f"{path}: the {what} is bgzip-compressed, which needs Biopython ({error}); install biopython or "
            "decompress it",
            reason="unreadable_file",
        ) from None
    except pyfaidx.UnsupportedCompressionFormat as error:
        raise AnnotationError(
            f"{path}: the {what} is compressed but not with bgzip ({error}); decompress it or recompress it with bgzip",
            reason="unreadable_file",
        ) from None
    except (pyfaidx.FastaIndexingError, pyfaidx.IndexNotFoundError, ValueError, IndexError, RuntimeError) as error:
        raise AnnotationError(
            f"{path}: cannot read the {what} through its index {fai}: {error}. Sequences must be in FASTA "
            "with lines of one width (seqkit seq -w 60 rewraps them); delete a .fai left from another file",
            reason="unreadable_file",
        ) from None
    if not fasta.faidx.index:
        fasta.close()
        raise AnnotationError(f"{path}: the {what} has no sequences", reason="unreadable_file")
    if not fasta.faidx._bgzf:
        size = path.stat().st_size
        for name, record in fasta.faidx.index.items():
            if record.bend > size + (record.lenb - record.lenc):
                fasta.close()
                raise AnnotationError(
                    f"{path}: the {what} is shorter than its index {fai} says: {name} ({record.rlen:,} bases) "
                    f"would end at byte {record.bend:,} but the file has {size:,} bytes. The file was truncated "
                    f"or replaced after indexing: delete {fai} to rebuild it (and check the download)",
                    reason="stale_index",
                )
    return fasta


def check_fetched(bases: str, expected: int, what: str, path: Path) -> str:
    """``bases`` after checking they are ``expected`` letters long; ``what`` says where they are from.

    Raises:
        AnnotationError: Fewer or more bases than asked, or characters that are not bases (the
            index does not fit the file).
    """
    if len(bases) != expected:
        raise AnnotationError(
            f"{what}: the FASTA {path} gives {len(bases):,} bases where {expected:,} were expected; the file is "
            "shorter than its .fai index says (truncated, or replaced after indexing): delete the .fai to rebuild it",
            reason="stale_index",
        )
    bad = _NOT_SEQUENCE.search(bases)
    if bad:
        raise AnnotationError(
            f"{what}: the FASTA {path} gives {bad.group()!r} at base {bad.start() + 1:,}, not a nucleotide; the "
            ".fai index does not fit the file (delete it to rebuild it) or the file holds text that is not sequence",
            reason="stale_index",
        )
    return bases


class IndexedGenome:
    """A genome FASTA read through its index.

    Args:
        path: Genome FASTA (plain or bgzip-compressed), soft-masked or not.

    Example:
        >>> genome = IndexedGenome("genome.fa")  # doctest: +SKIP
        >>> genome.fetch("chr9", 12133, 12190, "+")  # 0-based half-open, uppercase  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"genome FASTA not found: {self.path}")
        self._fasta = open_fasta(self.path, "genome FASTA")
        self._resolved: dict[str, str | None] = {}

    def close(self) -> None:
        self._fasta.close()

    def __enter__(self) -> IndexedGenome:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def chromosomes(self) -> list[str]:
        return list(self._fasta.keys())

    def resolve(self, chromosome: str) -> str | None:
        """The FASTA's name for ``chromosome`` (exact, or with/without ``chr``), or ``None``."""
        if chromosome not in self._resolved:
            candidates = [chromosome, *_alternative_names(chromosome)]
            self._resolved[chromosome] = next((name for name in candidates if name in self._fasta), None)
        return self._resolved[chromosome]

    def length(self, chromosome: str) -> int:
        name = self._require(chromosome)
        return len(self._fasta[name])

    def _require(self, chromosome: str) -> str:
        name = self.resolve(chromosome)
        if name is None:
            shown = ", ".join(self.chromosomes[:10]) + (", ..." if len(self.chromosomes) > 10 else "")
            raise AnnotationError(
                f"chromosome {chromosome!r} is not in the genome FASTA {self.path} (also tried "
                f"{', '.join(repr(n) for n in _alternative_names(chromosome))}); it has: {shown}. "
                "Use the genome the annotation was made on.",
                reason="chromosome_missing_from_genome",
            )
        return name

    def fetch(self, chromosome: str, start: int, end: int, strand: str = "+") -> str:
        """Bases ``[start, end)`` (0-based half-open) of ``chromosome``, uppercase, on ``strand``.

        Raises:
            AnnotationError: The chromosome is not in the FASTA or the interval runs past its end.
        """
        name = self._require(chromosome)
        record = self._fasta[name]
        if start < 0 or end > len(record) or start > end:
            raise AnnotationError(
                f"interval {chromosome}:{start + 1}-{end} is outside {name} (length {len(record):,}) "
                f"in the genome FASTA {self.path}",
                reason="interval_outside_genome",
            )
        where = f"{chromosome}:{start + 1}-{end}"
        try:
            raw = str(record[start:end])
        except UnicodeDecodeError as error:  # multi-byte characters in sequence lines: offsets cut them
            raise AnnotationError(
                f"{self.path}: {where} holds bytes that are not nucleotide letters ({error.reason}: "
                f"0x{error.object[error.start]:02x}); sequence lines must be plain ASCII",
                reason="unreadable_file",
            ) from None
        bases = check_fetched(raw, end - start, where, self.path)
        return reverse_complement(bases) if strand == "-" else bases
