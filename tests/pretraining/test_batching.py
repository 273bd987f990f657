"""Length-bucketed batching, the padded fraction and the pair collator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.pretraining.batching import (
    ContrastivePairCollator,
    bucketed_batches,
    padded_fraction,
    random_batches,
    shard_batch,
    stream_bucketed_batches,
)


def transcript_lengths(n: int, seed: int = 0, isoform_spread: float = 0.03) -> np.ndarray:
    """Lengths of both views of ``n`` pairs. Shape: (n, 2).

    Log-normal like human mRNAs (median ~2.5 kb), capped at the paper's 12,288; the two isoforms of
    a pair differ in length by a few percent (``isoform_spread``, log scale).
    """
    rng = np.random.default_rng(seed)
    gene = rng.lognormal(np.log(2500), 0.7, size=(n, 1))
    views = gene * rng.lognormal(0.0, isoform_spread, size=(n, 2))
    return np.minimum(views.astype(int) + 50, 12288)


def test_bucketed_batches_are_full_disjoint_and_reproducible() -> None:
    views = transcript_lengths(1000)
    batches = bucketed_batches(views.max(1), 32, seed=0, epoch=0, mega_batch_batches=8)
    assert all(len(b) == 32 for b in batches)
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat))
    assert len(batches) == sum(min(256, 1000 - s) // 32 for s in range(0, 1000, 256))  # drop_last per chunk
    assert batches == bucketed_batches(views.max(1), 32, seed=0, epoch=0, mega_batch_batches=8)
    assert batches != bucketed_batches(views.max(1), 32, seed=0, epoch=1, mega_batch_batches=8)


def test_bucketing_cuts_padding_below_five_percent() -> None:
    views = transcript_lengths(4096)
    bucketed = bucketed_batches(views.max(1), 32, seed=0, epoch=0, mega_batch_batches=64)
    unbucketed = random_batches(len(views), 32, seed=0, epoch=0)
    with_bucketing = padded_fraction(bucketed, views, 32)
    without = padded_fraction(unbucketed, views, 32)
    assert with_bucketing < 0.05 < without
    assert with_bucketing < without / 4


def test_nucleotide_budget_limits_each_batch() -> None:
    views = transcript_lengths(600)
    keys = views.max(1)
    budget = 2 * 16 * 4096
    batches = bucketed_batches(keys, 64, seed=0, epoch=0, max_nucleotides=budget, size_multiple=2)
    assert batches
    for batch in batches:
        assert len(batch) % 2 == 0 and len(batch) <= 64
        assert 2 * len(batch) * int(keys[batch].max()) <= budget or len(batch) == 2
    sizes = [len(b) for b in batches]
    assert max(sizes) > min(sizes)  # short pairs come in larger batches


def test_streamed_bucketing_keeps_batches_full_and_padding_low() -> None:
    views = transcript_lengths(1000)
    examples = [{"index": i, "length": int(views[i].max())} for i in range(len(views))]
    batches = list(stream_bucketed_batches(iter(examples), 16, length_of=lambda e: e["length"], seed=0,
                                           mega_batch_batches=20))
    assert all(len(b) == 16 for b in batches)
    indices = [e["index"] for b in batches for e in b]
    assert len(indices) == len(set(indices)) and len(indices) >= 1000 - 2 * 16  # a short batch per buffer at most
    as_indices = [[e["index"] for e in b] for b in batches]
    unbucketed = random_batches(1000, 16, seed=0, epoch=0)
    assert padded_fraction(as_indices, views, 32) < padded_fraction(unbucketed, views, 32) / 2
    again = list(stream_bucketed_batches(iter(examples), 16, length_of=lambda e: e["length"], seed=0,
                                         mega_batch_batches=20))
    assert as_indices == [[e["index"] for e in b] for b in again]


def test_shards_split_a_global_batch_evenly_and_disjointly() -> None:
    batch = list(range(100, 112))
    shards = [shard_batch(batch, rank, 3) for rank in range(3)]
    assert [len(s) for s in shards] == [4, 4, 4]
    assert sorted(i for shard in shards for i in shard) == batch
    with pytest.raises(ValueError, match="multiple of the number of processes"):
        shard_batch(batch, 0, 5)


def transcript(name: str, sequence: str, exon_ends: list[int], cds: tuple[int, int] | None) -> dict:
    return {
        "transcript_id": name,
        "sequence": sequence,
        "exon_ends": exon_ends,
        "cds_start": -1 if cds is None else cds[0],
        "cds_end": -1 if cds is None else cds[1],
    }


def test_collator_builds_both_views_and_matches_the_padded_fraction() -> None:
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), size=n)) for n in (70, 100, 40, 33)]
    examples = [
        {
            "first": transcript("t1", seqs[0], [30, 70], (3, 63)),
            "second": transcript("t2", seqs[1], [100], None),
            "weight": 1.2,
        },
        {
            "first": transcript("t3", seqs[2], [40], None),
            "second": transcript("t4", seqs[3], [10, 33], (0, 33)),
            "weight": 0.7,
        },
    ]
    batch = ContrastivePairCollator(IsoCLRTokenizer(), max_length=96, pad_to_multiple_of=32)(examples)
    assert set(batch) == {
        "input_ids", "cds_track", "splice_track", "attention_mask",
        "partner_input_ids", "partner_cds_track", "partner_splice_track", "partner_attention_mask", "weights",
    }  # fmt: skip
    assert batch["input_ids"].shape == (2, 96)  # 70 -> padded to a multiple of 32
    assert batch["partner_input_ids"].shape == (2, 96)  # 100 truncated to 96
    assert batch["attention_mask"].sum(1).tolist() == [70, 40]
    assert batch["partner_attention_mask"].sum(1).tolist() == [96, 33]
    assert batch["splice_track"][0, 29] == 1 and batch["cds_track"][0, 3] == 1 and batch["cds_track"][1].sum() == 0
    torch.testing.assert_close(batch["weights"], torch.tensor([1.2, 0.7]))
    # The padded fraction counts what the encoder sees: both views at the longer view's padded length.
    views = np.array([[70, 96], [40, 33]])
    width = max(batch["input_ids"].shape[1], batch["partner_input_ids"].shape[1])
    valid = int(batch["attention_mask"].sum() + batch["partner_attention_mask"].sum())
    assert padded_fraction([[0, 1]], views, 32) == pytest.approx(1 - valid / (2 * 2 * width))


def test_collator_names_the_transcript_with_bad_sequence() -> None:
    bad = {
        "first": transcript("PB.7.1", "ACGXT", [5], None),
        "second": transcript("PB.7.2", "ACGT", [4], None),
        "weight": 1.0,
    }
    with pytest.raises(ValueError, match=r"PB\.7\.1"):
        ContrastivePairCollator(IsoCLRTokenizer(), max_length=64, pad_to_multiple_of=32)([bad])
