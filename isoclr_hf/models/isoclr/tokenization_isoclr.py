"""Six-track IsoCLR tokenizer: sequence + exon ends + CDS -> compact model inputs.

Remote code: copied next to the weights by ``save_pretrained``; imports only numpy, torch,
transformers and the sibling ``vocabulary_isoclr.py``.

The model's input is six tracks per nucleotide (one-hot A/C/G/T, a codon-start track over the CDS,
an exon-end track). The tokenizer does not build floats: it returns one byte per nucleotide for the
base (``input_ids``), one byte each for the two annotation tracks and an attention mask, and the
model's first layer turns them into the float tracks. The track conventions are those of the
IsoCLR/Orthrus reference code and mRNABench, so inputs prepared by those tools can be read back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from transformers import BatchEncoding, PreTrainedTokenizer

from .track_vocabulary import ALPHABET_HELP, IUPAC_BASES, MAX_SEQUENCE_LENGTH, PAD_ID, VOCABULARY

_INVALID = 255


def _byte_table() -> bytes:
    """256-byte translation table: ASCII nucleotide letter -> token id, anything else -> 255."""
    table = bytearray([_INVALID] * 256)
    for token_id, letter in enumerate(VOCABULARY):
        if len(letter) == 1:
            table[ord(letter)] = token_id
            table[ord(letter.lower())] = token_id
    table[ord("U")] = table[ord("u")] = VOCABULARY.index("T")
    return bytes(table)


_BYTE_TABLE = _byte_table()
# Which base channels are non-zero (bit 0 = A ... bit 3 = T) -> token id; used to read six-track arrays.
# No base channel set (pattern 0) is N: Orthrus's and mRNABench's saved arrays encode N as an all-zero row.
_PATTERN_TO_ID = np.full(16, _INVALID, dtype=np.uint8)
for _letter, _bases in IUPAC_BASES.items():
    _PATTERN_TO_ID[sum(1 << "ACGT".index(b) for b in _bases)] = VOCABULARY.index(_letter)
_PATTERN_TO_ID[0] = VOCABULARY.index("N")
# The transformers truncation strategies that make sense for single sequences.
_TRUNCATION_STRINGS = {"longest_first": True, "only_first": True, "do_not_truncate": False}
_CONTAINERS = (list, tuple, set, dict, np.ndarray)
_INT_HELP = "positions are integers (a Python int or a numpy integer; not bool, float or str)"


def _describe(value: Any) -> str:
    """``type value`` for error messages, with long reprs shortened."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _is_int(value: Any) -> bool:
    """A Python int or numpy integer scalar, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_positive(value: Any, name: str) -> int:
    """A positive integer option (``max_length``, ``pad_to_multiple_of``)."""
    if not _is_int(value):
        raise TypeError(f"`{name}` must be a positive integer; got {_describe(value)}.")
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive integer; got {int(value)}.")
    return int(value)


def _check_exon_ends(exon_ends: Any, length: int, label: str) -> np.ndarray:
    """Validated exon ends of one transcript as int64; O(number of exons)."""
    hint = "exon ends are cumulative exon lengths and the last must equal the length"
    if isinstance(exon_ends, np.ndarray):
        if exon_ends.ndim != 1 or exon_ends.dtype.kind not in "iu":
            raise TypeError(
                f"{label}: exon_ends must be a 1-D integer array; got a {exon_ends.ndim}-D array of dtype "
                f"{exon_ends.dtype}; {_INT_HELP}."
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
            if not _is_int(end):
                nested = " (for one sequence, exon_ends is one flat list)" if isinstance(end, _CONTAINERS) else ""
                raise TypeError(f"{label}: exon_ends[{k}] is {_describe(end)}; {_INT_HELP}{nested}.")
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
            f"{_describe(exon_ends)}. In a batch, pass one list (or None) per sequence."
        )
    if ends[-1] != length:
        raise ValueError(
            f"{label}: the last exon end is {int(ends[-1])} but the sequence has {length} nucleotides; {hint}."
        )
    return ends


def _check_cds(cds: Any, length: int, label: str) -> tuple[int, int]:
    """Validated ``(start, end)`` of one transcript's CDS."""
    if isinstance(cds, np.ndarray):
        if cds.ndim != 1 or cds.dtype.kind not in "iu":
            raise TypeError(
                f"{label}: cds must be a (start, end) pair of integers; got a {cds.ndim}-D array of dtype "
                f"{cds.dtype}; {_INT_HELP}."
            )
        pair = cds.tolist()
    elif isinstance(cds, (list, tuple)):
        pair = list(cds)
    else:
        raise TypeError(
            f"{label}: cds must be a (start, end) pair of integers, or None for non-coding; got {_describe(cds)}. "
            "In a batch, pass one pair (or None) per sequence."
        )
    if len(pair) != 2:
        raise ValueError(f"{label}: cds must be a (start, end) pair, got {len(pair)} values: {_describe(cds)}.")
    for which, value in zip(("start", "end"), pair):
        if not _is_int(value):
            raise TypeError(f"{label}: CDS {which} is {_describe(value)}; {_INT_HELP}.")
    start, end = int(pair[0]), int(pair[1])
    if not 0 <= start < end <= length:
        raise ValueError(
            f"{label}: CDS ({start}, {end}) is out of bounds for a sequence of {length} nucleotides "
            "(need 0 <= start < end <= length; 0-based, end exclusive)."
        )
    return start, end


