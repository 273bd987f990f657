"""Tiny randomly initialised IsoCLR models for publishing tests, and the inputs they are run on."""

from __future__ import annotations

import torch

from isoclr_hf import IsoCLRForSequenceClassification, IsoCLRModel, IsoCLRTokenizer
from tests.tiny_models import tiny_config

# A coding transcript with three exons and a non-coding one, in the pipelines' input forms.
CODING = {"sequence": "ATGGCCAAGTTTGGCCTGAAATAGGCCGCATTTAAGGCTTAGCAACG", "cds": (0, 24), "exon_ends": [10, 30, 47]}
NON_CODING = "GGCUUAGCAUUUACGNACGUAGCUA"


def tiny_head(seed: int = 0) -> IsoCLRForSequenceClassification:
    """A regression head on half-life with target normalisation; non-zero last layer so outputs vary."""
    torch.manual_seed(seed)
    config = tiny_config(
        target_names=["half_life"], target_mean=[4.0], target_std=[1.5], classifier_zero_init=False
    )
    return IsoCLRForSequenceClassification(config).eval()


def tiny_encoder(seed: int = 0) -> IsoCLRModel:
    torch.manual_seed(seed)
    return IsoCLRModel(tiny_config()).eval()


@torch.no_grad()
def direct_prediction(model: IsoCLRForSequenceClassification, item: dict | str) -> float:
    """The model's first prediction for one input, computed without any pipeline."""
    item = {"sequence": item} if isinstance(item, str) else item
    batch = IsoCLRTokenizer()(
        item["sequence"], exon_ends=item.get("exon_ends"), cds=item.get("cds"), return_tensors="pt"
    )
    return float(model(**batch).predictions[0, 0])


@torch.no_grad()
def direct_embedding(model: IsoCLRModel, item: dict | str) -> list[float]:
    item = {"sequence": item} if isinstance(item, str) else item
    batch = IsoCLRTokenizer()(
        item["sequence"], exon_ends=item.get("exon_ends"), cds=item.get("cds"), return_tensors="pt"
    )
    return model(**batch).pooler_output[0].tolist()
