"""Property test of ``IsoCLRTokenizer.__call__`` over valid and adversarial arguments.

An independent oracle decides, from the arguments alone, whether a call is valid and, when it is
not, which transcript (or which option) is at fault. The tokenizer must then:

- raise only ``ValueError``/``TypeError``, and only on invalid calls; a message about one
  transcript starts with ``sequence <index>`` (and its name when names are given), a message about
  a call option names the option;
- on every accepted call, produce rows that keep the track invariants: a splice mark at the last
  valid position, codon marks every 3 nt from the CDS start inside the CDS and nowhere else, the
  attention mask summing to the valid length, padding all zero.

A few hundred examples by default; set ``ISOCLR_FUZZ_EXAMPLES=10000`` for a long run.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.models.isoclr.track_vocabulary import IUPAC_BASES, VOCABULARY

EXAMPLES = int(os.environ.get("ISOCLR_FUZZ_EXAMPLES", "300"))
TOKENIZERS = (IsoCLRTokenizer(), IsoCLRTokenizer(model_max_length=24, allow_incomplete_cds=True))
LETTERS = "ACGTUNRYSWKMBDHVacgtunryswkmbdhv"
ODD_LETTERS = "X -*\x00\u00e9\n5Zz.I"
CODES = "ACGTNRYSWKMBDHV"
LETTER_OF_BASES = {frozenset(bases): letter for letter, bases in IUPAC_BASES.items()}
NAN, INF = float("nan"), float("inf")


# --- strategies ----------------------------------------------------------------------------------
def rare(draw: st.DrawFn, branches: int, one_in: int) -> int:
    """-1 most of the time; about once in ``one_in`` draws, one of ``0 .. branches - 1``.

    Hypothesis favours small draws and shrinks towards 0, so the common (valid) case is the
    smallest draw and failing examples shrink towards valid arguments.
    """
    k = draw(st.integers(0, one_in * branches - 1)) - (one_in - 1) * branches
    return k if k >= 0 else -1


def nucleotides(size_max: int = 40) -> st.SearchStrategy[str]:
    """Valid sequences, mostly A/C/G/T."""
    common = st.sampled_from("ACGT" * 6 + LETTERS)
    return st.text(common, min_size=1, max_size=size_max)


@st.composite
def sequence_inputs(draw: st.DrawFn) -> Any:
    kind = rare(draw, 2, 12)
    if kind == -1:
        return draw(nucleotides())
    if kind == 0:
        return draw(st.text(st.sampled_from(LETTERS + ODD_LETTERS), min_size=0, max_size=12))
    return draw(st.sampled_from([None, 4, b"ACGT", ["A", "C"], 2.5]))


@st.composite
def track_arrays(draw: st.DrawFn, single: bool) -> Any:
    """A track array built from a valid sequence and annotation, sometimes corrupted."""
    letters = draw(st.text(st.sampled_from("ACGT" * 4 + CODES), min_size=1, max_size=30))
    n = len(letters)
    width = draw(st.sampled_from([6, 6, 4]))
    array = np.zeros((n, width), dtype=np.float64)
    for i, letter in enumerate(letters):
        bases = IUPAC_BASES[letter]
        if letter == "N" and draw(st.booleans()):
            continue  # all-zero base row: N in Orthrus/mRNABench arrays
        value = 1.0 if draw(st.booleans()) else 1.0 / len(bases)
        for base in bases:
            array[i, "ACGT".index(base)] = value
    if width == 6:
        start = draw(st.integers(0, n - 1))
        array[start::3, 4] = 1.0
        for end in draw(st.sets(st.integers(0, n - 1), max_size=4)) | {n - 1}:
            array[end, 5] = 1.0
        if draw(st.integers(0, 4)) == 0:  # annotation values off 0/1: thresholded at 0.5
            array[draw(st.integers(0, n - 1)), draw(st.sampled_from([4, 5]))] = draw(st.sampled_from([0.3, 0.5, 0.7]))
    corruption = rare(draw, 7, 6)
    row, channel = draw(st.integers(0, n - 1)), draw(st.integers(0, width - 1))
    if corruption == 0:
        array[row, channel] = draw(st.sampled_from([NAN, INF, -INF, -0.5, -1.0, 1.5, 2.0, 1e300]))
    elif corruption == 1:
        array = array.astype(draw(st.sampled_from([np.complex128, object, str, np.bytes_])))
    elif corruption == 2:
        array = draw(st.sampled_from([array[:, :5], array[None], array[:0], array.T, array[:, 0]]))
    elif corruption == 3:
        dtype = draw(st.sampled_from([np.float32, np.float16, np.uint8, bool, np.int64]))
        array = array.astype(dtype)
    elif corruption == 4:
        array[row, :4] = 0.0  # becomes N: valid
    elif corruption == 5 and not single:
        return array.tolist()  # nested lists are read with np.asarray
    elif corruption == 6:
        array = array.astype(np.float32)
        array[row, channel] = -0.0
    return array


@st.composite
def exon_ends_for(draw: st.DrawFn, length: int) -> Any:
    kind = draw(st.integers(0, 11)) if rare(draw, 1, 10) == -1 else draw(st.integers(12, 19))
    if kind < 5:
        return None
    cuts = draw(st.sets(st.integers(1, max(1, length - 1)), max_size=5))
    ends = [*sorted(c for c in cuts if c < length), length]
    if kind < 9:
        return ends
    if kind == 9:
        return tuple(ends)
    if kind == 10:
        return np.array(ends, dtype=draw(st.sampled_from([np.int64, np.int32, np.uint64, np.uint16])))
    if kind == 11:
        return [np.int64(e) for e in ends]
    k = draw(st.integers(0, len(ends) - 1))
    bad = draw(st.sampled_from([NAN, INF, None, "x", True, False, [ends[k]], 2**64, -ends[k], 0, ends[k] + 0.5,
                                float(ends[k]), np.float64(ends[k]), np.bool_(True), np.int64(-1)]))  # fmt: skip
    replaced = [*ends[:k], bad, *ends[k + 1 :]]
    return draw(
        st.sampled_from([
            replaced, replaced, replaced, [float(e) for e in ends], ends[::-1], ends[:-1], [*ends, length + 1],
            [], length, float(length), str(length), set(ends), np.array(ends, dtype=float), np.array([ends]),
            np.array(ends, dtype=bool), ends[:1] + ends, [ends], [2**64], np.array([], dtype=np.int64),
            np.array(ends, dtype=object), {"end": length},
        ])
    )  # fmt: skip


@st.composite
def cds_for(draw: st.DrawFn, length: int) -> Any:
    kind = draw(st.integers(0, 11)) if rare(draw, 1, 10) == -1 else draw(st.integers(12, 19))
    if kind < 5:
        return None
    start = draw(st.integers(0, length - 1))
    codons = draw(st.integers(1, max(1, (length - start) // 3)))
    end = min(start + 3 * codons, length)
    if kind < 9:
        return (start, end)
    if kind == 9:
        return [start, draw(st.integers(start + 1, length))]  # maybe incomplete
    if kind == 10:
        return np.array([start, end], dtype=draw(st.sampled_from([np.int64, np.int32, np.uint64])))
    if kind == 11:
        return (np.int64(start), np.uint16(end))
    return draw(
        st.sampled_from([
            (float(start), end), (start, end + 0.5), (start, INF), (NAN, end), (start, NAN), f"{start}{end}",
            {start, end}, (start,), (start, end, 3), (True, end), (False, True), (end, start), (start, length + 3),
            (-3, end), (start, 2**64), np.array([start, end], dtype=float), np.array([[start, end]]), start,
            (None, end), (str(start), str(end)), (start, start), (np.float64(start), end), [[start, end]],
        ])
    )  # fmt: skip


def length_of(item: Any) -> int:
    """A length to draw annotations for: the real one when the item is valid, else anything."""
    if isinstance(item, str):
        return max(1, len(item))
    try:
        shape = np.shape(item)
    except ValueError:
        return 5
    return max(1, shape[0]) if len(shape) >= 1 else 5


def per_sequence(draw: st.DrawFn, entries: list[Any]) -> Any:
    """The batch-level container for per-sequence entries, sometimes wrong."""
    kind = rare(draw, 4, 15)
    if kind == 0:
        return [*entries, None]
    if kind == 1 and entries:
        return entries[:-1]
    if kind == 2:
        return draw(st.sampled_from([4, "x", {1, 2}, 2.5]))
    if kind == 3:
        return tuple(entries)
    if all(e is None for e in entries) and draw(st.booleans()):
        return None
    return entries


def option(draw: st.DrawFn, valid: list[Any], odd: list[Any]) -> Any:
    """A call option: one of ``valid``, or now and then one of ``odd``."""
    return draw(st.sampled_from(odd if rare(draw, 1, 30) == 0 else valid))


@st.composite
def calls(draw: st.DrawFn) -> tuple[IsoCLRTokenizer, dict[str, Any]]:
    tokenizer = draw(st.sampled_from(TOKENIZERS))
    use_tracks = draw(st.integers(0, 3)) == 0
    single = draw(st.booleans())
    kwargs: dict[str, Any] = {}
    if single:
        item = draw(track_arrays(single=True)) if use_tracks else draw(nucleotides())
        length = length_of(item)
        kwargs["tracks" if use_tracks else "sequences"] = item
        exon_ends, cds = draw(exon_ends_for(length)), draw(cds_for(length))
        if exon_ends is not None:
            kwargs["exon_ends"] = exon_ends
        if cds is not None:
            kwargs["cds"] = cds
        count = 1
    else:
        count = 0 if rare(draw, 1, 40) == 0 else draw(st.integers(1, 4))
        if use_tracks:
            items = [draw(track_arrays(single=False)) for _ in range(count)]
        else:
            items = [draw(sequence_inputs()) for _ in range(count)]
        outer = rare(draw, 3, 10)
        if outer == 0:
            batch: Any = draw(
                st.sampled_from([b"ACGT", 4, {"A"}, None] + ([np.zeros((2, 5, 6))] if use_tracks else []))
            )
        elif outer == 1:
            batch = tuple(items)
        elif outer == 2 and not use_tracks:
            batch = np.empty(count, dtype=object)
            batch[:] = items
        else:
            batch = items
        kwargs["tracks" if use_tracks else "sequences"] = batch
        lengths = [length_of(item) for item in items]
        exon_ends = per_sequence(draw, [draw(exon_ends_for(n)) for n in lengths])
        cds = per_sequence(draw, [draw(cds_for(n)) for n in lengths])
        if exon_ends is not None:
            kwargs["exon_ends"] = exon_ends
        if cds is not None:
            kwargs["cds"] = cds
    if rare(draw, 1, 50) == 0:  # both or neither of sequences and tracks
        if "tracks" in kwargs:
            kwargs["sequences"] = "ACGT"
        else:
            kwargs.pop("sequences")
    names = draw(st.integers(0, 2)) if rare(draw, 1, 30) == -1 else 3
    if names == 1:
        kwargs["names"] = [draw(st.sampled_from(["tx", "ENST00000382387.4", "PB.7.1", "a'b"])) + str(i)
                           for i in range(count)]  # fmt: skip
    elif names == 3:
        kwargs["names"] = draw(st.sampled_from(["tx0", ["a"] * (count + 1), 3]))
    padding = option(draw, [True, True, "longest", "max_length", False, "do_not_pad", np.bool_(True)],
                     [1, None, "bogus", "LONGEST", 0.0])  # fmt: skip
    kwargs["padding"] = padding
    if draw(st.integers(0, 2)):
        kwargs["truncation"] = option(draw, [False, True, True, None, "longest_first", "do_not_truncate",
                                             np.bool_(True)], [1, "yes", 0.0, "only_second"])  # fmt: skip
    if draw(st.integers(0, 2)):
        odd = [0, -3, 2.5, 4.0, True, "8", INF, NAN]
        if padding != "max_length":  # a huge padded width is a huge allocation, not a fuzzing target
            odd += [2**64, 10**12]
        kwargs["max_length"] = option(draw, [draw(st.integers(1, 50)), np.int64(20)], odd)
    if draw(st.integers(0, 2)) == 0:
        kwargs["pad_to_multiple_of"] = option(draw, [draw(st.integers(1, 40)), np.int32(8), None],
                                              [0, -3, 2.5, 8.0, True, "8"])  # fmt: skip
    kwargs["return_tensors"] = option(draw, [None, "np", "pt"], ["tf", 1, "PT"])
    if draw(st.integers(0, 2)) == 0:
        kwargs["allow_incomplete_cds"] = option(draw, [None, True, False], [1, "yes"])
    return tokenizer, kwargs


# --- the oracle ----------------------------------------------------------------------------------
def is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def int_list(values: Any) -> list[int] | None:
    """The integers of a list/tuple/1-D integer array, or None when it is not one."""
    if isinstance(values, np.ndarray):
        return [int(v) for v in values] if values.ndim == 1 and np.issubdtype(values.dtype, np.integer) else None
    if isinstance(values, (list, tuple)) and all(is_int(v) for v in values):
        return [int(v) for v in values]
    return None


def exon_ends_ok(exon_ends: Any, length: int) -> bool:
    if exon_ends is None:
        return True
    ends = int_list(exon_ends)
    if not ends:
        return False
    return ends[0] >= 1 and all(b > a for a, b in itertools.pairwise(ends)) and ends[-1] == length


def cds_ok(cds: Any, length: int, allow_incomplete: bool) -> bool:
    if cds is None:
        return True
    pair = int_list(cds)
    if pair is None or len(pair) != 2:
        return False
    start, end = pair
    return 0 <= start < end <= length and (allow_incomplete or (end - start) % 3 == 0)


def sequence_ok(sequence: Any) -> bool:
    return isinstance(sequence, str) and len(sequence) > 0 and all(c in LETTERS for c in sequence)


def array_ok(array: Any) -> bool:
    try:
        array = np.asarray(array)
    except (TypeError, ValueError):
        return False
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        return False
    if np.iscomplexobj(array) or array.ndim != 2 or array.shape[1] not in (4, 6) or array.shape[0] == 0:
        return False
    values = array.astype(np.float64)
    return bool(np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1)


def entries_ok(values: Any, count: int) -> bool:
    if values is None:
        return True
    if isinstance(values, np.ndarray):
        return values.ndim >= 1 and len(values) == count
    return isinstance(values, (list, tuple)) and len(values) == count


@dataclass
class Expected:
    kind: str  # "ok", "option" (message names one of `words`) or "transcript" (message starts with `label`)
    words: list[str] = field(default_factory=list)
    label: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    width: int = 0
    unpadded: bool = False
    single: bool = False


def expected_ids(item: Any) -> list[int]:
    if isinstance(item, str):
        return [VOCABULARY.index("T" if c in "Uu" else c.upper()) for c in item]
    array = np.asarray(item).astype(np.float64)
    ids = []
    for row in array[:, :4]:
        bases = frozenset(b for b, v in zip("ACGT", row) if v > 0)
        ids.append(VOCABULARY.index(LETTER_OF_BASES[bases] if bases else "N"))
    return ids


def oracle(tokenizer: IsoCLRTokenizer, kwargs: dict[str, Any]) -> Expected:
    words = []
    sequences, tracks = kwargs.get("sequences"), kwargs.get("tracks")
    if (sequences is None) == (tracks is None):
        words.append("sequences")
    padding = kwargs.get("padding", True)
    if not (is_bool(padding) or (isinstance(padding, str) and padding in ("longest", "max_length", "do_not_pad"))):
        words.append("padding")
    truncation = kwargs.get("truncation", False)
    truncation_ok = {"longest_first", "only_first", "do_not_truncate"}
    if not (truncation is None or is_bool(truncation) or (isinstance(truncation, str) and truncation in truncation_ok)):
        words.append("truncation")
    truncate = bool(truncation) and truncation != "do_not_truncate"
    max_length = kwargs.get("max_length")
    if max_length is not None and not (is_int(max_length) and max_length > 0):
        words.append("max_length")
    multiple = kwargs.get("pad_to_multiple_of")
    if multiple is not None and not (is_int(multiple) and multiple > 0):
        words.append("pad_to_multiple_of")
    tensors = kwargs.get("return_tensors")
    if not (tensors is None or (isinstance(tensors, str) and tensors in ("pt", "np"))):
        words.append("return_tensors")
    allow = kwargs.get("allow_incomplete_cds")
    if not (allow is None or is_bool(allow)):
        words.append("allow_incomplete_cds")
    if words:
        return Expected("option", words)

    given = sequences if tracks is None else tracks
    single = isinstance(sequences, str) or (isinstance(tracks, np.ndarray) and tracks.ndim == 2)
    exon_ends, cds = kwargs.get("exon_ends"), kwargs.get("cds")
    if single:
        items, exon_ends, cds = [given], [exon_ends], [cds]
    else:
        outer_ok = isinstance(given, (list, tuple)) or (
            isinstance(given, np.ndarray) and given.ndim == 1 and (tracks is None or given.dtype == object)
        )
        if not outer_ok or len(given) == 0:
            return Expected("option", ["sequences" if tracks is None else "tracks"])
        items = list(given)
        for name, values in (("exon_ends", exon_ends), ("cds", cds)):
            if not entries_ok(values, len(items)):
                return Expected("option", [name])
        exon_ends = [None] * len(items) if exon_ends is None else list(exon_ends)
        cds = [None] * len(items) if cds is None else list(cds)
    names = kwargs.get("names")
    if names is not None and not (isinstance(names, (list, tuple)) and len(names) == len(items)):
        return Expected("option", ["names"])

    limit = tokenizer.model_max_length if max_length is None else int(max_length)
    allow_incomplete = tokenizer.allow_incomplete_cds if allow is None else bool(allow)
    rows = []
    for i, item in enumerate(items):
        # Transcripts and nucleotide positions are named from 1, as sequence tools count them.
        label = f"sequence {i + 1}" + ("" if names is None else f" ({names[i]!r})")
        ok = sequence_ok(item) if tracks is None else array_ok(item)
        if tracks is None and isinstance(item, str) and item and not ok:
            first = next(k for k, c in enumerate(item) if c not in LETTERS)
            return Expected("transcript", [f"character {item[first]!r} at position {first + 1} (1-based)"],
                            label=label)
        length = len(item) if tracks is None and ok else (np.asarray(item).shape[0] if ok else 0)
        ok = ok and exon_ends_ok(exon_ends[i], length) and cds_ok(cds[i], length, allow_incomplete)
        ok = ok and (length <= limit or truncate)
        if not ok:
            return Expected("transcript", label=label)
        six = tracks is not None and np.asarray(item).shape[1] == 6
        if exon_ends[i] is not None:
            splice = {e - 1 for e in int_list(exon_ends[i])}
        elif six:
            splice = set(np.flatnonzero(np.asarray(item, dtype=np.float64)[:, 5] > 0.5).tolist())
        else:
            splice = {length - 1}
        if cds[i] is not None:
            start, end = int_list(cds[i])
            codons = set(range(start, end, 3))
        elif six:
            codons = set(np.flatnonzero(np.asarray(item, dtype=np.float64)[:, 4] > 0.5).tolist())
        else:
            codons = set()
        n = min(length, limit)
        if n < length:
            splice = {m for m in splice if m < n} | {n - 1}
            codons = {m for m in codons if m < n}
        rows.append({"n": n, "ids": expected_ids(item)[:n], "splice": splice, "codons": codons,
                     "cds": None if cds[i] is None else tuple(int_list(cds[i])), "marked_end": not six or n < length
                     or exon_ends[i] is not None})  # fmt: skip
    lengths = [row["n"] for row in rows]
    no_padding = padding is False or padding == "do_not_pad" or (is_bool(padding) and not padding)
    if no_padding and tensors is not None and len(set(lengths)) > 1:
        return Expected("option", ["padding"])
    width = limit if padding == "max_length" else max(lengths)
    if multiple is not None:
        width = -(-width // int(multiple)) * int(multiple)
    return Expected("ok", rows=rows, width=width, unpadded=no_padding and tensors is None, single=single)


# --- the property --------------------------------------------------------------------------------
def as_rows(value: Any, expected: Expected) -> list[np.ndarray]:
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        return list(value)
    if expected.single:
        value = [value]
    return [np.asarray(row, dtype=np.int64) for row in value]


def check_accepted(batch: Any, expected: Expected) -> None:
    arrays = {
        key: as_rows(batch[key], expected) for key in ("input_ids", "cds_track", "splice_track", "attention_mask")
    }
    for r, row in enumerate(expected.rows):
        n = row["n"]
        width = n if expected.unpadded else expected.width
        for key, rows in arrays.items():
            assert len(rows) == len(expected.rows)
            assert rows[r].shape == (width,), (key, rows[r].shape, width)
            assert not rows[r][n:].any(), f"padding of {key} in row {r} is not zero"
        mask = arrays["attention_mask"][r]
        assert int(mask.sum()) == n and mask[:n].all()
        assert arrays["input_ids"][r][:n].tolist() == row["ids"]
        splice = arrays["splice_track"][r][:n]
        assert set(np.flatnonzero(splice).tolist()) == row["splice"], (splice, row)
        if row["marked_end"]:
            assert splice[n - 1] == 1, "no splice mark at the last valid position"
        codons = np.flatnonzero(arrays["cds_track"][r][:n])
        assert set(codons.tolist()) == row["codons"], (codons, row)
        if row["cds"] is not None:
            start, end = row["cds"]
            assert codons.tolist() == list(range(start, min(end, n), 3))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(case=calls())
def test_tokenizer_raises_clear_errors_or_keeps_the_track_invariants(
    case: tuple[IsoCLRTokenizer, dict[str, Any]],
) -> None:
    tokenizer, kwargs = case
    expected = oracle(tokenizer, kwargs)
    event(f"expected: {expected.kind} {expected.words}")
    try:
        batch = tokenizer(**kwargs)
    except (ValueError, TypeError) as error:
        message = str(error)
        assert expected.kind != "ok", f"a valid call was refused: {message}"
        if expected.kind == "transcript":
            assert message.startswith(expected.label + ": "), (message, expected.label)
            assert not expected.words or any(word in message for word in expected.words), (message, expected.words)
        else:
            assert not message.startswith("sequence "), message
            assert any(word in message for word in expected.words), (message, expected.words)
        return
    assert expected.kind == "ok", f"an invalid call was accepted; expected a {expected.kind} error {expected}"
    check_accepted(batch, expected)
