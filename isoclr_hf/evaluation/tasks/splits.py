"""Grouped splits: isoforms, replicates and variants of one gene or UTR never straddle splits.

Groups come from the task (a gene id, a source 3'UTR). For MPRA libraries whose rows carry no
source id, :func:`shared_kmer_groups` recovers the source from the sequences themselves.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .regression import SPLIT_NAMES, RegressionTask

# Fewest test examples per split that ``isoclr evaluate`` accepts: below it a test Pearson r or MSE is noise.
MIN_TEST_EXAMPLES = 20


def _packed_kmers(codes: np.ndarray, starts: int, first: int, length: int) -> np.ndarray:
    """Pack the ``length`` (<= 32) bases from ``first`` on of every window into 64 bits, 2 bits a base."""
    packed = np.zeros(starts, dtype=np.uint64)  # (starts,)
    for offset in range(first, first + length):
        packed = (packed << np.uint64(2)) | (codes[offset : offset + starts] & 3).astype(np.uint64)
    return packed


def shared_kmer_groups(sequences: list[str], *, k: int = 40) -> np.ndarray:
    """Group sequences that share any ``k``-mer, transitively (connected components).

    Variants of one MPRA element (point mutations, small deletions) share long stretches of
    sequence with it, and overlapping tiles of one 3'UTR share their overlap, so all of them end up
    in one group. On the Siegel library, k = 40 keeps unrelated 3'UTRs apart (largest group: 140
    fragments), while k = 32 already links many through shared low-complexity stretches (AU-rich
    repeats; largest group over 1,000). k-mers holding a base other than A/C/G/T(U) are ignored.

    Args:
        sequences: Sequences (case is ignored).
        k: Length of the shared substring that links two sequences (at most 64).

    Returns:
        Group number per sequence, numbered by first appearance. Shape: (n,).
    """
    if not 1 <= k <= 64:
        raise ValueError(f"k must be between 1 and 64, got {k}.")
    n = len(sequences)
    # All sequences end to end, one separator byte between them: codes 0-3 for ACGT, 4 for anything else.
    joined = np.frombuffer("\n".join(sequences).upper().replace("U", "T").encode("ascii", "replace"), np.uint8)
    table = np.full(256, 4, dtype=np.uint8)
    table[list(b"ACGT")] = np.arange(4, dtype=np.uint8)
    codes = table[joined]  # (N,)
    starts = len(codes) - k + 1
    if n == 0 or starts <= 0:
        return np.arange(n)
    owner = np.cumsum(joined[:starts] == ord("\n"))  # (N-k+1,) the sequence each window starts in
    bad = np.convolve(codes == 4, np.ones(k, dtype=np.int64), mode="valid") > 0  # window holds a separator or N
    key = _packed_kmers(codes, starts, 0, min(k, 32))
    if k > 32:  # mix in the rest: a 64-bit hash of the k-mer (collisions ~ 1e-7 on 10^7 windows)
        key = key * np.uint64(0x9E3779B97F4A7C15) + _packed_kmers(codes, starts, 32, k - 32)
    keep = ~bad
    kmer_ids, unique = pd.factorize(key[keep])
    size = n + len(unique)
    graph = coo_matrix(
        (np.ones(int(keep.sum()), dtype=np.int8), (owner[keep], kmer_ids + n)), shape=(size, size)
    )
    _, labels = connected_components(graph, directed=False)
    # Renumber by first appearance so the numbering does not depend on scipy's internals.
    return pd.factorize(labels[:n])[0]


def grouped_split(
    groups: np.ndarray, *, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> dict[str, np.ndarray]:
    """Split examples into train/validation/test by group, close to the given fractions of examples.

    Groups are shuffled with ``seed`` and dealt to the split furthest below its target share, so
    the split sizes follow ``fractions`` even when groups differ in size.

    Args:
        groups: Group id per example. Shape: (n,).
        fractions: Target shares of examples for train, validation and test (sum 1).
        seed: Seed of the shuffle.

    Returns:
        ``{"train": indices, "validation": indices, "test": indices}``, each sorted.

    Raises:
        ValueError: if there are too few groups to give every split one.
    """
    if len(fractions) != 3 or any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be three positive shares that sum to 1, got {fractions}.")
    codes, unique = pd.factorize(pd.Series(np.asarray(groups, dtype=object)))
    if len(unique) < 3:
        raise ValueError(f"Need at least 3 groups (genes) to make train/validation/test splits, got {len(unique)}.")
    sizes = np.bincount(codes, minlength=len(unique))
    order = np.random.default_rng(seed).permutation(len(unique))
    assigned = np.zeros(len(unique), dtype=np.int64)
    counts = np.zeros(3)
    targets = np.asarray(fractions) * len(codes)
    # The first three groups seed one split each, so none is empty.
    for position, group in enumerate(order):
        split = position if position < 3 else int(np.argmax(targets - counts))
        assigned[group] = split
        counts[split] += sizes[group]
    example_split = assigned[codes]
    return {name: np.flatnonzero(example_split == i) for i, name in enumerate(SPLIT_NAMES)}


def task_split(task: RegressionTask, *, seed: int = 0, min_test: int = 0) -> dict[str, np.ndarray]:
    """The task's own split where it defines one (Saluki folds), else a grouped 80/10/10 split.

    Args:
        task: The task.
        seed: Seed of the grouped split (ignored for a predefined split).
        min_test: Fewest test examples accepted (:func:`check_test_size`); ``isoclr evaluate`` uses
            :data:`MIN_TEST_EXAMPLES`, 0 accepts any non-empty test split.

    Raises:
        ValueError: naming the task and split when a split is empty, when the test split has fewer
            than ``min_test`` examples, or when a group straddles two splits of a predefined split.
    """
    if task.predefined_split is not None:
        labels = np.asarray(task.predefined_split, dtype=object)
        unknown = sorted(set(labels) - set(SPLIT_NAMES))
        if unknown:
            raise ValueError(f"Task {task.name!r}: unknown split names {unknown}; use {', '.join(SPLIT_NAMES)}.")
        split = {name: np.flatnonzero(labels == name) for name in SPLIT_NAMES}
    else:
        split = grouped_split(task.groups, seed=seed)
    for name, indices in split.items():
        if indices.size == 0:
            raise ValueError(
                f"Task {task.name!r}: the {name} split is empty ({len(task)} examples in "
                f"{len(set(task.groups))} groups); give the task more examples or groups."
            )
    check_no_group_leak(task.groups, split)
    if min_test:
        check_test_size(task, split, minimum=min_test, seed=None if task.predefined_split is not None else seed)
    return split


def check_test_size(
    task: RegressionTask, split: dict[str, np.ndarray], *, minimum: int = MIN_TEST_EXAMPLES, seed: int | None = None
) -> None:
    """Refuse a split whose test side has fewer than ``minimum`` examples, saying why and what to do.

    Args:
        task: The task the split indexes.
        split: ``{"train", "validation", "test"}`` -> indices.
        minimum: Fewest test examples accepted.
        seed: Seed of the drawn split, for the message (``None``: the task's own split).
    """
    n_test = len(split["test"])
    if n_test >= minimum:
        return
    which = "its own test split" if seed is None else f"the test split of split seed {seed}"
    raise ValueError(
        f"Task {task.name!r}: {which} has {n_test} examples (of {len(task)} examples in {len(set(task.groups))} "
        f"groups; n test per split must be at least {minimum}, fewer make test metrics noise). Give the task more "
        "examples or groups (a larger --max-examples, or --full), or use fewer folds so each test split is larger."
    )


def evaluation_splits(
    task: RegressionTask,
    *,
    seeds: tuple[int, ...] | list[int],
    max_examples: int | None = None,
    subsample_seed: int = 0,
    min_test: int = MIN_TEST_EXAMPLES,
) -> tuple[RegressionTask, dict[int, dict[str, np.ndarray]]]:
    """The task as ``isoclr evaluate`` uses it and one split per split seed, each test side checked.

    The task is first subsampled to about ``max_examples`` examples, whole groups at a time (seed
    ``subsample_seed``). A task with its own split (Saluki's folds) uses it for the first seed and
    grouped random splits of the same groups for the others; other tasks get a grouped split per seed.

    Raises:
        ValueError: from :func:`task_split`, e.g. when a test split has fewer than ``min_test`` examples.
    """
    if not seeds:
        raise ValueError("Give at least one split seed.")
    if max_examples is not None and len(task) > max_examples:
        task = task.subset(subsample_groups(task.groups, max_examples, seed=subsample_seed))
    plain = task if task.predefined_split is None else replace(task, predefined_split=None)
    splits = {}
    for position, seed in enumerate(dict.fromkeys(seeds)):
        splits[seed] = task_split(task if position == 0 else plain, seed=seed, min_test=min_test)
    return task, splits


def check_no_group_leak(groups: np.ndarray, split: dict[str, np.ndarray]) -> None:
    """Raise a ``ValueError`` if any group has examples in two splits."""
    seen: dict[object, str] = {}
    for name, indices in split.items():
        for group in set(np.asarray(groups, dtype=object)[indices]):
            if group in seen and seen[group] != name:
                raise ValueError(f"Group {group!r} is in both the {seen[group]} and the {name} split.")
            seen[group] = name


def subsample_groups(groups: np.ndarray, max_examples: int, *, seed: int = 0) -> np.ndarray:
    """Indices of whole groups drawn at random until about ``max_examples`` examples are taken.

    Args:
        groups: Group id per example. Shape: (n,).
        max_examples: Most examples to keep (a group is never cut).
        seed: Seed of the draw.

    Returns:
        Sorted indices of the kept examples (all of them when there are at most ``max_examples``).
    """
    groups = np.asarray(groups, dtype=object)
    if len(groups) <= max_examples:
        return np.arange(len(groups))
    codes, unique = pd.factorize(pd.Series(groups))
    sizes = np.bincount(codes, minlength=len(unique))
    keep = np.zeros(len(unique), dtype=bool)
    total = 0
    for group in np.random.default_rng(seed).permutation(len(unique)):
        if total + sizes[group] > max_examples:
            continue
        keep[group] = True
        total += sizes[group]
    return np.flatnonzero(keep[codes])


__all__ = ["MIN_TEST_EXAMPLES", "check_no_group_leak", "check_test_size", "evaluation_splits", "grouped_split",
           "shared_kmer_groups", "subsample_groups", "task_split"]
