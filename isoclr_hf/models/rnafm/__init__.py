"""RNA-FM (Chen et al. 2022): an ESM-1b-style masked-language model over ncRNAs.

Files (remote code, copied next to the weights, unless marked):

- ``configuration_rnafm.py``: ``RnaFmConfig`` (``model_type "isoclr_rnafm"``) and the presets;
- ``modeling_rnafm.py``: ``RnaFmModel``, ``RnaFmForMaskedLM``, ``RnaFmForSequenceClassification``;
- ``configuration_nucleotide.py``, ``nucleotide_transformer.py``, ``tokenization_nucleotide.py``: the config
  fields, encoder (with windows for long transcripts) and tokenizer of both masked-LM families, byte-identical
  in ``rnafm/`` and ``rinalmo/``; ``sequence_head.py``: the IsoCLR family's shared head
  (``tests/models/test_shared_files.py`` holds the copies equal);
- ``conversion_rnafm.py`` (package only): multimolecule folders and the authors' checkpoints -> model folders
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

from .configuration_rnafm import PRESETS, RnaFmConfig
from .modeling_rnafm import RnaFmForMaskedLM, RnaFmForSequenceClassification, RnaFmModel, RnaFmSequenceClassifierOutput
from .tokenization_nucleotide import NucleotideTokenizer

AutoConfig.register(RnaFmConfig.model_type, RnaFmConfig, exist_ok=True)
AutoModel.register(RnaFmConfig, RnaFmModel, exist_ok=True)
AutoModelForMaskedLM.register(RnaFmConfig, RnaFmForMaskedLM, exist_ok=True)
AutoModelForSequenceClassification.register(RnaFmConfig, RnaFmForSequenceClassification, exist_ok=True)
AutoTokenizer.register(RnaFmConfig, slow_tokenizer_class=NucleotideTokenizer, exist_ok=True)

__all__ = [
    "PRESETS",
    "NucleotideTokenizer",
    "RnaFmConfig",
    "RnaFmForMaskedLM",
    "RnaFmForSequenceClassification",
    "RnaFmModel",
    "RnaFmSequenceClassifierOutput",
]
