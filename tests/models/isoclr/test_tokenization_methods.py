"""The tokenizer's methods besides ``__call__``: each input of issue 21 item 1, and the conventions chosen.

decode / convert_ids_to_tokens refuse ids outside the vocabulary (no negative wrap-around);
convert_tokens_to_ids refuses unknown tokens (there is no unknown token); encode gives one flat list;
tokenize("") fails like tokenizer(""); tracks may be tensors that require grad; pad() takes a
BatchEncoding, checks every example and option, and fills absent tracks as the tokenizer would.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import BatchEncoding, DataCollatorWithPadding

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.models.isoclr.track_vocabulary import MAX_SEQUENCE_LENGTH
from tests.hub.isolated_python import run_without_package
from tests.models.isoclr.test_supported_transformers import VERSIONS, compat_python

KEYS = ("input_ids", "cds_track", "splice_track", "attention_mask")


@pytest.fixture
def tokenizer() -> IsoCLRTokenizer:
    return IsoCLRTokenizer()


def assert_same_batch(batch: BatchEncoding, expected: BatchEncoding) -> None:
    for key in KEYS:
        assert np.array_equal(np.asarray(batch[key]), np.asarray(expected[key])), key


# --- decode and convert_ids_to_tokens -----------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "ids", "error", "message"),
    [
        ("decode", [16], ValueError, r"token_ids\[0\] = 16 is not a token id; token ids are integers from 0 to 15"),
        ("decode", [1, 255], ValueError, r"token_ids\[1\] = 255 is not a token id"),
        ("decode", [-1], ValueError, r"token_ids\[0\] = -1 is not a token id"),  # was 'V' (index wrapped)
        ("decode", np.array([3, -2]), ValueError, r"token_ids\[1\] = -2 is not a token id"),
        ("decode", torch.tensor([[1, 2], [3, 99]]), ValueError, r"token_ids\[1\]\[1\] = 99 is not a token id"),
        ("decode", 99, ValueError, "token_ids = 99 is not a token id"),
        ("decode", [1.0, 2], TypeError, r"token_ids\[0\] is float 1.0; token ids are integers"),
        ("decode", [True], TypeError, r"token_ids\[0\] is bool True"),
        ("decode", ["A"], TypeError, r"token_ids\[0\] is str 'A'"),
        ("decode", torch.tensor([1.0, 2.0]), TypeError, "1-D array of dtype float32"),
        ("decode", np.zeros((1, 2, 3), dtype=int), TypeError, "a 3-D array"),
        ("decode", "ACGT", TypeError, "token_ids is str 'ACGT'"),
        ("decode", [[1, 2], 3], TypeError, r"token_ids\[1\] is int 3; in a batch every entry is a sequence"),
        ("convert_ids_to_tokens", 99, ValueError, "ids = 99 is not a token id"),  # was IndexError
        ("convert_ids_to_tokens", -1, ValueError, "ids = -1 is not a token id"),  # was 'V'
        ("convert_ids_to_tokens", [0, 16], ValueError, r"ids\[1\] = 16 is not a token id"),
        ("convert_ids_to_tokens", np.int64(2**40), ValueError, "ids = 1099511627776 is not a token id"),
        ("convert_ids_to_tokens", 2.0, TypeError, "ids is float 2.0"),
        ("convert_ids_to_tokens", [[1, 2]], TypeError, r"takes one id or one sequence of ids; got a batch"),
        ("batch_decode", [1, 2], TypeError, r"sequences\[0\] is int 1; in a batch every entry is a sequence"),
        ("batch_decode", [[1], [2, 16]], ValueError, r"sequences\[1\]\[1\] = 16 is not a token id"),
    ],
)
def test_ids_outside_the_vocabulary_are_refused(
    tokenizer: IsoCLRTokenizer, method: str, ids: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        getattr(tokenizer, method)(ids)


def test_decode_gives_back_the_sequence_and_shows_padding_unless_skipped(tokenizer: IsoCLRTokenizer) -> None:
    batch = tokenizer(["ACGUN", "rY"], return_tensors="pt")
    assert tokenizer.decode(batch["input_ids"][0]) == "ACGTN"
    # As in transformers: the padding id decodes to the pad token unless special tokens are skipped.
    assert tokenizer.decode(batch["input_ids"][1]) == "RY[PAD][PAD][PAD]"
    assert tokenizer.decode(batch["input_ids"][1], skip_special_tokens=True) == "RY"
    # A batch gives one string per row (transformers 5's decode), under every transformers version.
    assert tokenizer.decode(batch["input_ids"], skip_special_tokens=True) == ["ACGTN", "RY"]
    assert tokenizer.batch_decode(batch["input_ids"].numpy(), skip_special_tokens=True) == ["ACGTN", "RY"]
    assert tokenizer.batch_decode([]) == []
    assert tokenizer.decode(3) == tokenizer.decode(np.int64(3)) == tokenizer.decode(torch.tensor(3)) == "G"
    assert tokenizer.decode([]) == ""
    assert tokenizer.convert_ids_to_tokens(np.array([0, 1, 2], dtype=np.uint8)) == ["[PAD]", "A", "C"]
    assert tokenizer.convert_ids_to_tokens([0, 1, 2], skip_special_tokens=True) == ["A", "C"]
    with pytest.raises(TypeError, match=r"decode\(\) got unexpected arguments: spaces"):
        tokenizer.decode([1], spaces=True)
    with pytest.raises(TypeError, match="`skip_special_tokens` must be True or False; got str 'yes'"):
        tokenizer.decode([1], skip_special_tokens="yes")


# --- convert_tokens_to_ids ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tokens", "error", "message"),
    [
        ("X", ValueError, "tokens = 'X' is not in the vocabulary \\(it has no unknown token\\)"),  # was 0 (padding)
        (["A", "c", "*"], ValueError, r"tokens\[2\] = '\*' is not in the vocabulary"),
        ("ACGT", ValueError, "tokens = 'ACGT' is not in the vocabulary.*use tokenize\\(\\) or encode\\(\\)"),
        ("", ValueError, "tokens = '' is not in the vocabulary"),
        ("[pad]", ValueError, "tokens = '\\[pad\\]' is not in the vocabulary"),
        ([1], TypeError, r"tokens\[0\] is int 1"),
        (5, TypeError, "tokens must be a token string or a list of them; got int 5"),
    ],
)
def test_unknown_tokens_are_refused(tokenizer: IsoCLRTokenizer, tokens: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        tokenizer.convert_tokens_to_ids(tokens)


def test_tokens_round_trip(tokenizer: IsoCLRTokenizer) -> None:
    assert tokenizer.convert_tokens_to_ids(["A", "c", "u", "U", "n", "[PAD]"]) == [1, 2, 4, 4, 5, 0]
    assert tokenizer.convert_tokens_to_ids("g") == 3
    assert tokenizer.convert_tokens_to_ids(None) is None
    assert tokenizer.pad_token_id == 0 and tokenizer.all_special_ids == [0]
    tokens = tokenizer.tokenize("acguNRyswkmbdhv")
    assert tokenizer.convert_ids_to_tokens(tokenizer.convert_tokens_to_ids(tokens)) == tokens


# --- encode and tokenize ------------------------------------------------------------------------
def test_encode_returns_one_flat_list_of_ids(tokenizer: IsoCLRTokenizer) -> None:
    assert tokenizer.encode("ACGT") == [1, 2, 3, 4]  # was [[1], [2], [3], [4]]
    ids = tokenizer.encode("ACGT", return_tensors="pt")
    assert ids.shape == (1, 4) and ids.dtype == torch.uint8  # was (1, 4, 1)
    assert tokenizer.encode("acgu", return_tensors="np").tolist() == [[1, 2, 3, 4]]
    assert tokenizer.encode("ACGTACGT", truncation=True, max_length=5) == [1, 2, 3, 4, 1]
    assert tokenizer.encode("AC", padding="max_length", max_length=4) == [1, 2, 0, 0]
    assert tokenizer.encode("ACG", add_special_tokens=True) == tokenizer.encode("ACG", add_special_tokens=False)
    assert tokenizer.decode(tokenizer.encode("GATTACA")) == "GATTACA"


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "error", "message"),
    [
        ("encode", ("",), {}, ValueError, "sequence 1: empty sequence"),
        ("encode", ("ACXT",), {}, ValueError, r"sequence 1: character 'X' at position 3 \(1-based\) is not"),
        ("encode", (["ACGT"],), {}, TypeError, r"encode\(\) takes one sequence string; got list.*tokenizer\(seq"),
        ("encode", ("ACGT", "AC"), {}, TypeError, "there are no sequence pairs"),
        ("encode", ("A" * 13000,), {}, ValueError, "sequence 1: length 13000 is over the maximum of 12288"),
        ("encode", ("ACGT",), {"stride": 2}, TypeError, r"encode\(\) got unexpected arguments: stride"),
        ("encode", ("ACGT",), {"max_length": 2.5}, TypeError, "`max_length` must be a positive integer"),
        ("tokenize", ("",), {}, ValueError, "sequence 1: empty sequence"),  # was []
        ("tokenize", ("AC GT",), {}, ValueError, "character ' ' at position 3 \\(1-based\\)"),
        ("tokenize", (None,), {}, TypeError, r"tokenize\(\) takes one sequence string; got NoneType"),
        ("tokenize", ("ACGT",), {"split_special_tokens": True}, TypeError, "unexpected arguments: split_special"),
        ("tokenize", ("ACGT",), {"add_special_tokens": "no"}, TypeError, "`add_special_tokens` must be True or"),
    ],
)
def test_encode_and_tokenize_check_like_the_call(
    tokenizer: IsoCLRTokenizer, method: str, args: tuple, kwargs: dict, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        getattr(tokenizer, method)(*args, **kwargs)


def test_tokenize_agrees_with_the_call(tokenizer: IsoCLRTokenizer) -> None:
    assert tokenizer.tokenize("acgUN") == ["A", "C", "G", "T", "N"]
    with pytest.raises(ValueError) as from_call:
        tokenizer("")
    with pytest.raises(ValueError) as from_tokenize:
        tokenizer.tokenize("")
    assert str(from_tokenize.value) == str(from_call.value)


# --- tracks as tensors --------------------------------------------------------------------------
def test_track_tensors_read_like_arrays(tokenizer: IsoCLRTokenizer) -> None:
    generator = torch.Generator().manual_seed(0)
    tracks = torch.rand(10, 6, generator=generator)
    expected = tokenizer(tracks=[tracks.numpy()], return_tensors="np")
    # Was: RuntimeError from numpy() on a tensor that requires grad.
    assert_same_batch(tokenizer(tracks=[tracks.clone().requires_grad_(True)], return_tensors="np"), expected)
    assert_same_batch(tokenizer(tracks=tracks.clone().requires_grad_(True), return_tensors="np"), expected)
    exact = torch.zeros(4, 6)
    exact[[0, 1, 2, 3], [0, 1, 2, 3]] = 1
    exact[3, 5] = 1
    assert tokenizer(tracks=exact.to(torch.bfloat16))["input_ids"] == [1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"`tracks` is a 3-D array of shape \(2, 4, 6\)"):
        tokenizer(tracks=torch.zeros(2, 4, 6))
    with pytest.raises(ValueError, match=r"sequence 1: the track array holds nan at \[0, 0\] \(nucleotide 1,"):
        tokenizer(tracks=[torch.full((2, 6), float("nan"), requires_grad=True)])


# --- pad ----------------------------------------------------------------------------------------
SEQUENCES = ["ATGAAATAG", "ACG", "GGCATTTAA"]
ANNOTATIONS = {"exon_ends": [[4, 9], None, [9]], "cds": [(0, 9), None, None]}


def test_pad_takes_a_batch_encoding_like_a_dict(tokenizer: IsoCLRTokenizer) -> None:
    expected = tokenizer(SEQUENCES, **ANNOTATIONS, return_tensors="pt")
    unpadded = tokenizer(SEQUENCES, **ANNOTATIONS, padding=False)
    assert isinstance(unpadded, BatchEncoding)
    assert_same_batch(tokenizer.pad(unpadded, return_tensors="pt"), expected)  # was refused ("got str")
    assert_same_batch(tokenizer.pad(dict(unpadded), return_tensors="pt"), expected)
    # A padded batch of tensors is re-padded from its valid parts.
    wider = tokenizer.pad(expected, pad_to_multiple_of=32, return_tensors="pt")
    assert wider["input_ids"].shape == (3, 32)
    assert_same_batch(BatchEncoding({k: v[:, :9] for k, v in wider.items()}), expected)
    # One example's mapping is one example, returned unbatched like tokenizer("ACGT").
    assert tokenizer.pad(tokenizer("ACGT")) == tokenizer("ACGT")
    assert tokenizer.pad(tokenizer("ACGT"), return_tensors="pt")["input_ids"].shape == (1, 4)


def test_pad_fills_absent_tracks_as_the_tokenizer_does(tokenizer: IsoCLRTokenizer) -> None:
    # Only input_ids: was padded with no splice mark at the end; now marked as a transcript without exon ends.
    padded = tokenizer.pad([{"input_ids": tokenizer.encode(s)} for s in SEQUENCES], return_tensors="np")
    assert_same_batch(padded, tokenizer(SEQUENCES, return_tensors="np"))
    rows = tokenizer(SEQUENCES, **ANNOTATIONS, return_tensors="np")
    no_cds = [{"input_ids": rows["input_ids"][i], "splice_track": rows["splice_track"][i]} for i in range(3)]
    assert_same_batch(
        tokenizer.pad(no_cds, return_tensors="np"),
        tokenizer(SEQUENCES, exon_ends=ANNOTATIONS["exon_ends"], return_tensors="np"),
    )


@pytest.mark.parametrize(
    ("encoded", "kwargs", "error", "message"),
    [
        (5, {}, TypeError, r"pad\(\) takes encoded examples.*got int 5"),
        ("ACGT", {}, TypeError, r"pad\(\) takes encoded examples.*got str 'ACGT'"),
        ([{"input_ids": [1]}, "ACG"], {}, TypeError, "Example 2: expected a mapping with input_ids.*got str 'ACG'"),
        ({"attention_mask": [[1]]}, {}, ValueError, r"got a mapping without input_ids \(keys: \['attention_mask'\]\)"),
        ({"input_ids": [[1, 2], [3]], "splice_track": [[0, 1]]}, {}, ValueError,
         "column `splice_track` has 1 entries for 2 examples"),
        ([{"input_ids": [1, 2]}], {"pad_to_multiple_of": -4}, ValueError, "`pad_to_multiple_of` must be a positive"),
        ([{"input_ids": [1, 2]}], {"pad_to_multiple_of": 0}, ValueError, "`pad_to_multiple_of` must be a positive"),
        ([{"input_ids": [1, 2]}], {"pad_to_multiple_of": 2.5}, TypeError, "`pad_to_multiple_of` must be a positive"),
        ([{"input_ids": [1, 2]}], {"max_length": 2.5}, TypeError, "`max_length` must be a positive integer"),
        ([{"input_ids": [1, 2]}], {"padding": "bogus"}, ValueError, "padding=str 'bogus' is not supported"),
        ([{"input_ids": [1, 2]}], {"return_tensors": "tf"}, ValueError, "return_tensors=str 'tf' is not supported"),
        ([{"input_ids": [1, 2]}], {"padding_side": "left"}, ValueError, "padding_side=str 'left' is not supported"),
        ([{"input_ids": [1, 2]}], {"truncation": "yes"}, TypeError, "`truncation` must be True or False"),
        ([{"input_ids": [1, 2]}], {"foo": 1}, TypeError, "unexpected keyword argument 'foo'"),
        ([{"input_ids": [1, 2], "splice_track": [1, 0]}], {}, ValueError,
         r"Example 1: splice_track has no mark at the last valid position \(splice_track\[1\]\)"),
        ([{"input_ids": [1, 2], "splice_track": [0, 1]}, {"input_ids": []}], {}, ValueError,
         "Example 2: input_ids is empty"),
        ([{"input_ids": [1, 2], "attention_mask": [0, 0]}], {}, ValueError,
         "Example 1: attention_mask is all 0: no valid position"),
        ([{"input_ids": [0, 0]}], {}, ValueError, r"Example 1: input_ids are all padding \(id 0\): no valid position"),
        ([{"input_ids": [1, 0, 2], "attention_mask": [1, 1, 1]}], {}, ValueError,
         r"Example 1: input_ids\[1\] is the padding id 0 where attention_mask is 1"),
        ([{"input_ids": [1, 0, 2]}], {}, ValueError, r"Example 1: input_ids\[1\] is the padding id 0 before the last"),
        ([{"input_ids": [[1, 2], [3, 4]]}], {}, TypeError, "Example 1: input_ids is nested"),
        ([{"input_ids": [1, [2]]}], {}, TypeError, "Example 1: input_ids is nested"),
        ([{"input_ids": np.ones((2, 2), dtype=int)}], {}, TypeError, r"Example 1: input_ids has shape \(2, 2\)"),
        ([{"input_ids": [1.0, 2.0]}], {}, TypeError, r"Example 1: input_ids\[0\] = 1.0 is not a token id \(float\)"),
        ([{"input_ids": torch.tensor([1.0, 2.0])}], {}, TypeError, "Example 1: input_ids has dtype float32"),
        ([{"input_ids": [1, None]}], {}, TypeError, r"Example 1: input_ids\[1\] = None is not a token id"),
        ([{"input_ids": [1, 2**70]}], {}, ValueError, r"Example 1: input_ids\[1\] = 1180591620717411303424 is out"),
        ([{"input_ids": [1, 2], "attention_mask": [1.0, 1.0]}], {}, TypeError,
         r"Example 1: attention_mask\[0\] = 1.0 is float; attention_mask holds integers 0 or 1"),
        ([{"input_ids": [1] * 13000}], {}, ValueError, "Example 1: length 13000 is over the maximum of 12288"),
        ([{"input_ids": [1] * 10}], {"max_length": 8}, ValueError, "Example 1: length 10 is over the maximum of 8"),
    ],
)  # fmt: skip
def test_pad_refuses_bad_examples_and_options(
    tokenizer: IsoCLRTokenizer, encoded: object, kwargs: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        tokenizer.pad(encoded, **kwargs)


def test_pad_truncates_only_when_asked(tokenizer: IsoCLRTokenizer) -> None:
    long = {"input_ids": [1] * 13000}
    batch = tokenizer.pad([long, {"input_ids": [2, 3]}], truncation=True, return_tensors="np")
    assert batch["input_ids"].shape == (2, MAX_SEQUENCE_LENGTH)
    assert batch["splice_track"][0, -1] == 1 and batch["splice_track"][0].sum() == 1
    assert batch["attention_mask"].sum(1).tolist() == [MAX_SEQUENCE_LENGTH, 2]
    direct = tokenizer("ACGTACGTAC", exon_ends=[3, 10], cds=(1, 10), truncation=True, max_length=6)
    again = tokenizer.pad(tokenizer("ACGTACGTAC", exon_ends=[3, 10], cds=(1, 10)), truncation=True, max_length=6)
    assert again == direct


def test_pad_options(tokenizer: IsoCLRTokenizer) -> None:
    examples = [tokenizer(s) for s in SEQUENCES]
    assert tokenizer.pad(examples, padding="max_length", max_length=12, return_tensors="np")["input_ids"].shape == (
        3, 12,
    )  # fmt: skip
    assert tokenizer.pad(examples, padding=False)["input_ids"] == [tokenizer.encode(s) for s in SEQUENCES]
    without_mask = tokenizer.pad(examples, return_attention_mask=False, padding_side="right", verbose=False)
    assert set(without_mask) == {"input_ids", "cds_track", "splice_track"}
    with pytest.raises(ValueError, match="Sequences of different lengths need padding=True"):
        tokenizer.pad(examples, padding=False, return_tensors="pt")


def test_pad_carries_labels_through_a_data_collator(tokenizer: IsoCLRTokenizer) -> None:
    features = [{**tokenizer(s), "labels": float(i)} for i, s in enumerate(SEQUENCES)]
    batch = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8, return_tensors="pt")(features)
    assert batch["labels"].tolist() == [0.0, 1.0, 2.0]
    expected = tokenizer(SEQUENCES, pad_to_multiple_of=8, return_tensors="pt")
    assert_same_batch(batch, expected)
    with pytest.raises(ValueError, match="Example 2: no labels, which other examples have"):
        tokenizer.pad([features[0], tokenizer("AC")])
    with pytest.raises(ValueError, match="column `tags` cannot be stacked"):
        tokenizer.pad([{**tokenizer("AC"), "tags": [1]}, {**tokenizer("A"), "tags": [1, 2]}], return_tensors="np")


# --- the same methods where only transformers and torch exist -----------------------------------
CALLS = {
    "decode": "tokenizer.decode([0, 1, 2, 3, 4])",
    "decode batch": "tokenizer.decode([[1, 0], [2, 3]], skip_special_tokens=True)",
    "batch_decode": "tokenizer.batch_decode([[1, 0], [2, 3]])",
    "decode 16": "tokenizer.decode([16])",
    "decode -1": "tokenizer.decode([-1])",
    "ids to tokens": "tokenizer.convert_ids_to_tokens(99)",
    "tokens to ids": "tokenizer.convert_tokens_to_ids(['a', 'u', 'X'])",
    "encode": "tokenizer.encode('ACGU')",
    "tokenize": "tokenizer.tokenize('acgu')",
    "tokenize empty": "tokenizer.tokenize('')",
    "pad": "tokenizer.pad(tokenizer(['ACGT', 'AC'], padding=False), pad_to_multiple_of=8)",
    "pad ids only": "tokenizer.pad([{'input_ids': [1, 2, 3]}])",
    "pad bad": "tokenizer.pad([{'input_ids': [1, 2], 'splice_track': [1, 0]}])",
}
OUTCOME = """
def outcome(tokenizer, expression):
    try:
        value = eval(expression, {"tokenizer": tokenizer})
    except (ValueError, TypeError) as error:
        return [type(error).__name__, str(error)]
    return dict(value) if hasattr(value, "data") else value
"""
METHODS = (
    OUTCOME
    + """
import json, sys
from transformers import AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained(FOLDER, trust_remote_code=True)
print(json.dumps({name: outcome(tokenizer, expression) for name, expression in CALLS.items()}))
"""
)


@pytest.mark.slow
@pytest.mark.parametrize("version", ["this venv", *VERSIONS])
def test_methods_behave_alike_without_the_package(version: str, tokenizer: IsoCLRTokenizer, tmp_path: Path) -> None:
    python = None if version == "this venv" else compat_python(version)
    folder = tmp_path / "tokenizer"
    tokenizer.save_pretrained(folder)
    code = f"FOLDER, CALLS = {str(folder)!r}, {CALLS!r}\n" + METHODS
    result = run_without_package(code, tmp_path / "run", python=python, timeout=300)
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    namespace: dict = {}
    exec(OUTCOME, namespace)  # the same calls on the package's tokenizer
    expected = {name: namespace["outcome"](tokenizer, expression) for name, expression in CALLS.items()}
    assert loaded == json.loads(json.dumps(expected))
    assert loaded["encode"] == [1, 2, 3, 4] and loaded["decode 16"][0] == "ValueError"
    assert loaded["pad ids only"]["splice_track"] == [[0, 0, 1]]
