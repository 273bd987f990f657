"""The data side of pretraining: corpus split -> per-epoch pairs -> this process's batches.

Each epoch is planned identically on every process from ``(seed, epoch)``: one positive pair per
gene set (:mod:`.pairs`), cut into *global* length-bucketed batches
(:mod:`.batching`), of which each process takes its contiguous equal slice. The
DataLoader therefore is not passed through ``accelerator.prepare`` (which would shard it a second
time), and resuming at batch ``k`` of an epoch is exact: the plan is rebuilt and its first ``k``
batches are skipped, which is what ``skip_first_batches`` does for prepared loaders.

The corpus stays memory-mapped (Arrow, ``save_to_disk``); only the set sizes and transcript
lengths are read into memory, so corpora larger than memory work. For corpora read as a stream
(a Hub dataset, or more than the disk holds), :class:`StreamingCorpus` splits the rows by process
(``datasets.distributed.split_dataset_by_node``) and buckets a mega-batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from datasets.distributed import split_dataset_by_node
from tqdm.auto import tqdm

from ..corpus.storage import CorpusError, load_corpus
from .batching import (
    ContrastivePairCollator,
    bucketed_batches,
    random_batches,
    shard_batch,
    stream_bucketed_batches,
)
from .cropping import CropPolicy, crop_starts, view_length
from .pairs import (
    GeneSetPairDataset,
    gene_set_pair_weights,
    gene_set_weight_normaliser,
    pair_lengths,
    sample_epoch_pairs,
    stream_pairs,
)


def load_corpus_splits(path: str) -> datasets.DatasetDict:
    """Open a corpus folder written by ``isoclr build-corpus`` (a DatasetDict of gene sets).

    Raises:
        CorpusError: no corpus at ``path``, or a missing or damaged file of it (named).
    """
    if not (Path(path) / "dataset_dict.json").is_file():
        raise CorpusError(
            f"No corpus at {path} (no dataset_dict.json): build one with `isoclr build-corpus` and pass its output "
            "folder as --corpus."
        )
    return load_corpus(path)


def training_split(corpus: datasets.DatasetDict, path: str, name: str) -> datasets.Dataset:
    """The split pretraining draws its pairs from; refuses one that is absent or holds no gene set.

    Raises:
        CorpusError: naming the corpus and the split.
    """
    if name not in corpus:
        raise CorpusError(f"{path}: no split {name!r} (the corpus has {', '.join(corpus)}); see --train_split.")
    if len(corpus[name]) == 0:
        raise CorpusError(f"{path}: the {name!r} split has no gene sets, so there is nothing to pretrain on; rebuild "
                          "the corpus with more transcripts or smaller --validation-fraction/--test-fraction.")
    return corpus[name]


def transcript_lengths_of(gene_sets: datasets.Dataset, description: str = "reading lengths") -> list[list[int]]:
    """Length of every transcript of every gene set, streamed from the memory-mapped corpus."""
    lengths: list[list[int]] = []
    rows = gene_sets.select_columns(["transcripts"]).with_format("arrow")
    for table in tqdm(rows.iter(batch_size=1000), total=-(-len(gene_sets) // 1000), desc=description, leave=False):
        for transcripts in table.column("transcripts").to_pylist():
            lengths.append([len(t["sequence"]) for t in transcripts])
    return lengths


@dataclass
class PairCorpus:
    """A corpus split ready for pair sampling.

    Attributes:
        gene_sets: The split (one row per gene set).
        transcript_lengths: Per gene set, the length of each transcript.
        weights: Each gene set's pair weight ``log(n + c) / Z`` (Z over this split). Shape: (n_sets,).
    """

    gene_sets: datasets.Dataset
    transcript_lengths: list[list[int]]
    weights: np.ndarray

    @classmethod
    def from_split(cls, gene_sets: datasets.Dataset, weight_constant: float) -> PairCorpus:
        lengths = transcript_lengths_of(gene_sets)
        sizes = np.array([len(set_lengths) for set_lengths in lengths])
        normaliser = gene_set_weight_normaliser(sizes, weight_constant)
        return cls(gene_sets, lengths, gene_set_pair_weights(sizes, weight_constant, normaliser))

    @property
    def set_sizes(self) -> np.ndarray:
        return np.array([len(set_lengths) for set_lengths in self.transcript_lengths])


@dataclass
class EpochPlan:
    """The pairs and global batches of one epoch, identical on every process.

    Attributes:
        pairs: (n_sets, 3) gene set, first and second transcript index (``sample_epoch_pairs``).
        view_lengths: (n_sets, 2) lengths of the two views after cropping.
        global_batches: Lists of pair indices; each is one micro-step of all processes together.
        crop_starts: (n_sets, 2) start of each view (:func:`~isoclr_hf.pretraining.cropping.crop_starts`);
            ``None`` for 5' crops.
    """

    pairs: np.ndarray
    view_lengths: np.ndarray
    global_batches: list[list[int]]
    crop_starts: np.ndarray | None = None


def plan_epoch(
    corpus: PairCorpus,
    *,
    epoch: int,
    seed: int,
    global_batch_size: int,
    max_length: int,
    bucketing: bool,
    mega_batch_batches: int,
    max_nucleotides: int | None,
    world_size: int,
    crop: CropPolicy | None = None,
) -> EpochPlan:
    """Draw an epoch's pairs, cut them into global batches (bucketed or random) and draw their crops.

    ``crop`` ``None`` or 5': every view starts at the 5' end (no draw, the released recipe); else each
    view's start is drawn from ``(seed, epoch)``, after (and apart from) the pairs and batches.
    """
    pairs = sample_epoch_pairs(corpus.set_sizes, seed=seed, epoch=epoch)
    view_lengths = pair_lengths(corpus.transcript_lengths, pairs, max_length)
    starts = None
    if crop is not None and crop.random:
        full_lengths = pair_lengths(corpus.transcript_lengths, pairs, np.iinfo(np.int64).max)  # (n_sets, 2)
        starts = crop_starts(full_lengths, max_length, crop, np.random.default_rng([seed, epoch, 0xC409]))
    if bucketing:
        batches = bucketed_batches(
            view_lengths.max(axis=1),
            global_batch_size,
            seed=seed,
            epoch=epoch,
            mega_batch_batches=mega_batch_batches,
            max_nucleotides=max_nucleotides,
            size_multiple=world_size,
        )
    else:
        batches = random_batches(len(pairs), global_batch_size, seed=seed, epoch=epoch)
    return EpochPlan(pairs, view_lengths, batches, starts)


def steps_per_epoch(plan: Any, gradient_accumulation_steps: int) -> int:
    """Optimizer steps in an epoch of any plan with ``global_batches`` (trailing micro-batches that do not
    fill a step are dropped)."""
    return len(plan.global_batches) // gradient_accumulation_steps


class _FixedBatches(torch.utils.data.Sampler[list[int]]):
    """A batch sampler over a precomputed list of batches."""

    def __init__(self, batches: list[list[int]]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def batch_loader(
    dataset: torch.utils.data.Dataset[Any],
    global_batches: list[list[int]],
    collator: Any,
    *,
    rank: int,
    world_size: int,
    n_batches: int,
    skip_batches: int = 0,
    num_workers: int = 0,
) -> torch.utils.data.DataLoader[Any]:
    """This process's loader over any example dataset: its slice of global batches ``skip_batches .. n_batches``."""
    local = [shard_batch(batch, rank, world_size) for batch in global_batches[skip_batches:n_batches]]
    # Own generator: creating the iterator must not draw from the global torch RNG, which drives
    # the masking and is restored on resume.
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=_FixedBatches(local),
        collate_fn=collator,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(0),
    )


