"""The IsoCLR dilated residual CNN: input tracks -> per-position features at 1/32 resolution.

Remote code: imported by ``modeling_isoclr.py`` and copied next to the weights; imports only torch
and the sibling ``configuration_isoclr.py``. The input tracks are built in ``track_inputs.py`` and the
batch is cut into length groups by ``length_groups.py``.

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

import torch
import torch.nn.functional as F
from torch import nn

from .configuration_isoclr import IsoCLRConfig

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


def zero_padding(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Zero the padded positions: the one place where the encoder does.

    ``mask`` is in the activation dtype (a float32 mask would promote bf16 activations to float32).
    Shape: (B, C, 1, L), mask (B, 1, 1, L) or ``None`` (nothing padded) -> (B, C, 1, L).
    """
    return x if mask is None else x * mask.to(x.dtype)


def masked_relu(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """ReLU, then zero the padding. Shape: as :func:`zero_padding`."""
    return zero_padding(F.relu(x), mask)


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


def _fused_conv_available(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether oneDNN's fused convolution + pointwise ops (what inductor uses on CPU) can run ``x``:
    CPU, float32 or bfloat16, and nothing that needs gradients (the ops have no autograd)."""
    return (
        x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.bfloat16)
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
    )


class IsoCLRConv1d(nn.Conv1d):
    """'Same' dilated 1-D convolution over ``(B, C, 1, L)`` channels-last activations, run as a 2-D one.

    Holds an ordinary ``nn.Conv1d``'s parameters (checkpoints look like any 1-D CNN). On CPU
    (oneDNN) and GPU (cuDNN) channels-last 2-D convolutions are 2-3x faster than channels-first
    1-D ones. Padding follows PyTorch and TF 'same': an odd total puts the extra position right.
    """

    def same_padding(self) -> tuple[int, int]:
        """Left and right zero padding that keeps the length."""
        total = self.dilation[0] * (self.kernel_size[0] - 1)
        return total // 2, total - total // 2

    def layout(self, weight: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """A ``(C_out, C_in, k)`` weight as the ``(C_out, C_in, 1, k)`` channels-last 2-D one, in ``dtype``."""
        return weight.to(dtype).unsqueeze(2).contiguous(memory_format=torch.channels_last)

    def forward(  # type: ignore[override]
        self,
        x: torch.Tensor,
        weight: torch.Tensor | None = None,
        bias: torch.Tensor | None = None,
        residual: torch.Tensor | None = None,
        relu: bool = False,
        fused: bool = False,
    ) -> torch.Tensor:
        """Convolve ``x``: shape (B, C_in, 1, L) -> (B, C_out, 1, L).

        Args:
            x: Channels-last activations.
            weight, bias: Laid-out weights to use instead of the module's own (the eval-mode ones
                with batch norm folded in, see :class:`IsoCLREncoder`). Default: the module's.
            residual: Added to the output. Shape: (B, C_out, 1, L).
            relu: Apply a ReLU last.
            fused: Run the convolution, residual add and ReLU as one oneDNN op (CPU inference).
        """
        if weight is None:
            weight, bias = self.layout(self.weight, x.dtype), None if self.bias is None else self.bias.to(x.dtype)
        left, right = self.same_padding()
        padding = left
        if left != right:
            x = F.pad(x, (left, right)).contiguous(memory_format=torch.channels_last)
            padding = 0
        geometry = ([0, padding], [1, 1], [1, self.dilation[0]], 1)
        if fused and residual is not None:
            post = "relu" if relu else "none"
            return torch.ops.mkldnn._convolution_pointwise.binary(
                x, residual, weight, bias, *geometry, "add", None, post, [], ""
            )
        if fused and relu:
            return torch.ops.mkldnn._convolution_pointwise(x, weight, bias, *geometry, "relu", [], "")
        out = F.conv2d(x, weight, bias, padding=(0, padding), dilation=(1, self.dilation[0]))
        if residual is not None:
            out = out + residual
        return F.relu(out) if relu else out


Folded = dict[str, tuple[torch.Tensor, torch.Tensor]]


def fold_batch_norm(conv: IsoCLRConv1d, norm: nn.BatchNorm1d, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The eval-mode ``norm(conv(x))`` as one convolution: laid-out weight and bias in ``dtype``."""
    assert norm.weight is not None and norm.bias is not None, "IsoCLR batch norms are affine"
    assert norm.running_mean is not None and norm.running_var is not None, "and track running statistics"
    scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps)  # (C_out,)
    weight = conv.weight * scale[:, None, None]
    centre = norm.running_mean if conv.bias is None else norm.running_mean - conv.bias
    bias = norm.bias - centre * scale
    return conv.layout(weight, dtype), bias.to(dtype)


