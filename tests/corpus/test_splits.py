"""Split by gene set: deterministic, stable, close to the asked fractions."""

from __future__ import annotations

from collections import Counter

from isoclr_hf.corpus import split_of


def test_split_is_a_function_of_set_id_and_seed_only():
    set_ids = [f"ENSG{i:011d}" for i in range(5000)]
    first = [split_of(s) for s in set_ids]
    assert first == [split_of(s) for s in reversed(set_ids)][::-1]
    assert first[:2500] == [split_of(s) for s in set_ids[:2500]]  # adding sets moves no other set
    assert first != [split_of(s, seed=1) for s in set_ids]


def test_fractions_are_close_to_those_asked():
    counts = Counter(split_of(f"gene{i}", validation_fraction=0.1, test_fraction=0.2) for i in range(20000))
    assert abs(counts["validation"] / 20000 - 0.1) < 0.01
    assert abs(counts["test"] / 20000 - 0.2) < 0.01
    assert set(Counter(split_of(f"gene{i}", validation_fraction=0, test_fraction=0) for i in range(100))) == {"train"}
