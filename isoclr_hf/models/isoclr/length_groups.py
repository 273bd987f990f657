"""The batch planner: cut a batch into groups of similar length so that each is padded only to its own longest row.

Remote code: imported by ``modeling_isoclr.py`` (the encoder runs each group at its own width) and used by
pretraining to count what a batch costs; imports only torch.
"""

from __future__ import annotations

import itertools

import torch


def plan_length_groups(lengths: list[int], max_groups: int, min_saving: float = 0.1) -> list[list[int]]:
    """Split a batch into at most ``max_groups`` groups of similar length, to cut padding.

    Rows are sorted by length (longest first) and cut into contiguous runs that minimise the padded
    positions ``sum(rows in group x longest in group)``: a dynamic program vectorised over the
    cut positions (one ``(n+1, n+1)`` tensor op per group count), taking the fewest groups within
    2% of the best; for batches over 512 rows, equal-count runs. The split is kept only if it saves
    at least ``min_saving`` of the positions of one padded batch.

    Returns:
        Row indices of each group.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    count = len(order)
    if max_groups <= 1 or count < 2 or lengths[order[0]] == lengths[order[-1]]:
        return [order]
    sorted_lengths = [lengths[i] for i in order]
    groups = min(max_groups, count)
    if count > 512:
        bounds = [round(k * count / groups) for k in range(groups + 1)]
    else:
        # cost[g, j]: least padded positions covering the first j rows with g groups; the last group
        # holds rows i..j-1, whose longest is row i: cost[g, j] = min_i cost[g-1, i] + (j - i) * L[i].
        longest = torch.tensor([*sorted_lengths, 0], dtype=torch.float64)  # (n+1,)
        span = torch.arange(count + 1, dtype=torch.float64)
        step = (span[None, :] - span[:, None]) * longest[:, None]  # (i, j): (j - i) * L[i]
        step = step.masked_fill(span[None, :] <= span[:, None], float("inf"))  # needs i < j
        cost = torch.full((groups + 1, count + 1), float("inf"), dtype=torch.float64)
        cost[0, 0] = 0.0
        cut = torch.zeros(groups + 1, count + 1, dtype=torch.long)
        for g in range(1, groups + 1):
            cost[g], cut[g] = (cost[g - 1][:, None] + step).min(dim=0)
        # Fewer, larger groups run more efficiently: take the fewest within 2% of the best.
        totals = cost[:, count].tolist()
        single = count * sorted_lengths[0]
        groups = min(g for g in range(1, groups + 1) if totals[g] <= totals[groups] + 0.02 * single)
        cuts = cut.tolist()
        bounds, j = [count], count
        for g in range(groups, 0, -1):
            j = cuts[g][j]
            bounds.append(j)
        bounds = bounds[::-1]
    runs = [order[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    padded = sum(len(run) * lengths[run[0]] for run in runs)
    if padded > (1 - min_saving) * count * sorted_lengths[0]:
        return [order]
    return runs


__all__ = ["plan_length_groups"]
