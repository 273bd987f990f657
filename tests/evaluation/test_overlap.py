"""corpus.overlap: downstream examples found in a pretraining corpus, by sequence, 32-mer ends and gene."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from isoclr_hf.annotations import TranscriptRecord
from isoclr_hf.evaluation.overlap import K, ends_found, ends_in_corpus, format_overlap, kmer_index, task_overlap

BASES = st.text(alphabet="ACGT", min_size=K, max_size=300)


@given(st.lists(BASES, min_size=1, max_size=4), st.data())
def test_every_piece_of_a_corpus_transcript_is_found(corpus, data):
    index = kmer_index(corpus)
    source = data.draw(st.sampled_from(corpus))
    start = data.draw(st.integers(0, len(source) - K))
    end = data.draw(st.integers(start + K, len(source)))
    piece = source[start:end]
    assert ends_found(index, [piece.lower().replace("T", "U"), piece]).all()  # case and U do not matter


@given(st.lists(BASES, min_size=1, max_size=4), BASES)
def test_a_sequence_is_found_only_if_both_end_kmers_are_in_the_corpus(corpus, query):
    index = kmer_index(corpus)
    kmers = {text[i : i + K] for text in corpus for i in range(len(text) - K + 1)}
    assert bool(ends_found(index, [query])[0]) == (query[:K] in kmers and query[-K:] in kmers)


def test_short_or_ambiguous_ends_are_not_found_and_windows_across_transcripts_do_not_count():
    first, second = "A" * 20 + "C" * 20, "G" * 20 + "T" * 20
    index = kmer_index([first, second])
    assert list(ends_found(index, [first[:31], first[:35] + "N", first[-20:] + second[:20]])) == [False] * 3
    assert ends_found(np.zeros(0, np.uint64), [first]).tolist() == [False]


def test_task_overlap_counts_test_fold_examples_by_sequence_ends_and_gene():
    def record(name, sequence, gene):
        return TranscriptRecord(name, gene, gene, "homo_sapiens", sequence, [len(sequence)])

    corpus = ["ACGT" * 20, "TTGCA" * 20]
    task = type("Task", (), {})()
    task.records = [record("a", corpus[0], "AAA"), record("b", corpus[1][5:60], "bbb"),
                    record("c", "GATTACA" * 10, "CCC"), record("d", corpus[0], "AAA")]  # fmt: skip
    task.predefined_split = np.array(["test", "test", "test", "train"])
    genes = {("homo_sapiens", "BBB"), ("homo_sapiens", "CCC")}
    row = task_overlap("toy", task, corpus, genes)
    assert row == {"task": "toy", "examples": 4, "counted": 3, "counted_as": "test fold", "same_sequence": 1,
                   "contained": 2, "same_gene": 2}  # fmt: skip
    assert "| toy | 4 | 3 (test fold) | 1 (33%) | 2 (67%) | 2 (67%) |" in format_overlap([row])


@given(st.lists(BASES, min_size=1, max_size=5), st.lists(BASES, min_size=1, max_size=6), st.integers(1, 400))
def test_streaming_the_corpus_finds_what_the_index_finds_whatever_the_chunk(corpus, queries, chunk):
    pieces = queries + [text[3:] for text in corpus if len(text) > K + 3]  # some found, some not
    expected = ends_found(kmer_index(corpus), pieces)
    assert ends_in_corpus(corpus, pieces, chunk_nucleotides=chunk).tolist() == expected.tolist()


def test_streaming_handles_no_query_no_corpus_and_ambiguous_ends():
    assert ends_in_corpus(["ACGT" * 20], []).tolist() == []
    assert ends_in_corpus([], ["ACGT" * 20]).tolist() == [False]
    assert ends_in_corpus(["ACGT" * 20], ["N" * 40, "ACG"]).tolist() == [False, False]
