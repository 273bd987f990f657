"""A small data folder holding the first DM3Loc records (real ones), for fast localisation tests."""

from __future__ import annotations

import gzip
from pathlib import Path

from isoclr_hf.evaluation.tasks.localisation import DM3LOC_FASTA
from tests.tiny_tasks import DATA_DIR


def dm3loc_headers_and_sequences(count: int, *, max_length: int = 2500) -> list[tuple[str, str]]:
    """The first ``count`` records of the bundled DM3Loc FASTA no longer than ``max_length`` nt."""
    chosen: list[tuple[str, str]] = []
    with gzip.open(DATA_DIR / DM3LOC_FASTA, "rt") as handle:
        header = None
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith(">"):
                header = line[1:]
            elif header is not None:
                if len(line) <= max_length:
                    chosen.append((header, line))
                header = None
                if len(chosen) == count:
                    break
    return chosen


def write_dm3loc_subset(data_dir: Path, count: int, *, lines: list[str] | None = None) -> Path:
    """A ``data_dir`` with a DM3Loc FASTA of ``count`` real records (or the given raw ``lines``)."""
    path = data_dir / DM3LOC_FASTA
    path.parent.mkdir(parents=True, exist_ok=True)
    if lines is None:
        lines = [text for header, sequence in dm3loc_headers_and_sequences(count) for text in (f">{header}", sequence)]
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    return data_dir
