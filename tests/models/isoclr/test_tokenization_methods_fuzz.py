"""Property test of the tokenizer's other methods over valid and adversarial arguments.

decode, batch_decode, convert_ids_to_tokens, convert_tokens_to_ids, encode, tokenize, pad and
``__call__`` with track tensors. As for ``__call__`` (test_tokenization_fuzz.py), an oracle written
from the documented conventions decides from the arguments alone whether a call is valid and, when
it is not, what the message must name (the position ``token_ids[2][5]``, the token, ``sequence 1``,
``Example 3`` (transcripts, examples and nucleotide positions counted from 1) or the option). The method must then:

- raise only ``ValueError``/``TypeError`` (the type the oracle expects where it is fixed), and only
  on invalid calls, naming the culprit;
- on valid calls, return what the oracle computes: the decoded letters, the ids of the tokens, the
  padded batch of the examples' valid parts (absent tracks filled as the tokenizer fills a
  transcript without annotations, a splice mark at every row's last valid position).

A few hundred examples by default; set ``ISOCLR_FUZZ_EXAMPLES=10000`` for a long run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from transformers import BatchEncoding

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.models.isoclr.track_vocabulary import VOCABULARY
from tests.models.isoclr.test_tokenization_fuzz import (
    LETTERS,
    TOKENIZERS,
    cds_for,
    check_accepted,
    exon_ends_for,
    length_of,
    nucleotides,
    oracle,
    rare,
    track_arrays,
)

EXAMPLES = int(os.environ.get("ISOCLR_FUZZ_EXAMPLES", "300"))
SIZE = len(VOCABULARY)
KEYS = ("input_ids", "cds_track", "splice_track", "attention_mask")


@dataclass
class Case:
    """One call and what the oracle expects of it."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    tokenizer: IsoCLRTokenizer = TOKENIZERS[0]
    error: tuple[type[Exception], ...] = ()  # empty: the call must succeed
    words: list[str] = field(default_factory=list)  # the message contains one of these
    prefix: str = ""  # ...and starts with this
    value: Any = None  # the expected return value (pad: a dict of expected rows, see check_pad)


def is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_flag(value: Any) -> bool:
    return value is None or isinstance(value, (bool, np.bool_))


# --- token ids: decode, batch_decode, convert_ids_to_tokens -------------------------------------
ODD_IDS = [16, 255, -1, -300, 2**64, 1.0, 2.5, True, "A", None]
INT_DTYPES = {"np": [np.uint8, np.int64, np.int32, np.int16], "pt": [torch.uint8, torch.int64, torch.int32]}


@st.composite
def id_sequences(draw: st.DrawFn) -> Any:
    """One sequence of ids as a list, tuple, array or tensor; now and then with a bad id or dtype."""
    values: list[Any] = draw(st.lists(st.integers(0, SIZE - 1), max_size=12))
    if values and rare(draw, 1, 4) == 0:
        values[draw(st.integers(0, len(values) - 1))] = draw(st.sampled_from(ODD_IDS))
    form = draw(st.sampled_from(["list", "list", "tuple", "np", "pt"]))
    if form in ("list", "tuple") or not all(is_int(v) and -(2**31) <= v < 2**31 for v in values):
        return tuple(values) if form == "tuple" else values
    if rare(draw, 1, 8) == 0:  # floats or booleans: refused whatever their values
        odd = draw(st.sampled_from([np.float32, np.float64, bool] if form == "np" else [torch.float32, torch.bool]))
        return np.array(values, dtype=odd) if form == "np" else torch.tensor(values, dtype=odd)
    fits = [d for d in INT_DTYPES[form] if all(-(2**15) <= v < 2**15 for v in values) or d in (np.int64, torch.int64)]
    unsigned_ok = all(0 <= v < 256 for v in values)
    dtype = draw(st.sampled_from([d for d in fits if unsigned_ok or d not in (np.uint8, torch.uint8)]))
    return np.array(values, dtype=dtype) if form == "np" else torch.tensor(values, dtype=dtype)


