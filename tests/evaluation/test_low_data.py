"""Low-data subsets: sizes, the minimum, distinct draws per seed."""

from __future__ import annotations

import numpy as np
import pytest

from isoclr_hf.evaluation.low_data import training_subsets


def test_subset_sizes_follow_fractions_with_a_floor() -> None:
    subsets = training_subsets(200, fractions=(0.005, 0.1, 1.0), seeds=(0, 1, 2), min_train=10)
    by_fraction = {}
    for subset in subsets:
        by_fraction.setdefault(subset.fraction, []).append(subset)
        assert len(np.unique(subset.indices)) == len(subset.indices)
        assert subset.indices.min() >= 0 and subset.indices.max() < 200
    assert [len(s.indices) for s in by_fraction[0.005]] == [10, 10, 10]
    assert all(s.floored for s in by_fraction[0.005])
    assert [len(s.indices) for s in by_fraction[0.1]] == [20, 20, 20]
    assert not any(s.floored for s in by_fraction[0.1])
    assert len(by_fraction[1.0]) == 1 and len(by_fraction[1.0][0].indices) == 200
    first, second = by_fraction[0.1][:2]
    assert not np.array_equal(first.indices, second.indices)


def test_floor_is_capped_by_the_split_and_bad_fractions_are_refused() -> None:
    assert len(training_subsets(6, fractions=(0.5,), seeds=(0,), min_train=10)[0].indices) == 6
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        training_subsets(100, fractions=(1.5,))


def test_fractions_with_the_same_n_are_merged_so_every_fraction_has_its_own_n() -> None:
    subsets = training_subsets(1000, fractions=(0.005, 0.01, 0.1, 1.0), seeds=(0, 1, 2, 3, 4), min_train=10)
    sizes = {s.fraction: len(s.indices) for s in subsets}
    assert sizes == {0.01: 10, 0.1: 100, 1.0: 1000}  # 0.5% would also be 10: merged into 1%
    assert all(s.merged_fractions == (0.005,) for s in subsets if s.fraction == 0.01)
    assert not any(s.floored for s in subsets if s.fraction == 0.01)
    assert len([s for s in subsets if s.fraction == 0.1]) == 5
