"""Low-data subsets of a training split: the paper's claim is about few labels.

A fraction of the training split is drawn per seed. A fraction of a small task can leave almost
nothing (0.5% of 200 genes is one gene), so every subset has at least ``min_train`` examples; the
subsets where that floor applied are marked, and the report says so.

Every training fraction has its own n. Fractions that would give the same number of examples
(0.5% and 1% of 1,000 both give 10 once the floor applies) are merged: only the largest of them is
run, and the others are listed in its ``merged_fractions`` so the report can say so. A point of
the curve is therefore never a repeat of another under a different label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .defaults import DEFAULT_FRACTIONS, DEFAULT_MIN_TRAIN, DEFAULT_SEEDS


@dataclass(frozen=True)
class TrainingSubset:
    """One point of a low-data curve.

    Attributes:
        fraction: Requested fraction of the training split.
        seed: Seed of the draw.
        indices: Positions into the training split. Shape: (n,).
        floored: True when ``fraction`` would have given fewer than the minimum and the minimum was used.
        merged_fractions: Smaller requested fractions that gave the same n and were merged into this one.
    """

    fraction: float
    seed: int
    indices: np.ndarray
    floored: bool
    merged_fractions: tuple[float, ...] = ()


def training_subsets(
    n_train: int,
    *,
    fractions: tuple[float, ...] = DEFAULT_FRACTIONS,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    min_train: int = DEFAULT_MIN_TRAIN,
) -> list[TrainingSubset]:
    """Random subsets of ``range(n_train)`` for every fraction and seed.

    The full split (fraction 1) is the same for every seed, so it is returned once, with the first
    seed. Fractions giving the same subset size are merged into the largest of them (see the module
    docstring).

    Args:
        n_train: Size of the training split.
        fractions: Fractions in (0, 1].
        seeds: Seeds of the draws.
        min_train: Floor on the subset size (capped at ``n_train``).

    Returns:
        The subsets, ordered by fraction then seed.
    """
    if n_train < 1:
        raise ValueError("The training split is empty.")
    if not seeds:
        raise ValueError("Give at least one seed.")
    sizes: dict[int, list[float]] = {}  # subset size -> the fractions giving it, ascending
    for fraction in sorted(set(fractions)):
        if not 0 < fraction <= 1:
            raise ValueError(f"Training fractions must be in (0, 1], got {fraction}.")
        size = min(n_train, max(math.ceil(fraction * n_train), min_train))
        sizes.setdefault(size, []).append(fraction)
    subsets = []
    for size, same in sorted(sizes.items()):
        fraction = same[-1]
        wanted = math.ceil(fraction * n_train)
        for seed in seeds if size < n_train else seeds[:1]:
            rng = np.random.default_rng([seed, round(fraction * 1e6)])
            indices = np.sort(rng.choice(n_train, size=size, replace=False))
            subsets.append(TrainingSubset(fraction, seed, indices, floored=wanted < size,
                                          merged_fractions=tuple(same[:-1])))
    return subsets


__all__ = ["DEFAULT_FRACTIONS", "DEFAULT_MIN_TRAIN", "DEFAULT_SEEDS", "TrainingSubset", "training_subsets"]
