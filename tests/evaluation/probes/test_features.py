"""The k-mer/length/GC baseline features."""

from __future__ import annotations

import numpy as np
import pytest

from isoclr_hf.annotations.records import TranscriptRecord
from isoclr_hf.evaluation.probes.features import kmer_names, sequence_features


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


def test_default_features_are_1_to_6_mers_and_match_sklearn_char_ngram_counts() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGT"), size)) for size in (30, 200, 7)]
    features = sequence_features([_record(s) for s in sequences])
    names = kmer_names()
    assert features.shape == (3, 5460 + 2) and len(names) == 5462
    vectorizer = CountVectorizer(analyzer="char", ngram_range=(1, 6), lowercase=False)
    counts = vectorizer.fit_transform(sequences).toarray()
    vocabulary = vectorizer.vocabulary_
    columns = {name: i for i, name in enumerate(names)}
    for row, sequence in enumerate(sequences):
        for k in range(1, 7):
            total = max(1, len(sequence) - k + 1)
            for kmer, index in vocabulary.items():
                if len(kmer) == k:
                    assert features[row, columns[kmer]] == pytest.approx(counts[row, index] / total)


def test_regional_features_when_the_cds_is_known() -> None:
    coding = TranscriptRecord("t", "g", "", "homo_sapiens", "GGGAUGAAAUAGCC", [14], cds_start=3, cds_end=12)
    features = sequence_features([coding, _record("ACGU")])
    names = kmer_names(regions=True)
    assert features.shape == (2, len(names)) == (2, 5462 + 3 * 86 + 1)
    columns = {name: i for i, name in enumerate(names)}
    assert features[0, columns["utr5:G"]] == pytest.approx(1.0)
    assert features[0, columns["utr5:GG"]] == pytest.approx(1.0)
    assert features[0, columns["cds:A"]] == pytest.approx(5 / 9)
    assert features[0, columns["utr3:C"]] == pytest.approx(1.0)
    assert features[0, columns["utr3:log_length"]] == pytest.approx(np.log10(3))
    assert features[0, columns["has_cds"]] == 1.0
    assert features[1, columns["has_cds"]] == 0.0 and features[1, columns["cds:A"]] == 0.0
    assert sequence_features([coding], regions=False).shape == (1, 5462)
