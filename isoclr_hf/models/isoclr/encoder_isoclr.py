"""The IsoCLR dilated residual CNN: input tracks -> per-position features at 1/32 resolution.

Remote code: imported by ``modeling_isoclr.py`` and copied next to the weights; imports only torch
and the siblings ``configuration_isoclr.py`` and ``vocabulary_isoclr.py``.

Layout. Parameters are ordinary ``nn.Conv1d`` / ``nn.BatchNorm1d`` ones, so checkpoints look like
any 1-D CNN. Activations are held as ``(batch, channels, 1, length)`` in ``channels_last`` memory
format and the convolutions run as 2-D ones: on CPU (oneDNN) and GPU (cuDNN) that layout is
2-3x faster than channels-first 1-D convolutions, and pooling over length becomes a strided max.

Padding. The encoder takes a batch as one or more length groups (rows of similar length, each
padded only to its own longest row). Per group, ``mask`` is ``None`` when no row is padded; otherwise
it is 1 at valid positions, shape ``(batch, 1, 1, length)``, and every layer zeroes the positions
beyond each row's valid length, so a transcript's features never depend on what else is in its
batch. Batch-norm statistics in training are taken over the valid positions of all groups together,
so grouping changes the compute, never the result. Pooling uses ceil semantics: a sequence of
length L has ceil(L/2) valid positions after a pool.

Eval mode folds each batch norm into the convolution before it (one pass instead of two).
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from .configuration_isoclr import IsoCLRConfig
from .vocabulary_isoclr import IUPAC_BASES, VOCABULARY

# Token id -> bases it stands for, in channel order A, C, G, T; padding stands for none.
_TOKEN_BASES = tuple(IUPAC_BASES.get(token, "") for token in VOCABULARY)


def base_track_table(config: IsoCLRConfig, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Values of the four base channels for each token id. Shape: (vocabulary, 4).

    Padding (id 0) is all zero. ACGT are one-hot. With ``unknown_base_encoding="uniform"`` every other
    code is ``unknown_base_value`` in all four channels (IsoCLR's 0.25); with ``"iupac"`` an
    ambiguity code spreads 1 evenly over the bases it stands for, and N keeps ``unknown_base_value``.
    """
    table = torch.zeros(len(_TOKEN_BASES), 4, dtype=torch.float32)
    for token_id, bases in enumerate(_TOKEN_BASES):
        if len(bases) == 1:
            table[token_id, "ACGT".index(bases)] = 1.0
        elif len(bases) == 4 or (bases and config.unknown_base_encoding == "uniform"):
            table[token_id] = config.unknown_base_value
        elif bases:
            for base in bases:
                table[token_id, "ACGT".index(base)] = 1.0 / len(bases)
    return table.to(device=device, dtype=dtype)


def build_tracks(
    config: IsoCLRConfig,
    input_ids: torch.Tensor,
    cds_track: torch.Tensor | None,
    splice_track: torch.Tensor | None,
    dtype: torch.dtype,
) -> torch.Tensor:
    """Token ids and annotation tracks -> float input tracks, channels-last.

    Shape: (batch, length) each -> (batch, length, n_tracks).
    """
    tracks = base_track_table(config, input_ids.device, dtype)[input_ids.long()]  # (B, L, 4)
    if config.n_tracks == 4:
        return tracks
    zeros = torch.zeros_like(input_ids, dtype=dtype)
    cds = zeros if cds_track is None else cds_track.to(dtype)
    splice = zeros if splice_track is None else splice_track.to(dtype)
    return torch.cat([tracks, cds[..., None], splice[..., None]], dim=-1)  # (B, L, 6)


def random_position_mask(attention_mask: torch.Tensor, fraction: float) -> torch.Tensor:
    """Choose ``round(fraction * length)`` valid positions of each sequence uniformly at random.

    Args:
        attention_mask: 1 at valid positions. Shape: (batch, length).
        fraction: Fraction of each sequence's valid positions to choose.

    Returns:
        Boolean mask of the chosen positions. Shape: (batch, length).
    """
    valid = attention_mask.bool()
    counts = torch.round(valid.sum(1).float() * fraction).long()  # (B,)
    scores = torch.rand(valid.shape, device=valid.device).masked_fill(~valid, 2.0)  # padding ranks last
    ranks = scores.argsort(dim=1).argsort(dim=1)  # (B, L) rank of each position
    return ranks < counts[:, None]


