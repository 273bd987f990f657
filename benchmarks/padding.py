"""Benchmark: fraction of the encoder's input that is padding, with and without length bucketing.

Pairs are drawn as in pretraining (one per training gene set and epoch, ``isoclr_hf.pretraining.pairs``)
from the bundled corpus (built with ``isoclr build-corpus --bundled`` into a temporary folder, or
``--corpus PATH``) and cut into batches either at random or length-bucketed
(``isoclr_hf.pretraining.batching.bucketed_batches``). A batch of B pairs costs ``2 * B * L`` positions,
L the longest view rounded up to a multiple of 32; the rest is padding, i.e. compute spent on zeros.

Part of the padding cannot be removed by batching: both views of a pair share one padded length,
so the shorter isoform of a pair is padded to its partner. The "pair floor" row is that part: every
pair alone in its own batch.

    python benchmarks/padding.py                  # a few seconds
    python benchmarks/padding.py --corpus CORPUS --epochs 5

Writes benchmarks/results/padding.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from pathlib import Path

import datasets
import numpy as np

from isoclr_hf import IsoCLRConfig
from isoclr_hf.pretraining.batching import bucketed_batches, padded_fraction, random_batches
from isoclr_hf.pretraining.pairs import pair_lengths, sample_epoch_pairs

GROUPS = IsoCLRConfig().max_length_groups
MULTIPLE = IsoCLRConfig().downsampling  # the tokenizer pads to the encoder's downsampling
RESULTS = Path(__file__).resolve().parent / "results"


def bundled_corpus(path: str | None, scratch: str) -> tuple[datasets.DatasetDict, str]:
    """Open ``path``, or build the bundled corpus (``isoclr build-corpus --bundled``) under ``scratch``."""
    if path:
        return datasets.load_from_disk(path), path
    from isoclr_hf.cli import build_corpus

    folder = str(Path(scratch) / "bundled_corpus")
    parser = argparse.ArgumentParser()
    build_corpus.add_arguments(parser)
    if build_corpus.run(parser.parse_args(["--bundled", "--out", folder])):
        raise RuntimeError("Building the bundled corpus failed; see the messages above.")
    return datasets.load_from_disk(folder), "bundled (isoclr build-corpus --bundled)"


def split_lengths(gene_sets: datasets.Dataset) -> list[list[int]]:
    return [[len(t["sequence"]) for t in transcripts] for transcripts in gene_sets["transcripts"]]


def measure(lengths: list[list[int]], *, batch_size: int, max_length: int, epochs: int) -> dict[str, float]:
    """Mean padded fraction over ``epochs`` epochs: random and bucketed batches, as one (2B, L) tensor
    (with the pair floor) and as the encoder's length groups."""
    sizes = np.array([len(x) for x in lengths])
    fractions: dict[str, list[float]] = {"random": [], "bucketed": [], "pair_floor": [], "grouped": [],
                                         "random_grouped": []}
    for epoch in range(epochs):
        pairs = sample_epoch_pairs(sizes, seed=0, epoch=epoch)
        views = pair_lengths(lengths, pairs, max_length)  # (n_pairs, 2)
        shuffled = random_batches(len(views), batch_size, seed=0, epoch=epoch)
        fractions["random"].append(padded_fraction(shuffled, views, MULTIPLE))
        fractions["random_grouped"].append(padded_fraction(shuffled, views, MULTIPLE, max_length_groups=GROUPS))
        bucketed = bucketed_batches(views.max(1), batch_size, seed=0, epoch=epoch, mega_batch_batches=64)
        fractions["bucketed"].append(padded_fraction(bucketed, views, MULTIPLE))
        fractions["pair_floor"].append(padded_fraction([[i] for i in range(len(views))], views, MULTIPLE))
        # What the encoder computes: the 2B views cut into length groups (config.max_length_groups).
        fractions["grouped"].append(padded_fraction(bucketed, views, MULTIPLE, max_length_groups=GROUPS))
    return {name: float(np.mean(values)) for name, values in fractions.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", help="corpus folder (default: build the bundled one)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of pairs to average over")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--max-lengths", type=int, nargs="+", default=[12288, 2048])
    parser.add_argument("--resampled-sets", type=int, default=20000, help="size of the resampled large corpus")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        corpus, source = bundled_corpus(args.corpus, scratch)
        lengths = split_lengths(corpus[args.split])
    # A GENCODE-sized corpus (~20k gene sets) drawn from the real one: gene sets resampled with replacement.
    draw = np.random.default_rng(0).integers(0, len(lengths), size=args.resampled_sets)
    corpora = {f"bundled ({len(lengths)} sets)": lengths, f"resampled ({args.resampled_sets} sets)":
               [lengths[i] for i in draw]}
    rows = []
    for corpus_name, corpus_lengths in corpora.items():
        for max_length in args.max_lengths:
            for batch_size in args.batch_sizes:
                result = measure(corpus_lengths, batch_size=batch_size, max_length=max_length, epochs=args.epochs)
                rows.append({"corpus": corpus_name, "max_length": max_length, "batch_size": batch_size, **result,
                             "added_by_batching": result["bucketed"] - result["pair_floor"],
                             "reduction": result["random"] / max(result["bucketed"], 1e-12)})

    n_transcripts = sum(len(x) for x in lengths)
    header = (f"Padded fraction of the encoder input (padded positions / all positions), mean over {args.epochs} "
              f"epochs of pairs; corpus: {source}, split {args.split}: {len(lengths)} gene sets, "
              f"{n_transcripts} transcripts; mega-batches of 64 batches. Command: `python benchmarks/padding.py`.")
    table = ["| corpus | max length | pairs per batch | random, one tensor | bucketed, one tensor | pair floor | "
             f"random, {GROUPS} length groups | **bucketed, {GROUPS} length groups (what the encoder computes)** |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        table.append(f"| {row['corpus']} | {row['max_length']} | {row['batch_size']} | {row['random']:.1%} | "
                     f"{row['bucketed']:.1%} | {row['pair_floor']:.1%} | {row['random_grouped']:.1%} | "
                     f"**{row['grouped']:.1%}** |")
    notes = ("'One tensor' counts a (2B, L) stack of both views padded to the longest and rounded up to a "
             "multiple of 32; its pair floor is the padding no batching removes there (the shorter isoform of "
             "each pair padded to its partner). The encoder instead cuts the 2B views of a batch into at most "
             f"{GROUPS} length groups (IsoCLRConfig.max_length_groups, plan_length_groups), each padded only to "
             "its own longest view, with batch-norm statistics shared across groups (identical results). "
             "The resampled corpus draws gene sets of the bundled one with replacement, to show bucketing at "
             "the scale of a whole transcriptome, where each mega-batch of 64 batches is sorted by length.")
    text = "\n".join(["# Padding with and without length bucketing", "", header, "", *table, "", notes, ""])
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "padding.md").write_text(text)
    (RESULTS / "padding.json").write_text(json.dumps(
        {"source": source, "split": args.split, "epochs": args.epochs, "machine": platform.processor() or
         platform.machine(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
