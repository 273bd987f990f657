"""Positive-pair sampling and the gene-set weights of IsoCLR Eq. 3."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from isoclr_hf import IsoCLRConfig, gene_set_weights
from isoclr_hf.pretraining.pairs import (
    GeneSetPairDataset,
    gene_set_pair_weights,
    gene_set_weight_normaliser,
    pair_lengths,
    sample_epoch_pairs,
    stream_pairs,
)

C = IsoCLRConfig().gene_set_weight_constant  # Eq. 3's c, from the model config (paper: 0.4)
SIZES = np.array([1, 2, 5, 1, 3, 12, 2, 1])


def test_weights_follow_eq3_and_average_to_one_over_the_corpus() -> None:
    weights = gene_set_pair_weights(SIZES, constant=C)
    z = np.mean([math.log(n + 0.4) for n in SIZES])
    np.testing.assert_allclose(weights, [math.log(n + 0.4) / z for n in SIZES], rtol=1e-6)
    assert weights.mean() == pytest.approx(1.0, abs=1e-6)
    # Bigger gene sets weigh more, and the library's loss helper agrees.
    assert weights[5] > weights[2] > weights[1] > weights[0]
    np.testing.assert_allclose(weights, gene_set_weights(torch.tensor(SIZES), 0.4).numpy(), rtol=1e-6)


def test_a_subset_is_weighted_with_the_corpus_normaliser() -> None:
    z = gene_set_weight_normaliser(SIZES, C)
    subset = gene_set_pair_weights(SIZES[:3], C, normaliser=z)
    np.testing.assert_allclose(subset, gene_set_pair_weights(SIZES, C)[:3])


def test_weights_reject_a_corpus_where_they_cannot_be_normalised() -> None:
    # Every set a singleton and c = 0: log(1 + 0) = 0, no Z makes the mean weight 1.
    with pytest.raises(ValueError, match="gene_set_weight_constant"):
        gene_set_weight_normaliser([1, 1, 1], constant=0.0)
    with pytest.raises(ValueError, match="no gene sets"):
        gene_set_weight_normaliser([], C)


def test_pairs_use_two_different_transcripts_when_a_set_has_several() -> None:
    for epoch in range(20):
        pairs = sample_epoch_pairs(SIZES, seed=3, epoch=epoch)
        assert pairs.shape == (len(SIZES), 3)
        np.testing.assert_array_equal(pairs[:, 0], np.arange(len(SIZES)))
        assert np.all(pairs[:, 1] < SIZES) and np.all(pairs[:, 2] < SIZES)
        several = SIZES > 1
        assert np.all(pairs[several, 1] != pairs[several, 2])
        assert np.all(pairs[~several, 1] == pairs[~several, 2])


def test_pairs_are_reproducible_per_epoch_and_change_between_epochs() -> None:
    first = sample_epoch_pairs(SIZES, seed=0, epoch=4)
    np.testing.assert_array_equal(first, sample_epoch_pairs(SIZES, seed=0, epoch=4))
    assert not np.array_equal(first, sample_epoch_pairs(SIZES, seed=0, epoch=5))
    assert not np.array_equal(first, sample_epoch_pairs(SIZES, seed=1, epoch=4))


def test_every_ordered_pair_of_a_set_is_drawn() -> None:
    drawn = {tuple(sample_epoch_pairs([4], seed=0, epoch=e)[0, 1:]) for e in range(300)}
    assert drawn == {(i, j) for i in range(4) for j in range(4) if i != j}


def test_empty_gene_sets_are_rejected_with_their_row() -> None:
    with pytest.raises(ValueError, match="row 1"):
        sample_epoch_pairs([2, 0, 3], seed=0, epoch=0)


def test_pair_lengths_are_truncated_to_the_model_maximum() -> None:
    lengths = [[100, 20000], [50]]
    pairs = np.array([[0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(pair_lengths(lengths, pairs, 12288), [[12288, 100], [50, 50]])


def test_pair_dataset_returns_both_transcripts_and_the_weight() -> None:
    gene_sets = [
        {"transcripts": [{"transcript_id": "a1"}, {"transcript_id": "a2"}]},
        {"transcripts": [{"transcript_id": "b1"}]},
    ]
    pairs = sample_epoch_pairs([2, 1], seed=0, epoch=0)
    weights = gene_set_pair_weights([2, 1], C)
    dataset = GeneSetPairDataset(gene_sets, pairs, weights)
    assert len(dataset) == 2
    first = dataset[0]
    assert {first["first"]["transcript_id"], first["second"]["transcript_id"]} == {"a1", "a2"}
    assert first["weight"] == pytest.approx(weights[0])
    assert dataset[1]["first"] == dataset[1]["second"] == {"transcript_id": "b1"}


def test_streamed_pairs_are_reproducible_and_weighted_with_the_corpus_normaliser() -> None:
    rows = [{"set_id": f"g{i}", "transcripts": [{"transcript_id": f"g{i}.{j}"} for j in range(n)]}
            for i, n in enumerate(SIZES)]
    z = gene_set_weight_normaliser(SIZES, C)
    first = list(stream_pairs(rows, seed=0, epoch=0, normaliser=z, constant=C))
    assert first == list(stream_pairs(rows, seed=0, epoch=0, normaliser=z, constant=C))
    second_epoch = stream_pairs(rows, seed=0, epoch=1, normaliser=z, constant=C)
    assert [p["first"] for p in first] != [p["first"] for p in second_epoch]
    np.testing.assert_allclose([p["weight"] for p in first], gene_set_pair_weights(SIZES, C), rtol=1e-6)
    for pair, size in zip(first, SIZES):
        assert (pair["first"] != pair["second"]) == (size > 1)
    with pytest.raises(ValueError, match="'empty'"):
        list(stream_pairs([{"set_id": "empty", "transcripts": []}], seed=0, epoch=0, normaliser=1.0, constant=C))
