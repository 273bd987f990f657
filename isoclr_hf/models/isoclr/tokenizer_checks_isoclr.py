"""Argument checks of the IsoCLR tokenizer: sequences, track arrays, positions, options, ids, examples.

Remote code: copied next to the weights. ``tokenization_isoclr.py`` and ``modeling_isoclr.py`` both import
it directly (transformers 4.x copies only the direct relative imports of a local folder's module); it
imports only numpy, torch (lazily, to read tensors) and the sibling ``track_vocabulary.py``.

Every check raises ``TypeError`` for a value of the wrong type and ``ValueError`` for a wrong value, with a
message that names the transcript (``sequence 3 ('ENST...')``), the encoded example (``Example 3``), the
position (``token_ids[7]``) or the option, and says what to do. Transcripts, examples and nucleotide positions
are counted from 1, as sequence tools count them (``sequence 3`` is the third; ``position 5 (1-based)`` the
fifth nucleotide); a Python subscript (``exon_ends[2]``, ``input_ids[7]``) is an index, counted from 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .track_vocabulary import ALPHABET_HELP, IUPAC_BASES, PAD_ID, VOCABULARY

CONTAINERS = (list, tuple, set, dict, np.ndarray)
INT_HELP = "positions are integers (a Python int or a numpy integer; not bool, float or str)"
ID_HELP = f"token ids are integers from 0 to {len(VOCABULARY) - 1} (0 is padding)"
TOKEN_HELP = "a token is one nucleotide letter (A C G T/U N R Y S W K M B D H V, either case) or '[PAD]'"
PAD_INPUT_HELP = (
    "pad() takes encoded examples: a list of mappings with input_ids (as the tokenizer returns one transcript), "
    "or one mapping of columns such as a BatchEncoding"
)


def describe(value: Any) -> str:
    """``type value`` for error messages, with long reprs shortened."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def is_int(value: Any) -> bool:
    """A Python int or numpy integer scalar, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def as_numpy(value: Any) -> Any:
    """A torch tensor as a numpy array (detached, on the CPU; bfloat16 as float32); anything else unchanged."""
    if type(value).__module__.split(".")[0] != "torch":
        return value
    import torch

    if not isinstance(value, torch.Tensor):
        return value
    tensor = value.detach().cpu()
    if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16
        tensor = tensor.float()
    return tensor.numpy()


def check_positive(value: Any, name: str) -> int:
    """A positive integer option (``max_length``, ``pad_to_multiple_of``)."""
    if not is_int(value):
        raise TypeError(f"`{name}` must be a positive integer; got {describe(value)}.")
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive integer; got {int(value)}.")
    return int(value)


def check_padding(padding: Any) -> bool | str:
    """``True``/``"longest"``, ``"max_length"`` or ``False``/``"do_not_pad"``."""
    if isinstance(padding, (bool, np.bool_)):
        return bool(padding)
    if isinstance(padding, str) and padding in ("longest", "max_length", "do_not_pad"):
        return str(padding)
    raise ValueError(f"padding={describe(padding)} is not supported; use True, 'longest', 'max_length' or False.")


def check_flag(value: Any, name: str, strings: Mapping[str, bool] | None = None) -> bool:
    """A yes/no option: ``None`` (no), a bool, or one of ``strings`` (transformers' strategy names)."""
    if value is None:
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and strings and value in strings:
        return strings[value]
    raise TypeError(f"`{name}` must be True or False; got {describe(value)}.")


def check_return_tensors(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or value not in ("pt", "np")):
        raise ValueError(f"return_tensors={describe(value)} is not supported; use 'pt', 'np' or None.")
    return value


def check_padding_side(value: Any) -> None:
    if value is not None and value != "right":
        raise ValueError(
            f"padding_side={describe(value)} is not supported: the IsoCLR tokenizer pads on the right (valid "
            "positions first, as the model reads them); leave padding_side unset or 'right'."
        )


def check_no_other_arguments(kwargs: Mapping[str, Any], method: str, accepted: str) -> None:
    """Refuse keyword arguments a method does not take (a misspelt option would otherwise change nothing)."""
    if kwargs:
        raise TypeError(
            f"IsoCLRTokenizer.{method}() got unexpected arguments: {', '.join(sorted(kwargs))}; it takes {accepted}."
        )


# --- sequences, track arrays and per-sequence arguments (__call__) -----------------------------
INVALID = 255


def byte_table() -> bytes:
    """256-byte translation table: ASCII nucleotide letter -> token id, anything else -> 255."""
    table = bytearray([INVALID] * 256)
    for token_id, letter in enumerate(VOCABULARY):
        if len(letter) == 1:
            table[ord(letter)] = token_id
            table[ord(letter.lower())] = token_id
    table[ord("U")] = table[ord("u")] = VOCABULARY.index("T")
    return bytes(table)


BYTE_TABLE = byte_table()
# Which base channels are non-zero (bit 0 = A ... bit 3 = T) -> token id; used to read six-track arrays.
# No base channel set (pattern 0) is N: Orthrus's and mRNABench's saved arrays encode N as an all-zero row.
PATTERN_TO_ID = np.full(16, INVALID, dtype=np.uint8)
for _letter, _bases in IUPAC_BASES.items():
    PATTERN_TO_ID[sum(1 << "ACGT".index(b) for b in _bases)] = VOCABULARY.index(_letter)
PATTERN_TO_ID[0] = VOCABULARY.index("N")


def check_batch_items(items: Any, name: str) -> list[Any]:
    """A batch of ``sequences`` or ``tracks`` as a list (not empty; a padded 3-D track array is refused)."""
    if isinstance(items, np.ndarray) and name == "tracks" and not (items.ndim == 1 and items.dtype == object):
        raise ValueError(
            f"`tracks` is a {items.ndim}-D array of shape {items.shape}; pass one (length, 6) or (length, 4) "
            "array, or a list of them without padding (all-zero rows read as N, so padding cannot be told "
            "from the sequence)."
        )
    if not isinstance(items, (list, tuple, np.ndarray)) or (isinstance(items, np.ndarray) and items.ndim != 1):
        what = "a string or a list of strings" if name == "sequences" else "an array or a list of arrays"
        raise TypeError(f"`{name}` must be {what}; got {describe(items)}.")
    if len(items) == 0:
        raise ValueError(f"`{name}` is an empty batch; pass at least one transcript.")
    return list(items)


def check_per_sequence(values: Any, count: int, name: str) -> list[Any]:
    """``exon_ends`` or ``cds`` of a batch: None, or one entry per sequence (entries are checked later)."""
    if values is None:
        return [None] * count
    if not isinstance(values, (list, tuple, np.ndarray)) or (isinstance(values, np.ndarray) and values.ndim == 0):
        raise TypeError(
            f"`{name}` must be a list with one entry per sequence (each an entry or None), or None; "
            f"got {describe(values)}."
        )
    values = list(values)
    if len(values) != count:
        raise ValueError(f"Got {len(values)} entries in `{name}` for {count} sequences; pass one per sequence.")
    return values


def check_names(names: Any, count: int) -> None:
    """``names``: None, or one transcript id per sequence."""
    if names is None:
        return
    if not isinstance(names, (list, tuple, np.ndarray)):
        raise TypeError(f"`names` must be a list with one transcript id per sequence; got {describe(names)}.")
    if len(names) != count:
        raise ValueError(f"Got {len(names)} names for {count} sequences; pass one per sequence.")


def read_sequence(sequence: Any, label: str) -> np.ndarray:
    """One string -> token ids (uint8), validating the alphabet."""
    if not isinstance(sequence, str):
        raise TypeError(f"{label}: expected a sequence string, got {describe(sequence)}.")
    if not sequence:
        raise ValueError(f"{label}: empty sequence; a transcript needs a nucleotide.")
    try:
        translated = sequence.encode("ascii").translate(BYTE_TABLE)
    except UnicodeEncodeError as error:
        position = error.start
        translated = b""
    else:
        position = translated.find(INVALID.to_bytes(1, "little"))
    if position >= 0:
        raise ValueError(
            f"{label}: character {sequence[position]!r} at position {position + 1} (1-based) is not a "
            f"nucleotide (allowed: {ALPHABET_HELP})."
        )
    return np.frombuffer(translated, dtype=np.uint8)


def read_track_array(array: Any, label: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """A ``(length, 6)`` or ``(length, 4)`` track array -> ids and the two annotation tracks."""
    try:
        array = np.asarray(as_numpy(array))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{label}: the track array cannot be read as a numeric array ({error}).") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{label}: track array has dtype {array.dtype}; expected real numbers in [0, 1] (bool, integer or "
            "float dtype)."
        )
    if array.ndim != 2 or array.shape[1] not in (4, 6):
        raise ValueError(f"{label}: track array has shape {array.shape}; expected (length, 6) or (length, 4).")
    if array.shape[0] == 0:
        raise ValueError(f"{label}: empty sequence (the track array has no rows).")
    if array.dtype.kind != "b":
        inside = (array >= 0) & (array <= 1)  # False for NaN
        if not inside.all():
            row, channel = (int(k) for k in np.argwhere(~inside)[0])
            raise ValueError(
                f"{label}: the track array holds {array[row, channel].item()!r} at [{row}, {channel}] (nucleotide "
                f"{row + 1}, channel {channel}); track values must be finite numbers in [0, 1] (no NaN, infinity or "
                "negative values)."
            )
    pattern = (array[:, :4] > 0).astype(np.uint8) @ np.array([1, 2, 4, 8], dtype=np.uint8)
    ids = PATTERN_TO_ID[pattern]
    if array.shape[1] == 4:
        return ids, None, None
    return ids, (array[:, 4] > 0.5).astype(np.uint8), (array[:, 5] > 0.5).astype(np.uint8)


# --- annotation positions -----------------------------------------------------------------------
def check_exon_ends(exon_ends: Any, length: int, label: str) -> np.ndarray:
    """Validated exon ends of one transcript as int64; O(number of exons)."""
    hint = "exon ends are cumulative exon lengths and the last must equal the length"
    if isinstance(exon_ends, np.ndarray):
        if exon_ends.ndim != 1 or exon_ends.dtype.kind not in "iu":
            raise TypeError(
                f"{label}: exon_ends must be a 1-D integer array; got a {exon_ends.ndim}-D array of dtype "
                f"{exon_ends.dtype}; {INT_HELP}."
            )
        if exon_ends.size == 0:
            raise ValueError(f"{label}: exon_ends is empty; pass None when the exon structure is unknown.")
        if exon_ends.min() <= 0 or exon_ends.max() > length:
            raise ValueError(
                f"{label}: exon ends must lie in 1..{length} for a sequence of {length} nucleotides, got "
                f"{exon_ends.tolist()[:20]}; {hint}."
            )
        ends = exon_ends.astype(np.int64)
        if np.any(np.diff(ends) <= 0):
            raise ValueError(f"{label}: exon ends must be positive and strictly increasing, got {ends.tolist()[:20]}.")
    elif isinstance(exon_ends, (list, tuple)):
        if not exon_ends:
            raise ValueError(f"{label}: exon_ends is empty; pass None when the exon structure is unknown.")
        previous = 0
        for k, end in enumerate(exon_ends):
            if not is_int(end):
                nested = " (for one sequence, exon_ends is one flat list)" if isinstance(end, CONTAINERS) else ""
                raise TypeError(f"{label}: exon_ends[{k}] is {describe(end)}; {INT_HELP}{nested}.")
            end = int(end)
            if end <= previous:
                where = f"exon_ends[{k}] = {end} " + (
                    f"is not above exon_ends[{k - 1}] = {previous}" if k else "is not positive"
                )
                raise ValueError(f"{label}: exon ends must be positive and strictly increasing; {where}.")
            if end > length:
                raise ValueError(
                    f"{label}: exon end {end} (exon_ends[{k}]) is beyond the sequence of {length} nucleotides; {hint}."
                )
            previous = end
        ends = np.array(exon_ends, dtype=np.int64)
    else:
        raise TypeError(
            f"{label}: exon_ends must be a list, tuple or 1-D integer array of exon ends, or None; got "
            f"{describe(exon_ends)}. In a batch, pass one list (or None) per sequence."
        )
    if ends[-1] != length:
        raise ValueError(
            f"{label}: the last exon end is {int(ends[-1])} but the sequence has {length} nucleotides; {hint}."
        )
    return ends


def check_cds(cds: Any, length: int, label: str) -> tuple[int, int]:
    """Validated ``(start, end)`` of one transcript's CDS."""
    if isinstance(cds, np.ndarray):
        if cds.ndim != 1 or cds.dtype.kind not in "iu":
            raise TypeError(
                f"{label}: cds must be a (start, end) pair of integers; got a {cds.ndim}-D array of dtype "
                f"{cds.dtype}; {INT_HELP}."
            )
        pair = cds.tolist()
    elif isinstance(cds, (list, tuple)):
        pair = list(cds)
    else:
        raise TypeError(
            f"{label}: cds must be a (start, end) pair of integers, or None for non-coding; got {describe(cds)}. "
            "In a batch, pass one pair (or None) per sequence."
        )
    if len(pair) != 2:
        raise ValueError(f"{label}: cds must be a (start, end) pair, got {len(pair)} values: {describe(cds)}.")
    for which, value in zip(("start", "end"), pair):
        if not is_int(value):
            raise TypeError(f"{label}: CDS {which} is {describe(value)}; {INT_HELP}.")
    start, end = int(pair[0]), int(pair[1])
    if not 0 <= start < end <= length:
        raise ValueError(
            f"{label}: CDS ({start}, {end}) is out of bounds for a sequence of {length} nucleotides "
            "(need 0 <= start < end <= length; 0-based, end exclusive)."
        )
    return start, end


# --- token ids and tokens (decode, convert_ids_to_tokens, convert_tokens_to_ids) ----------------
def check_token_id(value: Any, name: str) -> int:
    """One token id."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not is_int(value):
        raise TypeError(f"{name} is {describe(value)}; {ID_HELP}.")
    if not 0 <= value < len(VOCABULARY):
        raise ValueError(f"{name} = {int(value)} is not a token id; {ID_HELP}.")
    return int(value)


def check_id_sequence(value: Any, name: str) -> list[int]:
    """One sequence of token ids: a list, tuple, 1-D integer array or tensor."""
    value = as_numpy(value)
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind not in "iu":
            raise TypeError(
                f"{name} is a {value.ndim}-D array of dtype {value.dtype}; one sequence is a 1-D array of token "
                f"ids ({ID_HELP})."
            )
        bad = np.flatnonzero((value < 0) | (value >= len(VOCABULARY)))
        if bad.size:
            raise ValueError(f"{name}[{bad[0]}] = {value[bad[0]]} is not a token id; {ID_HELP}.")
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [check_token_id(v, f"{name}[{k}]") for k, v in enumerate(value)]
    raise TypeError(f"{name} is {describe(value)}; expected a sequence of token ids (a list, array or tensor).")


def is_id_batch(value: Any) -> bool:
    """Whether ``value`` holds several sequences of ids (a 2-D array or a list of sequences)."""
    value = as_numpy(value)
    if isinstance(value, np.ndarray):
        return value.ndim == 2
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and isinstance(as_numpy(value[0]), (list, tuple, np.ndarray))
    )


def check_id_batch(value: Any, name: str) -> list[list[int]]:
    """Several sequences of token ids; row ``i`` is named ``name[i]``."""
    value = as_numpy(value)
    if isinstance(value, np.ndarray):
        if value.ndim != 2:
            raise TypeError(f"{name} is a {value.ndim}-D array; a batch of id sequences is 2-D (batch, length).")
        return [check_id_sequence(row, f"{name}[{i}]") for i, row in enumerate(value)]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} is {describe(value)}; expected a batch: a list of id sequences or a 2-D array.")
    rows = []
    for i, row in enumerate(value):
        if not isinstance(as_numpy(row), (list, tuple, np.ndarray)):
            raise TypeError(f"{name}[{i}] is {describe(row)}; in a batch every entry is a sequence of token ids.")
        rows.append(check_id_sequence(row, f"{name}[{i}]"))
    return rows


def check_token(token: Any, name: str, vocabulary: Mapping[str, int]) -> int:
    """The id of one token. There is no unknown token: anything outside the vocabulary is refused."""
    if not isinstance(token, str):
        raise TypeError(f"{name} is {describe(token)}; {TOKEN_HELP}.")
    key = token.upper() if len(token) == 1 else token
    key = "T" if key == "U" else key
    if key not in vocabulary:
        more = "; for a whole sequence use tokenize() or encode()" if len(token) > 1 and token != "[PAD]" else ""
        raise ValueError(f"{name} = {token!r} is not in the vocabulary (it has no unknown token): {TOKEN_HELP}{more}.")
    return vocabulary[key]


# --- encoded examples (pad) ---------------------------------------------------------------------
def split_encoded_inputs(encoded_inputs: Any) -> tuple[list[Any], bool]:
    """pad()'s argument as a list of per-example mappings, and whether it was one unbatched example.

    A mapping whose ``input_ids`` is one flat sequence is one example; a mapping of columns (lists of
    per-example values, 2-D arrays or tensors, as a ``BatchEncoding`` holds them) is split into examples.
    """
    if isinstance(encoded_inputs, (list, tuple)):
        return list(encoded_inputs), False
    if not isinstance(encoded_inputs, Mapping):
        raise TypeError(f"{PAD_INPUT_HELP}; got {describe(encoded_inputs)}.")
    if "input_ids" not in encoded_inputs:
        raise ValueError(
            f"{PAD_INPUT_HELP}; got a mapping without input_ids (keys: {sorted(map(str, encoded_inputs))})."
        )
    columns = {key: as_numpy(value) for key, value in encoded_inputs.items()}
    ids = columns["input_ids"]
    if isinstance(ids, np.ndarray):
        single = ids.ndim <= 1
    elif isinstance(ids, (list, tuple)):
        single = not any(isinstance(as_numpy(row), (list, tuple, np.ndarray)) for row in ids)
    else:
        raise TypeError(f"{PAD_INPUT_HELP}; got input_ids of type {type(ids).__name__}.")
    if single:
        return [dict(encoded_inputs)], True
    count = len(ids)
    for key, column in columns.items():
        sized = isinstance(column, (list, tuple)) or (isinstance(column, np.ndarray) and column.ndim > 0)
        if not sized or len(column) != count:
            raise ValueError(
                f"pad(): column `{key}` has {len(column) if sized else 'no'} entries for {count} examples in "
                "input_ids; a mapping of columns needs one entry per example in every column."
            )
    return [{key: column[i] for key, column in columns.items()} for i in range(count)], False


def _integer_row(value: Any, key: str, label: str, binary: bool) -> np.ndarray:
    """One example's ``key`` as a 1-D integer array; refuses nested lists, floats, strings and None."""
    value = as_numpy(value)
    what = "0s and 1s" if binary else "token ids"
    if isinstance(value, (list, tuple)):
        flat = all(not isinstance(as_numpy(v), CONTAINERS) for v in value)
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # ragged: nested lists of different lengths
            array = np.asarray(value if flat else [], dtype=object)
        if not flat or array.ndim != 1:
            raise TypeError(f"{label}: {key} is nested; one example's {key} is a flat list of {what}.")
        if array.dtype.kind not in "iu" and not (binary and array.dtype.kind == "b") and array.size:
            k = next((k for k, v in enumerate(value) if not (is_int(v) or (binary and isinstance(v, bool)))), None)
            if k is None:  # all integers, some too large for int64
                high = 1 if binary else len(VOCABULARY) - 1
                k = next(k for k, v in enumerate(value) if not 0 <= v <= high)
                raise ValueError(
                    f"{label}: {key}[{k}] = {value[k]} is out of range; "
                    + (f"{key} holds integers 0 or 1." if binary else f"{ID_HELP}.")
                )
            shown = f"{key}[{k}] = {value[k]!r}"
            if binary:
                raise TypeError(f"{label}: {shown} is {type(value[k]).__name__}; {key} holds integers 0 or 1.")
            raise TypeError(f"{label}: {shown} is not a token id ({type(value[k]).__name__}); {ID_HELP}.")
        return array.astype(np.int64) if array.size else np.zeros(0, dtype=np.int64)
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise TypeError(
                f"{label}: {key} has shape {value.shape}; one example's {key} is a flat sequence of {what}."
            )
        if value.dtype.kind not in "iu" and not (binary and value.dtype.kind == "b"):
            kind = "integers 0 or 1 (or bools)" if binary else ID_HELP
            raise TypeError(f"{label}: {key} has dtype {value.dtype}; {kind}.")
        return value.astype(np.int64)
    raise TypeError(f"{label}: {key} is {describe(value)}; expected a list, array or tensor of {what}.")


def _binary_row(example: Mapping[str, Any], key: str, label: str, length: int) -> np.ndarray | None:
    """``example[key]`` as a 0/1 uint8 row of ``length`` entries, or None when the key is absent."""
    if key not in example:
        return None
    values = _integer_row(example[key], key, label, binary=True)
    if len(values) != length:
        raise ValueError(f"{label}: {key} has {len(values)} entries for {length} input_ids.")
    bad = np.flatnonzero((values != 0) & (values != 1))
    if bad.size:
        raise ValueError(f"{label}: {key}[{bad[0]}] = {values[bad[0]]}; {key} must hold only 0 and 1.")
    return values.astype(np.uint8)


def unpadded_example(
    example: Any, index: int, limit: int, truncation: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The valid part of one encoded example: ``(input_ids, cds_track, splice_track)``, checked.

    An example that is already padded keeps its valid part (``attention_mask``; without one, the ids up
    to the last non-padding id). An absent ``splice_track`` gets one mark at the last valid position and
    an absent ``cds_track`` none: what the tokenizer gives a transcript without exon ends or CDS.
    ``index`` is the example's place in the batch from 0; messages name it from 1 (``Example 1`` is the first).
    """
    label = f"Example {index + 1}"  # counted from 1, as the transcripts are
    if not isinstance(example, Mapping):
        raise TypeError(f"{label}: expected a mapping with input_ids (as the tokenizer returns one transcript), "
                        f"got {describe(example)}.")  # fmt: skip
    if "input_ids" not in example:
        raise ValueError(f"{label}: expected a mapping with input_ids; got one with keys {sorted(map(str, example))}.")
    ids = _integer_row(example["input_ids"], "input_ids", label, binary=False)
    if ids.size == 0:
        raise ValueError(f"{label}: input_ids is empty; a transcript needs at least one nucleotide.")
    bad = np.flatnonzero((ids < 0) | (ids >= len(VOCABULARY)))
    if bad.size:
        raise ValueError(f"{label}: input_ids[{bad[0]}] = {ids[bad[0]]} is not a token id; {ID_HELP}.")
    mask = _binary_row(example, "attention_mask", label, len(ids))
    if mask is None:
        non_pad = np.flatnonzero(ids != PAD_ID)
        n = int(non_pad[-1]) + 1 if non_pad.size else 0
        where = "before the last nucleotide (no attention_mask: trailing padding ids mark the padding)"
    else:
        n = int(mask.sum())
        if n and not mask[:n].all():
            raise ValueError(f"{label}: attention_mask must be 1s followed by 0s (right padding).")
        where = "where attention_mask is 1"
    if n == 0:
        source = "attention_mask is all 0" if mask is not None else "input_ids are all padding (id 0)"
        raise ValueError(f"{label}: {source}: no valid position; drop empty transcripts from the batch.")
    inside = np.flatnonzero(ids[:n] == PAD_ID)
    if inside.size:
        raise ValueError(f"{label}: input_ids[{inside[0]}] is the padding id {PAD_ID} {where}; padding belongs "
                         "after the transcript.")  # fmt: skip
    cds = _binary_row(example, "cds_track", label, len(ids))
    cds = np.zeros(n, dtype=np.uint8) if cds is None else cds[:n]
    splice = _binary_row(example, "splice_track", label, len(ids))
    if splice is None:
        splice = np.zeros(n, dtype=np.uint8)
        splice[n - 1] = 1
    elif not splice[n - 1]:
        raise ValueError(
            f"{label}: splice_track has no mark at the last valid position (splice_track[{n - 1}]); the last "
            "nucleotide of every transcript ends an exon, and the model needs that mark. Encode the transcript with "
            "the tokenizer, or leave splice_track out to mark only the end."
        )
    else:
        splice = splice[:n]
    if n > limit:
        if not truncation:
            raise ValueError(f"{label}: length {n} is over the maximum of {limit} nucleotides; pass truncation=True "
                             "to keep the 5' end, or raise max_length.")  # fmt: skip
        splice = splice[:limit].copy()
        splice[-1] = 1  # the last nucleotide the model sees is marked, as the tokenizer's truncation does
        return ids[:limit].astype(np.uint8), cds[:limit], splice
    return ids[:n].astype(np.uint8), cds, splice


def other_columns(examples: list[Any], model_input_names: list[str]) -> dict[str, list[Any]]:
    """The keys besides the model inputs (such as ``labels``), one value per example; every example needs each."""
    keys = list(dict.fromkeys(key for example in examples for key in example if key not in model_input_names))
    for index, example in enumerate(examples):
        missing = [key for key in keys if key not in example]
        if missing:
            raise ValueError(f"Example {index + 1}: no {', '.join(map(str, missing))}, which other examples have; "
                             "every example needs the same keys.")  # fmt: skip
    return {key: [example[key] for example in examples] for key in keys}


def stack_column(key: str, values: list[Any], return_tensors: str | None) -> Any:
    """A column pad() carries through unchanged (such as ``labels``), as a tensor when asked for one."""
    if return_tensors is None:
        return values
    try:
        array = np.asarray([as_numpy(value) for value in values])
    except (TypeError, ValueError) as error:
        raise ValueError(f"pad(): column `{key}` cannot be stacked into one array ({error}).") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"pad(): column `{key}` holds {array.dtype} values; only numbers become tensors.")
    if return_tensors == "pt":
        import torch

        return torch.from_numpy(array)
    return array


__all__ = [
    "as_numpy",
    "check_batch_items",
    "check_cds",
    "check_exon_ends",
    "check_flag",
    "check_id_batch",
    "check_id_sequence",
    "check_names",
    "check_no_other_arguments",
    "check_padding",
    "check_padding_side",
    "check_per_sequence",
    "check_positive",
    "check_return_tensors",
    "check_token",
    "check_token_id",
    "describe",
    "is_id_batch",
    "is_int",
    "other_columns",
    "read_sequence",
    "read_track_array",
    "split_encoded_inputs",
    "stack_column",
    "unpadded_example",
]
