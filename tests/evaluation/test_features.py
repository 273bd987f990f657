"""The k-mer/length/GC baseline features."""

from __future__ import annotations

import numpy as np
import pytest

from isoclr_hf.annotations.records import TranscriptRecord
from isoclr_hf.evaluation.features import kmer_names, sequence_features


def _record(sequence: str) -> TranscriptRecord:
    return TranscriptRecord("t", "g", "", "homo_sapiens", sequence, [len(sequence)])


def test_features_count_kmers_length_and_gc() -> None:
    features = sequence_features([_record("AACGTU"), _record("GGGG")])
    columns = {name: i for i, name in enumerate(kmer_names())}
    assert features.shape == (2, len(columns))
    assert features[0, columns["A"]] == pytest.approx(2 / 6)
    assert features[0, columns["T"]] == pytest.approx(2 / 6)  # U counts as T
    assert features[0, columns["AA"]] == pytest.approx(1 / 5)
    assert features[1, columns["GGG"]] == pytest.approx(1.0)
    assert features[0, columns["gc_fraction"]] == pytest.approx(2 / 6)
    assert features[1, columns["log_length"]] == pytest.approx(np.log10(4))


def test_unknown_bases_are_left_out_of_kmers() -> None:
    features = sequence_features([_record("ANA")])
    columns = {name: i for i, name in enumerate(kmer_names())}
    assert features[0, columns["A"]] == pytest.approx(1.0)
    assert features[0, 4:20].sum() == 0  # no valid 2-mer
