"""The configuration fields of the masked-language-model families (RNA-FM, RiNALMo) and their checks.

Remote code: copied next to the weights; imports only transformers and the sibling ``sequence_head.py``.
The RNA-FM and RiNALMo folders hold byte-identical copies (``tests/models/test_shared_files.py``); each
family's configuration file subclasses :class:`NucleotideTransformerConfig` with its ``model_type``, its
defaults (the published architecture) and its presets.
"""

from __future__ import annotations

from typing import Any, ClassVar

from transformers import PretrainedConfig

from .sequence_head import init_shared_fields, validate_shared_fields

POSITION_EMBEDDING_TYPES = ("absolute", "rotary")
FEED_FORWARDS = ("gelu", "swiglu")
MAX_SEQUENCE_LENGTH = 12_288  # as IsoCLR's tokenizer; rows longer than one window are windowed
INTEGER_FIELDS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                  "max_position_embeddings", "position_offset", "max_sequence_length", "window_overlap")  # fmt: skip
FLOAT_FIELDS = ("layer_norm_eps", "initializer_range", "hidden_dropout", "attention_dropout")
SWITCHES = ("attention_bias", "embedding_layer_norm", "token_dropout", "residual_from_normalised",
            "decoder_tied_to_embeddings")  # fmt: skip
# The fields common to both families, with neutral defaults; each family overrides them in `defaults`.
COMMON_DEFAULTS: dict[str, Any] = {
    "vocab_size": 28,  # multimolecule's RNA vocabulary
    "layer_norm_eps": 1e-5,
    "initializer_range": 0.02,  # BERT's normal initialisation
    "hidden_dropout": 0.1,
    "attention_dropout": 0.1,
    "max_sequence_length": MAX_SEQUENCE_LENGTH,
    "window_overlap": 256,  # each nucleotide keeps >= 128 nucleotides of context on each side in a window
}


class NucleotideTransformerConfig(PretrainedConfig):
    """Configuration of a pre-norm transformer over nucleotide tokens, its masked-LM head and downstream heads.

    Every field (a subclass's ``defaults`` fill those not given):

    - ``vocab_size``, ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads`` (divides
      ``hidden_size``), ``intermediate_size`` (the feed-forward width; for SwiGLU the width of each of
      its two branches);
    - ``max_position_embeddings``: positions a window may use (with ``<cls>``, ``<eos>`` and
      ``position_offset``); ``position_offset``: the position id of the first token (ESM-1b: 2);
    - ``layer_norm_eps``, ``initializer_range``, ``hidden_dropout``, ``attention_dropout``;
    - ``max_sequence_length``: most nucleotides a row may have; ``window_overlap``: least overlap, in
      nucleotides, of neighbouring windows (see ``nucleotide_transformer.py``);
    - ``position_embedding_type``: "absolute" or "rotary"; ``feed_forward``: "gelu" or "swiglu";
    - switches: ``attention_bias``, ``embedding_layer_norm`` (LayerNorm after the embeddings),
      ``token_dropout`` (ESM's rescaling by the observed mask ratio), ``residual_from_normalised``
      (the attention output is added to the normalised input, as RiNALMo does),
      ``decoder_tied_to_embeddings`` (the masked-LM decoder is the token embedding);
    - the fields every family shares (``sequence_head.SHARED_CONFIG_DEFAULTS``), then
      ``PretrainedConfig``'s (token ids: pad 0, ``<cls>`` 1, ``<eos>`` 2, ``<mask>`` 4).

    Raises:
        ValueError: naming the field, its value and what is allowed.
    """

    defaults: ClassVar[dict[str, Any]] = {}
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    family_auto_map: ClassVar[dict[str, Any]] = {}

    def __init__(self, **kwargs: Any) -> None:
        values = {**COMMON_DEFAULTS, **self.defaults}
        for name in (*INTEGER_FIELDS, *FLOAT_FIELDS, *SWITCHES, "position_embedding_type", "feed_forward"):
            values[name] = kwargs.pop(name, values.get(name))
            if values[name] is None:
                raise ValueError(f"{type(self).__name__} needs {name}.")
        for name in INTEGER_FIELDS:
            setattr(self, name, int(values[name]))
        for name in FLOAT_FIELDS:
            setattr(self, name, float(values[name]))
        for name in SWITCHES:
            setattr(self, name, bool(values[name]))
        self.position_embedding_type = values["position_embedding_type"]
        self.feed_forward = values["feed_forward"]
        kwargs = init_shared_fields(self, kwargs)
        for name, value in (("pad_token_id", 0), ("bos_token_id", 1), ("eos_token_id", 2), ("mask_token_id", 4)):
            kwargs.setdefault(name, value)
        self.mask_token_id = int(kwargs.pop("mask_token_id"))
        kwargs.setdefault("tokenizer_class", "NucleotideTokenizer")  # transformers 4.x pipelines need the name
        kwargs["tie_word_embeddings"] = False  # a tied decoder reads the embedding itself: nothing to tie
        auto_map = {**self.family_auto_map, **(kwargs.pop("auto_map", None) or {})}
        super().__init__(**kwargs)
        self.auto_map = auto_map
        self._validate()

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> NucleotideTransformerConfig:
        """Build the config of a named size, e.g. ``RnaFmConfig.from_preset("rnafm-cpu-small")``."""
        if name not in cls.presets:
            raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(cls.presets)}.")
        return cls(**{**cls.presets[name], **overrides})

    @property
    def window_nucleotides(self) -> int:
        """Nucleotides in one window: the positions less the offset, ``<cls>`` and ``<eos>``."""
        return self.max_position_embeddings - self.position_offset - 2

    @property
    def downsampling(self) -> int:
        """Length reduction of the encoder: none, one state per token."""
        return 1

    def _validate(self) -> None:
        choices = (("position_embedding_type", self.position_embedding_type, POSITION_EMBEDDING_TYPES),
                   ("feed_forward", self.feed_forward, FEED_FORWARDS))  # fmt: skip
        for name, value, allowed in choices:
            if value not in allowed:
                raise ValueError(f"{name}={value!r} is not supported; choose one of {', '.join(allowed)}.")
        for name in INTEGER_FIELDS:
            if name not in ("position_offset", "window_overlap") and getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}.")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"hidden_size ({self.hidden_size}) must be a multiple of num_attention_heads "
                             f"({self.num_attention_heads}).")  # fmt: skip
        if self.position_embedding_type == "rotary" and (self.hidden_size // self.num_attention_heads) % 2:
            raise ValueError("rotary positions need an even head width (hidden_size / num_attention_heads), got "
                             f"{self.hidden_size // self.num_attention_heads}.")  # fmt: skip
        if self.position_offset < 0 or self.window_nucleotides < 1:
            raise ValueError(
                f"max_position_embeddings ({self.max_position_embeddings}) must exceed position_offset "
                f"({self.position_offset}) + 2 (<cls> and <eos>), and position_offset must be >= 0."
            )
        if not 0 <= self.window_overlap < self.window_nucleotides:
            raise ValueError(f"window_overlap must be in [0, {self.window_nucleotides}) (a window's nucleotides), "
                             f"got {self.window_overlap}.")  # fmt: skip
        for name in ("hidden_dropout", "attention_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}.")
        for name in ("layer_norm_eps", "initializer_range"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}.")
        validate_shared_fields(self)


__all__ = ["FEED_FORWARDS", "MAX_SEQUENCE_LENGTH", "POSITION_EMBEDDING_TYPES", "NucleotideTransformerConfig"]
