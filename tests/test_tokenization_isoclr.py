"""The six-track tokenizer: hand-written transcripts with known codon starts and exon ends, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.tokenization_isoclr import VOCABULARY


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
        ({"sequences": ["ACGT", "ACXT"]}, r"sequence 1 \('tx2'\): character 'X' at position 2"),
        ({"sequences": ["ACGT", "AC\u00e9T"]}, r"character '\u00e9' at position 2"),
        ({"sequences": ["ACGT", ""]}, r"sequence 1 \('tx2'\): empty sequence"),
        ({"sequences": ["ACGTAC"], "exon_ends": [[4, 3, 6]]}, "strictly increasing"),
        ({"sequences": ["ACGTAC"], "exon_ends": [[3, 5]]}, "last exon end is 5 but the sequence has 6"),
        ({"sequences": ["ACGTAC"], "cds": [(3, 9)]}, r"CDS \(3, 9\) is out of bounds"),
        ({"sequences": ["ACGTACG"], "cds": [(0, 7)]}, "not a multiple of 3"),
        ({"sequences": ["A" * 13000]}, "length 13000 is over the maximum of 12288"),
        ({"sequences": ["ACGT"], "cds": [(0, 3), None]}, "2 entries in `cds` for 1 sequences"),
    ],
)
def test_bad_input_names_the_transcript_and_the_problem(
    tokenizer: IsoCLRTokenizer, kwargs: dict, message: str
) -> None:
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
