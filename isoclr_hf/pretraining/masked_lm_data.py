"""The data side of masked-LM pretraining: every transcript of a corpus split is one example.

The corpus is the one ``isoclr build-corpus`` writes (a ``DatasetDict`` of gene sets); gene sets play no
part in the objective, so the training split is flattened into its transcripts. Each epoch is planned
identically on every process from ``(seed, epoch)`` (:func:`plan_transcript_epoch`), as the contrastive
path plans its pairs (:mod:`.data`): one window per transcript (:func:`~.cropping.transcript_crop_starts`,
the crop rule of :mod:`.cropping`), one masking seed per transcript, and *global* length-bucketed batches
(:func:`~.batching.bucketed_batches`) of which each process takes its equal slice. The masking of an
example depends on its seed alone (:mod:`.masked_lm`), so it is the same whatever the batch, the process,
the DataLoader worker or a resume; resuming at batch ``k`` rebuilds the plan and skips ``k`` batches.

The held-out evaluation uses every transcript of the evaluation split with a window and a masking drawn
once from the run's seed (:func:`held_out_examples`), so its loss is comparable from step to step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import torch

from .batching import bucketed_batches, random_batches
from .cropping import CropPolicy, transcript_crop_starts, view_length
from .data import transcript_lengths_of

# Salts of the seeded draws, so that crops, masks and batch orders never share a stream.
CROP_SALT, MASK_SALT, HELD_OUT_CROP_SALT, HELD_OUT_MASK_SALT = 0xC409, 0x3A5C, 0xE7A1, 0xE7A2


@dataclass
class TranscriptCorpus:
    """A corpus split flattened into transcripts (the rows stay memory-mapped).

    Attributes:
        gene_sets: The split (one row per gene set).
        set_rows: Gene-set row of each transcript. Shape: (n_transcripts,).
        members: Index of each transcript in its gene set. Shape: (n_transcripts,).
        lengths: Length of each transcript in nucleotides. Shape: (n_transcripts,).
    """

    gene_sets: datasets.Dataset
    set_rows: np.ndarray
    members: np.ndarray
    lengths: np.ndarray

    @classmethod
    def from_split(cls, gene_sets: datasets.Dataset) -> TranscriptCorpus:
        per_set = transcript_lengths_of(gene_sets)
        set_rows = np.repeat(np.arange(len(per_set)), [len(lengths) for lengths in per_set])
        members = np.concatenate([np.arange(len(lengths)) for lengths in per_set]) if per_set else np.zeros(0)
        lengths = np.concatenate([np.asarray(lengths) for lengths in per_set]) if per_set else np.zeros(0)
        return cls(gene_sets, set_rows.astype(np.int64), members.astype(np.int64), lengths.astype(np.int64))

    def __len__(self) -> int:
        return len(self.lengths)


@dataclass
class TranscriptEpochPlan:
    """One epoch of single-transcript examples, identical on every process.

    Attributes:
        starts: Start of each transcript's window. Shape: (n_transcripts,).
        mask_seeds: Seed of each transcript's masking in this epoch. Shape: (n_transcripts,).
        global_batches: Lists of transcript indices; each is one micro-step of all processes together.
    """

    starts: np.ndarray
    mask_seeds: np.ndarray
    global_batches: list[list[int]]


def plan_transcript_epoch(
    corpus: TranscriptCorpus,
    *,
    epoch: int,
    seed: int,
    global_batch_size: int,
    max_length: int,
    bucketing: bool,
    mega_batch_batches: int,
    crop: CropPolicy,
) -> TranscriptEpochPlan:
    """Draw an epoch's windows and masking seeds and cut the transcripts into global batches.

    Batches are length-bucketed on the window's length (``min(length, max_length)``) or random, with
    ``drop_last`` (every process gets a slice of the same size).
    """
    starts = transcript_crop_starts(corpus.lengths, max_length, crop, np.random.default_rng([seed, epoch, CROP_SALT]))
    mask_seeds = np.random.default_rng([seed, epoch, MASK_SALT]).integers(0, 2**62, size=len(corpus))
    if bucketing:
        batches = bucketed_batches(view_length(corpus.lengths, max_length), global_batch_size, seed=seed, epoch=epoch,
                                   mega_batch_batches=mega_batch_batches)
    else:
        batches = random_batches(len(corpus), global_batch_size, seed=seed, epoch=epoch)
    return TranscriptEpochPlan(starts, mask_seeds, batches)


class TranscriptDataset(torch.utils.data.Dataset[dict[str, Any]]):
    """The examples of an epoch: ``{"transcript": dict (corpus layout), "start": int, "mask_seed": int}``."""

    def __init__(self, corpus: TranscriptCorpus, plan: TranscriptEpochPlan) -> None:
        self.corpus, self.plan = corpus, plan

    def __len__(self) -> int:
        return len(self.corpus)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.corpus.gene_sets[int(self.corpus.set_rows[index])]
        return {"transcript": row["transcripts"][int(self.corpus.members[index])],
                "start": int(self.plan.starts[index]), "mask_seed": int(self.plan.mask_seeds[index])}


def held_out_examples(transcripts: list[dict[str, Any]], *, seed: int, max_length: int,
                      crop: CropPolicy) -> list[dict[str, Any]]:
    """Examples of the held-out transcripts with a window and a masking seed fixed by the run's ``seed``."""
    lengths = np.array([len(t["sequence"]) for t in transcripts], dtype=np.int64)
    starts = transcript_crop_starts(lengths, max_length, crop, np.random.default_rng([seed, HELD_OUT_CROP_SALT]))
    mask_seeds = np.random.default_rng([seed, HELD_OUT_MASK_SALT]).integers(0, 2**62, size=len(transcripts))
    return [{"transcript": t, "start": int(s), "mask_seed": int(m)}
            for t, s, m in zip(transcripts, starts, mask_seeds, strict=True)]


__all__ = [
    "TranscriptCorpus",
    "TranscriptDataset",
    "TranscriptEpochPlan",
    "held_out_examples",
    "plan_transcript_epoch",
]
