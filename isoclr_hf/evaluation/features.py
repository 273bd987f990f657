"""The sequence-feature baseline: k-mer frequencies, length and GC content.

The comparison every embedding has to beat: a ridge regression on features anyone can compute
from the sequence alone.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from ..annotations.records import TranscriptRecord

_BASE_CODES = np.full(256, -1, dtype=np.int64)
for _code, _letters in enumerate(("Aa", "Cc", "Gg", "TtUu")):
    for _letter in _letters:
        _BASE_CODES[ord(_letter)] = _code


def kmer_names(k_values: tuple[int, ...] = (1, 2, 3, 4)) -> list[str]:
    """Column names of :func:`sequence_features`, in column order."""
    names = ["".join(kmer) for k in k_values for kmer in product("ACGT", repeat=k)]
    return [*names, "log_length", "gc_fraction"]


def sequence_features(records: list[TranscriptRecord], k_values: tuple[int, ...] = (1, 2, 3, 4)) -> np.ndarray:
    """k-mer frequencies (per k, over k-mers without N), log10 length and GC fraction of each record.

    Args:
        records: Transcripts.
        k_values: k-mer sizes; 1-4 gives 340 frequency columns.

    Returns:
        Features. Shape: (len(records), sum(4**k) + 2), float32.
    """
    width = sum(4**k for k in k_values) + 2
    features = np.zeros((len(records), width), dtype=np.float32)
    for row, record in enumerate(records):
        codes = _BASE_CODES[np.frombuffer(record.sequence.encode("ascii"), dtype=np.uint8)]  # (L,)
        column = 0
        for k in k_values:
            if len(codes) >= k:
                windows = np.lib.stride_tricks.sliding_window_view(codes, k)  # (L-k+1, k)
                windows = windows[(windows >= 0).all(axis=1)]
                index = windows @ (4 ** np.arange(k - 1, -1, -1))  # base-4 number of each k-mer
                counts = np.bincount(index, minlength=4**k)
                features[row, column : column + 4**k] = counts / max(1, counts.sum())
            column += 4**k
        known = codes[codes >= 0]
        features[row, column] = np.log10(len(codes))
        features[row, column + 1] = np.isin(known, (1, 2)).mean() if known.size else 0.0
    return features


__all__ = ["kmer_names", "sequence_features"]
