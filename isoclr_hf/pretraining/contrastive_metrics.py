"""What pretraining reports: batch similarity statistics and held-out isoform retrieval.

- Positive / negative similarity: mean cosine of the two views of a pair, and of views of
  different pairs.
- Alignment and uniformity (Wang & Isola 2020, "Understanding Contrastive Representation Learning
  through Alignment and Uniformity on the Hypersphere", Eqs. 4-5), on L2-normalised projections:
  ``alignment = E ||z_a - z_b||^2`` (lower: partners closer) and
  ``uniformity = log E_{i != j} exp(-2 ||z_i - z_j||^2)`` (lower: embeddings spread out).
- Partner retrieval: embed every transcript of the held-out gene sets; for each transcript of a
  set with two or more transcripts, is its nearest neighbour (cosine, itself excluded) in the same
  set? Chance level is the expected accuracy of a random neighbour, ``mean (n_i - 1) / (N - 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..inference import run_in_input_order
from .batching import ContrastivePairCollator


@torch.no_grad()
def similarity_metrics(projections_a: torch.Tensor, projections_b: torch.Tensor) -> dict[str, float]:
    """Similarity, alignment and uniformity of a batch of projected pairs.

    Args:
        projections_a: Projections of the first views. Shape: (batch, dim).
        projections_b: Projections of the partner views, row ``i`` pairs with row ``i``. Shape: (batch, dim).

    Returns:
        ``positive_similarity``, ``negative_similarity``, ``alignment``, ``uniformity``.
    """
    a = F.normalize(projections_a.float(), dim=-1)  # (B, D)
    b = F.normalize(projections_b.float(), dim=-1)  # (B, D)
    batch = a.shape[0]
    cross = a @ b.T  # (B, B) cosine of view a_i with view b_j
    off_diagonal = ~torch.eye(batch, dtype=torch.bool, device=a.device)
    both = torch.cat([a, b])  # (2B, D)
    distances = torch.cdist(both, both).pow(2)  # (2B, 2B)
    others = ~torch.eye(2 * batch, dtype=torch.bool, device=a.device)
    return {
        "positive_similarity": float(cross.diagonal().mean()),
        "negative_similarity": float(cross[off_diagonal].mean()) if batch > 1 else float("nan"),
        "alignment": float((a - b).pow(2).sum(-1).mean()),
        "uniformity": float(torch.log(torch.exp(-2.0 * distances[others]).mean())),
    }


def partner_retrieval(embeddings: np.ndarray, set_index: np.ndarray) -> dict[str, float]:
    """Top-1 retrieval of a transcript's partner isoform among all held-out transcripts.

    Args:
        embeddings: One embedding per transcript. Shape: (n_transcripts, dim).
        set_index: Gene set of each transcript. Shape: (n_transcripts,).

    Returns:
        ``retrieval_top1`` (accuracy over transcripts of sets with >= 2 transcripts),
        ``retrieval_chance`` (expected accuracy of a random neighbour) and ``retrieval_queries``.
    """
    vectors = torch.nn.functional.normalize(torch.as_tensor(embeddings, dtype=torch.float32), dim=-1)
    labels = torch.as_tensor(set_index)
    set_sizes = torch.bincount(labels)[labels]  # (N,) size of each transcript's set
    queries = torch.nonzero(set_sizes >= 2).flatten()
    total = len(labels)
    if len(queries) == 0 or total < 2:
        return {"retrieval_top1": float("nan"), "retrieval_chance": float("nan"), "retrieval_queries": 0.0}
    hits = 0
    for chunk in torch.split(queries, 1024):
        similarity = vectors[chunk] @ vectors.T  # (q, N)
        similarity[torch.arange(len(chunk)), chunk] = -float("inf")  # never retrieve itself
        hits += int((labels[similarity.argmax(dim=1)] == labels[chunk]).sum())
    chance = ((set_sizes[queries] - 1).double() / (total - 1)).mean()
    return {
        "retrieval_top1": hits / len(queries),
        "retrieval_chance": float(chance),
        "retrieval_queries": float(len(queries)),
    }


def embed_transcripts(
    encoder: torch.nn.Module,
    transcripts: Sequence[dict[str, Any]],
    collator: ContrastivePairCollator,
    *,
    batch_size: int,
    device: torch.device,
) -> np.ndarray:
    """Pooled encoder embeddings (eval mode) of corpus transcript dicts, in input order. Shape: (n, hidden_size).

    Transcripts are embedded in batches of similar length to keep padding small; the model is padding
    invariant in eval mode, so the result does not depend on the batching.
    """
    if not transcripts:
        return np.zeros((0, 0), dtype=np.float32)

    def forward(indices: list[int]) -> torch.Tensor:
        batch = collator.encode([transcripts[i] for i in indices])
        return encoder(**{name: tensor.to(device) for name, tensor in batch.items()}).pooler_output  # (B, hidden)

    return run_in_input_order(encoder, [len(t["sequence"]) for t in transcripts], forward,
                              shape=(int(encoder.config.hidden_size),), batch_size=batch_size)


__all__ = ["embed_transcripts", "partner_retrieval", "similarity_metrics"]
