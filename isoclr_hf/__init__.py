"""isoclr-hf: IsoCLR RNA foundation models (Fradkin et al. 2023) in Hugging Face format.

The models live in ``isoclr_hf.models`` (one folder per family); importing the package registers
them with the transformers Auto classes, so saved models load with or without
``trust_remote_code`` when the package is installed.
"""

from .models.isoclr import (
    PRESETS,
    DecoupledContrastiveLoss,
    IsoCLRConfig,
    IsoCLRContrastiveOutput,
    IsoCLRForContrastivePretraining,
    IsoCLRForSequenceClassification,
    IsoCLRModel,
    IsoCLRModelOutput,
    IsoCLRSequenceClassifierOutput,
    IsoCLRTokenizer,
    gather_with_gradients,
    gene_set_weights,
)

__version__ = "0.1.0"

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
