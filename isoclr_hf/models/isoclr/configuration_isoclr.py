"""IsoCLR configuration.

Remote code: this file is copied next to the weights by ``save_pretrained``; it imports only
transformers and the siblings ``sequence_head.py`` (the fields every family shares, and their checks)
and ``track_vocabulary.py``.
"""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig

from .sequence_head import init_shared_fields, validate_shared_fields
from .track_vocabulary import MAX_SEQUENCE_LENGTH

# Encoder sizes of the IsoCLR paper (Fradkin et al. 2023). The six-track parameter counts are
# 787,264 (s), 4,884,160 (m) and 9,570,752 (l); tests check them exactly.
PRESETS: dict[str, dict[str, Any]] = {
    "isoclr-s": {"stage_filters": (64, 128, 128, 256), "blocks_per_stage": (2, 2, 2, 2), "kernel_size": 2},
    "isoclr-m": {"stage_filters": (64, 128, 256, 512), "blocks_per_stage": (3, 4, 6, 3), "kernel_size": 2},
    "isoclr-l": {"stage_filters": (64, 128, 256, 512), "blocks_per_stage": (3, 4, 6, 3), "kernel_size": 4},
}

POOLING_CHOICES = ("mean", "max")
UNKNOWN_BASE_ENCODINGS = ("uniform", "iupac")
TRACK_CHOICES = (4, 6)

# Every Auto class the package supports, written into every saved config whichever class was saved.
AUTO_MAP = {
    "AutoConfig": "configuration_isoclr.IsoCLRConfig",
    "AutoModel": "modeling_isoclr.IsoCLRModel",
    "AutoModelForSequenceClassification": "modeling_isoclr.IsoCLRForSequenceClassification",
    "AutoTokenizer": ["tokenization_isoclr.IsoCLRTokenizer", None],
}


