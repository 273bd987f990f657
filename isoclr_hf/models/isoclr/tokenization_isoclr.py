"""Six-track IsoCLR tokenizer: sequence + exon ends + CDS -> compact model inputs.

Remote code: copied next to the weights by ``save_pretrained``; imports only numpy, torch,
transformers and the siblings ``tokenizer_checks_isoclr.py`` (every argument check) and
``track_vocabulary.py``.

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

from .tokenizer_checks_isoclr import (
    as_numpy,
    check_batch_items,
    check_cds,
    check_exon_ends,
    check_flag,
    check_id_batch,
    check_id_sequence,
    check_names,
    check_no_other_arguments,
    check_padding,
    check_padding_side,
    check_per_sequence,
    check_positive,
    check_return_tensors,
    check_token,
    check_token_id,
    describe,
    is_id_batch,
    is_int,
    other_columns,
    read_sequence,
    read_track_array,
    split_encoded_inputs,
    stack_column,
    unpadded_example,
)
from .track_vocabulary import IUPAC_BASES, MAX_SEQUENCE_LENGTH, PAD_ID, VOCABULARY

# The transformers truncation strategies that make sense for single sequences.
_TRUNCATION_STRINGS = {"longest_first": True, "only_first": True, "do_not_truncate": False}


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

    The other transformers methods hold to the same checks: :meth:`encode` gives one flat list of
    ids, :meth:`tokenize` one letter a nucleotide (both refuse what the call refuses, the empty
    sequence included), :meth:`decode` and :meth:`convert_ids_to_tokens` refuse ids outside the
    vocabulary, :meth:`convert_tokens_to_ids` refuses unknown tokens (there is no unknown token),
    and :meth:`pad` checks each encoded example as the model would, naming it (``Example 3``).
    Unknown keyword arguments raise ``TypeError`` everywhere (transformers' ``pad`` does too; its
    ``decode`` and ``tokenize`` pass them on and may ignore them): a misspelt option is never ignored.

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
        return [VOCABULARY[i] for i in read_sequence(text, "sequence 1")]

    def _convert_token_to_id(self, token: str) -> int:
        return check_token(token, "tokens", self._vocab)

    def _convert_id_to_token(self, index: int) -> str:
        return VOCABULARY[check_token_id(index, "ids")]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return "".join(tokens)

    # --- the other tokenizer methods: the same checks and conventions as __call__ ------------------
    def tokenize(  # type: ignore[override]
        self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs: Any
    ) -> list[str]:
        """One sequence as its tokens: one upper-case letter a nucleotide, ``U`` read as ``T``.

        Checked as :meth:`__call__` checks a sequence: an empty sequence or a character outside the
        alphabet raises ``ValueError`` (``tokenize("")`` fails as ``tokenizer("")`` does). There are no
        special tokens to add, so ``add_special_tokens`` changes nothing; sequence pairs do not exist.
        """
        self._one_sequence("tokenize", text, pair, add_special_tokens, kwargs)
        return [VOCABULARY[i] for i in read_sequence(text, "sequence 1")]

    def encode(  # type: ignore[override]
        self,
        text: str,
        text_pair: str | None = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        return_tensors: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """The token ids of one sequence: ``tokenizer(text, ...)["input_ids"]``.

        As in transformers, one sequence gives one flat list of ids (``encode("ACGT") == [1, 2, 3, 4]``),
        and ``return_tensors`` a tensor of shape ``(1, length)`` (uint8, like :meth:`__call__`).
        ``padding``, ``truncation``, ``max_length`` and ``pad_to_multiple_of`` work as in
        :meth:`__call__`; the annotation tracks are not returned (call the tokenizer for model inputs).

        Raises:
            TypeError: ``text`` is not one string (for a batch, call the tokenizer), a pair is given, or
                an unknown argument.
            ValueError: As :meth:`__call__` for the sequence and options.
        """
        self._one_sequence("encode", text, text_pair, add_special_tokens, kwargs)
        return self(text, padding=padding, truncation=truncation, max_length=max_length,
                    pad_to_multiple_of=pad_to_multiple_of, return_tensors=return_tensors)["input_ids"]  # fmt: skip

    @staticmethod
    def _one_sequence(method: str, text: Any, pair: Any, add_special_tokens: Any, kwargs: dict[str, Any]) -> None:
        check_no_other_arguments(kwargs, method, "one sequence string and the options of the tokenizer's call")
        check_flag(add_special_tokens, "add_special_tokens")
        if pair is not None:
            raise TypeError(f"IsoCLRTokenizer.{method}() takes one sequence; there are no sequence pairs.")
        if not isinstance(text, str):
            raise TypeError(
                f"IsoCLRTokenizer.{method}() takes one sequence string; got {describe(text)}. For a batch, call the "
                "tokenizer: tokenizer(sequences)."
            )

    def convert_tokens_to_ids(self, tokens: str | Sequence[str] | None) -> int | list[int] | None:  # type: ignore[override]
        """Token(s) -> id(s): one nucleotide letter (either case, ``U`` as ``T``) or ``"[PAD]"`` each.

        There is no unknown token: a token outside the vocabulary raises ``ValueError`` naming it
        (``tokens[3] = 'X'``) rather than becoming an id. The only other candidate, the padding id,
        would put padding inside a transcript, and :meth:`__call__` refuses such letters too.
        ``None`` gives ``None``, as in transformers.
        """
        if tokens is None:
            return None
        if isinstance(tokens, str):
            return check_token(tokens, "tokens", self._vocab)
        if not isinstance(tokens, (list, tuple)):
            raise TypeError(f"tokens must be a token string or a list of them; got {describe(tokens)}.")
        return [check_token(token, f"tokens[{k}]", self._vocab) for k, token in enumerate(tokens)]

    def convert_ids_to_tokens(  # type: ignore[override]
        self, ids: int | Sequence[int] | Any, skip_special_tokens: bool = False
    ) -> str | list[str]:
        """Id(s) -> token(s): one id (int) gives one token, a sequence (list, array, tensor) a list.

        Ids outside ``0..15`` (negative ones too: no wrap-around) raise ``ValueError`` naming the
        position, anything but integers ``TypeError``. ``skip_special_tokens`` drops the padding id.
        """
        skip = check_flag(skip_special_tokens, "skip_special_tokens")
        ids = as_numpy(ids)
        if is_int(ids) or (isinstance(ids, np.ndarray) and ids.ndim == 0):
            return VOCABULARY[check_token_id(ids, "ids")]
        if is_id_batch(ids):
            raise TypeError("convert_ids_to_tokens() takes one id or one sequence of ids; got a batch (2-D).")
        return [VOCABULARY[i] for i in check_id_sequence(ids, "ids") if not (skip and i == PAD_ID)]

    def decode(  # type: ignore[override]
        self,
        token_ids: int | Sequence[int] | Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs: Any,
    ) -> str | list[str]:
        """Token ids -> the sequence: one id or one sequence gives a string, a batch (2-D) a list of them.

        The batch form is transformers 5's (``decode`` of a list of sequences); it is the same under
        transformers 4 here. As in transformers, the padding id decodes to ``"[PAD]"`` unless
        ``skip_special_tokens=True``: ``decode(batch["input_ids"][i], skip_special_tokens=True)`` gives
        back the i-th sequence of a padded batch (upper case, ``T`` for ``U``). There are no spaces to
        clean up, so ``clean_up_tokenization_spaces`` changes nothing.

        Raises:
            ValueError: An id outside ``0..15`` (negative ids included), naming its position
                (``token_ids[1][7] = 99``).
            TypeError: Ids that are not integers (floats, bools, strings), arrays of more than 2
                dimensions, or an unknown argument.
        """
        return self._decode_ids("decode", token_ids, skip_special_tokens, clean_up_tokenization_spaces, kwargs, False)

    def batch_decode(  # type: ignore[override]
        self,
        sequences: Sequence[Sequence[int]] | Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """A batch of id sequences (a list of them, or a 2-D array or tensor) -> one string each; see :meth:`decode`."""
        return self._decode_ids("batch_decode", sequences, skip_special_tokens, clean_up_tokenization_spaces, kwargs,
                                True)  # type: ignore[return-value]  # fmt: skip

    def _decode_ids(
        self, method: str, ids: Any, skip: Any, clean_up: Any, kwargs: dict[str, Any], batch: bool
    ) -> str | list[str]:
        check_no_other_arguments(kwargs, method, "token ids, skip_special_tokens and clean_up_tokenization_spaces")
        skip = check_flag(skip, "skip_special_tokens")
        check_flag(clean_up, "clean_up_tokenization_spaces")
        name, ids = ("sequences" if batch else "token_ids"), as_numpy(ids)
        if batch or is_id_batch(ids):
            if batch and isinstance(ids, (list, tuple)) and not ids:
                return []
            rows = check_id_batch(ids, name)
        elif is_int(ids) or (isinstance(ids, np.ndarray) and ids.ndim == 0):
            rows = [[check_token_id(ids, name)]]
        else:
            rows = [check_id_sequence(ids, name)]
        text = ["".join(VOCABULARY[i] for i in row if not (skip and i == PAD_ID)) for row in rows]
        return text if batch or is_id_batch(ids) else text[0]

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
        truncation: bool | str | None = False,
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
                numpy arrays or torch tensors (read detached, on the CPU; bfloat16 as float32).
                Values must be real numbers in ``[0, 1]`` (bool, integer or float dtype; NaN,
                infinities, negative values, values over 1, complex, object and string arrays are
                refused). A base channel counts as present when it is above 0; a row whose four
                base channels are all 0 reads as N, which is how Orthrus's and mRNABench's saved
                arrays encode it. The CDS and splice channels count as marked above 0.5 and are
                taken as given, unless ``exon_ends``/``cds`` are passed for that transcript.
            names: Transcript ids used in error messages (besides the place in the batch, from 1); a
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
        padding = check_padding(padding)
        truncation = check_flag(truncation, "truncation", _TRUNCATION_STRINGS)
        limit = self.model_max_length if max_length is None else check_positive(max_length, "max_length")
        if pad_to_multiple_of is not None:
            pad_to_multiple_of = check_positive(pad_to_multiple_of, "pad_to_multiple_of")
        check_return_tensors(return_tensors)
        if allow_incomplete_cds is None:
            allow_incomplete = self.allow_incomplete_cds
        else:
            allow_incomplete = check_flag(allow_incomplete_cds, "allow_incomplete_cds")
        tracks = as_numpy(tracks)  # a tensor (even one that requires grad) reads like an array

        single = isinstance(sequences, str) or (isinstance(tracks, np.ndarray) and tracks.ndim == 2)
        if single:
            items = [sequences if tracks is None else tracks]
            exon_ends = None if exon_ends is None else [exon_ends]  # type: ignore[list-item,assignment]
            cds = None if cds is None else [cds]  # type: ignore[list-item]
        else:
            given = ("sequences", sequences) if tracks is None else ("tracks", tracks)
            items = check_batch_items(given[1], given[0])
        count = len(items)
        exon_ends = check_per_sequence(exon_ends, count, "exon_ends")
        cds = check_per_sequence(cds, count, "cds")
        check_names(names, count)

        rows = []
        for i in range(count):
            label = self._label(i, names)
            if tracks is None:
                ids = read_sequence(items[i], label)
                cds_row = splice_row = None
            else:
                ids, cds_row, splice_row = read_track_array(items[i], label)
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
    def _label(index: int, names: Sequence[str] | None) -> str:
        # Counted from 1, as sequence tools count: the first transcript of a batch is "sequence 1".
        return f"sequence {index + 1} ({names[index]!r})" if names is not None else f"sequence {index + 1}"

    @staticmethod
    def _splice_track(exon_ends: Any, length: int, label: str) -> np.ndarray:
        track = np.zeros(length, dtype=np.uint8)
        if exon_ends is None:
            track[length - 1] = 1
            return track
        track[check_exon_ends(exon_ends, length, label) - 1] = 1
        return track

    @staticmethod
    def _cds_track(cds: Any, length: int, label: str, allow_incomplete: bool) -> np.ndarray:
        track = np.zeros(length, dtype=np.uint8)
        if cds is None:
            return track
        start, end = check_cds(cds, length, label)
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
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
        truncation: bool | str | None = False,
    ) -> BatchEncoding:
        """Pad already-encoded examples into a batch, as a data collator does.

        Takes what :meth:`__call__` returns: a list of examples (mappings with ``input_ids`` and
        optionally ``cds_track``, ``splice_track``, ``attention_mask``: lists, arrays or tensors), or
        one mapping of columns (a ``BatchEncoding`` or dict, padded or not). A mapping whose
        ``input_ids`` is one flat sequence is one example, returned unbatched like ``tokenizer("ACGT")``.
        Examples that are already padded keep their valid part (``attention_mask``; without one, the
        ids before the trailing padding ids). An absent ``splice_track`` is filled as the tokenizer
        fills a transcript without exon ends (one mark at the last valid position) and an absent
        ``cds_track`` as a non-coding one (no marks), so ``pad([{"input_ids": tokenizer.encode(s)}])``
        equals ``tokenizer([s])``. Other keys (``labels``) are carried through, stacked into tensors
        with ``return_tensors``.

        Args:
            encoded_inputs: The examples, as above.
            padding, max_length, pad_to_multiple_of, return_tensors: As in :meth:`__call__`:
                ``max_length`` (default ``model_max_length``) is the longest example accepted, and
                the width for ``padding="max_length"``.
            padding_side: ``None`` or ``"right"``: the tokenizer pads on the right.
            return_attention_mask: ``False`` leaves ``attention_mask`` out (the model then reads
                padding from the padding ids).
            verbose: Accepted for transformers' signature; there are no warnings to silence.
            truncation: Cut examples longer than ``max_length`` as :meth:`__call__` does (5' end
                kept, a splice mark at the last kept nucleotide) instead of raising.

        Raises:
            TypeError: Naming the example (``Example 3: ...``) or option: examples that are not
                mappings, ids or masks that are nested or hold floats, bools or strings; a call
                option of the wrong type (``pad_to_multiple_of=2.5``).
            ValueError: Naming the example and the problem: no ``input_ids`` or no examples, an
                empty example or one with an all-zero mask, an id outside the vocabulary, the padding
                id inside the valid region, a track or mask of another length or with values other
                than 0/1, a mask that is not right padding, a ``splice_track`` without a mark at the
                last valid position, an example longer than ``max_length`` without ``truncation``;
                and for option values (``pad_to_multiple_of=0``, ``padding_side="left"``).
        """
        padding = check_padding(padding)
        limit = self.model_max_length if max_length is None else check_positive(max_length, "max_length")
        if pad_to_multiple_of is not None:
            pad_to_multiple_of = check_positive(pad_to_multiple_of, "pad_to_multiple_of")
        check_padding_side(padding_side)
        keep_mask = return_attention_mask is None or check_flag(return_attention_mask, "return_attention_mask")
        check_return_tensors(return_tensors)
        check_flag(verbose, "verbose")
        truncation = check_flag(truncation, "truncation", _TRUNCATION_STRINGS)
        examples, single = split_encoded_inputs(encoded_inputs)
        if not examples:
            raise ValueError("pad() got no examples.")
        rows = [unpadded_example(example, index, limit, truncation) for index, example in enumerate(examples)]
        batch = self._assemble(rows, padding, limit, pad_to_multiple_of, return_tensors, single)
        if not keep_mask:
            del batch["attention_mask"]
        for key, values in other_columns(examples, self.model_input_names).items():
            batch[key] = values[0] if single and return_tensors is None else stack_column(key, values, return_tensors)
        return batch


IsoCLRTokenizer.register_for_auto_class("AutoTokenizer")

__all__ = ["IUPAC_BASES", "PAD_ID", "VOCABULARY", "IsoCLRTokenizer"]
