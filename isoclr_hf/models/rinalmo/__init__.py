"""RiNALMo (Penic et al. 2024): a masked-language model with rotary positions and a SwiGLU feed-forward.

Files (remote code, copied next to the weights, unless marked):

- ``configuration_rinalmo.py``: ``RiNALMoConfig`` (``model_type "isoclr_rinalmo"``) and the presets;
- ``modeling_rinalmo.py``: ``RiNALMoModel``, ``RiNALMoForMaskedLM``, ``RiNALMoForSequenceClassification``;
- ``configuration_nucleotide.py``, ``nucleotide_transformer.py``, ``tokenization_nucleotide.py``: the config
  fields, encoder (with windows for long transcripts) and tokenizer of both masked-LM families, byte-identical
  in ``rnafm/`` and ``rinalmo/``; ``sequence_head.py``: the IsoCLR family's shared head
  (``tests/models/test_shared_files.py`` holds the copies equal);
- ``conversion_rinalmo.py`` (package only): multimolecule folders and the authors' checkpoints -> model folders
  (``isoclr convert``).

Importing this package registers the classes with the Auto classes.
"""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
)

from .configuration_rinalmo import PRESETS, RiNALMoConfig
from .modeling_rinalmo import (
    RiNALMoForMaskedLM,
    RiNALMoForSequenceClassification,
    RiNALMoModel,
    RiNALMoSequenceClassifierOutput,
)
from .tokenization_nucleotide import NucleotideTokenizer

AutoConfig.register(RiNALMoConfig.model_type, RiNALMoConfig, exist_ok=True)
AutoModel.register(RiNALMoConfig, RiNALMoModel, exist_ok=True)
AutoModelForMaskedLM.register(RiNALMoConfig, RiNALMoForMaskedLM, exist_ok=True)
AutoModelForSequenceClassification.register(RiNALMoConfig, RiNALMoForSequenceClassification, exist_ok=True)
AutoTokenizer.register(RiNALMoConfig, slow_tokenizer_class=NucleotideTokenizer, exist_ok=True)

__all__ = [
    "PRESETS",
    "NucleotideTokenizer",
    "RiNALMoConfig",
    "RiNALMoForMaskedLM",
    "RiNALMoForSequenceClassification",
    "RiNALMoModel",
    "RiNALMoSequenceClassifierOutput",
]