@st.composite
def id_inputs(draw: st.DrawFn) -> Any:
    """One id, one sequence, or a batch (a list of sequences or a 2-D array/tensor)."""
    kind = draw(st.sampled_from(["id", "sequence", "sequence", "batch"]))
    if kind == "id":
        return draw(st.one_of(st.integers(0, SIZE - 1), st.sampled_from([*ODD_IDS, np.int64(3), torch.tensor(4)])))
    if kind == "sequence":
        return draw(id_sequences())
    rows = draw(st.lists(id_sequences(), min_size=1, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        width = draw(st.integers(0, 6))
        values = draw(st.lists(st.lists(st.integers(0, SIZE + 3), min_size=width, max_size=width), min_size=1,
                               max_size=3))  # fmt: skip
        return np.array(values, dtype=np.int64) if draw(st.booleans()) else torch.tensor(values, dtype=torch.int64)
    return rows


def sequence_problem(value: Any, name: str) -> tuple[list[int] | None, Case | None]:
    """The ids of one sequence, or the error it must raise (as a Case with error and words)."""
    if isinstance(value, torch.Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or not np.issubdtype(value.dtype, np.integer):
            return None, Case("", (), {}, error=(TypeError,), words=[name])
        for k, v in enumerate(value.tolist()):
            if not 0 <= v < SIZE:
                return None, Case("", (), {}, error=(ValueError,), words=[f"{name}[{k}] = {v} "])
        return value.tolist(), None
    if not isinstance(value, (list, tuple)):
        return None, Case("", (), {}, error=(TypeError,), words=[name])
    for k, v in enumerate(value):
        if not is_int(v):
            return None, Case("", (), {}, error=(TypeError,), words=[f"{name}[{k}] is "])
        if not 0 <= v < SIZE:
            return None, Case("", (), {}, error=(ValueError,), words=[f"{name}[{k}] = {int(v)} "])
    return [int(v) for v in value], None


def looks_batched(value: Any) -> bool:
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return value.ndim == 2
    return isinstance(value, (list, tuple)) and len(value) > 0 and isinstance(value[0], (list, tuple, np.ndarray,
                                                                                        torch.Tensor))  # fmt: skip


def batch_rows(value: Any, name: str) -> tuple[list[list[int]] | None, Case | None]:
    if isinstance(value, (np.ndarray, torch.Tensor)):
        if value.ndim != 2:
            return None, Case("", (), {}, error=(TypeError,), words=[name])
        value = list(value)
    elif not isinstance(value, (list, tuple)):
        return None, Case("", (), {}, error=(TypeError,), words=[name])
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, (list, tuple, np.ndarray, torch.Tensor)):
            return None, Case("", (), {}, error=(TypeError,), words=[f"{name}[{i}] is "])
        ids, problem = sequence_problem(row, f"{name}[{i}]")
        if problem:
            return None, problem
        rows.append(ids)
    return rows, None


def letters(ids: list[int], skip: bool) -> str:
    return "".join(VOCABULARY[i] for i in ids if not (skip and i == 0))


def single_id(value: Any, name: str) -> tuple[int | None, Case | None]:
    if isinstance(value, torch.Tensor):
        value = value.item()
    if not is_int(value):
        return None, Case("", (), {}, error=(TypeError,), words=[name])
    if not 0 <= value < SIZE:
        return None, Case("", (), {}, error=(ValueError,), words=[f"{name} = {int(value)} "])
    return int(value), None


@st.composite
def id_method_calls(draw: st.DrawFn) -> Case:
    method = draw(st.sampled_from(["decode", "batch_decode", "convert_ids_to_tokens"]))
    value = draw(id_inputs())
    skip = draw(st.sampled_from([False, True, None, np.bool_(True)] + (["yes"] if rare(draw, 1, 20) == 0 else [])))
    case = Case(method, (value,), {"skip_special_tokens": skip})
    if not is_flag(skip):
        return fail(case, TypeError, "skip_special_tokens")
    skip = bool(skip)
    name = {"decode": "token_ids", "batch_decode": "sequences", "convert_ids_to_tokens": "ids"}[method]
    scalar = is_int(value) or (isinstance(value, torch.Tensor) and value.ndim == 0)
    if method == "batch_decode":
        if isinstance(value, list) and not value:
            return ok(case, [])
        rows, problem = batch_rows(value, name)
        return merge(case, problem) if problem else ok(case, [letters(r, skip) for r in rows])  # type: ignore[union-attr]
    if scalar:
        token, problem = single_id(value, name)
        if problem:
            return merge(case, problem)
        # decode(id) is the one-id sequence (skipping applies); convert_ids_to_tokens(id) its token, as in transformers
        return ok(case, letters([token], skip) if method == "decode" else VOCABULARY[token])  # type: ignore[list-item,index]
    if looks_batched(value):
        if method == "convert_ids_to_tokens":
            return fail(case, TypeError, "batch")
        rows, problem = batch_rows(value, name)
        return merge(case, problem) if problem else ok(case, [letters(r, skip) for r in rows])  # type: ignore[union-attr]
    ids, problem = sequence_problem(value, name)
    if problem:
        return merge(case, problem)
    if method == "decode":
        return ok(case, letters(ids, skip))  # type: ignore[arg-type]
    return ok(case, [VOCABULARY[i] for i in ids if not (skip and i == 0)])  # type: ignore[union-attr]


def ok(case: Case, value: Any) -> Case:
    case.value = value
    return case


def fail(case: Case, error: type[Exception] | tuple[type[Exception], ...], *words: str, prefix: str = "") -> Case:
    case.error = error if isinstance(error, tuple) else (error,)
    case.words, case.prefix = list(words), prefix
    return case


def merge(case: Case, problem: Case) -> Case:
    return fail(case, problem.error, *problem.words, prefix=problem.prefix)


# --- tokens: convert_tokens_to_ids --------------------------------------------------------------
TOKEN_IDS = {**{c: VOCABULARY.index(c) for c in VOCABULARY[1:]}, "U": 4, "[PAD]": 0}
ODD_TOKENS = ["X", "", "AC", "[pad]", "PAD", "\u00e9", " A", 1, None, b"A", ["A"]]


@st.composite
def token_calls(draw: st.DrawFn) -> Case:
    good = st.sampled_from([*LETTERS, "[PAD]"])
    token = st.one_of(good, st.sampled_from(ODD_TOKENS)) if rare(draw, 1, 6) == 0 else good
    if draw(st.booleans()):
        value: Any = draw(token)
    else:
        value = draw(st.lists(token, max_size=8))
        value = tuple(value) if draw(st.integers(0, 3)) == 0 else value
    if rare(draw, 1, 30) == 0:
        value = draw(st.sampled_from([5, {"A"}, np.array(["A"]), None]))
    case = Case("convert_tokens_to_ids", (value,), {})
    if value is None:
        return ok(case, None)

    def token_id(item: Any, name: str) -> int | Case:
        if not isinstance(item, str):
            return fail(Case("", (), {}), TypeError, name)
        key = item.upper() if len(item) == 1 else item
        if key not in TOKEN_IDS:
            return fail(Case("", (), {}), ValueError, f"{name} = {item!r} is not in the vocabulary")
        return TOKEN_IDS[key]

    if isinstance(value, str):
        result = token_id(value, "tokens")
        return merge(case, result) if isinstance(result, Case) else ok(case, result)
    if not isinstance(value, (list, tuple)):
        return fail(case, TypeError, "tokens")
    ids = []
    for k, item in enumerate(value):
        result = token_id(item, f"tokens[{k}]")
        if isinstance(result, Case):
            return merge(case, result)
        ids.append(result)
    return ok(case, ids)


# --- one sequence: encode, tokenize -------------------------------------------------------------
@st.composite
def sequence_calls(draw: st.DrawFn) -> Case:
    tokenizer = draw(st.sampled_from(TOKENIZERS))
    method = draw(st.sampled_from(["encode", "tokenize"]))
    kind = rare(draw, 2, 8)
    if kind == -1:
        text: Any = draw(nucleotides())
    elif kind == 0:
        text = draw(st.text(st.sampled_from(LETTERS + "X -*\u00e9\n"), max_size=10))
    else:
        text = draw(st.sampled_from([None, 4, b"ACGT", ["ACGT"], ("A",)]))
    kwargs: dict[str, Any] = {}
    if rare(draw, 1, 15) == 0:
        kwargs["add_special_tokens"] = draw(st.sampled_from([True, False, "no", 1]))
    if rare(draw, 1, 25) == 0:
        kwargs[draw(st.sampled_from(["stride", "is_split_into_words", "exon_ends"]))] = 1
    if method == "encode":
        if draw(st.booleans()):
            kwargs["truncation"] = draw(st.sampled_from([True, False, None, "longest_first"]))
        if draw(st.booleans()):
            kwargs["max_length"] = draw(st.one_of(st.integers(1, 40), st.sampled_from([0, 2.5, "8"])))
        if draw(st.integers(0, 3)) == 0:
            kwargs["padding"] = draw(st.sampled_from([False, True, "max_length", "bogus"]))
        if draw(st.integers(0, 3)) == 0:
            kwargs["pad_to_multiple_of"] = draw(st.sampled_from([None, 4, 8, 0]))
        kwargs["return_tensors"] = draw(st.sampled_from([None, None, "np", "pt"]))
    case = Case(method, (text,), kwargs, tokenizer=tokenizer)
    unknown = [k for k in kwargs if k in ("stride", "is_split_into_words", "exon_ends")]
    if unknown:
        return fail(case, TypeError, *unknown)
    if not is_flag(kwargs.get("add_special_tokens")):
        return fail(case, TypeError, "add_special_tokens")
    if not isinstance(text, str):
        return fail(case, TypeError, "one sequence string")
    words = option_problems(kwargs, ["padding", "max_length", "pad_to_multiple_of"])
    if words:
        return fail(case, (ValueError, TypeError), *words)
    if not text:
        return fail(case, ValueError, "empty sequence", prefix="sequence 1: ")
    if any(c not in LETTERS for c in text):  # named by its place counted from 1, as sequence tools count
        first = next(k for k, c in enumerate(text) if c not in LETTERS)
        return fail(case, ValueError, f"character {text[first]!r} at position {first + 1} (1-based)",
                    prefix="sequence 1: ")
    ids = [TOKEN_IDS[c.upper()] for c in text]
    if method == "tokenize":
        return ok(case, [VOCABULARY[i] for i in ids])
    limit = kwargs.get("max_length") or tokenizer.model_max_length
    if len(ids) > limit:
        if kwargs.get("truncation") in (None, False):
            return fail(case, ValueError, prefix="sequence 1: ")
        ids = ids[:limit]
    width = limit if kwargs.get("padding") == "max_length" else len(ids)
    if kwargs.get("pad_to_multiple_of"):
        width = -(-width // kwargs["pad_to_multiple_of"]) * kwargs["pad_to_multiple_of"]
    if kwargs.get("padding", False) is False and not kwargs["return_tensors"]:
        width = len(ids)  # as in __call__: unpadded lists; tensors are still rounded up to the multiple
    return ok(case, ids + [0] * (width - len(ids)))


def option_problems(kwargs: dict[str, Any], names: list[str]) -> list[str]:
    """The names of the options in ``kwargs`` with a bad value (the error names one of them)."""
    bad = []
    padding = kwargs.get("padding", True)
    valid_padding = isinstance(padding, (bool, np.bool_)) or padding in ("longest", "max_length", "do_not_pad")
    if "padding" in names and not valid_padding:
        bad.append("padding")
    for name in ("max_length", "pad_to_multiple_of"):
        value = kwargs.get(name)
        if name in names and value is not None and not (is_int(value) and value > 0):
            bad.append(name)
    return bad


# --- tracks as tensors: __call__ ----------------------------------------------------------------
@st.composite
def tensor_track_calls(draw: st.DrawFn) -> Case:
    tokenizer = draw(st.sampled_from(TOKENIZERS))
    single = draw(st.booleans())
    arrays = [draw(track_arrays(single=True)) for _ in range(1 if single else draw(st.integers(1, 3)))]
    tensors, readable = [], []
    for array in arrays:
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
            tensors.append(array)  # not a tensor: strings, objects, complex stay arrays
            readable.append(array)
            continue
        kind = draw(st.sampled_from(["float32 grad", "float64", "bfloat16", "same"]))
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if kind == "float32 grad":
            tensor = tensor.float().requires_grad_(True)
        elif kind == "float64":
            tensor = tensor.double()
        elif kind == "bfloat16":
            tensor = tensor.to(torch.bfloat16)
        tensors.append(tensor)
        readable.append(tensor.detach().float().numpy() if kind == "bfloat16" else tensor.detach().numpy())
    if single:
        given, as_arrays = tensors[0], readable[0]
    elif rare(draw, 1, 15) == 0:  # a padded 3-D tensor is refused like a 3-D array
        given = torch.zeros(len(arrays), 4, 6)
        as_arrays = np.zeros((len(arrays), 4, 6))
    else:
        given, as_arrays = tensors, readable
    lengths = [length_of(a) for a in readable]
    kwargs: dict[str, Any] = {"return_tensors": draw(st.sampled_from([None, "np", "pt"]))}
    if draw(st.integers(0, 2)) == 0:
        exon_ends = [draw(exon_ends_for(n)) for n in lengths]
        kwargs["exon_ends"] = exon_ends[0] if single else exon_ends
    if draw(st.integers(0, 2)) == 0:
        cds = [draw(cds_for(n)) for n in lengths]
        kwargs["cds"] = cds[0] if single else cds
    if draw(st.booleans()):
        kwargs["truncation"] = True
    case = Case("__call__", (), {**kwargs, "tracks": given}, tokenizer=tokenizer)
    case.value = oracle(tokenizer, {**kwargs, "tracks": as_arrays if single or not isinstance(as_arrays, list)
                                    else list(as_arrays)})  # fmt: skip
    return case


# --- encoded examples: pad ----------------------------------------------------------------------
CORRUPTIONS = ["empty", "id out of range", "float ids", "nested ids", "bool ids", "padding inside", "mask all zero",
               "mask with a hole", "float mask", "no end mark", "track value 2", "track length", "not a mapping",
               "no input_ids"]  # fmt: skip


@st.composite
def reference_example(draw: st.DrawFn) -> dict[str, list[int]]:
    """A transcript's valid part as the tokenizer encodes it: ids, codon starts, exon ends, all marks."""
    text = draw(st.text(st.sampled_from("ACGTNRY"), min_size=1, max_size=30))
    n = len(text)
    splice = [0] * n
    for end in draw(st.sets(st.integers(0, n - 1), max_size=3)) | {n - 1}:
        splice[end] = 1
    cds = [0] * n
    if draw(st.booleans()):
        for start in range(draw(st.integers(0, n - 1)), n, 3):
            cds[start] = 1
    return {"input_ids": [VOCABULARY.index(c) for c in text], "cds_track": cds, "splice_track": splice}


def container(draw: st.DrawFn, values: list[Any]) -> Any:
    form = draw(st.sampled_from(["list", "list", "tuple", "np", "pt"]))
    if form == "tuple":
        return tuple(values)
    if form == "np":
        return np.array(values, dtype=draw(st.sampled_from([np.uint8, np.int64, np.int32])))
    if form == "pt":
        return torch.tensor(values, dtype=draw(st.sampled_from([torch.uint8, torch.int64])))
    return list(values)


@st.composite
def pad_example(draw: st.DrawFn, reference: dict[str, list[int]], corruption: str | None) -> Any:
    n = len(reference["input_ids"])
    extra = draw(st.integers(0, 4)) if draw(st.booleans()) else 0  # already padded
    rows = {key: list(values) + [0] * extra for key, values in reference.items()}
    rows["attention_mask"] = [1] * n + [0] * extra
    dropped = set(draw(st.sets(st.sampled_from(["cds_track", "splice_track", "attention_mask"]))))
    if corruption in ("mask all zero", "mask with a hole", "float mask"):
        dropped.discard("attention_mask")
    if corruption in ("no end mark", "track value 2", "track length"):
        dropped.discard("splice_track")
    for key in dropped:
        del rows[key]
    if corruption == "empty":
        rows = {key: [] for key in rows}
    elif corruption == "id out of range":
        rows["input_ids"][draw(st.integers(0, n - 1))] = draw(st.sampled_from([16, 255, -1]))
    elif corruption == "padding inside":
        rows["input_ids"][draw(st.integers(0, n - 2))] = 0
    elif corruption == "mask all zero":
        rows["attention_mask"] = [0] * len(rows["attention_mask"])
    elif corruption == "mask with a hole":
        rows["attention_mask"][0] = 0
    elif corruption == "no end mark":
        rows["splice_track"][n - 1] = 0
    elif corruption == "track value 2":
        key = draw(st.sampled_from(["splice_track", "cds_track"])) if "cds_track" in rows else "splice_track"
        rows[key][0] = 2
    elif corruption == "track length":
        rows["splice_track"].append(1)
    example: dict[str, Any] = {key: container(draw, values) for key, values in rows.items()}
    if corruption == "float ids":
        example["input_ids"] = [float(v) for v in rows["input_ids"]] if draw(st.booleans()) else np.array(
            rows["input_ids"], dtype=np.float32)  # fmt: skip
    elif corruption == "nested ids":
        example["input_ids"] = [rows["input_ids"]] if draw(st.booleans()) else np.array([rows["input_ids"]] * 2)
    elif corruption == "bool ids":
        example["input_ids"] = [bool(v) for v in rows["input_ids"]]
    elif corruption == "float mask":
        example["attention_mask"] = [float(v) for v in rows["attention_mask"]]
    elif corruption == "not a mapping":
        return draw(st.sampled_from(["ACGT", 5, None, rows["input_ids"]]))
    elif corruption == "no input_ids":
        del example["input_ids"]
    return BatchEncoding(example) if draw(st.integers(0, 3)) == 0 else example


@st.composite
def pad_calls(draw: st.DrawFn) -> Case:
    tokenizer = draw(st.sampled_from(TOKENIZERS))
    count = 0 if rare(draw, 1, 40) == 0 else draw(st.integers(1, 4))
    references = [draw(reference_example()) for _ in range(count)]
    bad_index, corruption = None, None
    if count and rare(draw, 1, 3) == 0:
        bad_index = draw(st.integers(0, count - 1))
        corruption = draw(st.sampled_from(CORRUPTIONS))
        if corruption == "padding inside" and len(references[bad_index]["input_ids"]) < 2:
            corruption = "id out of range"
    examples = [draw(pad_example(ref, corruption if i == bad_index else None)) for i, ref in enumerate(references)]
    labels = draw(st.integers(0, 5)) == 0
    if labels:
        for i, example in enumerate(examples):
            if isinstance(example, (dict, BatchEncoding)):
                example["labels"] = float(i)

    structure = draw(st.sampled_from(["list", "list", "list", "tuple", "columns", "single"]))
    mappings = all(isinstance(e, (dict, BatchEncoding)) and "input_ids" in e for e in examples)
    same_keys = mappings and len({tuple(sorted(e)) for e in examples}) == 1
    if structure == "columns" and count and same_keys:
        encoded: Any = {key: [e[key] for e in examples] for key in examples[0]}
        encoded = BatchEncoding(encoded) if draw(st.booleans()) else encoded
    elif structure == "single" and count == 1 and mappings and corruption != "nested ids":
        encoded = examples[0]
    else:
        structure = "tuple" if structure == "tuple" else "list"
        encoded = tuple(examples) if structure == "tuple" else examples
    if rare(draw, 1, 40) == 0:
        encoded, structure = draw(st.sampled_from([5, "ACGT", None, {1, 2}, 2.5])), "not examples"

    kwargs: dict[str, Any] = {}
    options = {
        "padding": ([True, "longest", "max_length", False, "do_not_pad"], ["bogus", 1, None]),
        "max_length": ([draw(st.integers(1, 40)), np.int64(20)], [0, -3, 2.5, "8", True]),
        "pad_to_multiple_of": ([None, 1, 4, 8, 32], [0, -4, 2.5, 8.0]),
        "truncation": ([True, False, None, "longest_first"], ["yes", 1]),
        "padding_side": ([None, "right"], ["left"]),
        "return_attention_mask": ([None, True, False], ["no"]),
        "verbose": ([True, False], ["loud"]),
    }
    for name, (valid, odd) in options.items():
        if draw(st.integers(0, 2)) == 0:
            kwargs[name] = draw(st.sampled_from(odd if rare(draw, 1, 25) == 0 else valid))
    if rare(draw, 1, 30) == 0:
        kwargs["foo"] = 1
    kwargs["return_tensors"] = draw(st.sampled_from(["tf"] if rare(draw, 1, 30) == 0 else [None, "np", "pt"]))
    case = Case("pad", (encoded,), kwargs, tokenizer=tokenizer)
    return pad_oracle(case, tokenizer, references, examples, bad_index, structure, labels)


def pad_oracle(case: Case, tokenizer: IsoCLRTokenizer, references: list[dict[str, list[int]]],
               examples: list[Any], bad_index: int | None, structure: str, labels: bool) -> Case:  # fmt: skip
    kwargs = case.kwargs
    if "foo" in kwargs:
        return fail(case, TypeError, "foo")
    words = option_problems(kwargs, ["padding", "max_length", "pad_to_multiple_of"])
    words += [name for name in ("return_attention_mask", "verbose") if not is_flag(kwargs.get(name))]
    if not (is_flag(kwargs.get("truncation")) or kwargs.get("truncation") == "longest_first"):
        words.append("truncation")
    if kwargs.get("padding_side") not in (None, "right"):
        words.append("padding_side")
    if kwargs["return_tensors"] not in (None, "np", "pt"):
        words.append("return_tensors")
    if words:
        return fail(case, (ValueError, TypeError), *words)
    if structure == "not examples":
        return fail(case, TypeError, "pad() takes encoded examples")
    if not references:
        return fail(case, ValueError, "no examples")
    limit = kwargs.get("max_length") or tokenizer.model_max_length
    truncation = kwargs.get("truncation") in (True, "longest_first")
    rows = []
    for i, (reference, example) in enumerate(zip(references, examples)):
        n = len(reference["input_ids"])
        if i == bad_index or (n > limit and not truncation):
            return fail(case, (ValueError, TypeError), prefix=f"Example {i + 1}: ")  # counted from 1
        row = {"input_ids": reference["input_ids"], "attention_mask": [1] * n}
        row["cds_track"] = reference["cds_track"] if "cds_track" in example else [0] * n
        row["splice_track"] = reference["splice_track"] if "splice_track" in example else [0] * (n - 1) + [1]
        if n > limit:
            row = {key: values[:limit] for key, values in row.items()}
            row["splice_track"][-1] = 1
        rows.append(row)
    padding = kwargs.get("padding", True)
    unpadded = padding in (False, "do_not_pad")
    lengths = [len(row["input_ids"]) for row in rows]
    if unpadded and kwargs["return_tensors"] and len(set(lengths)) > 1:
        return fail(case, ValueError, "padding")
    width = limit if padding == "max_length" else max(lengths)
    if kwargs.get("pad_to_multiple_of"):
        width = -(-width // kwargs["pad_to_multiple_of"]) * kwargs["pad_to_multiple_of"]
    expected = {key: [row[key] + ([] if unpadded and not kwargs["return_tensors"] else [0] * (width - len(row[key])))
                      for row in rows] for key in KEYS}  # fmt: skip
    if kwargs.get("return_attention_mask") is False:
        del expected["attention_mask"]
    if labels and structure != "not examples":
        expected["labels"] = [float(i) for i in range(len(rows))]
    single = structure == "single"
    return ok(case, {"rows": expected, "unbatched": single and not kwargs["return_tensors"]})


def check_pad(result: BatchEncoding, expected: dict[str, Any]) -> None:
    assert set(result) == set(expected["rows"]), (set(result), set(expected["rows"]))
    for key, rows in expected["rows"].items():
        value = result[key]
        value = value.tolist() if hasattr(value, "tolist") else value
        if expected["unbatched"]:
            value = [value]
        assert value == rows, (key, value, rows)
    if "splice_track" in expected["rows"]:
        for splice, ids in zip(expected["rows"]["splice_track"], expected["rows"]["input_ids"]):
            n = sum(1 for i in ids if i)
            assert splice[n - 1] == 1  # every row the model gets ends in a splice mark


# --- the property --------------------------------------------------------------------------------
def method_calls() -> st.SearchStrategy[Case]:
    # The id methods and pad take the most shapes of input: each is drawn twice as often.
    return st.one_of(id_method_calls(), id_method_calls(), token_calls(), sequence_calls(), tensor_track_calls(),
                     pad_calls(), pad_calls())  # fmt: skip


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(case=method_calls())
def test_methods_raise_clear_errors_or_return_what_the_oracle_computes(case: Case) -> None:
    method = getattr(case.tokenizer, case.method)
    if case.method == "__call__":  # the oracle of test_tokenization_fuzz.py, on the tensors' values
        expected = case.value
        event(f"__call__ with tensors: {expected.kind}")
        try:
            batch = case.tokenizer(**case.kwargs)
        except (ValueError, TypeError) as error:
            assert expected.kind != "ok", f"a valid call was refused: {error}"
            if expected.kind == "transcript":
                assert str(error).startswith(expected.label + ": "), (str(error), expected.label)
            return
        assert expected.kind == "ok", f"an invalid call was accepted; expected a {expected.kind} error"
        check_accepted(batch, expected)
        return
    event(f"{case.method}: {'/'.join(e.__name__ for e in case.error) if case.error else 'ok'}")
    try:
        result = method(*case.args, **case.kwargs)
    except (ValueError, TypeError) as error:
        message = str(error)
        assert case.error, f"a valid call was refused: {type(error).__name__}: {message}"
        assert isinstance(error, case.error), (type(error), case.error, message)
        assert message.startswith(case.prefix), (message, case.prefix)
        assert not case.words or any(word in message for word in case.words), (message, case.words)
        return
    assert not case.error, f"an invalid call was accepted (expected {case.error} naming {case.words or case.prefix})"
    if case.method == "pad":
        check_pad(result, case.value)
    elif case.method == "encode" and case.kwargs.get("return_tensors"):
        assert result.tolist() == [case.value]
    else:
        assert result == case.value, (result, case.value)