Groups = list[torch.Tensor]
Masks = list[torch.Tensor | None]


def commit_running_stats(norm: nn.BatchNorm1d, mean: torch.Tensor, var: torch.Tensor) -> None:
    """Store updated running statistics, unless they are not finite (checked without a host sync).

    A batch whose activations overflow (fp16 autocast) or hold NaN would otherwise leave NaN in the
    running statistics and every later eval output NaN, even when the optimiser skips that step.
    """
    assert norm.running_mean is not None and norm.running_var is not None
    with torch.no_grad():
        finite = torch.isfinite(mean).all() & torch.isfinite(var).all()
        norm.running_mean.copy_(torch.where(finite, mean.to(norm.running_mean.dtype), norm.running_mean))
        norm.running_var.copy_(torch.where(finite, var.to(norm.running_var.dtype), norm.running_var))


def _train_batch_norm(norm: nn.BatchNorm1d, x: torch.Tensor, momentum: float) -> torch.Tensor:
    """Training-mode batch norm whose running statistics are updated through :func:`commit_running_stats`.

    The update runs on copies: the originals are never modified in place by the op (autograd saves them).
    """
    assert norm.running_mean is not None and norm.running_var is not None
    mean, var = norm.running_mean.clone(), norm.running_var.clone()
    out = F.batch_norm(x, mean, var, norm.weight, norm.bias, True, momentum, norm.eps)
    commit_running_stats(norm, mean, var)
    return out


