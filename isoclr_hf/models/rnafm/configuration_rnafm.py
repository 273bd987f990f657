"""RNA-FM configuration.

Remote code: copied next to the weights by ``save_pretrained``; imports only transformers and the
siblings ``configuration_nucleotide.py`` (the fields and checks of both masked-LM families) and
``sequence_head.py``.

``model_type`` is ``"isoclr_rnafm"``, not ``"rnafm"``: multimolecule's RNA-FM uses ``"rnafm"`` with its
own code and field names. A distinct name keeps transformers' registry, ``isoclr convert`` and the
package's strict loader from taking one for the other.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .configuration_nucleotide import NucleotideTransformerConfig
from .sequence_head import SHARED_CONFIG_DEFAULTS  # noqa: F401  (transformers 4.x copies only direct imports)

# RNA-FM (Chen et al. 2022): ESM-1b-style, 12 layers, 640 hidden, 20 heads, 5,120 intermediate, 1,026
# learned positions; 99.5M parameters with the masked-LM head (tests count them). And a CPU-sized one.
PRESETS: dict[str, dict[str, Any]] = {
    "rnafm": {"hidden_size": 640, "num_hidden_layers": 12, "num_attention_heads": 20, "intermediate_size": 5120},
    "rnafm-cpu-small": {"hidden_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 512},
}

AUTO_MAP = {
    "AutoConfig": "configuration_rnafm.RnaFmConfig",
    "AutoModel": "modeling_rnafm.RnaFmModel",
    "AutoModelForMaskedLM": "modeling_rnafm.RnaFmForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_rnafm.RnaFmForSequenceClassification",
    "AutoTokenizer": ["tokenization_nucleotide.NucleotideTokenizer", None],
}


class RnaFmConfig(NucleotideTransformerConfig):
    """Configuration of an RNA-FM encoder, its masked-LM head and its downstream heads.

    The fields are :class:`NucleotideTransformerConfig`'s; the defaults are the published RNA-FM: learned
    absolute positions from offset 2 (ESM-1b's padding_idx + 1; 1,026 rows, so 1,022 nucleotides a
    window), a LayerNorm after the embeddings, biases on the attention projections, a GELU feed-forward,
    the attention output added to the un-normalised input, the masked-LM decoder tied to the token
    embedding, no token dropout. :meth:`from_preset` builds the named sizes.
    """

    model_type = "isoclr_rnafm"
    defaults: ClassVar[dict[str, Any]] = {
        **PRESETS["rnafm"],
        "max_position_embeddings": 1026,
        "position_offset": 2,
        "position_embedding_type": "absolute",
        "feed_forward": "gelu",
        "attention_bias": True,
        "embedding_layer_norm": True,
        "token_dropout": False,
        "residual_from_normalised": False,
        "decoder_tied_to_embeddings": True,
    }
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS
    family_auto_map: ClassVar[dict[str, Any]] = AUTO_MAP

    def __init__(self, **kwargs: Any) -> None:  # its own: transformers 5 makes an __init__-less config a dataclass
        super().__init__(**kwargs)


RnaFmConfig.register_for_auto_class()

__all__ = ["PRESETS", "RnaFmConfig"]
