"""Weighted decoupled contrastive loss (Yeh et al. 2021) with negatives from all processes.

Remote code: imported by ``modeling_isoclr.py`` and copied next to the weights.

For a batch of ``N`` positive pairs ``(a_i, b_i)`` of L2-normalised projections, temperature ``t``
and per-example weights ``w_i`` (IsoCLR, Fradkin et al. 2023, Eq. 3), the loss of anchor ``a_i`` is

    l(a_i) = -w_i <a_i, b_i> / t + log sum_{k != i} [exp(<a_i, a_k> / t) + exp(<a_i, b_k> / t)]

where ``k`` runs over the global batch (all processes). The positive pair is not in the denominator
(the "decoupling" of DCL). The loss is symmetric: ``(l(a_i) + l(b_i)) / 2`` averaged over the local
anchors. With equal local batches on every process, the mean of the per-process losses and the
gradients that DDP averages equal those of one process holding the whole batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


class _GatherWithGradients(torch.autograd.Function):
    """All-gather whose backward sends each process the summed gradient of its own slice.

    Every process computes a loss over the gathered tensor, so the gradient of the total loss with
    respect to a local embedding is the sum over processes of their gradients for that slice:
    backward all-reduces the full gradient and keeps the local rows. Local batches may differ in
    size (they are padded to the largest for the collective).
    """

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        world = dist.get_world_size()
        size = torch.tensor([tensor.shape[0]], device=tensor.device)
        sizes = [torch.zeros_like(size) for _ in range(world)]
        dist.all_gather(sizes, size)
        counts = [int(s.item()) for s in sizes]
        largest = max(counts)
        padded = F.pad(tensor, (0, 0, 0, largest - tensor.shape[0])).contiguous()
        chunks = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(chunks, padded)
        ctx.counts = counts
        ctx.rank = dist.get_rank()
        return torch.cat([chunk[:n] for chunk, n in zip(chunks, counts)])  # (sum of counts, dim)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = sum(ctx.counts[: ctx.rank])
        return grad[start : start + ctx.counts[ctx.rank]]


def gather_with_gradients(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` (shape ``(n, dim)``) from all processes, keeping autograd.

    Outside a distributed run this returns ``tensor`` unchanged. Unlike ``accelerate``'s
    ``gather``, gradients flow back to the process that produced each row. Kept instead of
    ``torch.distributed.nn.functional.all_gather`` because processes may hold different numbers of
    rows (the last batch of an epoch, streaming): that one needs equal sizes (with torch 2.13 and
    gloo, 3 rows on one process and 4 on the other abort with ``gloo::EnforceNotMet``).
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    return _GatherWithGradients.apply(tensor)


def _global_offset(local_count: int, device: torch.device) -> int:
    """Index of this process's first row in the gathered batch."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return 0
    counts = [torch.zeros(1, dtype=torch.long, device=device) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, torch.tensor([local_count], device=device))
    return int(sum(c.item() for c in counts[: dist.get_rank()]))


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _too_few_pairs(pairs: int, world: int = 1) -> ValueError:
    where = f"over {world} processes" if world > 1 else "in the batch"
    return ValueError(
        f"The decoupled contrastive loss needs at least 2 pairs in the global batch (each pair's negatives are the "
        f"other pairs); got {pairs} {where}. Use a larger batch."
    )


def check_pairs(pairs: int, weights: torch.Tensor | None) -> torch.Tensor | None:
    """Check one process's pair count and weights before the loss; raise ``ValueError`` if wrong.

    ``weights`` must have shape ``(pairs,)`` and be finite and non-negative. Outside a distributed run
    at least 2 pairs are needed (in one, the count is checked after the gather, in the loss).

    Returns:
        ``weights`` as a tensor (or ``None``).
    """
    if weights is not None:
        if not isinstance(weights, torch.Tensor):
            weights = torch.as_tensor(weights)
        if tuple(weights.shape) != (pairs,):
            shape = tuple(weights.shape)
            raise ValueError(f"weights must have shape (batch,) = ({pairs},), one per pair; got {shape}.")
        if weights.is_complex() or weights.dtype == torch.bool:
            raise ValueError(f"weights must be real numbers; got dtype {weights.dtype}.")
        bad = ~torch.isfinite(weights) | (weights < 0) if weights.is_floating_point() else weights < 0
        if bool(bad.any()):
            index = bad.nonzero().flatten()
            shown = ", ".join(f"{int(i)} ({weights[i].item()})" for i in index[:5])
            raise ValueError(f"weights must be finite and non-negative; bad at pair {shown}.")
    if pairs < 2 and not _distributed():
        raise _too_few_pairs(pairs)
    return weights


