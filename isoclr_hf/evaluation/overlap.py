"""Which downstream examples also appear in a pretraining corpus (the leakage report of a release).

Pretraining never reads a downstream label, but it may read a downstream *sequence*: the RefSeq
mRNAs of the half-life and localisation tasks are pretraining transcripts too. For every task this
counts, over the examples that can be test examples (a task's own test fold where it has one, else
every example, since each lands in the test split of some seed):

* ``same_sequence``: the example's sequence is a corpus transcript, letter for letter;
* ``contained``: its first and its last 32-mer both occur in corpus transcripts (a UTR fragment or
  a CDS cut from a corpus transcript counts; 2-bit packed 32-mers, windows with N left out);
* ``same_gene``: its gene symbol is the symbol of a corpus transcript of the same species.

    python -m isoclr_hf.evaluation.overlap --corpus runs/all_real_corpus --task saluki_halflife_refseq ...
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..corpus.storage import load_corpus

K = 32
_CODES = np.full(256, 4, dtype=np.uint8)
_CODES[list(b"ACGT")] = np.arange(4, dtype=np.uint8)


def _codes(sequences: Iterable[str]) -> np.ndarray:
    """ACGT -> 0..3, anything else (N, separators) -> 4, sequences joined by one separator."""
    joined = "\n".join(sequences).upper().replace("U", "T").encode("ascii", "replace")
    return _CODES[np.frombuffer(joined, dtype=np.uint8)]


def _windows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Packed ``K``-mer starting at every position, and whether the window is all ACGT."""
    starts = len(codes) - K + 1
    if starts <= 0:
        return np.zeros(0, np.uint64), np.zeros(0, bool)
    packed = np.zeros(starts, dtype=np.uint64)
    for offset in range(K):
        packed = (packed << np.uint64(2)) | (codes[offset : offset + starts] & 3).astype(np.uint64)
    clean = np.convolve(codes == 4, np.ones(K, dtype=np.int64), mode="valid") == 0
    return packed, clean


def kmer_index(sequences: Iterable[str]) -> np.ndarray:
    """Sorted distinct packed ``K``-mers of the sequences (about 8 bytes a nucleotide while built)."""
    packed, clean = _windows(_codes(sequences))
    return np.unique(packed[clean])


def ends_found(index: np.ndarray, sequences: Sequence[str]) -> np.ndarray:
    """Whether the first and the last ``K``-mer of each sequence are in ``index`` (False if shorter or N there)."""
    ends = [(s[:K], s[-K:]) if len(s) >= K else ("N" * K, "N" * K) for s in sequences]
    packed, clean = _windows(_codes(end for pair in ends for end in pair))
    # Window i starts at i; the ends are K + 1 apart (K bases + a separator).
    step = K + 1
    keys, ok = packed[::step][: 2 * len(ends)], clean[::step][: 2 * len(ends)]
    position = np.clip(np.searchsorted(index, keys), 0, max(len(index) - 1, 0))
    present = ok & (len(index) > 0) & (index[position] == keys if len(index) else False)
    return present.reshape(-1, 2).all(axis=1)


def corpus_transcripts(corpus_dir: str | Path) -> tuple[list[str], set[tuple[str, str]]]:
    """Every transcript sequence of a corpus (all splits) and its ``(species, gene symbol)`` pairs."""
    sequences: list[str] = []
    genes: set[tuple[str, str]] = set()
    for split in load_corpus(corpus_dir).values():
        for transcripts in split["transcripts"]:
            for transcript in transcripts:
                sequences.append(transcript["sequence"].upper().replace("U", "T"))
                if transcript["gene_name"]:
                    genes.add((transcript["species"], transcript["gene_name"].upper()))
    return sequences, genes


def task_overlap(
    name: str, task: Any, index: np.ndarray, sequences: set[str], genes: set[tuple[str, str]]
) -> dict[str, Any]:
    """One row of the report for a task (records, optional ``predefined_split``)."""
    split = getattr(task, "predefined_split", None)
    chosen = [i for i in range(len(task.records)) if split is None or split[i] == "test"]
    records = [task.records[i] for i in chosen]
    texts = [record.sequence.upper().replace("U", "T") for record in records]
    return {
        "task": name,
        "examples": len(task.records),
        "counted": len(records),
        "counted_as": "all examples" if split is None else "test fold",
        "same_sequence": sum(text in sequences for text in texts),
        "contained": int(ends_found(index, texts).sum()),
        "same_gene": sum(
            bool(r.gene_name) and (r.species, r.gene_name.upper()) in genes for r in records
        ),
    }


def downstream_overlap(corpus_dir: str | Path, tasks: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report rows of :func:`task_overlap` for every task."""
    sequences, genes = corpus_transcripts(corpus_dir)
    index = kmer_index(sequences)
    distinct = set(sequences)
    return [task_overlap(name, task, index, distinct, genes) for name, task in tasks.items()]


def format_overlap(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the rows."""
    lines = [
        "| task | examples | counted | same sequence | contained (first and last 32-mer) | same gene |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        n = max(row["counted"], 1)
        lines.append(
            f"| {row['task']} | {row['examples']:,} | {row['counted']:,} ({row['counted_as']}) | "
            f"{row['same_sequence']:,} ({row['same_sequence'] / n:.0%}) | {row['contained']:,} "
            f"({row['contained'] / n:.0%}) | {row['same_gene']:,} ({row['same_gene'] / n:.0%}) |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    from .tasks.registry import load_task  # the evaluation package is only needed here

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--task", action="append", required=True, help="a registered task name; repeatable")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    rows = downstream_overlap(args.corpus, {name: load_task(name) for name in args.task})
    print(format_overlap(rows))
    if args.out:
        from ..atomic_files import atomic_write

        text = json.dumps(rows, indent=2)
        atomic_write(args.out, lambda path: path.write_text(text))


if __name__ == "__main__":
    main()