class IsoCLRTokenizer(PreTrainedTokenizer):
    """Turns mature transcripts and their annotations into IsoCLR inputs.

    Call it with sequences (5'->3', transcript orientation) and, per sequence, the exon ends and the
    CDS::

        batch = tokenizer(["ACGU...", "GGC..."], exon_ends=[[120, 340, 900], None],
                          cds=[(50, 899), None], return_tensors="pt")
        model(**batch)

    ``exon_ends`` are the 0-based exclusive exon ends in transcript coordinates (cumulative exon
    lengths; the last equals the sequence length); the splice track is 1 at ``end - 1``. ``None``
    means unknown: only the last nucleotide is marked. ``cds`` is the 0-based half-open
    ``(start, end)`` of the coding sequence including the stop codon; the CDS track is 1 at every
    codon's first nucleotide. ``None`` means non-coding.

    Returns ``input_ids``, ``cds_track``, ``splice_track`` (uint8, shape ``(batch, length)``) and an
    ``attention_mask``; padding is on the right and all zero. Every row has a splice mark at its
    last valid position, also when ``truncation=True`` cut it (see :meth:`__call__`).

    Every argument is checked before anything is built: a wrong type raises ``TypeError``, a wrong
    value ``ValueError``, and a problem with one transcript names it (``sequence 3 ('ENST...')``).
    Positions are integers only (Python or numpy; not bool, float, even ``4.0``, or str).

    Args:
        model_max_length: Longest sequence accepted without ``truncation=True``.
        allow_incomplete_cds: Accept CDS lengths that are not a multiple of 3 (incomplete
            annotations) instead of raising.
    """

    vocab_files_names: dict[str, str] = {"vocab_file": "vocab.json"}
    model_input_names = ["input_ids", "cds_track", "splice_track", "attention_mask"]
    padding_side = "right"

    @classmethod
    def from_model_config(cls, config: Any, **kwargs: Any) -> IsoCLRTokenizer:
        """The tokenizer that fits a model: its maximum length is the config's ``max_sequence_length``.

        For model folders saved without tokenizer files; ``from_pretrained`` is the usual way.
        """
        return cls(model_max_length=config.max_sequence_length, **kwargs)

    def __init__(
        self,
        vocab_file: str | None = None,
        model_max_length: int = MAX_SEQUENCE_LENGTH,
        allow_incomplete_cds: bool = False,
        pad_token: str = "[PAD]",
        **kwargs: Any,
    ) -> None:
        if vocab_file is not None:
            with open(vocab_file, encoding="utf-8") as handle:
                saved = json.load(handle)
            if saved != {token: i for i, token in enumerate(VOCABULARY)}:
                raise ValueError(f"{vocab_file} does not hold the IsoCLR nucleotide vocabulary.")
        self._vocab = {token: i for i, token in enumerate(VOCABULARY)}
        self.allow_incomplete_cds = allow_incomplete_cds
        super().__init__(
            model_max_length=model_max_length,
            allow_incomplete_cds=allow_incomplete_cds,
            pad_token=pad_token,
            **kwargs,
        )

    # --- the vocabulary interface transformers expects -------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(VOCABULARY)

    def get_vocab(self) -> dict[str, int]:
        return dict(self._vocab)

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        return [VOCABULARY[i] for i in self._encode_sequence(text, 0, None)]

    def _convert_token_to_id(self, token: str) -> int:
        if token.upper() == "U":
            token = "T"
        return self._vocab.get(token.upper() if len(token) == 1 else token, PAD_ID)

    def _convert_id_to_token(self, index: int) -> str:
        return VOCABULARY[index]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return "".join(t for t in tokens if t != self.pad_token)

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str]:
        path = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + "vocab.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self._vocab, handle, indent=1)
        return (path,)

    # --- encoding --------------------------------------------------------------------------------
    def __call__(  # type: ignore[override]
        self,
        sequences: str | Sequence[str] | None = None,
        exon_ends: Sequence[Sequence[int] | None] | Sequence[int] | None = None,
        cds: Sequence[tuple[int, int] | None] | tuple[int, int] | None = None,
        *,
        tracks: np.ndarray | Sequence[np.ndarray] | None = None,
        names: Sequence[str] | None = None,
        padding: bool | str = True,
        truncation: bool = False,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        return_tensors: str | None = None,
        allow_incomplete_cds: bool | None = None,
        **kwargs: Any,
    ) -> BatchEncoding:
        """Encode one transcript or a batch.

        Every argument is checked before anything is built. Positions (exon ends, CDS bounds,
        ``max_length``, ``pad_to_multiple_of``) must be integers: Python ``int`` or a numpy integer
        scalar. ``bool``, floats (even integral ones such as ``4.0``: a float position usually means
        a column went through a float conversion, and silently flooring it would hide that), strings
        and sets are refused with a ``TypeError``.

        Args:
            sequences: A sequence string or a list/tuple/1-D array of them (DNA or RNA alphabet, any
                case; not empty).
            exon_ends: Per sequence, the exclusive exon ends in transcript coordinates (a list,
                tuple or 1-D integer array: positive, strictly increasing, the last equal to the
                sequence length), or ``None``. For a single string, a single list.
            cds: Per sequence, ``(start, end)`` of the CDS (0-based, half-open, stop codon
                included; ``0 <= start < end <= length``), or ``None``. For a single string, a
                single pair.
            tracks: Instead of sequences: precomputed track arrays of shape ``(length, 6)`` or
                ``(length, 4)`` (the mRNABench/Orthrus channels-last layout): one 2-D array, or a
                list of them (unpadded: a padded ``(batch, length, tracks)`` array is refused).
                Values must be real numbers in ``[0, 1]`` (bool, integer or float dtype; NaN,
                infinities, negative values, values over 1, complex, object and string arrays are
                refused). A base channel counts as present when it is above 0; a row whose four
                base channels are all 0 reads as N, which is how Orthrus's and mRNABench's saved
                arrays encode it. The CDS and splice channels count as marked above 0.5 and are
                taken as given, unless ``exon_ends``/``cds`` are passed for that transcript.
            names: Transcript ids used in error messages (defaults to the index in the batch); a
                list with one per sequence.
            padding: ``True``/``"longest"`` pads to the longest sequence, ``"max_length"`` to
                ``max_length``, ``False``/``"do_not_pad"`` does not pad.
            truncation: Cut sequences longer than ``max_length`` (keeping the 5' end) instead of
                raising. The last kept nucleotide of a cut transcript gets a splice mark: the
                splice track marks the last nucleotide of every transcript the model sees, so the
                model reads where its input ends the same way for cut and whole transcripts (at the
                price of a mark that is not a real exon end). Codon marks stop at the cut.
            max_length: Maximum length, a positive integer (defaults to ``model_max_length``).
            pad_to_multiple_of: Round the padded length up to a multiple of this positive integer
                (32 matches the encoder's downsampling).
            return_tensors: ``"pt"``, ``"np"`` or ``None`` (Python lists).
            allow_incomplete_cds: Override the tokenizer's setting for this call.

        Returns:
            A ``BatchEncoding`` with ``input_ids``, ``cds_track``, ``splice_track`` and
            ``attention_mask``. A single string without ``return_tensors`` gives unbatched lists.

        Raises:
            TypeError: for an argument of the wrong type (naming the transcript when it is one
                transcript's annotation or sequence).
            ValueError: naming the transcript and the problem, for characters outside the
                alphabet, an empty sequence, bad exon ends or CDS, bad track values, or a sequence
                that is too long; and for bad call options (an empty batch, ``max_length`` or
                ``pad_to_multiple_of`` that is not positive, an unknown ``padding``...).
        """
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise TypeError(f"IsoCLRTokenizer got unexpected arguments: {unknown}.")
        if (sequences is None) == (tracks is None):
            raise ValueError("Pass either `sequences` or `tracks`, exactly one of them.")
        padding = self._check_padding(padding)
        truncation = self._check_flag(truncation, "truncation", _TRUNCATION_STRINGS)
        limit = self.model_max_length if max_length is None else _check_positive(max_length, "max_length")
        if pad_to_multiple_of is not None:
            pad_to_multiple_of = _check_positive(pad_to_multiple_of, "pad_to_multiple_of")
        if return_tensors is not None and (not isinstance(return_tensors, str) or return_tensors not in ("pt", "np")):
            raise ValueError(f"return_tensors={_describe(return_tensors)} is not supported; use 'pt', 'np' or None.")
        if allow_incomplete_cds is None:
            allow_incomplete = self.allow_incomplete_cds
        else:
            allow_incomplete = self._check_flag(allow_incomplete_cds, "allow_incomplete_cds", {})

        single = isinstance(sequences, str) or (isinstance(tracks, np.ndarray) and tracks.ndim == 2)
        if single:
            items = [sequences if tracks is None else tracks]
            exon_ends = None if exon_ends is None else [exon_ends]  # type: ignore[list-item,assignment]
            cds = None if cds is None else [cds]  # type: ignore[list-item]
        else:
            given = ("sequences", sequences) if tracks is None else ("tracks", tracks)
            items = self._batch_items(given[1], given[0])
        count = len(items)
        exon_ends = self._per_sequence(exon_ends, count, "exon_ends")
        cds = self._per_sequence(cds, count, "cds")
        if names is not None:
            if not isinstance(names, (list, tuple, np.ndarray)):
                raise TypeError(f"`names` must be a list with one transcript id per sequence; got {_describe(names)}.")
            if len(names) != count:
                raise ValueError(f"Got {len(names)} names for {count} sequences; pass one per sequence.")

        rows = []
        for i in range(count):
            label = self._label(i, names)
            if tracks is None:
                ids = self._encode_sequence(items[i], i, names)
                cds_row = splice_row = None
            else:
                ids, cds_row, splice_row = self._decode_tracks(items[i], label)
            if exon_ends[i] is not None or splice_row is None:
                splice_row = self._splice_track(exon_ends[i], len(ids), label)
            if cds[i] is not None or cds_row is None:
                cds_row = self._cds_track(cds[i], len(ids), label, allow_incomplete)
            if len(ids) > limit:
                if not truncation:
                    raise ValueError(
                        f"{label}: length {len(ids)} is over the maximum of {limit} nucleotides; "
                        "pass truncation=True to keep the 5' end, or raise max_length."
                    )
                ids, cds_row, splice_row = ids[:limit], cds_row[:limit], splice_row[:limit]
                splice_row[-1] = 1  # the last nucleotide the model sees is marked (see `truncation`)
            rows.append((ids, cds_row, splice_row))
        return self._assemble(rows, padding, limit, pad_to_multiple_of, return_tensors, single)

    @staticmethod
    def _check_padding(padding: Any) -> bool | str:
        if isinstance(padding, (bool, np.bool_)):
            return bool(padding)
        if isinstance(padding, str) and padding in ("longest", "max_length", "do_not_pad"):
            return str(padding)
        raise ValueError(f"padding={_describe(padding)} is not supported; use True, 'longest', 'max_length' or False.")

    @staticmethod
    def _check_flag(value: Any, name: str, strings: dict[str, bool]) -> bool:
        if value is None:
            return False
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, str) and value in strings:
            return strings[value]
        raise TypeError(f"`{name}` must be True or False; got {_describe(value)}.")

    @staticmethod
    def _batch_items(items: Any, name: str) -> list[Any]:
        if isinstance(items, np.ndarray) and name == "tracks" and not (items.ndim == 1 and items.dtype == object):
            raise ValueError(
                f"`tracks` is a {items.ndim}-D array of shape {items.shape}; pass one (length, 6) or (length, 4) "
                "array, or a list of them without padding (all-zero rows read as N, so padding cannot be told "
                "from the sequence)."
            )
        if not isinstance(items, (list, tuple, np.ndarray)) or (isinstance(items, np.ndarray) and items.ndim != 1):
            what = "a string or a list of strings" if name == "sequences" else "an array or a list of arrays"
            raise TypeError(f"`{name}` must be {what}; got {_describe(items)}.")
        if len(items) == 0:
            raise ValueError(f"`{name}` is an empty batch; pass at least one transcript.")
        return list(items)

    @staticmethod
    def _per_sequence(values: Any, count: int, name: str) -> list[Any]:
        if values is None:
            return [None] * count
        if not isinstance(values, (list, tuple, np.ndarray)) or (isinstance(values, np.ndarray) and values.ndim == 0):
            raise TypeError(
                f"`{name}` must be a list with one entry per sequence (each an entry or None), or None; "
                f"got {_describe(values)}."
            )
        values = list(values)
        if len(values) != count:
            raise ValueError(f"Got {len(values)} entries in `{name}` for {count} sequences; pass one per sequence.")
        return values

    @staticmethod
    def _label(index: int, names: Sequence[str] | None) -> str:
        return f"sequence {index} ({names[index]!r})" if names is not None else f"sequence {index}"

    def _encode_sequence(self, sequence: str, index: int, names: Sequence[str] | None) -> np.ndarray:
        """One string -> token ids (uint8), validating the alphabet."""
        if not isinstance(sequence, str):
            raise TypeError(f"{self._label(index, names)}: expected a sequence string, got {_describe(sequence)}.")
        if not sequence:
            raise ValueError(f"{self._label(index, names)}: empty sequence; a transcript needs a nucleotide.")
        try:
            translated = sequence.encode("ascii").translate(_BYTE_TABLE)
        except UnicodeEncodeError as error:
            position = error.start
            translated = b""
        else:
            position = translated.find(_INVALID.to_bytes(1, "little"))
        if position >= 0:
            raise ValueError(
                f"{self._label(index, names)}: character {sequence[position]!r} at position {position} is not a "
                f"nucleotide (allowed: {ALPHABET_HELP})."
            )
        return np.frombuffer(translated, dtype=np.uint8)

    @staticmethod
    def _decode_tracks(array: Any, label: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """A ``(length, 6)`` or ``(length, 4)`` track array -> ids and the two annotation tracks."""
        try:
            array = np.asarray(array)
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
                    f"{label}: track row {row}, channel {channel} holds {array[row, channel].item()!r}; track "
                    "values must be finite numbers in [0, 1] (no NaN, infinity or negative values)."
                )
        pattern = (array[:, :4] > 0).astype(np.uint8) @ np.array([1, 2, 4, 8], dtype=np.uint8)
        ids = _PATTERN_TO_ID[pattern]
        if array.shape[1] == 4:
            return ids, None, None
        return ids, (array[:, 4] > 0.5).astype(np.uint8), (array[:, 5] > 0.5).astype(np.uint8)

    @staticmethod
    def _splice_track(exon_ends: Any, length: int, label: str) -> np.ndarray:
        track = np.zeros(length, dtype=np.uint8)
        if exon_ends is None:
            track[length - 1] = 1
            return track
        track[_check_exon_ends(exon_ends, length, label) - 1] = 1
        return track

    @staticmethod
    def _cds_track(cds: Any, length: int, label: str, allow_incomplete: bool) -> np.ndarray:
        track = np.zeros(length, dtype=np.uint8)
        if cds is None:
            return track
        start, end = _check_cds(cds, length, label)
        if (end - start) % 3 and not allow_incomplete:
            raise ValueError(
                f"{label}: CDS ({start}, {end}) has length {end - start}, not a multiple of 3; "
                "pass allow_incomplete_cds=True for incomplete annotations."
            )
        track[start:end:3] = 1
        return track

    def _assemble(
        self,
        rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
        padding: bool | str,
        max_length: int,
        pad_to_multiple_of: int | None,
        return_tensors: str | None,
        single: bool,
    ) -> BatchEncoding:
        lengths = [len(ids) for ids, _, _ in rows]
        if padding in (False, "do_not_pad"):
            if return_tensors is not None and len(set(lengths)) > 1:
                raise ValueError("Sequences of different lengths need padding=True to make tensors.")
            width = max(lengths)
        elif padding in (True, "longest"):
            width = max(lengths)
        elif padding == "max_length":
            width = max_length
        else:
            raise ValueError(f"padding={padding!r} is not supported; use True, 'longest', 'max_length' or False.")
        if pad_to_multiple_of:
            width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
        arrays = {name: np.zeros((len(rows), width), dtype=np.uint8) for name in self.model_input_names}
        for row, (ids, cds_row, splice_row) in enumerate(rows):
            n = len(ids)
            arrays["input_ids"][row, :n] = ids
            arrays["cds_track"][row, :n] = cds_row
            arrays["splice_track"][row, :n] = splice_row
            arrays["attention_mask"][row, :n] = 1
        return self._to_batch_encoding(arrays, lengths, padding, return_tensors, single)

    @staticmethod
    def _to_batch_encoding(
        arrays: dict[str, np.ndarray],
        lengths: list[int],
        padding: bool | str,
        return_tensors: str | None,
        single: bool,
    ) -> BatchEncoding:
        if return_tensors == "np":
            return BatchEncoding(arrays)
        if return_tensors == "pt":
            import torch

            return BatchEncoding({name: torch.from_numpy(array) for name, array in arrays.items()})
        if return_tensors is not None:
            raise ValueError(f"return_tensors={return_tensors!r} is not supported; use 'pt', 'np' or None.")
        unpadded = padding in (False, "do_not_pad")
        data = {
            name: [row[: lengths[i]].tolist() if unpadded else row.tolist() for i, row in enumerate(array)]
            for name, array in arrays.items()
        }
        if single:
            data = {name: rows[0] for name, rows in data.items()}
        return BatchEncoding(data)

    def pad(  # type: ignore[override]
        self,
        encoded_inputs: Any,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        return_tensors: str | None = None,
        **kwargs: Any,
    ) -> BatchEncoding:
        """Pad already-encoded examples (a list of dicts, as a data collator gets them) into a batch.

        Raises:
            ValueError: Naming the example: no ``input_ids``, an id outside the vocabulary, a track or
                mask of another length or with values other than 0/1, a mask that is not right padding
                (1s then 0s); no examples; ``padding="max_length"`` shorter than an example.
        """
        if isinstance(encoded_inputs, dict):
            keys = list(encoded_inputs)
            encoded_inputs = [dict(zip(keys, values)) for values in zip(*encoded_inputs.values())]
        rows = [_unpadded_row(example, index) for index, example in enumerate(encoded_inputs)]
        if not rows:
            raise ValueError("pad() got no examples.")
        longest = max(len(r[0]) for r in rows)
        if padding == "max_length" and max_length is not None and max_length < longest:
            raise ValueError(f"max_length={max_length} is shorter than the longest example ({longest} tokens).")
        limit = max_length if max_length is not None else longest
        return self._assemble(rows, padding, limit, pad_to_multiple_of, return_tensors, single=False)


