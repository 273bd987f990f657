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

from .vocabulary_isoclr import ALPHABET_HELP, IUPAC_BASES, PAD_ID, VOCABULARY

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
_PATTERN_TO_ID = np.full(16, _INVALID, dtype=np.uint8)
for _letter, _bases in IUPAC_BASES.items():
    _PATTERN_TO_ID[sum(1 << "ACGT".index(b) for b in _bases)] = VOCABULARY.index(_letter)


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
    ``attention_mask``; padding is on the right and all zero.

    Args:
        model_max_length: Longest sequence accepted without ``truncation=True``.
        allow_incomplete_cds: Accept CDS lengths that are not a multiple of 3 (incomplete
            annotations) instead of raising.
    """

    vocab_files_names: dict[str, str] = {"vocab_file": "vocab.json"}
    model_input_names = ["input_ids", "cds_track", "splice_track", "attention_mask"]
    padding_side = "right"

    def __init__(
        self,
        vocab_file: str | None = None,
        model_max_length: int = 12288,
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

        Args:
            sequences: A sequence string or a list of them (DNA or RNA alphabet, any case).
            exon_ends: Per sequence, the exclusive exon ends in transcript coordinates, or ``None``.
                For a single string, a single list.
            cds: Per sequence, ``(start, end)`` of the CDS (0-based, half-open, stop codon
                included), or ``None``. For a single string, a single pair.
            tracks: Instead of sequences: precomputed track arrays of shape ``(length, 6)`` or
                ``(length, 4)`` (the mRNABench/Orthrus channels-last layout).
            names: Transcript ids used in error messages (defaults to the index in the batch).
            padding: ``True``/``"longest"`` pads to the longest sequence, ``"max_length"`` to
                ``max_length``, ``False``/``"do_not_pad"`` does not pad.
            truncation: Cut sequences longer than ``max_length`` (keeping the 5' end) instead of
                raising.
            max_length: Maximum length (defaults to ``model_max_length``).
            pad_to_multiple_of: Round the padded length up to a multiple of this (32 matches the
                encoder's downsampling).
            return_tensors: ``"pt"``, ``"np"`` or ``None`` (Python lists).
            allow_incomplete_cds: Override the tokenizer's setting for this call.

        Returns:
            A ``BatchEncoding`` with ``input_ids``, ``cds_track``, ``splice_track`` and
            ``attention_mask``. A single string without ``return_tensors`` gives unbatched lists.

        Raises:
            ValueError: naming the transcript and the problem, for characters outside the
                alphabet, an empty sequence, bad exon ends or CDS, or a sequence that is too long.
        """
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise TypeError(f"IsoCLRTokenizer got unexpected arguments: {unknown}.")
        if (sequences is None) == (tracks is None):
            raise ValueError("Pass either `sequences` or `tracks`, exactly one of them.")
        single = isinstance(sequences, str) or (isinstance(tracks, np.ndarray) and tracks.ndim == 2)
        if single:
            sequences = None if sequences is None else [sequences]  # type: ignore[list-item]
            tracks = None if tracks is None else [tracks]  # type: ignore[list-item]
            exon_ends = None if exon_ends is None else [exon_ends]  # type: ignore[list-item,assignment]
            cds = None if cds is None else [cds]  # type: ignore[list-item]
        count = len(sequences) if sequences is not None else len(tracks)  # type: ignore[arg-type]
        exon_ends = self._per_sequence(exon_ends, count, "exon_ends")
        cds = self._per_sequence(cds, count, "cds")
        if names is not None and len(names) != count:
            raise ValueError(f"Got {len(names)} names for {count} sequences.")
        limit = self.model_max_length if max_length is None else max_length
        allow_incomplete = self.allow_incomplete_cds if allow_incomplete_cds is None else allow_incomplete_cds

        rows = []
        for i in range(count):
            label = self._label(i, names)
            if sequences is not None:
                ids = self._encode_sequence(sequences[i], i, names)
                cds_row = splice_row = None
            else:
                ids, cds_row, splice_row = self._decode_tracks(tracks[i], label)  # type: ignore[index]
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
            rows.append((ids, cds_row, splice_row))
        return self._assemble(rows, padding, limit, pad_to_multiple_of, return_tensors, single)

    @staticmethod
    def _per_sequence(values: Any, count: int, name: str) -> list[Any]:
        if values is None:
            return [None] * count
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
            raise ValueError(f"{self._label(index, names)}: expected a string, got {type(sequence).__name__}.")
        if not sequence:
            raise ValueError(f"{self._label(index, names)}: empty sequence.")
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
    def _decode_tracks(array: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """A ``(length, 6)`` or ``(length, 4)`` track array -> ids and the two annotation tracks."""
        array = np.asarray(array)
        if array.ndim != 2 or array.shape[1] not in (4, 6):
            raise ValueError(f"{label}: track array has shape {array.shape}; expected (length, 6) or (length, 4).")
        if array.shape[0] == 0:
            raise ValueError(f"{label}: empty sequence.")
        pattern = (array[:, :4] > 0).astype(np.uint8) @ np.array([1, 2, 4, 8], dtype=np.uint8)
        ids = _PATTERN_TO_ID[pattern]
        bad = np.flatnonzero(ids == _INVALID)
        if bad.size:
            raise ValueError(f"{label}: track row {bad[0]} has no base (all four base channels are 0).")
        if array.shape[1] == 4:
            return ids, None, None
        return ids, (array[:, 4] > 0.5).astype(np.uint8), (array[:, 5] > 0.5).astype(np.uint8)

    @staticmethod
    def _splice_track(exon_ends: Sequence[int] | None, length: int, label: str) -> np.ndarray:
        track = np.zeros(length, dtype=np.uint8)
        if exon_ends is None:
            track[length - 1] = 1
            return track
        ends = np.asarray(list(exon_ends), dtype=np.int64)
        if ends.size == 0:
            raise ValueError(f"{label}: exon_ends is empty; pass None when the exon structure is unknown.")
        if ends[0] <= 0 or np.any(np.diff(ends) <= 0):
            raise ValueError(f"{label}: exon ends must be positive and strictly increasing, got {ends.tolist()}.")
        if ends[-1] != length:
            raise ValueError(
                f"{label}: the last exon end is {int(ends[-1])} but the sequence has {length} nucleotides; "
                "exon ends are cumulative exon lengths and the last must equal the length."
            )
        track[ends - 1] = 1
        return track

    @staticmethod
    def _cds_track(cds: tuple[int, int] | None, length: int, label: str, allow_incomplete: bool) -> np.ndarray:
        track = np.zeros(length, dtype=np.uint8)
        if cds is None:
            return track
        try:
            start, end = (int(v) for v in cds)
        except (TypeError, ValueError):
            raise ValueError(f"{label}: cds must be a (start, end) pair or None, got {cds!r}.") from None
        if not 0 <= start < end <= length:
            raise ValueError(
                f"{label}: CDS ({start}, {end}) is out of bounds for a sequence of {length} nucleotides "
                "(need 0 <= start < end <= length; 0-based, end exclusive)."
            )
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
        """Pad already-encoded examples (a list of dicts, as a data collator gets them) into a batch."""
        if isinstance(encoded_inputs, dict):
            keys = list(encoded_inputs)
            encoded_inputs = [dict(zip(keys, values)) for values in zip(*encoded_inputs.values())]
        rows = []
        for example in encoded_inputs:
            ids = np.asarray(example["input_ids"], dtype=np.uint8)
            # Examples that are already padded keep only their valid part.
            n = int(np.sum(example["attention_mask"])) if "attention_mask" in example else len(ids)
            zeros = np.zeros_like(ids)
            cds_row = np.asarray(example.get("cds_track", zeros), dtype=np.uint8)
            splice_row = np.asarray(example.get("splice_track", zeros), dtype=np.uint8)
            rows.append((ids[:n], cds_row[:n], splice_row[:n]))
        limit = max_length if max_length is not None else max(len(r[0]) for r in rows)
        return self._assemble(rows, padding, limit, pad_to_multiple_of, return_tensors, single=False)


IsoCLRTokenizer.register_for_auto_class("AutoTokenizer")

__all__ = ["IUPAC_BASES", "PAD_ID", "VOCABULARY", "IsoCLRTokenizer"]
