"""IsoCLR pipelines: ``rna-embedding`` (transcript -> pooled embedding) and ``rna-property`` (transcript ->
named predictions in original units).

Remote code: copied next to the weights and listed in ``config.json`` under ``custom_pipelines``, so
``pipeline(model=path_or_repo_id, trust_remote_code=True)`` builds the right pipeline without this package
installed. Imports only numpy, torch and transformers.

Each input is a sequence string, or a dict ``{"sequence": str, "cds": (start, end) | None,
"exon_ends": [int, ...] | None, "name": str}`` (annotations as :class:`IsoCLRTokenizer` takes them:
0-based half-open CDS including the stop codon, cumulative exon ends), or a list of these::

    embed = pipeline(model="org/isoclr-s", trust_remote_code=True)  # encoder -> rna-embedding
    embed({"sequence": "ACGU...", "cds": (5, 302), "exon_ends": [38, 215, 334]})  # -> [0.12, ...]
    predict = pipeline(model="org/isoclr-s-half-life", trust_remote_code=True)  # head -> rna-property
    predict("ACGU...")  # -> {"half_life": 1.7}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from transformers import AutoModel, AutoModelForSequenceClassification, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

EMBEDDING_TASK = "rna-embedding"
PROPERTY_TASK = "rna-property"
INPUT_KEYS = ("sequence", "cds", "exon_ends", "name")


def transcript_from_input(item: Any) -> dict[str, Any]:
    """Normalise one pipeline input to ``{"sequence", "cds", "exon_ends", "name"}``.

    Raises:
        ValueError: for anything but a string or a dict with a ``"sequence"`` and known keys.
    """
    if isinstance(item, str):
        return {"sequence": item, "cds": None, "exon_ends": None, "name": None}
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - set(INPUT_KEYS))
        if unknown or "sequence" not in item:
            raise ValueError(
                f"An IsoCLR pipeline input dict needs a 'sequence' and may have {', '.join(INPUT_KEYS[1:])}; "
                f"got keys {sorted(item)}."
            )
        # Positions go to the tokenizer as given: it refuses floats, strings and booleans by name
        # instead of flooring them.
        return {
            "sequence": item["sequence"],
            "cds": item.get("cds"),
            "exon_ends": item.get("exon_ends"),
            "name": item.get("name"),
        }
    raise ValueError(
        f"An IsoCLR pipeline input is a sequence string or a dict with 'sequence', got {type(item).__name__}."
    )


class _IsoCLRPipeline(Pipeline):
    """Shared preprocessing: one transcript -> a batch of one from the IsoCLR tokenizer."""

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_video_processor = False

    def _sanitize_parameters(
        self, truncation: bool | None = None, **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected arguments: {', '.join(sorted(kwargs))}.")
        preprocess = {} if truncation is None else {"truncation": truncation}
        return preprocess, {}, {}

    def preprocess(self, inputs: Any, truncation: bool = False) -> dict[str, torch.Tensor]:
        transcript = transcript_from_input(inputs)
        return self.tokenizer(
            transcript["sequence"],
            exon_ends=transcript["exon_ends"],
            cds=transcript["cds"],
            names=None if transcript["name"] is None else [transcript["name"]],
            truncation=truncation,
            return_tensors="pt",
        )


class IsoCLREmbeddingPipeline(_IsoCLRPipeline):
    """``rna-embedding``: a transcript -> its pooled IsoCLR embedding, a list of ``hidden_size`` floats.

    Works with an encoder or a head checkpoint (the head's encoder embedding).
    """

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        outputs = self.model(**model_inputs)
        pooled = getattr(outputs, "pooler_output", None)
        if pooled is None:
            pooled = outputs.embeddings
        return {"embedding": pooled}  # (1, hidden_size)

    def postprocess(self, model_outputs: dict[str, torch.Tensor]) -> list[float]:
        return model_outputs["embedding"][0].float().tolist()


class IsoCLRPropertyPipeline(_IsoCLRPipeline):
    """``rna-property``: a transcript -> ``{target name: prediction}``.

    Regression heads give predictions in the targets' original units (``config.target_mean`` and
    ``target_std`` undone); classification heads give each label's probability.
    """

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        outputs = self.model(**model_inputs)
        if outputs.predictions is not None:
            return {"values": outputs.predictions}  # (1, num_labels), original units
        config = self.model.config
        if config.problem_type == "multi_label_classification":
            return {"values": torch.sigmoid(outputs.logits)}
        return {"values": torch.softmax(outputs.logits, dim=-1)}

    def postprocess(self, model_outputs: dict[str, torch.Tensor]) -> dict[str, float]:
        values = model_outputs["values"][0].float().tolist()
        return dict(zip(target_names(self.model.config), values))


def target_names(config: Any) -> list[str]:
    """Names of a head's outputs: ``config.target_names``, else its ``id2label`` labels."""
    if getattr(config, "target_names", None):
        return list(config.target_names)
    return [config.id2label[i] for i in range(config.num_labels)]


def custom_pipelines_entry(task: str) -> dict[str, Any]:
    """The ``config.json`` ``custom_pipelines`` entry for ``task`` (what transformers reads back)."""
    if task == EMBEDDING_TASK:
        return {"impl": f"pipeline_isoclr.{IsoCLREmbeddingPipeline.__name__}", "pt": ["AutoModel"], "type": "text"}
    if task == PROPERTY_TASK:
        return {
            "impl": f"pipeline_isoclr.{IsoCLRPropertyPipeline.__name__}",
            "pt": ["AutoModelForSequenceClassification"],
            "type": "text",
        }
    raise ValueError(f"Unknown IsoCLR pipeline task {task!r}; choose {EMBEDDING_TASK!r} or {PROPERTY_TASK!r}.")


def register_pipelines() -> None:
    """Make both task names known to ``transformers.pipeline`` in this process.

    A saved model lists one task in ``custom_pipelines`` (transformers picks it when no task is given);
    once this module is imported, ``pipeline("rna-embedding", model=head_path, trust_remote_code=True)``
    also works on a head checkpoint.
    """
    for task, pipeline_class, model_class in (
        (EMBEDDING_TASK, IsoCLREmbeddingPipeline, AutoModel),
        (PROPERTY_TASK, IsoCLRPropertyPipeline, AutoModelForSequenceClassification),
    ):
        if task not in PIPELINE_REGISTRY.supported_tasks:
            PIPELINE_REGISTRY.register_pipeline(task, pipeline_class=pipeline_class, pt_model=model_class, type="text")


register_pipelines()

__all__ = [
    "EMBEDDING_TASK",
    "PROPERTY_TASK",
    "IsoCLREmbeddingPipeline",
    "IsoCLRPropertyPipeline",
    "custom_pipelines_entry",
    "register_pipelines",
    "target_names",
    "transcript_from_input",
]
