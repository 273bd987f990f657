"""RiNALMo configuration.

Remote code: copied next to the weights by ``save_pretrained``; imports only transformers and the
siblings ``configuration_nucleotide.py`` (the fields and checks of both masked-LM families) and
``sequence_head.py``.

``model_type`` is ``"isoclr_rinalmo"``, not ``"rinalmo"``: multimolecule's RiNALMo uses ``"rinalmo"`` with
its own code and field names. A distinct name keeps transformers' registry, ``isoclr convert`` and the
package's strict loader from taking one for the other.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .configuration_nucleotide import NucleotideTransformerConfig
from .sequence_head import SHARED_CONFIG_DEFAULTS  # noqa: F401  (transformers 4.x copies only direct imports)


def _swiglu_width(hidden_size: int) -> int:
    """RiNALMo's SwiGLU branch width: int(2/3 * 4 * hidden_size) (its transition_factor of 4)."""
    return int(2 / 3 * 4 * hidden_size)


# RiNALMo (Penic et al. 2024; rinalmo/config.py): 20 heads everywhere; giga 1,280 x 33 (651M parameters
# with the masked-LM head, tests count them), mega 640 x 30, micro 480 x 12, nano 320 x 6. And a CPU-sized one.
PRESETS: dict[str, dict[str, Any]] = {
    name: {"hidden_size": width, "num_hidden_layers": layers, "num_attention_heads": heads,
           "intermediate_size": _swiglu_width(width)}
    for name, width, layers, heads in (("rinalmo-giga", 1280, 33, 20), ("rinalmo-mega", 640, 30, 20),
                                       ("rinalmo-micro", 480, 12, 20), ("rinalmo-nano", 320, 6, 20),
                                       ("rinalmo-cpu-small", 128, 4, 4))
}  # fmt: skip

AUTO_MAP = {
    "AutoConfig": "configuration_rinalmo.RiNALMoConfig",
    "AutoModel": "modeling_rinalmo.RiNALMoModel",
    "AutoModelForMaskedLM": "modeling_rinalmo.RiNALMoForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_rinalmo.RiNALMoForSequenceClassification",
    "AutoTokenizer": ["tokenization_nucleotide.NucleotideTokenizer", None],
}


class RiNALMoConfig(NucleotideTransformerConfig):
    """Configuration of a RiNALMo encoder, its masked-LM head and its downstream heads.

    The fields are :class:`NucleotideTransformerConfig`'s; the defaults are the published RiNALMo giga:
    rotary positions (1,024 tokens a window: 1,022 nucleotides), no embedding LayerNorm, no biases on
    the attention projections, a SwiGLU feed-forward with a learnable Swish beta, the attention output
    added to the *normalised* input (RiNALMo's ``TransformerBlock``), ESM's token dropout, an untied
    masked-LM decoder. ``intermediate_size`` is the SwiGLU branch width (``int(2/3 * 4 * hidden)``).
    :meth:`from_preset` builds the named sizes.
    """

    model_type = "isoclr_rinalmo"
    defaults: ClassVar[dict[str, Any]] = {
        **PRESETS["rinalmo-giga"],
        "max_position_embeddings": 1024,
        "position_offset": 0,
        "position_embedding_type": "rotary",
        "feed_forward": "swiglu",
        "attention_bias": False,
        "embedding_layer_norm": False,
        "token_dropout": True,
        "residual_from_normalised": True,
        "decoder_tied_to_embeddings": False,
    }
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS
    family_auto_map: ClassVar[dict[str, Any]] = AUTO_MAP

    def __init__(self, **kwargs: Any) -> None:  # its own: transformers 5 makes an __init__-less config a dataclass
        super().__init__(**kwargs)


RiNALMoConfig.register_for_auto_class()

__all__ = ["PRESETS", "RiNALMoConfig"]