class FiniteBatchNorm1d(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` whose running statistics skip a batch with non-finite statistics.

    Same parameters and buffers (checkpoints are unchanged); used by the contrastive projection head.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and self.track_running_stats and self.running_mean is not None):
            return super().forward(x)
        self._check_input_dim(x)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average, as nn.BatchNorm1d
                momentum = 1.0 / float(self.num_batches_tracked)
        return _train_batch_norm(self, x, momentum)


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch norm over length groups of ``(batch, channels, 1, length)`` activations.

    In training, the statistics are those of all valid positions of all groups together: exactly
    what one padded batch would give, whatever the grouping. Keeps ``nn.BatchNorm1d``'s parameters
    and buffers, so checkpoints look like any batch norm. A batch whose statistics are not finite
    leaves the running statistics as they were (see :func:`commit_running_stats`).
    """

    def forward(self, xs: Groups, masks: Masks) -> Groups:  # type: ignore[override]
        momentum = 0.1 if self.momentum is None else self.momentum
        if not self.training or (len(xs) == 1 and masks[0] is None):
            if not self.training or self.running_mean is None or self.running_var is None:
                stats = self.running_mean, self.running_var
                return [F.batch_norm(x, *stats, self.weight, self.bias, self.training, momentum, self.eps) for x in xs]
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
            return [_train_batch_norm(self, xs[0], momentum)]
        count = sum(float(x.shape[0] * x.shape[-1]) if m is None else m.sum() for x, m in zip(xs, masks))
        mean = sum(_masked_sum(x, m) for x, m in zip(xs, masks)) / count  # (C,)
        var = sum(_masked_sum((x - mean[None, :, None, None]) ** 2, m) for x, m in zip(xs, masks)) / count  # (C,)
        if self.running_mean is not None and self.running_var is not None:
            with torch.no_grad():
                unbiased = var * count / (count - 1) if float(count) > 1 else var
                new_mean = self.running_mean.lerp(mean.detach().to(self.running_mean.dtype), momentum)
                new_var = self.running_var.lerp(unbiased.detach().to(self.running_var.dtype), momentum)
                commit_running_stats(self, new_mean, new_var)
                if self.num_batches_tracked is not None:
                    self.num_batches_tracked.add_(1)
        scale = torch.rsqrt(var + self.eps) * (self.weight if self.affine else 1.0)
        shift = (self.bias if self.affine else 0.0) - mean * scale
        return [x * scale[None, :, None, None] + shift[None, :, None, None] for x in xs]


def _masked_sum(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Per-channel sum over valid positions. Shape: (B, C, 1, L) -> (C,)."""
    return (x if mask is None else x * mask).sum(dim=(0, 2, 3))


def _same_padding(conv: nn.Conv1d) -> tuple[int, int]:
    """Left/right padding that keeps the length (PyTorch and TF 'same': the extra one goes right)."""
    total = conv.dilation[0] * (conv.kernel_size[0] - 1)
    return total // 2, total - total // 2


def conv_norm(conv: nn.Conv1d, norm: MaskedBatchNorm1d, xs: Groups, masks: Masks) -> Groups:
    """'Same' 1-D convolution then batch norm, per group: ``(B, C_in, 1, L)`` -> ``(B, C_out, 1, L)``.

    In eval mode the batch norm is folded into the convolution's weight and bias.
    """
    weight, bias = conv.weight, conv.bias
    if not norm.training:
        assert norm.weight is not None and norm.bias is not None, "IsoCLR batch norms are affine"
        assert norm.running_mean is not None and norm.running_var is not None, "and track running statistics"
        scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps)  # (C_out,)
        weight = weight * scale[:, None, None]
        centre = norm.running_mean if bias is None else norm.running_mean - bias
        bias = norm.bias - centre * scale
    dtype = xs[0].dtype
    weight = weight.to(dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)  # (C_out, C_in, 1, k)
    bias = None if bias is None else bias.to(dtype)
    left, right = _same_padding(conv)
    outs = []
    for x in xs:
        padding = left
        if left != right:
            x = F.pad(x, (left, right)).contiguous(memory_format=torch.channels_last)
            padding = 0
        outs.append(F.conv2d(x, weight, bias, padding=(0, padding), dilation=(1, conv.dilation[0])))
    return outs if not norm.training else norm(outs, masks)


def masked_max_pool(x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Max-pool by 2 over length with ceil semantics. Shape: (B, C, 1, L) -> (B, C, 1, ceil(L/2)).

    Inputs come after a ReLU (non-negative) with padding zeroed, so the zero that completes an odd
    length, or a window that mixes the last valid position with padding, never wins the max.
    """
    if x.shape[-1] % 2:
        x = F.pad(x, (0, 1))
        mask = None if mask is None else F.pad(mask, (0, 1))
    pooled = torch.maximum(x[..., 0::2], x[..., 1::2]).contiguous(memory_format=torch.channels_last)
    if mask is not None:
        mask = torch.maximum(mask[..., 0::2], mask[..., 1::2])
    return pooled, mask


def _pool_groups(xs: Groups, masks: Masks) -> tuple[Groups, Masks]:
    pooled = [masked_max_pool(x, m) for x, m in zip(xs, masks)]
    return [x for x, _ in pooled], [m for _, m in pooled]


def _apply_mask(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    return x if mask is None else x * mask


class IsoCLRResidualBlock(nn.Module):
    """Dilated residual block: conv-BN-ReLU-dropout-conv-BN, plus shortcut, then ReLU.

    The shortcut is a 1x1 conv + BN where the channel count changes. The first block of each stage
    max-pools its input by 2 first.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int, dropout: float, downsample: bool
    ) -> None:
        super().__init__()
        self.downsample = downsample
        self.conv1 = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding="same")
        self.norm1 = MaskedBatchNorm1d(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size, dilation=dilation, padding="same")
        self.norm2 = MaskedBatchNorm1d(out_channels)
        self.shortcut_conv = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else None
        self.shortcut_norm = MaskedBatchNorm1d(out_channels) if in_channels != out_channels else None

    def forward(self, xs: Groups, masks: Masks) -> tuple[Groups, Masks]:
        """Shape per group: (B, C_in, 1, L), mask (B, 1, 1, L) or None -> (B, C_out, 1, L'),
        L' = ceil(L/2) when downsampling."""
        if self.downsample:
            xs, masks = _pool_groups(xs, masks)
        hidden = [
            _apply_mask(self.dropout(F.relu(h)), m)
            for h, m in zip(conv_norm(self.conv1, self.norm1, xs, masks), masks)
        ]
        hidden = conv_norm(self.conv2, self.norm2, hidden, masks)
        if self.shortcut_conv is not None and self.shortcut_norm is not None:
            shortcut = conv_norm(self.shortcut_conv, self.shortcut_norm, xs, masks)
        else:
            shortcut = xs
        return [_apply_mask(F.relu(h + s), m) for h, s, m in zip(hidden, shortcut, masks)], masks


class IsoCLREncoder(nn.Module):
    """Stem (conv-BN-ReLU-maxpool 2) and four stages of dilated residual blocks: 32x downsampling."""

    def __init__(self, config: IsoCLRConfig) -> None:
        super().__init__()
        self.stem_conv = nn.Conv1d(config.n_tracks, config.stem_filters, config.stem_kernel_size, padding="same")
        self.stem_norm = MaskedBatchNorm1d(config.stem_filters)
        stages = []
        in_channels = config.stem_filters
        for filters, count in zip(config.stage_filters, config.blocks_per_stage):
            blocks = [
                IsoCLRResidualBlock(
                    in_channels if j == 0 else filters,
                    filters,
                    config.kernel_size,
                    config.block_dilation(j),
                    config.dropout,
                    downsample=j == 0,
                )
                for j in range(count)
            ]
            stages.append(nn.ModuleList(blocks))
            in_channels = filters
        self.stages = nn.ModuleList(stages)

    def forward(self, tracks: Groups, masks: Masks) -> tuple[Groups, Masks, list[Groups]]:
        """Encode length groups of one batch (batch-norm statistics are shared by the groups).

        Args:
            tracks: Per group, input tracks zero at padding. Shape: (B_g, T, 1, L_g), channels-last.
            masks: Per group, valid positions, or ``None`` when nothing in the group is padded.
                Shape: (B_g, 1, 1, L_g).

        Returns:
            Per group: features (B_g, C, 1, ceil(L_g/32)) and their masks; and, per layer (stem,
            then each stage), the groups' outputs.
        """
        stem = conv_norm(self.stem_conv, self.stem_norm, tracks, masks)
        xs = [_apply_mask(F.relu(h), m) for h, m in zip(stem, masks)]
        xs, masks = _pool_groups(xs, masks)  # (B_g, F0, 1, L_g/2)
        outputs = [xs]
        for stage in self.stages:
            for block in stage:  # type: ignore[attr-defined]  # each stage is a ModuleList
                xs, masks = block(xs, masks)
            outputs.append(xs)  # (B_g, F_s, 1, L_g/2^(s+2))
        return xs, masks, outputs


def plan_length_groups(lengths: list[int], max_groups: int, min_saving: float = 0.1) -> list[list[int]]:
    """Split a batch into at most ``max_groups`` groups of similar length, to cut padding.

    Rows are sorted by length (longest first) and cut into contiguous runs that minimise the padded
    positions ``sum(rows in group x longest in group)``: dynamic programming, taking the fewest groups
    within 2% of the best; for batches over 128 rows, equal-count runs. The split is kept only if it
    saves at least ``min_saving`` of the positions of one padded batch.

    Returns:
        Row indices of each group.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    count = len(order)
    if max_groups <= 1 or count < 2:
        return [order]
    sorted_lengths = [lengths[i] for i in order]
    groups = min(max_groups, count)
    if count > 128:
        bounds = [round(k * count / groups) for k in range(groups + 1)]
    else:
        # cost[g][j]: least padded positions covering the first j rows with g groups.
        infinity = float("inf")
        cost = [[infinity] * (count + 1) for _ in range(groups + 1)]
        cut = [[0] * (count + 1) for _ in range(groups + 1)]
        cost[0][0] = 0.0
        for g in range(1, groups + 1):
            for j in range(1, count + 1):
                for i in range(g - 1, j):  # the last group holds rows i..j-1; row i is its longest
                    value = cost[g - 1][i] + (j - i) * sorted_lengths[i]
                    if value < cost[g][j]:
                        cost[g][j], cut[g][j] = value, i
        # Fewer, larger groups run more efficiently: take the fewest within 2% of the best.
        single = count * sorted_lengths[0]
        groups = min(g for g in range(1, groups + 1) if cost[g][count] <= cost[groups][count] + 0.02 * single)
        bounds, j = [count], count
        for g in range(groups, 0, -1):
            j = cut[g][j]
            bounds.append(j)
        bounds = bounds[::-1]
    runs = [order[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    padded = sum(len(run) * lengths[run[0]] for run in runs)
    if padded > (1 - min_saving) * count * sorted_lengths[0]:
        return [order]
    return runs


__all__ = [
    "FiniteBatchNorm1d",
    "IsoCLREncoder",
    "IsoCLRResidualBlock",
    "MaskedBatchNorm1d",
    "base_track_table",
    "build_tracks",
    "commit_running_stats",
    "plan_length_groups",
    "random_position_mask",
]
