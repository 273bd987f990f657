"""One token per nucleotide, with multimolecule's 28-token RNA vocabulary (RNA-FM and RiNALMo checkpoints).

Remote code: copied next to the weights; imports only transformers. The RNA-FM and RiNALMo family
folders hold byte-identical copies (``tests/models/test_shared_files.py``).

The vocabulary is that of the published multimolecule checkpoints (``vocab.txt``): the special tokens
``<pad> <cls> <eos> <unk> <mask> <null>`` (ids 0-5), then ``A C G U N``, the IUPAC codes
``R Y S W K M B D H V``, and ``I X | . * - ?``. Sequences are read upper case with T as U, so a DNA
transcript and its RNA give the same ids; a character outside the vocabulary becomes ``<unk>``.
A sequence is encoded ``<cls> nucleotides <eos>``, padded on the right with ``<pad>`` (id 0).
"""

from __future__ import annotations

import os
from typing import Any

from transformers import PreTrainedTokenizer

VOCABULARY = (
    "<pad>", "<cls>", "<eos>", "<unk>", "<mask>", "<null>",
    "A", "C", "G", "U", "N", "R", "Y", "S", "W", "K", "M", "B", "D", "H", "V", "I", "X", "|", ".", "*", "-", "?",
)  # fmt: skip
PAD_ID, CLS_ID, EOS_ID, UNK_ID, MASK_ID, NULL_ID = range(6)
SPECIAL_TOKENS = VOCABULARY[:6]
MODEL_MAX_LENGTH = 12_288 + 2  # the models' max_sequence_length nucleotides, <cls> and <eos>
# What the package's record readers pass to every family's tokenizer (IsoCLR's annotations): not read here.
ANNOTATION_ARGUMENTS = ("exon_ends", "cds", "names", "allow_incomplete_cds")


class NucleotideTokenizer(PreTrainedTokenizer):
    """Nucleotide tokenizer of the RNA-FM and RiNALMo families (multimolecule's ``RnaTokenizer`` vocabulary).

    ``tokenizer(["ACGT", "GGCU"], return_tensors="pt")`` gives ``input_ids`` (``<cls>`` first,
    ``<eos>`` last, right padding with 0) and ``attention_mask``. T is read as U and lower case as
    upper case; anything else outside the vocabulary becomes ``<unk>``.

    Args:
        vocab_file: A saved ``vocab.txt``; it must hold this vocabulary, in this order.
        model_max_length: Longest input in tokens, ``<cls>`` and ``<eos>`` included (the model windows
            transcripts longer than its positions itself; this bounds what it accepts at all).
    """

    vocab_files_names: dict[str, str] = {"vocab_file": "vocab.txt"}
    model_input_names = ["input_ids", "attention_mask"]
    padding_side = "right"

    def __init__(self, vocab_file: str | None = None, model_max_length: int = MODEL_MAX_LENGTH, **kwargs: Any) -> None:
        if vocab_file is not None:
            with open(vocab_file, encoding="utf-8") as handle:
                saved = tuple(line.rstrip("\n") for line in handle if line.strip())
            if saved != VOCABULARY:
                raise ValueError(
                    f"{vocab_file} does not hold the 28-token nucleotide vocabulary of RNA-FM/RiNALMo "
                    f"(expected {' '.join(VOCABULARY)}; got {' '.join(saved[:30])})."
                )
        self._vocab = {token: i for i, token in enumerate(VOCABULARY)}
        for name, token in (("pad_token", "<pad>"), ("cls_token", "<cls>"), ("bos_token", "<cls>"),
                            ("eos_token", "<eos>"), ("sep_token", "<eos>"), ("unk_token", "<unk>"),
                            ("mask_token", "<mask>")):  # fmt: skip
            kwargs.setdefault(name, token)
        super().__init__(model_max_length=model_max_length, **kwargs)

    def __call__(self, text: Any = None, *args: Any, padding: bool | str = True, **kwargs: Any) -> Any:
        """``PreTrainedTokenizer.__call__``, padding to the longest sequence by default (as IsoCLR's tokenizer).

        The annotation arguments of IsoCLR's tokenizer (``exon_ends``, ``cds``, ``names``,
        ``allow_incomplete_cds``), which the package's record readers pass to every family, are accepted
        and not used: these models read the sequence only.
        """
        for name in ANNOTATION_ARGUMENTS:
            kwargs.pop(name, None)
        return super().__call__(text, *args, padding=padding, **kwargs)

    @property
    def vocab_size(self) -> int:
        return len(VOCABULARY)

    def get_vocab(self) -> dict[str, int]:
        return dict(self._vocab)

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        """One token per character, upper case, T as U (whitespace is dropped)."""
        return ["U" if c == "T" else c for c in text.upper() if not c.isspace()]

    def _convert_token_to_id(self, token: str) -> int:
        return self._vocab.get(token, UNK_ID)

    def _convert_id_to_token(self, index: int) -> str:
        return VOCABULARY[index] if 0 <= index < len(VOCABULARY) else "<unk>"

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return "".join(tokens)

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """``<cls> A <eos>``, or ``<cls> A <eos> B <eos>`` for a pair."""
        first = [CLS_ID, *token_ids_0, EOS_ID]
        return first if token_ids_1 is None else [*first, *token_ids_1, EOS_ID]

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            return [1 if token in (PAD_ID, CLS_ID, EOS_ID) else 0 for token in token_ids_0]
        mask = [1] + [0] * len(token_ids_0) + [1]
        return mask if token_ids_1 is None else [*mask, *([0] * len(token_ids_1)), 1]

    def create_token_type_ids_from_sequences(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        return [0] * len(self.build_inputs_with_special_tokens(token_ids_0, token_ids_1))

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str]:
        path = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + "vocab.txt")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(VOCABULARY) + "\n")
        return (path,)


NucleotideTokenizer.register_for_auto_class("AutoTokenizer")

__all__ = ["CLS_ID", "EOS_ID", "MASK_ID", "NULL_ID", "PAD_ID", "SPECIAL_TOKENS", "UNK_ID", "VOCABULARY",
           "NucleotideTokenizer"]  # fmt: skip