def _zero_one_row(example: dict[str, Any], key: str, index: int, length: int) -> np.ndarray:
    """``example[key]`` as a 0/1 uint8 row of ``length`` entries (zeros where the key is absent)."""
    if key not in example:
        return np.zeros(length, dtype=np.uint8)
    values = np.asarray(example[key]).reshape(-1)
    if len(values) != length:
        raise ValueError(f"Example {index}: {key} has {len(values)} entries for {length} input_ids.")
    if not np.isin(values, (0, 1)).all():
        raise ValueError(f"Example {index}: {key} must hold only 0 and 1.")
    return values.astype(np.uint8)


def _unpadded_row(example: Any, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The valid part of one encoded example: ``(input_ids, cds_track, splice_track)``, checked."""
    if not hasattr(example, "keys") or "input_ids" not in example:
        raise ValueError(f"Example {index}: expected a mapping with input_ids, got {type(example).__name__}.")
    ids = np.asarray(example["input_ids"]).reshape(-1)
    numeric = ids.dtype.kind in "iuf"
    valid = np.isin(ids, np.arange(len(VOCABULARY))) if numeric else np.zeros(len(ids), dtype=bool)
    if not valid.all():
        bad = int(np.flatnonzero(~valid)[0])
        raise ValueError(f"Example {index}: input_ids[{bad}] = {ids.tolist()[bad]!r} is not a token id "
                         f"(0 to {len(VOCABULARY) - 1}).")
    ids = ids.astype(np.uint8)
    mask = _zero_one_row(example, "attention_mask", index, len(ids)) if "attention_mask" in example \
        else np.ones(len(ids), dtype=np.uint8)
    n = int(mask.sum())
    if not mask[:n].all():
        raise ValueError(f"Example {index}: attention_mask must be 1s followed by 0s (right padding).")
    cds_row = _zero_one_row(example, "cds_track", index, len(ids))
    splice_row = _zero_one_row(example, "splice_track", index, len(ids))
    return ids[:n], cds_row[:n], splice_row[:n]  # examples that are already padded keep their valid part


IsoCLRTokenizer.register_for_auto_class("AutoTokenizer")

__all__ = ["IUPAC_BASES", "PAD_ID", "VOCABULARY", "IsoCLRTokenizer"]