def pair_dataset(corpus: PairCorpus, plan: EpochPlan) -> GeneSetPairDataset:
    """The epoch's pair examples (indexed as ``plan.global_batches`` index them)."""
    return GeneSetPairDataset(corpus.gene_sets, plan.pairs, corpus.weights, plan.crop_starts)


def process_dataloader(
    corpus: PairCorpus,
    plan: EpochPlan,
    collator: ContrastivePairCollator,
    *,
    rank: int,
    world_size: int,
    n_batches: int,
    skip_batches: int = 0,
    num_workers: int = 0,
) -> torch.utils.data.DataLoader[Any]:
    """This process's loader of pairs for an epoch: its slice of global batches ``skip_batches .. n_batches``."""
    return batch_loader(pair_dataset(corpus, plan), plan.global_batches, collator, rank=rank, world_size=world_size,
                        n_batches=n_batches, skip_batches=skip_batches, num_workers=num_workers)


class EpochEnd:
    """Marker yielded by :func:`epoch_micro_batches` after the last micro-batch of an epoch."""


EPOCH_END = EpochEnd()


def epoch_micro_batches(
    dataset_for: Callable[[Any], torch.utils.data.Dataset[Any]],
    collator: Any,
    plan_for_epoch: Callable[[int], Any],
    *,
    gradient_accumulation_steps: int,
    rank: int,
    world_size: int,
    start_epoch: int,
    skip_batches: int,
    num_workers: int = 0,
) -> Iterator[dict[str, Any] | EpochEnd]:
    """This process's micro-batches, epoch after epoch, with :data:`EPOCH_END` after each epoch.

    Args:
        dataset_for: ``plan -> dataset`` of the epoch's examples (pairs: :func:`pair_dataset`; single
            transcripts: :mod:`~isoclr_hf.pretraining.masked_lm_data`).
        plan_for_epoch: ``epoch -> plan`` with ``global_batches`` (the same on every process).
        start_epoch: Epoch to start in (resume).
        skip_batches: Micro-batches of ``start_epoch`` already done (resume).
    """
    epoch = start_epoch
    while True:
        plan = plan_for_epoch(epoch)
        n_batches = steps_per_epoch(plan, gradient_accumulation_steps) * gradient_accumulation_steps
        if n_batches == 0:
            raise ValueError(f"Epoch {epoch} has no full optimizer step: lower per_device_batch_size.")
        yield from batch_loader(dataset_for(plan), plan.global_batches, collator, rank=rank, world_size=world_size,
                                n_batches=n_batches, skip_batches=skip_batches, num_workers=num_workers)
        yield EPOCH_END
        epoch += 1
        skip_batches = 0