class DecoupledContrastiveLoss(nn.Module):
    """Weighted, symmetric decoupled contrastive loss (Yeh et al. 2021; IsoCLR Eq. 3).

    Args:
        temperature: Softmax temperature ``t`` (IsoCLR: 0.1).
        gather_distributed: Use the projections of every process as negatives.
    """

    def __init__(self, temperature: float = 0.1, gather_distributed: bool = True) -> None:
        super().__init__()
        self.temperature = temperature
        self.gather_distributed = gather_distributed

    def forward(
        self, projections_a: torch.Tensor, projections_b: torch.Tensor, weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Loss of one local batch.

        Args:
            projections_a: View a of each pair. Shape: (batch, dim). Normalised here.
            projections_b: View b, row ``i`` the partner of row ``i`` of ``projections_a``. Shape: (batch, dim).
            weights: Weight of each pair's positive term, ``log(n_i + c) / Z``. Shape: (batch,).
                Defaults to ones.

        Returns:
            The scalar loss, averaged over the local pairs and the two directions.

        Raises:
            ValueError: Fewer than 2 pairs in the global batch (after the gather in a distributed run:
                a pair's negatives are the other pairs), or weights of the wrong shape, non-finite or
                negative.
        """
        if projections_a.shape != projections_b.shape:
            raise ValueError(
                f"The two views differ in shape: {tuple(projections_a.shape)} vs {tuple(projections_b.shape)}."
            )
        if projections_a.dim() != 2:
            raise ValueError(f"Projections must have shape (batch, dim); got {tuple(projections_a.shape)}.")
        local = projections_a.shape[0]
        gather = self.gather_distributed and _distributed()
        weights = check_pairs(local, weights)  # and, outside distributed runs, at least 2 pairs
        if not gather and local < 2:
            raise _too_few_pairs(local)
        a = F.normalize(projections_a.float(), dim=-1)  # (B, D)
        b = F.normalize(projections_b.float(), dim=-1)  # (B, D)
        if weights is None:
            weights = torch.ones(local, device=a.device)
        weights = weights.to(a.device, torch.float32)
        if gather:
            all_a, all_b = gather_with_gradients(a), gather_with_gradients(b)  # (N, D)
            offset = _global_offset(local, a.device)
            if all_a.shape[0] < 2:  # every process sees the same global count, so all raise together
                raise _too_few_pairs(all_a.shape[0], dist.get_world_size())
            if local == 0:
                raise ValueError("This process has an empty batch: every process needs at least one pair.")
        else:
            all_a, all_b, offset = a, b, 0
        positives = (a * b).sum(-1) / self.temperature  # (B,)
        own = torch.arange(local, device=a.device) + offset  # column of each anchor's own pair
        loss_a = -weights * positives + self._negative_term(a, all_a, all_b, own)
        loss_b = -weights * positives + self._negative_term(b, all_b, all_a, own)
        return 0.5 * (loss_a + loss_b).mean()

    def _negative_term(
        self, anchors: torch.Tensor, same_view: torch.Tensor, other_view: torch.Tensor, own: torch.Tensor
    ) -> torch.Tensor:
        """log sum over k != i of exp(<x_i, same_k>/t) + exp(<x_i, other_k>/t). Shape: (batch,)."""
        logits = torch.cat([anchors @ same_view.T, anchors @ other_view.T], dim=1) / self.temperature  # (B, 2N)
        total = same_view.shape[0]
        rows = torch.arange(anchors.shape[0], device=anchors.device)
        excluded = torch.zeros_like(logits, dtype=torch.bool)
        excluded[rows, own] = True  # the anchor itself
        excluded[rows, own + total] = True  # its positive partner
        return torch.logsumexp(logits.masked_fill(excluded, float("-inf")), dim=1)


def gene_set_weights(set_sizes: torch.Tensor, constant: float, normaliser: float | None = None) -> torch.Tensor:
    """Positive-pair weights ``log(n + c) / Z`` of IsoCLR Eq. 3.

    Args:
        set_sizes: Number of transcripts in each example's gene set. Shape: (batch,).
        constant: ``c``, the config's ``gene_set_weight_constant`` (paper: 0.4).
        normaliser: ``Z``; by default the mean of ``log(n + c)`` over ``set_sizes``, so that the
            weights average to 1. Pass the corpus-wide value to normalise over the corpus.

    Returns:
        The weights. Shape: (batch,).
    """
    raw = torch.log(set_sizes.double() + constant)
    z = raw.mean() if normaliser is None else torch.tensor(normaliser, dtype=torch.float64)
    return (raw / z).float()


__all__ = ["DecoupledContrastiveLoss", "check_pairs", "gather_with_gradients", "gene_set_weights"]