class IsoCLRConfig(PretrainedConfig):
    """Configuration of an IsoCLR encoder, its contrastive head and its downstream heads.

    Everything that changes the forward pass is stored here, so a saved model reloads into the same
    function. Defaults are the paper's IsoCLR-M; use :meth:`from_preset` for the named sizes.

    Args:
        n_tracks: Input tracks: 6 (one-hot A/C/G/T, codon starts, exon ends) or 4 (sequence only,
            like Orthrus-4).
        stem_filters: Output channels of the stem convolution.
        stage_filters: Output channels of each of the four residual stages.
        blocks_per_stage: Residual blocks in each stage; the first block of each stage max-pools by 2.
        kernel_size: Kernel size of every residual-block convolution.
        stem_kernel_size: Kernel size of the stem convolution (defaults to ``kernel_size``, which
            is what reproduces the paper's parameter counts).
        dilation_base: Block ``j`` of a stage uses dilation ``dilation_base ** j``: the receptive
            field grows geometrically within a stage.
        max_dilation: Upper bound on the dilation.
        dropout: Dropout between the two convolutions of a residual block.
        max_length_groups: The encoder splits a batch into at most this many groups of similar
            length, each padded only to its own longest row, when that saves at least 10% of the
            positions. Batch-norm statistics are shared by the groups, so this changes the compute,
            never the result; 1 turns it off.
        pooling: How the sequence of output positions becomes one embedding: "mean" or "max", over
            valid (non-padding) positions only.
        max_sequence_length: Longest transcript accepted without truncation (the paper's 12,288).
            (Not ``max_length``: transformers reserves that name for generation.)
        unknown_base_value: Value put in each base channel for N (and, with "uniform", for the
            other IUPAC codes). 0.25 in IsoCLR.
        unknown_base_encoding: "uniform" (every non-ACGT code gets ``unknown_base_value`` in all four
            base channels) or "iupac" (an ambiguity code spreads 1 over the bases it stands for).
        **kwargs: The fields every family shares, listed with their defaults in
            ``sequence_head.SHARED_CONFIG_DEFAULTS`` (contrastive projection ``projection_hidden_size``,
            ``projection_dim``, ``projection_layers``; ``loss_temperature``, ``gene_set_weight_constant``,
            ``mask_fraction``, ``mask_value``; the head's ``classifier_dropout``,
            ``classifier_hidden_size``, ``classifier_zero_init``, ``target_names``, ``target_mean``,
            ``target_std``), then ``PretrainedConfig``'s (``num_labels``, ``problem_type``, ...).
    """

    model_type = "isoclr"

    def __init__(
        self,
        n_tracks: int = 6,
        stem_filters: int = 64,
        stage_filters: tuple[int, ...] | list[int] = (64, 128, 256, 512),
        blocks_per_stage: tuple[int, ...] | list[int] = (3, 4, 6, 3),
        kernel_size: int = 2,
        stem_kernel_size: int | None = None,
        dilation_base: int = 2,  # dilations 1, 2, 4, ... within a stage
        max_dilation: int = 32,  # keeps the widest gap well inside a 384-position output
        dropout: float = 0.1,
        max_length_groups: int = 6,  # both views of a pair differ in length: grouping cuts padding
        pooling: str = "mean",
        max_sequence_length: int = MAX_SEQUENCE_LENGTH,  # the paper's maximum transcript length, 12,288
        unknown_base_value: float = 0.25,
        unknown_base_encoding: str = "uniform",
        **kwargs: Any,
    ) -> None:
        self.n_tracks = int(n_tracks)
        self.stem_filters = int(stem_filters)
        self.stage_filters = [int(f) for f in stage_filters]
        self.blocks_per_stage = [int(b) for b in blocks_per_stage]
        self.kernel_size = int(kernel_size)
        self.stem_kernel_size = int(stem_kernel_size if stem_kernel_size is not None else kernel_size)
        self.dilation_base = int(dilation_base)
        self.max_dilation = int(max_dilation)
        self.dropout = float(dropout)
        self.max_length_groups = int(max_length_groups)
        self.pooling = pooling
        self.max_sequence_length = int(max_sequence_length)
        self.unknown_base_value = float(unknown_base_value)
        self.unknown_base_encoding = unknown_base_encoding
        kwargs = init_shared_fields(self, kwargs)
        auto_map = {**AUTO_MAP, **(kwargs.pop("auto_map", None) or {})}
        # transformers 4.x's pipeline() loads a tokenizer for a remote-code model only when the config
        # names a tokenizer class; the class itself is found through the tokenizer's auto_map.
        kwargs.setdefault("tokenizer_class", "IsoCLRTokenizer")
        super().__init__(**kwargs)
        self.auto_map = auto_map
        self._validate()

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> IsoCLRConfig:
        """Build the config of a named paper size, e.g. ``from_preset("isoclr-s", n_tracks=4)``."""
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
        return cls(**{**PRESETS[name], **overrides})

    @property
    def hidden_size(self) -> int:
        """Width of the pooled embedding (the last stage's channels)."""
        return self.stage_filters[-1]

    @property
    def downsampling(self) -> int:
        """Total length reduction of the encoder: the stem pool and one pool per stage."""
        return 2 ** (1 + len(self.stage_filters))

    def block_dilation(self, block_index: int) -> int:
        """Dilation of block ``block_index`` (0-based) within its stage."""
        return min(self.dilation_base**block_index, self.max_dilation)

    def _validate(self) -> None:
        def choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
            if value not in allowed:
                raise ValueError(f"{name}={value!r} is not supported; choose one of {', '.join(map(str, allowed))}.")

        choice("n_tracks", self.n_tracks, TRACK_CHOICES)
        choice("pooling", self.pooling, POOLING_CHOICES)
        choice("unknown_base_encoding", self.unknown_base_encoding, UNKNOWN_BASE_ENCODINGS)
        if len(self.stage_filters) != len(self.blocks_per_stage) or not self.stage_filters:
            raise ValueError(
                f"stage_filters ({self.stage_filters}) and blocks_per_stage ({self.blocks_per_stage}) "
                "must be non-empty and of the same length: one entry per stage."
            )
        positive = {
            "stem_filters": self.stem_filters,
            "kernel_size": self.kernel_size,
            "stem_kernel_size": self.stem_kernel_size,
            "dilation_base": self.dilation_base,
            "max_dilation": self.max_dilation,
            "max_length_groups": self.max_length_groups,
            "max_sequence_length": self.max_sequence_length,
            **{f"stage_filters[{i}]": f for i, f in enumerate(self.stage_filters)},
            **{f"blocks_per_stage[{i}]": b for i, b in enumerate(self.blocks_per_stage)},
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")
        validate_shared_fields(self)


IsoCLRConfig.register_for_auto_class()

__all__ = ["PRESETS", "IsoCLRConfig"]
