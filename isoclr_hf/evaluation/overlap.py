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


def end_keys(sequences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The packed first and last ``K``-mer of each sequence, interleaved, and whether each is all ACGT
    (not for a sequence shorter than ``K``). Shapes: (2 * len(sequences),) each."""
    ends = [(s[:K], s[-K:]) if len(s) >= K else ("N" * K, "N" * K) for s in sequences]
    packed, clean = _windows(_codes(end for pair in ends for end in pair))
    # Window i starts at i; the ends are K + 1 apart (K bases + a separator).
    step = K + 1
    return packed[::step][: 2 * len(ends)], clean[::step][: 2 * len(ends)]


def ends_found(index: np.ndarray, sequences: Sequence[str]) -> np.ndarray:
    """Whether the first and the last ``K``-mer of each sequence are in ``index`` (False if shorter or N there)."""
    keys, ok = end_keys(sequences)
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


def ends_in_corpus(corpus: Sequence[str], queries: Sequence[str], chunk_nucleotides: int = 4_000_000) -> np.ndarray:
    """:func:`ends_found` without indexing the corpus: the queries' end ``K``-mers are sorted, and the corpus
    is streamed past them in chunks of about ``chunk_nucleotides`` (a few seconds for 70 M nt, against
    minutes for :func:`kmer_index` of the same corpus). Shape: (len(queries),)."""
    if not queries:
        return np.zeros(0, dtype=bool)
    keys, ok = end_keys(queries)
    distinct = np.unique(keys[ok])
    hit = np.zeros(len(distinct), dtype=bool)
    batch: list[str] = []
    size = 0

    def scan() -> None:
        windows, windows_clean = _windows(_codes(batch))
        position = np.clip(np.searchsorted(distinct, windows), 0, len(distinct) - 1)
        found = windows_clean & (distinct[position] == windows)
        hit[position[found]] = True

    if len(distinct):
        for sequence in corpus:
            batch.append(sequence)
            size += len(sequence)
            if size >= chunk_nucleotides:
                scan()
                batch, size = [], 0
        if batch:
            scan()
    present = np.zeros(len(keys), dtype=bool)
    if len(distinct):
        present[ok] = hit[np.searchsorted(distinct, keys[ok])]
    return present.reshape(-1, 2).all(axis=1)


def record_overlap(
    records: Sequence[Any], corpus: Sequence[str], sequences: set[str], genes: set[tuple[str, str]]
) -> dict[str, np.ndarray]:
    """Per record (with ``sequence``, ``species``, ``gene_name``): ``same_sequence``, ``contained``, ``same_gene``
    against a corpus's transcript sequences ``corpus`` (also as the set ``sequences``) and its genes."""
    texts = [record.sequence.upper().replace("U", "T") for record in records]
    return {
        "same_sequence": np.array([text in sequences for text in texts], dtype=bool),
        "contained": ends_in_corpus(corpus, texts),
        "same_gene": np.array(
            [bool(r.gene_name) and (r.species, r.gene_name.upper()) in genes for r in records], dtype=bool
        ),
    }


def task_overlap(
    name: str, task: Any, corpus: Sequence[str], genes: set[tuple[str, str]]
) -> dict[str, Any]:
    """One row of the report for a task (records, optional ``predefined_split``) against a corpus's transcript
    sequences and ``(species, gene symbol)`` pairs (:func:`corpus_transcripts`)."""
    split = getattr(task, "predefined_split", None)
    chosen = [i for i in range(len(task.records)) if split is None or split[i] == "test"]
    found = record_overlap([task.records[i] for i in chosen], corpus, set(corpus), genes)
    return {
        "task": name,
        "examples": len(task.records),
        "counted": len(chosen),
        "counted_as": "all examples" if split is None else "test fold",
        **{key: int(mask.sum()) for key, mask in found.items()},
    }


def downstream_overlap(corpus_dir: str | Path, tasks: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report rows of :func:`task_overlap` for every task."""
    sequences, genes = corpus_transcripts(corpus_dir)
    return [task_overlap(name, task, sequences, genes) for name, task in tasks.items()]


def seen_in_pretraining(records: Sequence[Any], corpora: Sequence[str | Path]) -> np.ndarray:
    """Whether each record may have been read in pretraining on any of ``corpora``. Shape: (len(records),).

    A record counts as seen when its sequence is a corpus transcript, its first and last 32-mers both occur
    in corpus transcripts, or its gene symbol is a corpus gene of the same species (the three counts of the
    module docstring). The complement is the pretraining-free test set of ``isoclr evaluate
    --pretraining-corpus``.
    """
    seen = np.zeros(len(records), dtype=bool)
    for corpus_dir in corpora:
        sequences, genes = corpus_transcripts(corpus_dir)
        found = record_overlap(records, sequences, set(sequences), genes)
        seen |= found["same_sequence"] | found["contained"] | found["same_gene"]
    return seen


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
