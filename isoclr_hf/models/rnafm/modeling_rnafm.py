"""RNA-FM models (Chen et al. 2022): the encoder, the masked-LM model and a downstream head.

Remote code: copied next to the weights by ``save_pretrained``; imports only torch, transformers and
its siblings, every one of them directly (transformers 4.x copies only the direct relative imports).
``nucleotide_transformer.py`` (the encoder, windows, the masked-LM head and the model classes' behaviour as
mixins), ``configuration_nucleotide.py``, ``tokenization_nucleotide.py`` and ``sequence_head.py`` are
byte-identical in the RNA-FM and RiNALMo folders; ``sequence_head.py`` is the IsoCLR family's
(``tests/models/test_shared_files.py``). This file names the RNA-FM classes, their config class and their
``base_model_prefix``; what they do is the mixins'.

Inputs are :class:`NucleotideTokenizer` ids (``<cls>`` ... ``<eos>``); left padding is moved to the right;
in eval mode a transcript's states do not depend on its batch. Transcripts longer than one window are
windowed (see ``nucleotide_transformer.py``). The models can be built on the meta device; a forward before
the weights are loaded raises ``RuntimeError``.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import PreTrainedModel

from .configuration_nucleotide import NucleotideTransformerConfig  # noqa: F401  (direct import: transformers 4.x)
from .configuration_rnafm import RnaFmConfig
from .nucleotide_transformer import (
    NucleotideMaskedLMMixin,
    NucleotideModelMixin,
    NucleotidePreTrainedMixin,
    NucleotideSequenceClassificationMixin,
)
from .sequence_head import SequenceHeadOutput
from .tokenization_nucleotide import NucleotideTokenizer  # noqa: F401  (copied with the model for AutoTokenizer)


class RnaFmPreTrainedModel(NucleotidePreTrainedMixin, PreTrainedModel):
    """BERT's initialisation; ``base_model_prefix`` ``"rnafm"``: checkpoint keys start with ``"rnafm."``."""

    config_class = RnaFmConfig
    config: RnaFmConfig
    base_model_prefix = "rnafm"


class RnaFmModel(NucleotideModelMixin, RnaFmPreTrainedModel):
    """The RNA-FM encoder: token ids -> per-token states and the mean over nucleotides (``forward``:
    :class:`NucleotideModelMixin`)."""


class RnaFmForMaskedLM(NucleotideMaskedLMMixin, RnaFmPreTrainedModel):
    """RNA-FM with its masked-LM head (decoder tied to the token embedding); the loss is computed when
    ``labels`` are given (-100 marks positions left out; ``forward``: :class:`NucleotideMaskedLMMixin`)."""

    encoder_class = RnaFmModel


@dataclass
class RnaFmSequenceClassifierOutput(SequenceHeadOutput):
    """Output of :class:`RnaFmForSequenceClassification`: the fields of :class:`SequenceHeadOutput`."""


class RnaFmForSequenceClassification(NucleotideSequenceClassificationMixin, RnaFmPreTrainedModel):
    """RNA-FM with a head on the pooled embedding (regression or classification); ``forward`` is
    ``SequenceClassificationMixin``'s, shared by every family."""

    encoder_class = RnaFmModel
    output_class = RnaFmSequenceClassifierOutput


RnaFmModel.register_for_auto_class("AutoModel")
RnaFmForMaskedLM.register_for_auto_class("AutoModelForMaskedLM")
RnaFmForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")

__all__ = [
    "RnaFmForMaskedLM",
    "RnaFmForSequenceClassification",
    "RnaFmModel",
    "RnaFmPreTrainedModel",
    "RnaFmSequenceClassifierOutput",
]