@dataclass
class StreamingCorpus:
    """This process's share of a corpus split read as a stream, and the corpus-wide weight normaliser.

    Attributes:
        gene_sets: The process's rows (``split_dataset_by_node``), an ``IterableDataset``.
        normaliser: ``Z`` of IsoCLR Eq. 3 over the whole split (one pass over ``set_size``).
        weight_constant: ``c`` of Eq. 3.
    """

    gene_sets: datasets.IterableDataset
    normaliser: float
    weight_constant: float

    @classmethod
    def open(cls, path: str, split: str, *, rank: int, world_size: int, weight_constant: float) -> StreamingCorpus:
        """A local corpus folder (streamed from its Arrow files) or a Hub dataset id (streamed over HTTP)."""
        if (Path(path) / "dataset_dict.json").exists():
            local = training_split(load_corpus_splits(path), path, split)
            stream = local.to_iterable_dataset(num_shards=min(len(local), 8 * world_size))
        else:
            stream = datasets.load_dataset(path, split=split, streaming=True)
        sizes = [row["set_size"] for row in stream.select_columns(["set_size"])]
        if not sizes:
            raise CorpusError(f"{path}: the {split!r} split has no gene sets, so there is nothing to pretrain on.")
        normaliser = gene_set_weight_normaliser(sizes, weight_constant)
        return cls(split_dataset_by_node(stream, rank=rank, world_size=world_size), normaliser, weight_constant)


def streaming_micro_batches(
    corpus: StreamingCorpus,
    collator: ContrastivePairCollator,
    *,
    seed: int,
    batch_size: int,
    max_length: int,
    mega_batch_batches: int,
    shuffle_buffer: int,
    skip_batches: int,
    crop: CropPolicy | None = None,
) -> Iterator[dict[str, Any]]:
    """This process's micro-batches from a streamed corpus, cycling through epochs without end.

    Deterministic given ``seed``: rows are shuffled with ``IterableDataset.shuffle(seed)`` and
    ``set_epoch``, pairs (and random crops, with ``crop``) drawn from ``(seed, epoch, row)``, so
    resuming skips ``skip_batches`` batches (uncollated) and continues exactly. Processes run
    through their shares independently; the run's length is set by ``max_steps``.
    """
    produced = 0
    epoch = 0
    while True:
        rows = corpus.gene_sets.shuffle(seed=seed, buffer_size=shuffle_buffer)
        rows.set_epoch(epoch)
        pairs = stream_pairs(rows, seed=seed, epoch=epoch, normaliser=corpus.normaliser,
                             constant=corpus.weight_constant, crop=crop, max_length=max_length)
        batches_this_epoch = 0
        for batch in stream_bucketed_batches(
            pairs,
            batch_size,
            length_of=lambda e: int(view_length(max(len(e["first"]["sequence"]), len(e["second"]["sequence"])),
                                                 max_length)),
            seed=seed * 1_000_003 + epoch,
            mega_batch_batches=mega_batch_batches,
        ):
            batches_this_epoch += 1
            produced += 1
            if produced > skip_batches:
                yield collator(batch)
        if batches_this_epoch == 0:
            raise ValueError(f"This process's share of the corpus does not fill one batch of {batch_size} pairs.")
        epoch += 1


def held_out_transcripts(
    gene_sets: datasets.Dataset | datasets.IterableDataset,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """All transcripts of a held-out split (read into memory) and the index of the gene set of each."""
    transcripts: list[dict[str, Any]] = []
    set_index: list[int] = []
    for row, gene_set in enumerate(gene_sets.select_columns(["transcripts"])):
        members = gene_set["transcripts"]
        transcripts.extend(members)
        set_index.extend([row] * len(members))
    return transcripts, np.asarray(set_index)


__all__ = [
    "EPOCH_END",
    "EpochEnd",
    "EpochPlan",
    "PairCorpus",
    "StreamingCorpus",
    "batch_loader",
    "epoch_micro_batches",
    "held_out_transcripts",
    "load_corpus_splits",
    "pair_dataset",
    "plan_epoch",
    "process_dataloader",
    "steps_per_epoch",
    "streaming_micro_batches",
    "training_split",
    "transcript_lengths_of",
]
