"""Length-bucketed batches of positive pairs, their padding cost, and the collator that tokenizes them.

Transcripts range from a few hundred to 12,288 nucleotides, so random batches are mostly padding.
Bucketing (as in fairseq/ESM "mega-batches"): shuffle the pairs, cut them into large random chunks,
sort each chunk by the pair's length, cut it into batches and shuffle the order of the batches. A
batch then holds pairs of similar length while its members and the batch order stay random.

Both views of a pair are padded to one common length inside ``IsoCLRForContrastivePretraining``
(they go through the encoder as one ``(2 * batch, length)`` tensor), so a pair is bucketed on the
longer of its two views, and the padded fraction counts ``2 * batch * padded_length`` positions.

Batches are *global*: one optimizer micro-step of all processes. :func:`shard_batch` gives each
process its contiguous, equal slice, so every process sees the same number of batches of the same
size (``drop_last``: a contrastive batch must not be short on one process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ..models.isoclr import IsoCLRTokenizer
from ..models.isoclr.length_groups import plan_length_groups
from .cropping import crop_views


def padded_length(length: int, multiple: int) -> int:
    """``length`` rounded up to a multiple of ``multiple``."""
    return -(-int(length) // multiple) * multiple


def random_batches(n_pairs: int, batch_size: int, *, seed: int, epoch: int, drop_last: bool = True) -> list[list[int]]:
    """Batches of pair indices in random order, without regard to length (the unbucketed baseline)."""
    order = np.random.default_rng([seed, epoch, 0xBA7C4]).permutation(n_pairs)
    stop = (n_pairs // batch_size) * batch_size if drop_last else n_pairs
    return [order[i : i + batch_size].tolist() for i in range(0, stop, batch_size)]


def bucketed_batches(
    lengths: Sequence[int] | np.ndarray,
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    mega_batch_batches: int = 64,
    max_nucleotides: int | None = None,
    size_multiple: int = 1,
    drop_last: bool = True,
) -> list[list[int]]:
    """Length-bucketed batches of pair indices, deterministic given ``(seed, epoch)``.

    Args:
        lengths: Bucketing key of each pair: the longer view's length. Shape: (n_pairs,).
        batch_size: Pairs per batch (the most, with ``max_nucleotides``).
        seed: Run seed.
        epoch: Epoch; each epoch shuffles differently.
        mega_batch_batches: Batches per mega-batch: pairs are sorted by length within random chunks
            of ``mega_batch_batches * batch_size`` pairs. Larger means less padding, less randomness.
        max_nucleotides: Optional budget of padded positions per batch, ``2 * pairs * padded
            length`` (both views): batches of short pairs hold up to ``batch_size`` pairs, batches
            of long ones fewer. ``None`` gives batches of exactly ``batch_size`` pairs.
        size_multiple: With ``max_nucleotides``, round each batch size down to a multiple of this
            (the number of processes, so every process gets an equal slice).
        drop_last: Drop the last, short batch of each mega-batch (always, for contrastive training
            with a fixed batch size: a short batch would change the loss's number of negatives).

    Returns:
        Batches (lists of indices into ``lengths``), in shuffled order.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}.")
    rng = np.random.default_rng([seed, epoch, 0xB0C4E7])
    order = rng.permutation(lengths.size)
    chunk = batch_size * max(1, mega_batch_batches)
    batches: list[list[int]] = []
    for start in range(0, order.size, chunk):
        members = order[start : start + chunk]
        members = members[np.argsort(lengths[members], kind="stable")]  # shortest first
        batches.extend(_cut(members, lengths, batch_size, max_nucleotides, size_multiple, drop_last))
    permutation = rng.permutation(len(batches))
    return [batches[i] for i in permutation]


