"""Orthrus (Fradkin et al. 2024): a Mamba encoder over IsoCLR's six (or four) tracks, pretrained contrastively.

Files (remote code, copied next to the weights, unless marked):

- ``configuration_orthrus.py``: ``OrthrusConfig`` (``model_type "isoclr_orthrus"``) and the presets;
- ``encoder_orthrus.py``: the input tracks, the pre-norm Mamba block and ``OrthrusMixer`` (transformers'
  ``MambaMixer``: its CUDA kernels where installed, else a pure-torch scan with a linear-time backward);
- ``modeling_orthrus.py``: ``OrthrusModel``, ``OrthrusForSequenceClassification``;
- ``track_inputs.py``, ``track_vocabulary.py``, ``sequence_head.py``: byte-identical copies of the
  IsoCLR family's files (transformers 4.x copies only a module's direct relative imports, so each family
  folder holds the files its models import; ``tests/models/test_shared_files.py`` checks that every file
  name found in more than one family folder is the same file);
- ``contrastive_orthrus.py`` (package only, not remote code): ``OrthrusForContrastivePretraining``;
- ``conversion_orthrus.py`` (package only): Orthrus checkpoints -> model folders (``isoclr convert-orthrus``).

The tokenizer is IsoCLR's ``IsoCLRTokenizer``; saved Orthrus folders carry its files. Importing this
package registers the classes with the Auto classes.
"""

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from ..isoclr.tokenization_isoclr import IsoCLRTokenizer
from .configuration_orthrus import PRESETS, OrthrusConfig
from .contrastive_orthrus import OrthrusForContrastivePretraining
from .modeling_orthrus import (
    OrthrusForSequenceClassification,
    OrthrusModel,
    OrthrusModelOutput,
    OrthrusSequenceClassifierOutput,
)

AutoConfig.register(OrthrusConfig.model_type, OrthrusConfig, exist_ok=True)
AutoModel.register(OrthrusConfig, OrthrusModel, exist_ok=True)
AutoModelForSequenceClassification.register(OrthrusConfig, OrthrusForSequenceClassification, exist_ok=True)
AutoTokenizer.register(OrthrusConfig, slow_tokenizer_class=IsoCLRTokenizer, exist_ok=True)

__all__ = [
    "PRESETS",
    "OrthrusConfig",
    "OrthrusForContrastivePretraining",
    "OrthrusForSequenceClassification",
    "OrthrusModel",
    "OrthrusModelOutput",
    "OrthrusSequenceClassifierOutput",
]
