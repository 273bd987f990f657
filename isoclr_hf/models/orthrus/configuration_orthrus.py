"""Orthrus configuration.

Remote code: this file is copied next to the weights by ``save_pretrained``; it imports only
transformers and the siblings ``sequence_head.py`` (the fields every family shares, and their checks)
and ``track_vocabulary.py``.

``model_type`` is ``"isoclr_orthrus"``, not ``"orthrus"``: the Hub's own Orthrus repositories
(``quietflamingo/orthrus-*``) use ``"orthrus"`` with their own remote code (``orthrus_hf.py``, which
needs mamba-ssm and CUDA) and their own field names (``ssm_model_dim``, ``ssm_n_layers``). A distinct
name keeps transformers' registry, ``isoclr convert-orthrus`` and this package's strict loader from
taking one for the other.
"""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig

from .sequence_head import init_shared_fields, validate_shared_fields
from .track_vocabulary import MAX_SEQUENCE_LENGTH

# The published Orthrus sizes (Fradkin et al. 2024; Orthrus's config/model.yaml) and a CPU-sized one.
# Parameter counts of the encoders: 10,179,072 (large, 6 tracks), 1,316,608 (base, 4 tracks); tests
# check them exactly.
PRESETS: dict[str, dict[str, Any]] = {
    "orthrus-large": {"n_tracks": 6, "hidden_size": 512, "num_hidden_layers": 6},  # mamba_deep
    "orthrus-base": {"n_tracks": 4, "hidden_size": 256, "num_hidden_layers": 3},  # mamba_base
    "orthrus-cpu-small": {"n_tracks": 6, "hidden_size": 64, "num_hidden_layers": 2},
}
# `--model orthrus` in the pretraining script means the large 6-track model, Orthrus's main release.
PRESET_ALIASES = {"orthrus": "orthrus-large"}

TRACK_CHOICES = (4, 6)
UNKNOWN_BASE_ENCODINGS = ("uniform", "iupac")

# Every Auto class the package supports, written into every saved config whichever class was saved.
AUTO_MAP = {
    "AutoConfig": "configuration_orthrus.OrthrusConfig",
    "AutoModel": "modeling_orthrus.OrthrusModel",
    "AutoModelForSequenceClassification": "modeling_orthrus.OrthrusForSequenceClassification",
    "AutoTokenizer": ["tokenization_isoclr.IsoCLRTokenizer", None],
}


class OrthrusConfig(PretrainedConfig):
    """Configuration of an Orthrus Mamba encoder, its contrastive head and its downstream heads.

    Orthrus (Fradkin et al. 2024): a Linear embedding of the tracks, ``num_hidden_layers`` pre-norm
    Mamba blocks (LayerNorm with bias, then the Mamba mixer; one direction) and a final LayerNorm.
    Defaults are the published large 6-track model; :meth:`from_preset` builds the named sizes.

    Args:
        n_tracks: Input tracks: 6 (one-hot A/C/G/T, codon starts, exon ends) or 4 (sequence only).
        hidden_size: Model width ``d`` (Orthrus's ``ssm_model_dim``).
        num_hidden_layers: Mamba blocks (Orthrus's ``ssm_n_layers``).
        state_size: SSM state size per channel (mamba-ssm's ``d_state``).
        expand: Inner width of the mixer is ``expand * hidden_size``.
        conv_kernel: Width of the mixer's causal depthwise convolution.
        time_step_rank: Rank of the Δ projection; ``None``: ``ceil(hidden_size / 16)`` as in mamba-ssm.
        layer_norm_epsilon: Epsilon of every LayerNorm.
        max_sequence_length: Longest transcript accepted without truncation (12,288 as for IsoCLR).
        unknown_base_value: Value in each base channel for N (and, with "uniform", the other IUPAC codes).
        unknown_base_encoding: "uniform" or "iupac", as in :class:`IsoCLRConfig`.
        **kwargs: The fields every family shares (``sequence_head.SHARED_CONFIG_DEFAULTS``: contrastive
            projection, loss and masking, the downstream head and its targets), then
            ``PretrainedConfig``'s.
    """

    model_type = "isoclr_orthrus"

    def __init__(
        self,
        n_tracks: int = 6,
        hidden_size: int = 512,  # Orthrus large: d = 512
        num_hidden_layers: int = 6,  # Orthrus large: 6 blocks
        state_size: int = 16,  # mamba-ssm default d_state
        expand: int = 2,  # mamba-ssm default: d_inner = 2 d
        conv_kernel: int = 4,  # mamba-ssm default d_conv
        time_step_rank: int | None = None,  # None: ceil(d / 16), mamba-ssm's "auto"
        layer_norm_epsilon: float = 1e-5,  # Orthrus's nn.LayerNorm default
        max_sequence_length: int = MAX_SEQUENCE_LENGTH,
        unknown_base_value: float = 0.25,
        unknown_base_encoding: str = "uniform",
        **kwargs: Any,
    ) -> None:
        self.n_tracks = int(n_tracks)
        self.hidden_size = int(hidden_size)
        self.num_hidden_layers = int(num_hidden_layers)
        self.state_size = int(state_size)
        self.expand = int(expand)
        self.conv_kernel = int(conv_kernel)
        self.time_step_rank = int(time_step_rank) if time_step_rank is not None else -(-self.hidden_size // 16)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.max_sequence_length = int(max_sequence_length)
        self.unknown_base_value = float(unknown_base_value)
        self.unknown_base_encoding = unknown_base_encoding
        kwargs = init_shared_fields(self, kwargs)
        auto_map = {**AUTO_MAP, **(kwargs.pop("auto_map", None) or {})}
        # transformers 4.x's pipeline() loads a remote tokenizer only when the config names its class.
        kwargs.setdefault("tokenizer_class", "IsoCLRTokenizer")
        super().__init__(**kwargs)
        self.auto_map = auto_map
        self._validate()

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> OrthrusConfig:
        """Build the config of a named size, e.g. ``from_preset("orthrus-base")``."""
        name = PRESET_ALIASES.get(name, name)
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join([*PRESETS, *PRESET_ALIASES])}.")
        return cls(**{**PRESETS[name], **overrides})

    @property
    def intermediate_size(self) -> int:
        """Inner width of each mixer (mamba-ssm's ``d_inner``)."""
        return self.expand * self.hidden_size

    @property
    def downsampling(self) -> int:
        """Length reduction of the encoder: none, one state per nucleotide."""
        return 1

    def _validate(self) -> None:
        for name, value, allowed in (
            ("n_tracks", self.n_tracks, TRACK_CHOICES),
            ("unknown_base_encoding", self.unknown_base_encoding, UNKNOWN_BASE_ENCODINGS),
        ):
            if value not in allowed:
                raise ValueError(f"{name}={value!r} is not supported; choose one of {', '.join(map(str, allowed))}.")
        positive = {
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_hidden_layers,
            "state_size": self.state_size,
            "expand": self.expand,
            "conv_kernel": self.conv_kernel,
            "time_step_rank": self.time_step_rank,
            "max_sequence_length": self.max_sequence_length,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}.")
        if self.layer_norm_epsilon <= 0:
            raise ValueError(f"layer_norm_epsilon must be positive, got {self.layer_norm_epsilon}.")
        validate_shared_fields(self)


OrthrusConfig.register_for_auto_class()

__all__ = ["PRESETS", "PRESET_ALIASES", "OrthrusConfig"]
