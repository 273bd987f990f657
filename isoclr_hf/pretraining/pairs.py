"""Positive pairs for contrastive pretraining: two views of each gene set, and their weights.

Every epoch draws one pair per gene set (a row of the corpus): two
different transcripts when the set has several, the same transcript twice when it has one (the
model's 15% masking then makes the two views differ). The draw depends only on ``(seed, epoch)``,
so a resumed run sees the same pairs in the same order as an uninterrupted one.

Each pair's positive term is weighted by IsoCLR's Eq. 3 (Fradkin et al. 2023):
``w_i = log(n_i + c) / Z`` with ``n_i`` the number of transcripts of the pair's gene set, ``c`` the
model config's ``gene_set_weight_constant`` (paper: 0.4) and ``Z = mean_i log(n_i + c)`` over the gene
sets of the corpus, so the corpus mean weight is 1. The formula is the model's
(:func:`isoclr_hf.gene_set_weights`); this module only applies it to a corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ..models.isoclr import gene_set_weights
from .cropping import CropPolicy, crop_starts, view_length

# Columns of the array returned by :func:`sample_epoch_pairs`.
SET_COLUMN, FIRST_COLUMN, SECOND_COLUMN = 0, 1, 2


def gene_set_weight_normaliser(set_sizes: Sequence[int] | np.ndarray, constant: float) -> float:
    """``Z`` of IsoCLR Eq. 3: the mean of ``log(n + c)`` over the corpus's gene sets.

    Args:
        set_sizes: Number of transcripts of every gene set of the corpus (one entry per set).
        constant: ``c`` (the model config's ``gene_set_weight_constant``).

    Returns:
        ``Z``, so that ``log(n + c) / Z`` averages to 1 over the corpus.
    """
    sizes = np.asarray(set_sizes, dtype=np.float64)
    if sizes.size == 0:
        raise ValueError("The corpus has no gene sets; cannot normalise the pair weights.")
    if np.any(sizes < 1):
        raise ValueError(f"Gene set sizes must be >= 1, got a minimum of {sizes.min():g}.")
    # With Z = 1 the model's weights are log(n + c); their mean is Z.
    unnormalised = gene_set_weights(torch.from_numpy(sizes), constant, normaliser=1.0)
    normaliser = float(unnormalised.double().mean())
    if normaliser <= 0:
        raise ValueError(
            f"mean log(n + c) is {normaliser:.3g} <= 0 with c={constant}: every gene set has one transcript "
            "and c <= 1 makes the weights non-positive; raise gene_set_weight_constant above 1."
        )
    return normaliser


def gene_set_pair_weights(
    set_sizes: Sequence[int] | np.ndarray, constant: float, normaliser: float | None = None
) -> np.ndarray:
    """Weight ``log(n_i + c) / Z`` of each gene set's pair (IsoCLR Eq. 3). Shape: (n_sets,).

    Args:
        set_sizes: Number of transcripts of each gene set.
        constant: ``c`` (the model config's ``gene_set_weight_constant``).
        normaliser: ``Z``; by default computed from ``set_sizes`` (pass the training corpus's value
            when weighting a subset).
    """
    sizes = np.asarray(set_sizes, dtype=np.float64)
    z = gene_set_weight_normaliser(sizes, constant) if normaliser is None else normaliser
    return gene_set_weights(torch.from_numpy(sizes), constant, normaliser=z).numpy()  # float32


def sample_epoch_pairs(set_sizes: Sequence[int] | np.ndarray, *, seed: int, epoch: int) -> np.ndarray:
    """Draw one positive pair per gene set for one epoch, deterministically from ``(seed, epoch)``.

    Args:
        set_sizes: Number of transcripts of each gene set (row order of the corpus split).
        seed: Run seed.
        epoch: Epoch number; each epoch draws different partners.

    Returns:
        Integer array of shape (n_sets, 3): gene set index, index of the first transcript in the set,
        index of the second. The two indices differ whenever the set has two or more transcripts.
    """
    sizes = np.asarray(set_sizes, dtype=np.int64)
    if np.any(sizes < 1):
        bad = int(np.flatnonzero(sizes < 1)[0])
        raise ValueError(f"Gene set at row {bad} has {int(sizes[bad])} transcripts; every set needs at least one.")
    first, second = _draw_partners(sizes, np.random.default_rng([seed, epoch, 0x150C1]))
    return np.stack([np.arange(sizes.size), first, second], axis=1)  # (n_sets, 3)


def _draw_partners(sizes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two transcript indices per set, different where the set has two or more transcripts."""
    first = np.floor(rng.random(sizes.size) * sizes).astype(np.int64)
    # Second draw among the other n - 1 transcripts: an offset in [1, n - 1] from the first.
    offsets = 1 + np.floor(rng.random(sizes.size) * np.maximum(sizes - 1, 1)).astype(np.int64)
    second = np.where(sizes > 1, (first + offsets) % sizes, first)
    return first, second


def stream_pairs(
    gene_sets: Iterable[dict[str, Any]], *, seed: int, epoch: int, normaliser: float, constant: float,
    crop: CropPolicy | None = None, max_length: int | None = None,
) -> Iterator[dict[str, Any]]:
    """One pair example per gene set of a streamed corpus (rows with a ``transcripts`` list).

    For corpora read as an iterable (``datasets`` streaming, larger than memory or disk): the
    partners of the ``k``-th row are drawn from ``(seed, epoch, k)``, so the same stream gives the
    same pairs. ``normaliser`` is ``Z`` of the whole corpus (:func:`gene_set_weight_normaliser` on
    its ``set_size`` column), ``constant`` the model config's ``gene_set_weight_constant``. With a
    random ``crop`` (and ``max_length``), each example also gets ``"starts"``, drawn from
    ``(seed, epoch, k)`` apart from the partners.

    Yields:
        ``{"first": transcript, "second": transcript, "weight": w}`` as :class:`GeneSetPairDataset` items.
    """
    if crop is not None and crop.random and max_length is None:
        raise ValueError("stream_pairs: a random crop needs max_length")
    for row_number, row in enumerate(gene_sets):
        transcripts = row["transcripts"]
        if not transcripts:
            raise ValueError(f"Gene set {row.get('set_id', row_number)!r} has no transcripts.")
        sizes = np.array([len(transcripts)])
        first, second = _draw_partners(sizes, np.random.default_rng([seed, epoch, row_number, 0x57E4]))
        example = {
            "first": transcripts[int(first[0])],
            "second": transcripts[int(second[0])],
            "weight": float(gene_set_weights(torch.tensor([len(transcripts)]), constant, normaliser)[0]),
        }
        if crop is not None and crop.random and max_length is not None:
            lengths = np.array([[len(example["first"]["sequence"]), len(example["second"]["sequence"])]])
            starts = crop_starts(lengths, max_length, crop, np.random.default_rng([seed, epoch, row_number, 0xC409]))
            example["starts"] = (int(starts[0, 0]), int(starts[0, 1]))
        yield example


def pair_lengths(transcript_lengths: Sequence[Sequence[int]], pairs: np.ndarray, max_length: int) -> np.ndarray:
    """Lengths of both views of each pair as :mod:`~isoclr_hf.pretraining.cropping` cuts them. Shape: (n_pairs, 2).

    Args:
        transcript_lengths: Per gene set, the length of each of its transcripts.
        pairs: Output of :func:`sample_epoch_pairs`.
        max_length: The model's maximum input length (longer transcripts are truncated).
    """
    lengths = np.empty((len(pairs), 2), dtype=np.int64)
    for row, (set_index, first, second) in enumerate(pairs):
        set_lengths = transcript_lengths[set_index]
        lengths[row] = (set_lengths[first], set_lengths[second])
    return view_length(lengths, max_length)


class GeneSetPairDataset(torch.utils.data.Dataset):
    """One epoch's positive pairs over a corpus split, as examples for :class:`ContrastivePairCollator`.

    Item ``k`` is ``{"first": transcript, "second": transcript, "weight": w}`` for pair ``k`` of
    ``pairs``, transcripts being the corpus's transcript dicts (TranscriptRecord fields).

    Args:
        gene_sets: A corpus split (``datasets.Dataset`` with a ``transcripts`` column) or any
            sequence of rows with a ``transcripts`` list.
        pairs: Output of :func:`sample_epoch_pairs`.
        weights: Weight of each gene set's pair (:func:`gene_set_pair_weights`). Shape: (n_sets,).
        crop_starts: Start of each view (:func:`~isoclr_hf.pretraining.cropping.crop_starts`), given
            to the collator as the item's ``"starts"``; ``None``: 5' crops. Shape: (n_sets, 2).
    """

    def __init__(self, gene_sets: Any, pairs: np.ndarray, weights: np.ndarray,
                 crop_starts: np.ndarray | None = None) -> None:
        self.gene_sets = gene_sets
        self.pairs = pairs
        self.weights = weights
        self.crop_starts = crop_starts

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        set_index, first, second = (int(v) for v in self.pairs[index])
        transcripts = self.gene_sets[set_index]["transcripts"]
        item = {
            "first": transcripts[first],
            "second": transcripts[second],
            "weight": float(self.weights[set_index]),
        }
        if self.crop_starts is not None:
            item["starts"] = (int(self.crop_starts[index, 0]), int(self.crop_starts[index, 1]))
        return item


__all__ = [
    "GeneSetPairDataset",
    "gene_set_pair_weights",
    "gene_set_weight_normaliser",
    "pair_lengths",
    "sample_epoch_pairs",
    "stream_pairs",
]