def _cut(
    members: np.ndarray,
    lengths: np.ndarray,
    batch_size: int,
    max_nucleotides: int | None,
    size_multiple: int,
    drop_last: bool,
) -> list[list[int]]:
    """Cut length-sorted pair indices into consecutive batches."""
    batches = []
    start = 0
    while start < members.size:
        size = batch_size
        if max_nucleotides is not None:
            # Sorted ascending, so the batch's longest pair is its last one: grow while it fits.
            size = 1
            while (
                size < batch_size
                and start + size < members.size
                and 2 * (size + 1) * int(lengths[members[start + size]]) <= max_nucleotides
            ):
                size += 1
            size = max(size_multiple, (size // size_multiple) * size_multiple)
        batch = members[start : start + size]
        if len(batch) == size or not drop_last:
            batches.append(batch.tolist())
        start += size
    return batches


def stream_bucketed_batches(
    examples: Iterable[dict[str, Any]],
    batch_size: int,
    *,
    length_of: Callable[[dict[str, Any]], int],
    seed: int,
    mega_batch_batches: int = 64,
) -> Iterator[list[dict[str, Any]]]:
    """Length-bucketed batches from a stream of examples, holding one mega-batch in memory.

    The streaming counterpart of :func:`bucketed_batches`: examples are collected into a buffer of
    ``mega_batch_batches * batch_size``, sorted by ``length_of``, cut into full batches, and the
    batches are yielded in shuffled order. A last partial batch is dropped.

    Args:
        examples: Pair examples, e.g. from ``isoclr_hf.pretraining.pairs.stream_pairs``.
        batch_size: Examples per batch.
        length_of: The bucketing key of an example (its longer view's length).
        seed: Seed of the batch-order shuffle (the ``k``-th buffer uses ``(seed, k)``).
        mega_batch_batches: Batches per buffer.
    """
    capacity = batch_size * max(1, mega_batch_batches)
    buffer: list[dict[str, Any]] = []
    buffer_number = 0

    def flush() -> Iterator[list[dict[str, Any]]]:
        ordered = sorted(buffer, key=length_of)
        batches = [ordered[i : i + batch_size] for i in range(0, len(ordered) - batch_size + 1, batch_size)]
        for index in np.random.default_rng([seed, buffer_number, 0x57B0]).permutation(len(batches)):
            yield batches[index]

    for example in examples:
        buffer.append(example)
        if len(buffer) == capacity:
            yield from flush()
            buffer = []
            buffer_number += 1
    yield from flush()


def shard_batch(batch: Sequence[int], rank: int, world_size: int) -> list[int]:
    """This process's slice of a global batch: contiguous, all slices equal in size.

    Raises:
        ValueError: if the batch does not split evenly over the processes.
    """
    if len(batch) % world_size:
        raise ValueError(
            f"A batch of {len(batch)} pairs does not split evenly over {world_size} processes; "
            "use a global batch size that is a multiple of the number of processes."
        )
    size = len(batch) // world_size
    return list(batch[rank * size : (rank + 1) * size])


def padded_fraction(
    batches: Sequence[Sequence[int]],
    view_lengths: np.ndarray,
    multiple: int,
    max_length_groups: int | None = None,
) -> float:
    """Fraction of the encoder's input positions that are padding, over a list of batches.

    Args:
        batches: Lists of pair indices.
        view_lengths: Lengths of both views of each pair. Shape: (n_pairs, 2).
        multiple: Padded lengths are rounded up to this multiple (the tokenizer's padding).
        max_length_groups: Count what the encoder computes with ``config.max_length_groups``: the
            ``2B`` views of a batch cut into length groups (``plan_length_groups``), each padded to
            its own longest view (the encoder trims the tokenizer's rounding). ``None``: one
            ``(2B, L)`` tensor padded to the longest view, rounded up to ``multiple``.

    Returns:
        ``padded positions / total positions``.
    """
    view_lengths = np.asarray(view_lengths)
    total = valid = 0
    for batch in batches:
        rows = view_lengths[list(batch)]  # (B, 2)
        if max_length_groups is None:
            total += 2 * len(batch) * padded_length(rows.max(), multiple)
        else:
            lengths = [int(n) for n in rows.reshape(-1)]  # (2B,)
            groups = plan_length_groups(lengths, max_length_groups)
            total += sum(len(group) * lengths[group[0]] for group in groups)
        valid += int(rows.sum())
    return 0.0 if total == 0 else 1.0 - valid / total


class ContrastivePairCollator:
    """Tokenizes a list of pair examples into the inputs of ``IsoCLRForContrastivePretraining``.

    Examples are ``{"first": transcript, "second": transcript, "weight": float}`` with transcript
    dicts in the corpus layout (``transcript_id``, ``sequence``, ``exon_ends``, ``cds_start``,
    ``cds_end``, ...). The first views become ``input_ids``/``cds_track``/``splice_track``/
    ``attention_mask``, the second views the ``partner_*`` keys, and the weights ``weights``.

    Args:
        tokenizer: An :class:`IsoCLRTokenizer`.
        max_length: Longest view (:mod:`~isoclr_hf.pretraining.cropping` cuts longer transcripts).
        pad_to_multiple_of: Round padded lengths up to this: the model config's ``downsampling``.
    """

    def __init__(self, tokenizer: IsoCLRTokenizer, max_length: int, pad_to_multiple_of: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.pad_to_multiple_of = pad_to_multiple_of

    def encode(self, transcripts: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """Tokenize transcript dicts into one padded view. Shapes: (batch, padded length)."""
        return crop_views(self.tokenizer, transcripts, max_length=self.max_length,
                          pad_to_multiple_of=self.pad_to_multiple_of)

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        first = self.encode([example["first"] for example in examples])
        second = self.encode([example["second"] for example in examples])
        batch = dict(first)
        batch.update({f"partner_{name}": tensor for name, tensor in second.items()})
        batch["weights"] = torch.tensor([example["weight"] for example in examples], dtype=torch.float32)
        return batch


__all__ = [
    "ContrastivePairCollator",
    "bucketed_batches",
    "padded_fraction",
    "padded_length",
    "random_batches",
    "shard_batch",
    "stream_bucketed_batches",
]
