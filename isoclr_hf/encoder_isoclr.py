"""The IsoCLR dilated residual CNN: input tracks -> per-position features at 1/32 resolution.

Remote code: imported by ``modeling_isoclr.py`` and copied next to the weights; imports only torch
and the sibling ``configuration_isoclr.py``.

Layout. Parameters are ordinary ``nn.Conv1d`` / ``nn.BatchNorm1d`` ones, so checkpoints look like
any 1-D CNN. Activations are held as ``(batch, channels, 1, length)`` in ``channels_last`` memory
format and the convolutions run as 2-D ones: on CPU (oneDNN) and GPU (cuDNN) that layout is
2-3x faster than channels-first 1-D convolutions, and pooling over length becomes a strided max.

Padding. ``mask`` is ``None`` when no sequence in the batch is padded; otherwise it is 1 at valid
positions, shape ``(batch, 1, 1, length)``, and every layer zeroes the positions beyond each
sequence's valid length, so a transcript's features never depend on what else is in its batch.
Pooling uses ceil semantics: a sequence of length L has ceil(L/2) valid positions after a pool.

Eval mode folds each batch norm into the convolution before it (one pass instead of two).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .configuration_isoclr import IsoCLRConfig

# Token id -> bases it stands for, in channel order A, C, G, T (see tokenization_isoclr.VOCABULARY).
_TOKEN_BASES = ("", "A", "C", "G", "T", "ACGT", "AG", "CT", "CG", "AT", "GT", "AC", "CGT", "AGT", "ACT", "ACG")


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


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch norm over ``(batch, channels, 1, length)`` whose training statistics count valid positions only.

    Keeps ``nn.BatchNorm1d``'s parameters and buffers, so checkpoints look like any batch norm.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if not self.training or mask is None:
            momentum = 0.1 if self.momentum is None else self.momentum
            if self.training and self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
            return F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, self.training, momentum, self.eps
            )
        valid = mask.to(x.dtype)
        count = valid.sum() * 1.0
        mean = (x * valid).sum(dim=(0, 2, 3)) / count  # (C,)
        centred = x - mean[None, :, None, None]
        var = ((centred * valid) ** 2).sum(dim=(0, 2, 3)) / count  # (C,)
        if self.running_mean is not None and self.running_var is not None:
            with torch.no_grad():
                momentum = 0.1 if self.momentum is None else self.momentum
                unbiased = var * count / (count - 1).clamp(min=1)
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), momentum)
                self.running_var.lerp_(unbiased.detach().to(self.running_var.dtype), momentum)
                if self.num_batches_tracked is not None:
                    self.num_batches_tracked.add_(1)
        scale = torch.rsqrt(var + self.eps) * (self.weight if self.affine else 1.0)
        shift = (self.bias if self.affine else 0.0) - mean * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]


def _same_padding(conv: nn.Conv1d) -> tuple[int, int]:
    """Left/right padding that keeps the length (PyTorch and TF 'same': the extra one goes right)."""
    total = conv.dilation[0] * (conv.kernel_size[0] - 1)
    return total // 2, total - total // 2


def conv_norm(conv: nn.Conv1d, norm: MaskedBatchNorm1d, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """'Same' 1-D convolution then batch norm, on channels-last ``(B, C_in, 1, L)`` -> ``(B, C_out, 1, L)``.

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
    weight = weight.to(x.dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)  # (C_out, C_in, 1, k)
    bias = None if bias is None else bias.to(x.dtype)
    left, right = _same_padding(conv)
    if left != right:
        x = F.pad(x, (left, right)).contiguous(memory_format=torch.channels_last)
        left = 0
    out = F.conv2d(x, weight, bias, padding=(0, left), dilation=(1, conv.dilation[0]))
    return out if not norm.training else norm(out, mask)


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

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Shape: x (B, C_in, 1, L), mask (B, 1, 1, L) or None -> (B, C_out, 1, L'), L' = ceil(L/2) if downsampling."""
        if self.downsample:
            x, mask = masked_max_pool(x, mask)
        hidden = _apply_mask(self.dropout(F.relu(conv_norm(self.conv1, self.norm1, x, mask))), mask)
        hidden = conv_norm(self.conv2, self.norm2, hidden, mask)
        if self.shortcut_conv is not None and self.shortcut_norm is not None:
            hidden = hidden + conv_norm(self.shortcut_conv, self.shortcut_norm, x, mask)
        else:
            hidden = hidden + x
        return _apply_mask(F.relu(hidden), mask), mask


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

    def forward(
        self, tracks: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[torch.Tensor]]:
        """Encode.

        Args:
            tracks: Input tracks, zero at padding. Shape: (B, T, 1, L), channels-last.
            mask: Valid positions, or ``None`` when nothing is padded. Shape: (B, 1, 1, L).

        Returns:
            Features (B, C, 1, ceil(L/32)), their mask (or ``None``), and the stem and stage outputs.
        """
        x = _apply_mask(F.relu(conv_norm(self.stem_conv, self.stem_norm, tracks, mask)), mask)  # (B, F0, 1, L)
        x, mask = masked_max_pool(x, mask)  # (B, F0, 1, L/2)
        outputs = [x]
        for stage in self.stages:
            for block in stage:  # type: ignore[attr-defined]  # each stage is a ModuleList
                x, mask = block(x, mask)
            outputs.append(x)  # (B, F_s, 1, L/2^(s+2))
        return x, mask, outputs


__all__ = [
    "IsoCLREncoder",
    "IsoCLRResidualBlock",
    "MaskedBatchNorm1d",
    "base_track_table",
    "build_tracks",
    "random_position_mask",
]
