"""isoclr-hf: IsoCLR RNA foundation models (Fradkin et al. 2023) in Hugging Face format.

Importing the package registers the IsoCLR classes with the transformers Auto classes, so saved
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

__version__ = "0.1.0"

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
