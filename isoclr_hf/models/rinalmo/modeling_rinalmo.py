"""RiNALMo models (Penic et al. 2024): the encoder, the masked-LM model and a downstream head.

Remote code: copied next to the weights by ``save_pretrained``; imports only torch, transformers and
its siblings, every one of them directly (transformers 4.x copies only the direct relative imports).
``nucleotide_transformer.py`` (the encoder, windows, the masked-LM head), ``configuration_nucleotide.py``,
``tokenization_nucleotide.py``
and ``sequence_head.py`` are byte-identical in the RNA-FM and RiNALMo folders; ``sequence_head.py`` is the
IsoCLR family's (``tests/models/test_shared_files.py``).

Inputs are :class:`NucleotideTokenizer` ids (``<cls>`` ... ``<eos>``); left padding is moved to the right;
in eval mode a transcript's states do not depend on its batch. Transcripts longer than one window are
windowed (see ``nucleotide_transformer.py``). The models can be built on the meta device; a forward before
the weights are loaded raises ``RuntimeError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel

from .configuration_nucleotide import NucleotideTransformerConfig  # noqa: F401  (direct import: transformers 4.x)
from .configuration_rinalmo import RiNALMoConfig
from .nucleotide_transformer import (
    MaskedLMHead,
    NucleotideEmbeddings,
    NucleotideEncoderOutput,
    NucleotideLayerStack,
    NucleotideMaskedLMOutput,
    encode,
    init_weights,
    masked_lm_loss,
)
from .sequence_head import SequenceClassificationHead, SequenceClassificationMixin, SequenceHeadOutput
from .tokenization_nucleotide import NucleotideTokenizer  # noqa: F401  (copied with the model for AutoTokenizer)


class RiNALMoPreTrainedModel(PreTrainedModel):
    """BERT's initialisation; ``base_model_prefix`` ``"rinalmo"``."""

    config_class = RiNALMoConfig
    config: RiNALMoConfig
    base_model_prefix = "rinalmo"
    main_input_name = "input_ids"
    _no_split_modules = ["NucleotideLayer"]
    _supports_sdpa = True

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        init_weights(module, self.config)


class RiNALMoModel(RiNALMoPreTrainedModel):
    """The RiNALMo encoder: token ids -> per-token states and the mean over nucleotides."""

    def __init__(self, config: RiNALMoConfig) -> None:
        super().__init__(config)
        self.embeddings = NucleotideEmbeddings(config)
        self.encoder = NucleotideLayerStack(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.word_embeddings

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> NucleotideEncoderOutput | tuple[torch.Tensor, ...]:
        """Encode a batch.

        Args:
            input_ids: Token ids from :class:`NucleotideTokenizer`. Shape: (batch, length).
            attention_mask: 1 at valid positions, one contiguous run per row (left padding is moved
                to the right). Default: ``input_ids != 0``. Shape: (batch, length).
            output_hidden_states: Also return the embedding output and each layer's output.
            return_dict: Return a :class:`NucleotideEncoderOutput` (default) or a tuple.
            **kwargs: ``token_type_ids`` (all zero from generic tokenizers) is accepted and ignored;
                anything else is refused.

        Raises:
            ValueError: On malformed input, naming the input and the rows (also rows longer than
                ``config.max_sequence_length``).
            RuntimeError: While the weights are on the meta device.
        """
        _refuse_unknown(type(self).__name__, kwargs)
        if return_dict is None:
            return_dict = bool(getattr(self.config, "return_dict", True))
        hidden = bool(output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states)
        output, _ = encode(self, input_ids, attention_mask, hidden)
        return output if return_dict else output.to_tuple()


def _refuse_unknown(owner: str, kwargs: dict[str, Any]) -> None:
    unknown = sorted(set(kwargs) - {"token_type_ids"})
    if unknown:
        raise TypeError(f"{owner}.forward got unexpected arguments: {', '.join(unknown)}.")


class RiNALMoForMaskedLM(RiNALMoPreTrainedModel):
    """RiNALMo with its masked-LM head; the loss is computed when
    ``labels`` are given (-100 marks positions left out)."""

    def __init__(self, config: RiNALMoConfig) -> None:
        super().__init__(config)
        self.rinalmo = RiNALMoModel(config)
        self.lm_head = MaskedLMHead(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.rinalmo.embeddings.word_embeddings

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> NucleotideMaskedLMOutput | tuple[torch.Tensor, ...]:
        """Scores over the vocabulary at every position, and the loss when ``labels`` are given.

        Args:
            input_ids, attention_mask, output_hidden_states, return_dict: As in :meth:`RiNALMoModel.forward`.
            labels: Token ids to predict, -100 where the loss ignores a position; in the layout of
                ``input_ids`` (left padding allowed). Shape: (batch, length).

        Returns:
            :class:`NucleotideMaskedLMOutput`; ``logits`` are right-padded like ``last_hidden_state``.
        """
        _refuse_unknown(type(self).__name__, kwargs)
        if return_dict is None:
            return_dict = bool(getattr(self.config, "return_dict", True))
        hidden = bool(output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states)
        encoded, starts = encode(self.rinalmo, input_ids, attention_mask, hidden)
        logits = self.lm_head(encoded.last_hidden_state, self.rinalmo.embeddings.word_embeddings.weight)
        loss = None
        if labels is not None:
            loss = masked_lm_loss(logits, torch.as_tensor(labels), starts, encoded.output_mask)
        output = NucleotideMaskedLMOutput(loss=loss, logits=logits, last_hidden_state=encoded.last_hidden_state,
                                          hidden_states=encoded.hidden_states)  # fmt: skip
        return output if return_dict else output.to_tuple()


@dataclass
class RiNALMoSequenceClassifierOutput(SequenceHeadOutput):
    """Output of :class:`RiNALMoForSequenceClassification`: the fields of :class:`SequenceHeadOutput`."""


class RiNALMoForSequenceClassification(SequenceClassificationMixin, RiNALMoPreTrainedModel):
    """RiNALMo with a head on the pooled embedding (regression or classification); ``forward`` is
    :class:`SequenceClassificationMixin`'s, shared by every family."""

    output_class = RiNALMoSequenceClassifierOutput

    def __init__(self, config: RiNALMoConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.rinalmo = RiNALMoModel(config)  # base_model_prefix: checkpoint keys start with "rinalmo."
        self.classifier = SequenceClassificationHead(config)
        self.post_init()


RiNALMoModel.register_for_auto_class("AutoModel")
RiNALMoForMaskedLM.register_for_auto_class("AutoModelForMaskedLM")
RiNALMoForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")

__all__ = [
    "RiNALMoForMaskedLM",
    "RiNALMoForSequenceClassification",
    "RiNALMoModel",
    "RiNALMoPreTrainedModel",
    "RiNALMoSequenceClassifierOutput",
]
