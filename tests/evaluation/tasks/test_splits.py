"""Grouped splits: no gene or source UTR on two sides; MPRA variants grouped by shared sequence."""

from __future__ import annotations

import numpy as np
import pytest

from isoclr_hf.evaluation.tasks.splits import check_no_group_leak, grouped_split, shared_kmer_groups, subsample_groups


def test_grouped_split_keeps_groups_together_and_follows_fractions() -> None:
    rng = np.random.default_rng(0)
    groups = np.asarray([f"gene{g}" for g in rng.integers(0, 300, size=2000)], dtype=object)
    split = grouped_split(groups, seed=3)
    check_no_group_leak(groups, split)
    assert sorted(np.concatenate(list(split.values())).tolist()) == list(range(2000))
    assert len(split["train"]) / 2000 == pytest.approx(0.8, abs=0.03)
    assert len(split["test"]) / 2000 == pytest.approx(0.1, abs=0.03)
    again = grouped_split(groups, seed=3)
    assert all(np.array_equal(split[k], again[k]) for k in split)


def test_grouped_split_needs_three_groups() -> None:
    with pytest.raises(ValueError, match="at least 3 groups"):
        grouped_split(np.array(["a", "a", "b"], dtype=object))


def test_variants_and_overlapping_tiles_share_a_group_unrelated_sequences_do_not() -> None:
    rng = np.random.default_rng(1)
    utr = "".join(rng.choice(list("ACGT"), size=260))
    other = "".join(rng.choice(list("ACGT"), size=160))
    tile = utr[:160]
    variant = tile[:80] + ("A" if tile[80] != "A" else "C") + tile[81:]  # a point mutation
    shifted_tile = utr[100:260]  # overlaps the first tile by 60 nt
    groups = shared_kmer_groups([tile, variant, shifted_tile, other])
    assert groups[0] == groups[1] == groups[2]
    assert groups[3] != groups[0]


def test_subsample_keeps_whole_groups_under_the_cap() -> None:
    groups = np.asarray([f"g{i // 4}" for i in range(400)], dtype=object)
    kept = subsample_groups(groups, 50, seed=0)
    assert 40 <= len(kept) <= 50
    kept_groups = set(groups[kept])
    assert sum(g in kept_groups for g in groups) == len(kept)
