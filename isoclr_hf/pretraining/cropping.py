"""How a pretraining view is cut from its transcript: the one crop rule of pretraining.

A view keeps the first ``max_length`` nucleotides of its transcript (the 5' end); its CDS and splice
tracks are cut with it and the last kept nucleotide is marked as an exon end (the tokenizer's
``truncation=True``). Batch planning (:func:`view_length`: pair lengths, streamed length buckets) and
the pair collator (:func:`crop_views`) both go through this module, so a change of rule (crops
anywhere on the transcript) is made here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..annotations.records import tokenize_records
from ..models.isoclr import IsoCLRTokenizer


def view_length(length: int | np.ndarray, max_length: int) -> Any:
    """Length of the view cut from a transcript of ``length`` nucleotides (elementwise for arrays)."""
    return np.minimum(length, max_length)


def crop_views(tokenizer: IsoCLRTokenizer, transcripts: Sequence[dict[str, Any]], *, max_length: int,
               pad_to_multiple_of: int) -> dict[str, torch.Tensor]:
    """Cut one view from each transcript dict (corpus layout) and tokenize them into a padded batch.

    Shapes: (batch, padded length), the length a multiple of ``pad_to_multiple_of``.
    """
    encoded = tokenize_records(tokenizer, transcripts, truncation=True, max_length=max_length,
                               pad_to_multiple_of=pad_to_multiple_of)
    return dict(encoded)


__all__ = ["crop_views", "view_length"]