class IsoCLRLayer(nn.Module):
    """Dilated residual block: conv-BN-ReLU-dropout-conv-BN, plus shortcut, then ReLU.

    The shortcut is a 1x1 conv + BN where the channel count changes. The first layer of each stage
    max-pools its input by 2 first. Parameter names are those of IsoCLR checkpoints.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int, dropout: float, downsample: bool
    ) -> None:
        super().__init__()
        self.downsample = downsample
        self.conv1 = IsoCLRConv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding="same")
        self.norm1 = MaskedBatchNorm1d(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = IsoCLRConv1d(out_channels, out_channels, kernel_size, dilation=dilation, padding="same")
        self.norm2 = MaskedBatchNorm1d(out_channels)
        changes = in_channels != out_channels
        self.shortcut_conv = IsoCLRConv1d(in_channels, out_channels, 1) if changes else None
        self.shortcut_norm = MaskedBatchNorm1d(out_channels) if changes else None

    def pairs(self) -> dict[str, tuple[IsoCLRConv1d, MaskedBatchNorm1d]]:
        """Each convolution with the batch norm after it."""
        pairs = {"conv1": (self.conv1, self.norm1), "conv2": (self.conv2, self.norm2)}
        if self.shortcut_conv is not None and self.shortcut_norm is not None:
            pairs["shortcut_conv"] = (self.shortcut_conv, self.shortcut_norm)
        return pairs

    def forward(self, xs: Groups, masks: Masks, folded: Folded | None = None) -> tuple[Groups, Masks]:
        """Shape per group: (B, C_in, 1, L), mask (B, 1, 1, L) or None -> (B, C_out, 1, L'),
        L' = ceil(L/2) when downsampling.

        ``folded``: eval-mode weights with each batch norm folded into its convolution (by name of
        the convolution); the layer then runs one convolution per pair, ReLU and residual add fused.
        """
        if self.downsample:
            pooled = [masked_max_pool(x, m) for x, m in zip(xs, masks)]
            xs, masks = [x for x, _ in pooled], [m for _, m in pooled]
        if folded is not None:
            return [self._folded_forward(x, m, folded) for x, m in zip(xs, masks)], masks
        hidden = self.norm1([self.conv1(x) for x in xs], masks)
        hidden = [self.dropout(masked_relu(h, m)) for h, m in zip(hidden, masks)]
        hidden = self.norm2([self.conv2(h) for h in hidden], masks)
        shortcut = xs
        if self.shortcut_conv is not None and self.shortcut_norm is not None:
            shortcut = self.shortcut_norm([self.shortcut_conv(x) for x in xs], masks)
        return [masked_relu(h + s, m) for h, s, m in zip(hidden, shortcut, masks)], masks

    def _folded_forward(self, x: torch.Tensor, mask: torch.Tensor | None, folded: Folded) -> torch.Tensor:
        fused = _fused_conv_available(x, folded["conv1"][0])
        hidden = zero_padding(self.conv1(x, *folded["conv1"], relu=True, fused=fused), mask)  # ReLU done in conv1
        shortcut = x
        if self.shortcut_conv is not None:
            shortcut = self.shortcut_conv(x, *folded["shortcut_conv"], fused=fused)
        return zero_padding(self.conv2(hidden, *folded["conv2"], residual=shortcut, relu=True, fused=fused), mask)


class IsoCLRStage(nn.ModuleList):
    """One stage: layers at one resolution, the first pooling by 2 (a list, so checkpoint keys are
    ``stages.<stage>.<layer>.<name>``)."""

    def __init__(self, config: IsoCLRConfig, in_channels: int, out_channels: int, depth: int) -> None:
        super().__init__(
            IsoCLRLayer(
                in_channels if j == 0 else out_channels,
                out_channels,
                config.kernel_size,
                config.block_dilation(j),
                config.dropout,
                downsample=j == 0,
            )
            for j in range(depth)
        )

    def forward(  # type: ignore[override]
        self, xs: Groups, masks: Masks, folded: list[Folded] | None = None
    ) -> tuple[Groups, Masks]:
        """Shape per group: (B, C_in, 1, L) -> (B, C_out, 1, ceil(L/2))."""
        for j, layer in enumerate(self):
            xs, masks = layer(xs, masks, None if folded is None else folded[j])
        return xs, masks


class IsoCLREncoder(nn.Module):
    """Stem (conv-BN-ReLU-maxpool 2) and stages of dilated residual layers: ``config.downsampling`` x.

    In eval mode each batch norm is folded into the convolution before it, once: the folded weights,
    cast to the activation dtype and laid out channels-last, are cached and rebuilt only when a
    parameter or buffer changes (tracked by their version counters and storage), on ``train()``
    / ``eval()``, and for another dtype or device. In-place changes through ``.data`` bypass
    version counters: call ``model.eval()`` again after them. With gradients enabled on trainable
    weights, eval mode folds on every forward (differentiably) instead.
    """

    def __init__(self, config: IsoCLRConfig) -> None:
        super().__init__()
        self.stem_conv = IsoCLRConv1d(config.n_tracks, config.stem_filters, config.stem_kernel_size, padding="same")
        self.stem_norm = MaskedBatchNorm1d(config.stem_filters)
        channels = [config.stem_filters, *config.stage_filters]
        self.stages = nn.ModuleList(
            IsoCLRStage(config, channels[s], channels[s + 1], depth) for s, depth in enumerate(config.blocks_per_stage)
        )
        self._folded: tuple[tuple, list] | None = None  # (signature, folded weights)

    def train(self, mode: bool = True) -> IsoCLREncoder:
        self._folded = None
        return super().train(mode)

    def _load_from_state_dict(self, *args: object, **kwargs: object) -> None:
        self._folded = None
        super()._load_from_state_dict(*args, **kwargs)  # type: ignore[arg-type]

    def _apply(self, *args: object, **kwargs: object) -> IsoCLREncoder:  # .to(), .half(), .cuda(), ...
        self._folded = None
        return super()._apply(*args, **kwargs)  # type: ignore[arg-type]

    def _fold_all(self, dtype: torch.dtype) -> list:
        """Folded weights: the stem's, then per stage and layer, per convolution."""
        stem = fold_batch_norm(self.stem_conv, self.stem_norm, dtype)
        stages = [
            [{name: fold_batch_norm(conv, norm, dtype) for name, (conv, norm) in lay.pairs().items()} for lay in stage]
            for stage in self.stages
        ]
        return [stem, stages]

    def folded_weights(self, dtype: torch.dtype) -> list:
        """Eval-mode folded weights in ``dtype`` (see the class docstring for when they are cached)."""
        tensors = list(self.parameters()) + [b for b in self.buffers() if b.is_floating_point()]
        if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
            return self._fold_all(dtype)  # differentiable; not cached
        signature = (dtype, *((t._version, t.data_ptr()) for t in tensors))
        if self._folded is None or self._folded[0] != signature:
            with torch.inference_mode(False), torch.no_grad():  # plain tensors, usable outside inference mode
                self._folded = (signature, self._fold_all(dtype))
        return self._folded[1]

    def forward(self, tracks: Groups, masks: Masks) -> tuple[Groups, Masks, list[Groups]]:
        """Encode length groups of one batch (batch-norm statistics are shared by the groups).

        Args:
            tracks: Per group, input tracks zero at padding, in the activation dtype.
                Shape: (B_g, T, 1, L_g), channels-last.
            masks: Per group, valid positions, or ``None`` when nothing in the group is padded.
                Shape: (B_g, 1, 1, L_g).

        Returns:
            Per group: features (B_g, C, 1, ceil(L_g / downsampling)) and their masks; and, per
            layer (stem, then each stage), the groups' outputs.
        """
        masks = [None if m is None else m.to(x.dtype) for x, m in zip(tracks, masks)]
        folded = None if self.training else self.folded_weights(tracks[0].dtype)
        if folded is None:
            normed = self.stem_norm([self.stem_conv(x) for x in tracks], masks)
            stem = [masked_relu(h, m) for h, m in zip(normed, masks)]
        else:
            fused = _fused_conv_available(tracks[0], folded[0][0])
            stem = [
                zero_padding(self.stem_conv(x, *folded[0], relu=True, fused=fused), m) for x, m in zip(tracks, masks)
            ]
        pooled = [masked_max_pool(h, m) for h, m in zip(stem, masks)]
        xs, masks = [x for x, _ in pooled], [m for _, m in pooled]  # (B_g, F0, 1, L_g/2)
        outputs = [xs]
        for s, stage in enumerate(self.stages):
            xs, masks = stage(xs, masks, None if folded is None else folded[1][s])
            outputs.append(xs)  # (B_g, F_s, 1, L_g/2^(s+2))
        return xs, masks, outputs


__all__ = [
    "FiniteBatchNorm1d",
    "IsoCLRConv1d",
    "IsoCLREncoder",
    "IsoCLRLayer",
    "IsoCLRStage",
    "MaskedBatchNorm1d",
    "commit_running_stats",
    "fold_batch_norm",
    "masked_max_pool",
    "masked_relu",
    "zero_padding",
]
