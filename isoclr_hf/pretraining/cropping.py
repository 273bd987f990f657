"""How a pretraining view is cut from its transcript: the one crop rule of pretraining.

A view is a window of at most ``max_length`` nucleotides. Where it starts is the :class:`CropPolicy`:

* ``five_prime`` (the contrastive default, and the released isoclr-s's recipe): every view keeps the
  first ``max_length`` nucleotides, so the 3' end of a long mRNA (most 3'UTRs) is never seen.
* ``anywhere``: each view of a pair gets its own start, uniform over ``[0, length - max_length]``
  (the two views are cropped independently, so even a transcript paired with itself gives two
  different windows); with ``three_prime_fraction`` p, in a fraction p of the pairs one of the two
  views (either, at random) is moved to the 3' end instead. p = 0 is uniform; p = 0.5 makes at
  least one view cover the 3' end half of the time. Masked-LM pretraining (the masked-LM default),
  whose examples are single transcripts, draws each transcript's one window the same way
  (:func:`transcript_crop_starts`).

Starts are drawn when an epoch is planned (:func:`crop_starts`, from ``(seed, epoch)``; streamed
corpora from ``(seed, epoch, row)``), never in the collator, so resumed runs and every process see
the same windows. The view's length does not depend on its start (``min(length, max_length)``:
:func:`view_length`), so batch planning (pair lengths, streamed length buckets) is the same for
every policy.

Tracks are cut with the sequence (:func:`crop_transcript`): the splice track keeps the exon ends
inside the window and marks the window's last nucleotide (as truncation does); the CDS track keeps
exactly the codon starts of the transcript that fall in the window. A window that starts inside
the CDS therefore begins its CDS track at the first whole codon inside the window (the frame is
kept; the partial codon before it is unmarked, and the view's CDS is flagged ``cds_start_NF``); one
that ends inside it is flagged ``cds_end_NF``; a window outside the CDS (in a UTR) has no CDS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..annotations.records import tokenize_records
from ..models.isoclr import IsoCLRTokenizer

CROP_POSITIONS = ("five_prime", "anywhere")


@dataclass(frozen=True)
class CropPolicy:
    """Where pretraining views are cut (see the module docstring).

    Attributes:
        position: ``five_prime`` (first ``max_length`` nt) or ``anywhere`` (random windows).
        three_prime_fraction: With ``anywhere``: fraction of pairs with one view at the 3' end.
    """

    position: str = "five_prime"
    three_prime_fraction: float = 0.0

    def __post_init__(self) -> None:
        if self.position not in CROP_POSITIONS:
            raise ValueError(f"crop_position={self.position!r}; choose one of {', '.join(CROP_POSITIONS)}.")
        if not 0.0 <= self.three_prime_fraction <= 1.0:
            raise ValueError(f"crop_three_prime_fraction must be in [0, 1], got {self.three_prime_fraction}.")
        if self.position == "five_prime" and self.three_prime_fraction:
            raise ValueError(
                f"crop_three_prime_fraction={self.three_prime_fraction} needs crop_position: anywhere "
                "(five_prime views always start at the 5' end)."
            )

    @property
    def random(self) -> bool:
        """Whether starts are drawn (``False``: every view starts at 0)."""
        return self.position != "five_prime"


def view_length(length: int | np.ndarray, max_length: int) -> Any:
    """Length of the view cut from a transcript of ``length`` nucleotides (elementwise for arrays)."""
    return np.minimum(length, max_length)


def crop_starts(lengths: np.ndarray, max_length: int, policy: CropPolicy, rng: np.random.Generator) -> np.ndarray:
    """Start of each view of each pair, drawn with ``rng``.

    Args:
        lengths: Transcript lengths of both views of each pair. Shape: (n_pairs, 2).
        max_length: Longest view.
        policy: Where views are cut.
        rng: Generator seeded from the run's seed and epoch (and the row, for a stream).

    Returns:
        Starts, 0 where the transcript fits. Shape: (n_pairs, 2), int64.
    """
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1, 2)
    slack = np.maximum(lengths - max_length, 0)  # (n_pairs, 2): how far a window can move
    if not policy.random:
        return np.zeros_like(slack)
    # Draw everything whatever the lengths, so one pair's draws never depend on another's length.
    uniform = rng.random(slack.shape)  # (n_pairs, 2)
    to_three_prime = rng.random(len(slack)) < policy.three_prime_fraction  # (n_pairs,)
    which_view = rng.integers(0, 2, size=len(slack))  # (n_pairs,)
    starts = np.floor(uniform * (slack + 1)).astype(np.int64)
    rows = np.flatnonzero(to_three_prime)
    starts[rows, which_view[rows]] = slack[rows, which_view[rows]]
    return starts


def transcript_crop_starts(lengths: np.ndarray, max_length: int, policy: CropPolicy,
                           rng: np.random.Generator) -> np.ndarray:
    """Start of the one view of each transcript (masked-LM pretraining: an example is a transcript, not a pair).

    ``anywhere``: uniform over ``[0, length - max_length]``, as each view of :func:`crop_starts`;
    ``five_prime``: 0. ``three_prime_fraction`` is a rule of pairs and must be 0 here.

    Args:
        lengths: Transcript lengths. Shape: (n_transcripts,).

    Returns:
        Starts. Shape: (n_transcripts,).
    """
    if policy.three_prime_fraction:
        raise ValueError("crop_three_prime_fraction moves one view of a pair to the 3' end: it has no meaning for "
                         "single-transcript examples (masked-LM pretraining); leave it at 0.")
    slack = np.maximum(np.asarray(lengths, dtype=np.int64) - max_length, 0)  # (n,)
    if not policy.random:
        return np.zeros_like(slack)
    return np.floor(rng.random(slack.shape) * (slack + 1)).astype(np.int64)


def crop_transcript(transcript: dict[str, Any], start: int, max_length: int) -> dict[str, Any]:
    """The window ``[start, start + max_length)`` of a transcript dict (corpus layout), tracks cut with it.

    Raises:
        ValueError: ``start`` outside ``[0, max(0, length - max_length)]``.
    """
    length = len(transcript["sequence"])
    end = min(start + max_length, length)
    if start < 0 or (start > 0 and start + max_length > length):
        raise ValueError(
            f"transcript {transcript.get('transcript_id', '?')}: crop start {start} is outside [0, "
            f"{max(0, length - max_length)}] for {length} nt and views of {max_length}"
        )
    if start == 0 and end == length:
        return transcript
    exon_ends = [int(e) - start for e in transcript["exon_ends"] if start < int(e) < end]
    exon_ends.append(end - start)  # the window's last nucleotide ends an exon, as truncation marks it
    flags = list(transcript.get("flags") or [])
    cds_start, cds_end = int(transcript["cds_start"]), int(transcript["cds_end"])
    if cds_start >= 0:
        first_codon = cds_start + 3 * max(0, -(-(start - cds_start) // 3))  # first codon start >= start
        if first_codon >= min(cds_end, end):
            cds_start = cds_end = -1  # the window misses the CDS's codon starts: a UTR view
        else:
            if first_codon > cds_start:
                flags.append("cds_start_NF")
            if cds_end > end:
                flags.append("cds_end_NF")
            cds_start, cds_end = first_codon - start, min(cds_end, end) - start
    return {
        **transcript,
        "sequence": transcript["sequence"][start:end],
        "exon_ends": exon_ends,
        "cds_start": cds_start,
        "cds_end": cds_end,
        "flags": sorted(set(flags)),
    }


def crop_views(tokenizer: IsoCLRTokenizer, transcripts: Sequence[dict[str, Any]], *, max_length: int,
               pad_to_multiple_of: int, starts: Sequence[int] | None = None) -> dict[str, torch.Tensor]:
    """Cut one view from each transcript dict (corpus layout) and tokenize them into a padded batch.

    Args:
        starts: Start of each view (:func:`crop_starts`); ``None``: the 5' end (the tokenizer's
            truncation, the rule of the released model).

    Shapes: (batch, padded length), the length a multiple of ``pad_to_multiple_of``.
    """
    if starts is not None:
        transcripts = [crop_transcript(t, int(s), max_length) for t, s in zip(transcripts, starts, strict=True)]
    encoded = tokenize_records(tokenizer, transcripts, truncation=True, max_length=max_length,
                               pad_to_multiple_of=pad_to_multiple_of)
    return dict(encoded)


__all__ = ["CROP_POSITIONS", "CropPolicy", "crop_starts", "crop_transcript", "crop_views", "transcript_crop_starts",
           "view_length"]
