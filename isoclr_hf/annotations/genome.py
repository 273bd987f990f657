"""Random access into a genome FASTA through its ``.fai`` index (pyfaidx): never loaded whole.

A 3 GB genome costs the index (a few KB) plus the bases of the exons being read. The index is
written next to the FASTA (``genome.fa.fai``, as samtools does); where that folder is read-only it
goes to a cache folder instead. Chromosome names are matched with or without the ``chr`` prefix
(Ensembl ``9`` / ``MT`` against UCSC/GENCODE ``chr9`` / ``chrM``), so an Ensembl GTF works against a
UCSC genome and the other way round.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

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
    """Where the ``.fai`` goes: beside the FASTA if possible, else in a per-user cache folder."""
    beside = Path(f"{fasta_path}.fai")
    if beside.exists() or os.access(fasta_path.parent, os.W_OK):
        return None  # pyfaidx's default: beside the FASTA
    digest = hashlib.sha256(str(fasta_path.resolve()).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path(tempfile.gettempdir()))) / "isoclr_hf" / "fai"
    cache.mkdir(parents=True, exist_ok=True)
    return str(cache / f"{fasta_path.name}.{digest}.fai")


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
        try:
            self._fasta = pyfaidx.Fasta(
                str(self.path), indexname=index_path_for(self.path), sequence_always_upper=True, as_raw=True
            )
        except pyfaidx.FastaIndexingError as error:
            raise ValueError(f"cannot index genome FASTA {self.path}: {error}") from error
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
        bases = str(record[start:end])
        return reverse_complement(bases) if strand == "-" else bases
