"""IsoCLR (Fradkin et al. 2023): a dilated residual CNN over six tracks, pretrained contrastively.

Files (each is remote code, copied next to the weights):

- ``configuration_isoclr.py``: ``IsoCLRConfig`` and the paper's presets;
- ``track_vocabulary.py``: the nucleotide vocabulary shared by the tokenizer and the model;
- ``tokenization_isoclr.py``: ``IsoCLRTokenizer`` (sequence + exon ends + CDS -> model inputs);
- ``track_inputs.py``: the checks every forward runs on its inputs, the float tracks, the masking
  augmentation;
- ``sequence_head.py``: the downstream head every family shares (head, label checks, losses,
  output, the config fields every family carries);
- ``encoder_isoclr.py``: the CNN;
- ``length_groups.py``: the batch planner (length groups that cut padding);
- ``loss_isoclr.py``: the decoupled contrastive loss with the paper's Eq. 3 weights;
- ``modeling_isoclr.py``: ``IsoCLRModel``, ``IsoCLRForSequenceClassification``,
  ``IsoCLRForContrastivePretraining``;
- ``pipeline_isoclr.py``: the ``rna-embedding`` and ``rna-property`` pipelines.

Importing this package registers the classes with the Auto classes and the pipelines, so saved
models load with or without ``trust_remote_code`` when the package is installed.
"""

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from . import pipeline_isoclr  # noqa: F401  (registers the rna-embedding and rna-property pipelines)
from .configuration_isoclr import PRESETS, IsoCLRConfig
from .loss_isoclr import DecoupledContrastiveLoss, gather_with_gradients, gene_set_weights
from .modeling_isoclr import (
    IsoCLRContrastiveOutput,
    IsoCLRForContrastivePretraining,
    IsoCLRForSequenceClassification,
    IsoCLRModel,
    IsoCLRModelOutput,
    IsoCLRSequenceClassifierOutput,
)
from .tokenization_isoclr import IsoCLRTokenizer

AutoConfig.register(IsoCLRConfig.model_type, IsoCLRConfig, exist_ok=True)
AutoModel.register(IsoCLRConfig, IsoCLRModel, exist_ok=True)
AutoModelForSequenceClassification.register(IsoCLRConfig, IsoCLRForSequenceClassification, exist_ok=True)
AutoTokenizer.register(IsoCLRConfig, slow_tokenizer_class=IsoCLRTokenizer, exist_ok=True)

__all__ = [
    "PRESETS",
    "DecoupledContrastiveLoss",
    "IsoCLRConfig",
    "IsoCLRContrastiveOutput",
    "IsoCLRForContrastivePretraining",
    "IsoCLRForSequenceClassification",
    "IsoCLRModel",
    "IsoCLRModelOutput",
    "IsoCLRSequenceClassifierOutput",
    "IsoCLRTokenizer",
    "gather_with_gradients",
    "gene_set_weights",
]
