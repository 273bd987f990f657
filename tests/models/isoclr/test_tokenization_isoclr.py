"""The six-track tokenizer: hand-written transcripts with known codon starts and exon ends, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.models.isoclr.tokenization_isoclr import VOCABULARY


@pytest.fixture
def tokenizer() -> IsoCLRTokenizer:
    return IsoCLRTokenizer()


def test_hand_written_transcript_tracks(tokenizer: IsoCLRTokenizer) -> None:
    # 3 exons of 4, 6 and 5 nt; CDS from 2 to 14 (4 codons, stop included).
    sequence = "GGATGAAACCCTAAG"
    batch = tokenizer(sequence, exon_ends=[4, 10, 15], cds=(2, 14), return_tensors="np")
    assert batch["input_ids"].shape == (1, 15)
    assert np.flatnonzero(batch["cds_track"][0]).tolist() == [2, 5, 8, 11]
    assert np.flatnonzero(batch["splice_track"][0]).tolist() == [3, 9, 14]
    assert batch["attention_mask"][0].tolist() == [1] * 15
    decoded = "".join(VOCABULARY[i] for i in batch["input_ids"][0])
    assert decoded == sequence


def test_defaults_mark_only_last_nucleotide_and_no_cds(tokenizer: IsoCLRTokenizer) -> None:
    batch = tokenizer(["ACGTA"], return_tensors="np")
    assert batch["splice_track"][0].tolist() == [0, 0, 0, 0, 1]
    assert batch["cds_track"][0].tolist() == [0] * 5


def test_rna_lowercase_and_ambiguity_codes(tokenizer: IsoCLRTokenizer) -> None:
    upper = tokenizer("ACGTN", return_tensors="np")["input_ids"]
    assert np.array_equal(tokenizer("acgun", return_tensors="np")["input_ids"], upper)
    codes = tokenizer("RYSWKMBDHV", return_tensors="np")["input_ids"][0]
    assert [VOCABULARY[i] for i in codes] == list("RYSWKMBDHV")


def test_batch_padding_and_multiple_of_32(tokenizer: IsoCLRTokenizer) -> None:
    batch = tokenizer(["ACGT" * 10, "ACG"], exon_ends=[None, [1, 3]], pad_to_multiple_of=32, return_tensors="pt")
    assert batch["input_ids"].shape == (2, 64)
    assert batch["input_ids"].dtype == torch.uint8
    assert batch["attention_mask"].sum(1).tolist() == [40, 3]
    assert batch["splice_track"][1, :4].tolist() == [1, 0, 1, 0]
    assert int(batch["input_ids"][1, 3:].sum()) == 0


def test_single_sequence_without_tensors_is_unbatched(tokenizer: IsoCLRTokenizer) -> None:
    encoded = tokenizer("ACGT")
    assert encoded["input_ids"] == [1, 2, 3, 4]
    assert tokenizer(["ACGT", "AC"], padding=False)["input_ids"] == [[1, 2, 3, 4], [1, 2]]


def test_six_track_arrays_round_trip(tokenizer: IsoCLRTokenizer) -> None:
    sequence = "ATGAAATAGCCN"
    reference = tokenizer(sequence, exon_ends=[5, 12], cds=(0, 9), return_tensors="np")
    tracks = np.zeros((12, 6), dtype=np.float32)
    for i, letter in enumerate(sequence):
        if letter == "N":
            tracks[i, :4] = 0.25
        else:
            tracks[i, "ACGT".index(letter)] = 1.0
    tracks[[0, 3, 6], 4] = 1.0
    tracks[[4, 11], 5] = 1.0
    from_tracks = tokenizer(tracks=tracks, return_tensors="np")
    for key in tokenizer.model_input_names:
        assert np.array_equal(from_tracks[key], reference[key]), key
    four = tokenizer(tracks=[tracks[:, :4]], return_tensors="np")
    assert np.array_equal(four["input_ids"], reference["input_ids"])


def test_truncation_keeps_five_prime_end(tokenizer: IsoCLRTokenizer) -> None:
    batch = tokenizer("ACGT" * 5, cds=(0, 18), truncation=True, max_length=8, return_tensors="np")
    assert batch["input_ids"].shape == (1, 8)
    assert np.flatnonzero(batch["cds_track"][0]).tolist() == [0, 3, 6]


def test_pad_merges_encoded_examples(tokenizer: IsoCLRTokenizer) -> None:
    examples = [tokenizer(s, cds=c) for s, c in (("ATGAAATAG", (0, 9)), ("ACG", None))]
    batch = tokenizer.pad(examples, return_tensors="pt")
    direct = tokenizer(["ATGAAATAG", "ACG"], cds=[(0, 9), None], return_tensors="pt")
    for key in tokenizer.model_input_names:
        assert torch.equal(batch[key], direct[key]), key


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequences": ["ACGT", "ACXT"]}, r"sequence 2 \('tx2'\): character 'X' at position 3 \(1-based\)"),
        ({"sequences": ["ACGT", "AC\u00e9T"]}, r"character '\u00e9' at position 3 \(1-based\)"),
        ({"sequences": ["ACGT", ""]}, r"sequence 2 \('tx2'\): empty sequence"),
        ({"sequences": ["ACGTAC"], "exon_ends": [[4, 3, 6]]}, "strictly increasing"),
        ({"sequences": ["ACGTAC"], "exon_ends": [[3, 5]]}, "last exon end is 5 but the sequence has 6"),
        ({"sequences": ["ACGTAC"], "cds": [(3, 9)]}, r"CDS \(3, 9\) is out of bounds"),
        ({"sequences": ["ACGTACG"], "cds": [(0, 7)]}, "not a multiple of 3"),
        ({"sequences": ["A" * 13000]}, "length 13000 is over the maximum of 12288"),
        ({"sequences": ["ACGT"], "cds": [(0, 3), None]}, "2 entries in `cds` for 1 sequences"),
    ],
)
def test_bad_input_names_the_transcript_and_the_problem(tokenizer: IsoCLRTokenizer, kwargs: dict, message: str) -> None:
    names = ["tx1", "tx2"][: len(kwargs["sequences"])]
    with pytest.raises(ValueError, match=message):
        tokenizer(names=names, **kwargs)


def test_incomplete_cds_allowed_when_asked(tokenizer: IsoCLRTokenizer) -> None:
    batch = tokenizer("ACGTACG", cds=(0, 7), allow_incomplete_cds=True, return_tensors="np")
    assert np.flatnonzero(batch["cds_track"][0]).tolist() == [0, 3, 6]


def test_save_and_load(tokenizer: IsoCLRTokenizer, tmp_path) -> None:
    tokenizer.save_pretrained(tmp_path)
    loaded = IsoCLRTokenizer.from_pretrained(tmp_path)
    assert loaded.model_max_length == 12288
    assert loaded("ACGU")["input_ids"] == tokenizer("ACGU")["input_ids"]


# --- regression tests for the inputs of the fuzzing report (bug report item 4) ------------------
NAMED = r"sequence 1 \('tx1'\): "


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        # Were OverflowError.
        ({"exon_ends": [float("inf")]}, TypeError, r"exon_ends\[0\] is float inf; positions are integers"),
        (
            {"exon_ends": [2**64]},
            ValueError,
            r"exon end 18446744073709551616 \(exon_ends\[0\]\) is beyond the sequence",
        ),
        ({"cds": (0, float("inf"))}, TypeError, "CDS end is float inf"),
        # Did not name the transcript.
        ({"exon_ends": 4}, TypeError, "exon_ends must be a list, tuple or 1-D integer array"),
        ({"exon_ends": [None, 4]}, TypeError, r"exon_ends\[0\] is NoneType None"),
        ({"exon_ends": [2, float("nan")]}, TypeError, r"exon_ends\[1\] is float nan"),
        ({"exon_ends": ["x", 4]}, TypeError, r"exon_ends\[0\] is str 'x'"),
        ({"exon_ends": [[2, 4]]}, TypeError, r"exon_ends\[0\] is list \[2, 4\].*one flat list"),
        # Were silently floored or coerced.
        ({"exon_ends": [1.9, 4]}, TypeError, r"exon_ends\[0\] is float 1.9"),
        ({"exon_ends": [2.0, 4]}, TypeError, r"exon_ends\[0\] is float 2.0"),  # integral floats too
        ({"exon_ends": np.array([2.0, 4.0])}, TypeError, "1-D integer array; got a 1-D array of dtype float64"),
        ({"exon_ends": [True, 4]}, TypeError, r"exon_ends\[0\] is bool True"),
        ({"exon_ends": [np.bool_(True), 4]}, TypeError, r"exon_ends\[0\] is bool"),
        ({"exon_ends": {2, 4}}, TypeError, "got set"),
        ({"cds": (0.5, 3.7)}, TypeError, "CDS start is float 0.5"),
        ({"cds": (0, 3.0)}, TypeError, "CDS end is float 3.0"),
        ({"cds": (False, True)}, TypeError, "CDS start is bool False"),
        (
            {"cds": "03"},
            TypeError,
            "cds must be a \\(start, end\\) pair of integers, or None for non-coding; got str '03'",
        ),
        ({"cds": {0, 3}}, TypeError, "got set"),
        ({"cds": (0, 3, 6)}, ValueError, "cds must be a \\(start, end\\) pair, got 3 values"),
        ({"cds": np.array([0.0, 3.0])}, TypeError, "dtype float64"),
        # Values beyond the sequence, not increasing, empty.
        ({"exon_ends": [2, 9]}, ValueError, r"exon end 9 \(exon_ends\[1\]\) is beyond the sequence of 4"),
        ({"exon_ends": [0, 4]}, ValueError, "positive and strictly increasing"),
        ({"exon_ends": [-1, 4]}, ValueError, "positive and strictly increasing"),
        ({"exon_ends": np.array([-1, 4])}, ValueError, "must lie in 1..4"),
        ({"exon_ends": np.array([3, 2, 4])}, ValueError, "strictly increasing"),
        ({"exon_ends": []}, ValueError, "exon_ends is empty; pass None"),
        ({"cds": (-3, 3)}, ValueError, r"CDS \(-3, 3\) is out of bounds"),
        ({"cds": (3, 3)}, ValueError, r"CDS \(3, 3\) is out of bounds"),
        ({"cds": (0, 2**64)}, ValueError, "is out of bounds"),
    ],
)
def test_bad_positions_name_the_transcript(
    tokenizer: IsoCLRTokenizer, kwargs: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=NAMED + ".*" + message):
        tokenizer("ACGT", names=["tx1"], **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sequences": "ACGT", "max_length": 2.5}, TypeError, "`max_length` must be a positive integer; got float 2.5"),
        ({"sequences": "ACGT", "max_length": True}, TypeError, "`max_length` must be a positive integer; got bool"),
        ({"sequences": "ACGT", "max_length": 0, "truncation": True}, ValueError, "`max_length` must be a positive"),
        ({"sequences": "ACGT", "max_length": -3, "truncation": True}, ValueError, "`max_length` must be a positive"),
        ({"sequences": "ACGT", "pad_to_multiple_of": -3}, ValueError, "`pad_to_multiple_of` must be a positive"),
        ({"sequences": "ACGT", "pad_to_multiple_of": 0}, ValueError, "`pad_to_multiple_of` must be a positive"),
        ({"sequences": "ACGT", "pad_to_multiple_of": 8.0}, TypeError, "`pad_to_multiple_of` must be a positive"),
        ({"sequences": []}, ValueError, "`sequences` is an empty batch"),
        ({"sequences": ()}, ValueError, "`sequences` is an empty batch"),
        ({"tracks": []}, ValueError, "`tracks` is an empty batch"),
        ({"tracks": np.zeros((2, 5, 6))}, ValueError, r"3-D array of shape \(2, 5, 6\)"),
        ({"sequences": b"ACGT"}, TypeError, "`sequences` must be a string or a list of strings"),
        ({"sequences": ["ACGT"], "exon_ends": 4}, TypeError, "`exon_ends` must be a list with one entry per sequence"),
        ({"sequences": ["ACGT"], "names": "tx1"}, TypeError, "`names` must be a list"),
        ({"sequences": "ACGT", "padding": 1}, ValueError, "padding=int 1 is not supported"),
        ({"sequences": "ACGT", "truncation": "yes"}, TypeError, "`truncation` must be True or False"),
        ({"sequences": "ACGT", "return_tensors": "tf"}, ValueError, "return_tensors=str 'tf' is not supported"),
        ({"sequences": "ACGT", "allow_incomplete_cds": 1}, TypeError, "`allow_incomplete_cds` must be True or False"),
    ],
)
def test_bad_options_name_the_argument(
    tokenizer: IsoCLRTokenizer, kwargs: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        tokenizer(**kwargs)


def test_non_string_sequence_in_a_batch_is_a_type_error(tokenizer: IsoCLRTokenizer) -> None:
    with pytest.raises(TypeError, match=r"sequence 2 \('tx2'\): expected a sequence string, got NoneType None"):
        tokenizer(["ACGT", None], names=["tx1", "tx2"])


def test_batch_arguments_need_one_entry_per_sequence(tokenizer: IsoCLRTokenizer) -> None:
    # A pair for a batch of two reads as two entries, each of which is not a pair.
    with pytest.raises(TypeError, match=r"sequence 1 \('a'\): cds must be a \(start, end\) pair.*got int 0"):
        tokenizer(["ACGT", "ACG"], cds=(0, 3), names=["a", "b"])
    with pytest.raises(TypeError, match=r"sequence 2 \('b'\): exon_ends must be a list.*got int 3"):
        tokenizer(["ACGT", "ACG"], exon_ends=[[4], 3], names=["a", "b"])


def test_numpy_integers_are_accepted(tokenizer: IsoCLRTokenizer) -> None:
    expected = tokenizer("ACGTAC", exon_ends=[2, 6], cds=(0, 6), return_tensors="np")
    variants = [
        {"exon_ends": [np.int64(2), np.int32(6)], "cds": (np.int64(0), np.uint8(6))},
        {"exon_ends": np.array([2, 6], dtype=np.uint64), "cds": np.array([0, 6], dtype=np.int16)},
        {"exon_ends": (2, 6), "cds": [0, 6]},
    ]
    for kwargs in variants:
        batch = tokenizer("ACGTAC", return_tensors="np", **kwargs)
        for key in tokenizer.model_input_names:
            assert np.array_equal(batch[key], expected[key]), (kwargs, key)
    batch = tokenizer(["ACGTAC"], max_length=np.int64(6), pad_to_multiple_of=np.int32(4), return_tensors="np")
    assert batch["input_ids"].shape == (1, 8)


@pytest.mark.parametrize(
    ("array", "error", "message"),
    [
        # Array subscripts from 0, the nucleotide counted from 1.
        (np.array([[1, np.nan, 0, 0, np.nan, np.nan]]), ValueError,
         r"holds nan at \[0, 1\] \(nucleotide 1, channel 1\)"),
        (np.array([[1, 0, 0, 0, 0, 1], [0, np.inf, 0, 0, 0, 1]]), ValueError,
         r"holds inf at \[1, 1\] \(nucleotide 2, channel 1\)"),
        (np.array([[1, 0, 0, 0, -1, 1]]), ValueError, r"holds -1 at \[0, 4\] \(nucleotide 1, channel 4\)"),
        (np.array([[1, 0, 0, 0, 0, 2.5]]), ValueError, r"holds 2.5 at \[0, 5\] \(nucleotide 1, channel 5\)"),
        (np.array([[1, 0, 0, 0, 0, 1]], dtype=complex), TypeError, "dtype complex128"),
        (np.array([[1, 0, 0, 0, 0, 1]], dtype=object), TypeError, "dtype object"),
        (np.array([["1", "0", "0", "0", "0", "1"]]), TypeError, "dtype <U1"),
        (np.array([[1, 0, 0, 0, 0]]), ValueError, r"shape \(1, 5\)"),
        (np.zeros((0, 6)), ValueError, "empty sequence"),
    ],
)
def test_bad_track_arrays_name_the_transcript(
    tokenizer: IsoCLRTokenizer, array: np.ndarray, error: type[Exception], message: str
) -> None:
    good = np.zeros((3, 6), dtype=np.float32)
    good[:, 0] = 1
    with pytest.raises(error, match=r"sequence 2 \('tx2'\): .*" + message):
        tokenizer(tracks=[good, array], names=["tx1", "tx2"])


def test_all_zero_base_rows_read_as_n(tokenizer: IsoCLRTokenizer) -> None:
    # Orthrus's and mRNABench's saved arrays encode N as a row with no base channel set.
    tracks = np.zeros((4, 6), dtype=np.float32)
    tracks[0, 0] = tracks[2, 3] = 1.0
    tracks[3, 5] = 1.0
    batch = tokenizer(tracks=tracks, return_tensors="np")
    assert [VOCABULARY[i] for i in batch["input_ids"][0]] == ["A", "N", "T", "N"]
    assert batch["splice_track"][0].tolist() == [0, 0, 0, 1]
    four = tokenizer(tracks=[np.zeros((2, 4), dtype=np.uint8), np.ones((1, 4), dtype=bool)], return_tensors="np")
    assert four["input_ids"].tolist() == [[5, 5], [5, 0]]


def test_truncation_marks_the_last_kept_nucleotide(tokenizer: IsoCLRTokenizer) -> None:
    # Exons end at 3, 8 and 12; cut to 10: the exon end at 3 and at 8 stay, and the last kept
    # nucleotide (9) is marked because the splice track marks the end of what the model sees.
    batch = tokenizer("ACGTACGTACGT", exon_ends=[3, 8, 12], cds=(1, 10), truncation=True, max_length=10,
                      return_tensors="np")  # fmt: skip
    assert np.flatnonzero(batch["splice_track"][0]).tolist() == [2, 7, 9]
    assert np.flatnonzero(batch["cds_track"][0]).tolist() == [1, 4, 7]
    assert batch["attention_mask"][0].tolist() == [1] * 10
    # Unknown exon structure, and a cut that falls on an exon end: still one mark at the end.
    assert tokenizer("ACGTACGT", truncation=True, max_length=5)["splice_track"] == [0, 0, 0, 0, 1]
    assert tokenizer("ACGTACGT", exon_ends=[5, 8], truncation=True, max_length=5)["splice_track"] == [0, 0, 0, 0, 1]
    # Precomputed arrays are cut the same way.
    tracks = np.zeros((6, 6), dtype=np.float32)
    tracks[:, 0] = 1
    tracks[5, 5] = 1
    assert tokenizer(tracks=tracks, truncation=True, max_length=4)["splice_track"] == [0, 0, 0, 1]
    # Sequences that fit are not changed.
    assert tokenizer("ACGTACGT", exon_ends=[3, 8], truncation=True, max_length=8)["splice_track"] == [
        0, 0, 1, 0, 0, 0, 0, 1,
    ]  # fmt: skip


def test_tracks_as_an_object_array_batch(tokenizer: IsoCLRTokenizer) -> None:
    rows = np.empty(2, dtype=object)
    rows[0], rows[1] = np.eye(4, dtype=np.float32), np.eye(4, dtype=np.float32)[:2]
    batch = tokenizer(tracks=rows, return_tensors="np")
    assert batch["input_ids"].tolist() == [[1, 2, 3, 4], [1, 2, 0, 0]]


@pytest.mark.parametrize(
    ("examples", "error", "message"),
    [
        ([], ValueError, "pad\\(\\) got no examples"),
        ([{"input_ids": [1, 2]}, {"attention_mask": [1]}], ValueError, "Example 2: expected a mapping with input_ids"),
        ([{"input_ids": [1, 16]}], ValueError, r"Example 1: input_ids\[1\] = 16 is not a token id; .* 0 to 15"),
        ([{"input_ids": [1, -1]}], ValueError, r"Example 1: input_ids\[1\] = -1 is not a token id"),
        ([{"input_ids": [1.5, 2]}], TypeError, r"Example 1: input_ids\[0\] = 1.5 is not a token id \(float\)"),
        ([{"input_ids": [1, 2], "cds_track": [1]}], ValueError, "Example 1: cds_track has 1 entries for 2 input_ids"),
        ([{"input_ids": [1, 2], "splice_track": [0, 2]}], ValueError,
         r"Example 1: splice_track\[1\] = 2; splice_track must hold only 0 and 1"),
        ([{"input_ids": [0, 2], "attention_mask": [0, 1]}], ValueError,
         "Example 1: attention_mask must be 1s followed by 0s"),
    ],
)  # fmt: skip
def test_pad_names_the_example_and_the_problem(
    tokenizer: IsoCLRTokenizer, examples: list, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        tokenizer.pad(examples)


def test_pad_refuses_an_example_longer_than_max_length(tokenizer: IsoCLRTokenizer) -> None:
    with pytest.raises(ValueError, match="Example 1: length 3 is over the maximum of 2 nucleotides; pass truncation"):
        tokenizer.pad([tokenizer("ACG")], padding="max_length", max_length=2)


@given(st.lists(st.text(alphabet="ACGTN", min_size=1, max_size=30), min_size=1, max_size=4))
def test_pad_of_padded_examples_gives_the_same_batch(sequences: list[str]) -> None:
    tokenizer = IsoCLRTokenizer()
    direct = tokenizer(sequences, return_tensors="np")
    rows = [{key: direct[key][i] for key in tokenizer.model_input_names} for i in range(len(sequences))]
    again = tokenizer.pad(rows, return_tensors="np")
    for key in tokenizer.model_input_names:
        assert np.array_equal(again[key], direct[key]), key
