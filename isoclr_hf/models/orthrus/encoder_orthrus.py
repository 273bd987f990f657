"""Orthrus's building blocks: the pre-norm Mamba block and its mixer.

Remote code: imported by ``modeling_orthrus.py`` and copied next to the weights; imports only torch,
transformers and the siblings ``configuration_orthrus.py`` and ``scan_orthrus.py``. The input tracks are
built in the shared ``track_inputs.py``.

The mixer is transformers' ``MambaMixer``, which computes mamba-ssm's ``Mamba`` (the unfused path
of Orthrus's ``mamba.py``) and takes its parameter names unchanged (``in_proj``, ``conv1d``,
``x_proj``, ``dt_proj``, ``A_log``, ``D``, ``out_proj``). On a GPU with mamba-ssm (or the ``kernels``
package) installed, transformers runs it with the CUDA kernels. Everywhere else :class:`OrthrusMixer`
runs the same equations with the fast scan of ``scan_orthrus.py`` (chunks compiled by torch.compile,
or eager chunks; ``ORTHRUS_SCAN`` picks, ``reference`` selects :func:`selective_scan`, the loop over
positions that the tests compare against). transformers' own fallback slices a ``(batch, d_inner,
length, d_state)`` tensor at each position, whose backward allocates a tensor of that size per
position (training time grows with the square of the length); all three paths here have a backward
linear in the length. Δ, ``A``, ``D`` and the scan run in float32, also under autocast, as mamba-ssm does.
"""

from __future__ import annotations

import importlib.util

import torch
import torch.nn.functional as F
from torch import nn
from transformers import MambaConfig
from transformers.models.mamba.modeling_mamba import MambaMixer

from .configuration_orthrus import OrthrusConfig
from .scan_orthrus import fast_selective_scan, scan_path


def mixer_config(config: OrthrusConfig) -> MambaConfig:
    """The ``MambaConfig`` whose ``MambaMixer`` is Orthrus's mixer (mamba-ssm ``Mamba`` defaults)."""
    return MambaConfig(
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_hidden_layers,
        state_size=config.state_size,
        expand=config.expand,
        conv_kernel=config.conv_kernel,
        time_step_rank=config.time_step_rank,
        use_bias=False,  # in_proj and out_proj have no bias in mamba-ssm's Mamba
        use_conv_bias=True,
        hidden_act="silu",
        use_mambapy=False,
    )


def _cuda_kernels_installed() -> bool:
    """Whether transformers can run ``MambaMixer`` with CUDA kernels (mamba-ssm, or the ``kernels`` package)."""
    return any(importlib.util.find_spec(name) is not None for name in ("mamba_ssm", "kernels"))


CUDA_KERNELS = _cuda_kernels_installed()


def selective_scan(
    x: torch.Tensor, delta: torch.Tensor, decay_rates: torch.Tensor, input_weights: torch.Tensor,
    readout_weights: torch.Tensor,
) -> torch.Tensor:
    """``s_t = exp(Δ_t A) s_{t-1} + Δ_t x_t B_t`` (s_0 = 0) and ``y_t = s_t C_t``, position by position.

    In Mamba's notation ``decay_rates`` is A (negative), ``input_weights`` B and ``readout_weights`` C.
    Shape: x, delta (batch, d_inner, length) float32; decay_rates (d_inner, d_state); input_weights,
    readout_weights (batch, length, d_state) -> y (batch, d_inner, length) float32.
    """
    decay = torch.exp(decay_rates[None, None] * delta.permute(2, 0, 1)[..., None])  # (L, b, E, N)
    inputs = (delta * x).permute(2, 0, 1)[..., None] * input_weights.transpose(0, 1)[:, :, None, :].float()
    readout = readout_weights.transpose(0, 1)[..., None].float()  # (L, b, N, 1)
    state = torch.zeros_like(decay[0])  # (b, E, N)
    outputs = []
    for position_decay, position_input, position_readout in zip(decay.unbind(0), inputs.unbind(0), readout.unbind(0)):
        state = position_decay * state + position_input  # each position's slice is contiguous
        outputs.append(torch.matmul(state, position_readout)[..., 0])  # (b, E)
    return torch.stack(outputs, dim=-1)  # (b, E, L)


class OrthrusMixer(MambaMixer):
    """transformers' ``MambaMixer`` with pure-torch paths whose backward is linear in the length.

    transformers' own ``forward`` (CUDA kernels) runs on a GPU where mamba-ssm or ``kernels`` is
    installed; otherwise :meth:`scan_forward`, the same equations (README of the golden files), with
    the scan that ``ORTHRUS_SCAN`` picks (``scan_orthrus.py``: compiled chunks by default).
    """

    def forward(self, hidden_states: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:  # type: ignore[override]
        if args or kwargs or (hidden_states.is_cuda and CUDA_KERNELS):
            return super().forward(hidden_states, *args, **kwargs)
        return self.scan_forward(hidden_states)

    def scan_forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """Shape: (batch, length, hidden_size) -> (batch, length, hidden_size).

        Channels-last throughout: the causal depthwise convolution is ``kernel`` shifted
        multiply-adds, so no transposes are copied; the convolution, Δ, the scan and the gate run in
        float32, also under autocast, as mamba-ssm does.
        """
        path = scan_path()
        if path == "reference":
            return self.reference_forward(hidden_states)
        length, dtype = hidden_states.shape[1], hidden_states.dtype
        x, gate = self.in_proj(hidden_states).chunk(2, dim=-1)  # (b, L, E) each
        kernel = self.conv1d.weight.shape[-1]
        padded = F.pad(x.float(), (0, 0, kernel - 1, 0))  # (b, L + k - 1, E): causal left zero-padding
        weight = self.conv1d.weight.float()[:, 0]  # (E, k)
        conv = self.conv1d.bias.float() + padded[:, kernel - 1 :] * weight[:, -1]
        for shift in range(1, kernel):  # tap k - 1 - shift looks shift positions back
            conv = conv + padded[:, kernel - 1 - shift : kernel - 1 - shift + length] * weight[:, -1 - shift]
        x32 = self.act(conv)  # (b, L, E)
        time_step, input_weights, readout_weights = torch.split(
            self.x_proj(x32.to(dtype) if dtype != torch.float32 else x32),
            [self.time_step_rank, self.ssm_state_size, self.ssm_state_size], dim=-1,
        )  # (b, L, R), (b, L, N), (b, L, N): Δ's low-rank input, B and C
        with torch.autocast(hidden_states.device.type, enabled=False):  # Δ and the scan in float32
            delta = F.softplus(F.linear(time_step.float(), self.dt_proj.weight.float(), self.dt_proj.bias.float()))
            decay_rates = -torch.exp(self.A_log.float())  # A: (E, N)
            y = fast_selective_scan(x32, delta, decay_rates, input_weights, readout_weights,
                                    path="eager" if path == "eager" else "compiled")  # (b, L, E)  # fmt: skip
            y = (y + x32 * self.D.float()) * F.silu(gate.float())
        return self.out_proj(y.to(dtype))  # (b, L, d)

    def reference_forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """:meth:`scan_forward` with the sequential :func:`selective_scan` (``ORTHRUS_SCAN=reference``).

        Shape: (batch, length, hidden_size) -> (batch, length, hidden_size).
        """
        length, dtype = hidden_states.shape[1], hidden_states.dtype
        x, gate = self.in_proj(hidden_states).transpose(1, 2).chunk(2, dim=1)  # (b, E, L) each
        x = self.act(self.conv1d(x)[..., :length])  # causal depthwise convolution: left zero-padding k - 1
        time_step, input_weights, readout_weights = torch.split(
            self.x_proj(x.transpose(1, 2)), [self.time_step_rank, self.ssm_state_size, self.ssm_state_size], dim=-1
        )  # (b, L, R), (b, L, N), (b, L, N): Δ's low-rank input, B and C
        with torch.autocast(hidden_states.device.type, enabled=False):  # Δ and the scan in float32
            x32 = x.float()
            delta = F.softplus(F.linear(time_step.float(), self.dt_proj.weight.float(), self.dt_proj.bias.float()))
            decay_rates = -torch.exp(self.A_log.float())  # A
            y = selective_scan(x32, delta.transpose(1, 2), decay_rates, input_weights, readout_weights)  # (b, E, L)
            y = (y + x32 * self.D.float()[None, :, None]) * F.silu(gate.float())
        return self.out_proj(y.transpose(1, 2).to(dtype))  # (b, L, d)


class OrthrusBlock(nn.Module):
    """One Orthrus layer (mamba-ssm ``Block`` with ``fused_add_norm=False``): add, LayerNorm, mix.

    ``residual = hidden + residual`` (``hidden`` alone in the first block), then
    ``hidden = mixer(LayerNorm(residual))``. The LayerNorm has a bias (it is not RMSNorm).
    """

    def __init__(self, config: OrthrusConfig, layer_index: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_epsilon)
        self.mixer = OrthrusMixer(mixer_config(config), layer_idx=layer_index)
        # Read by OrthrusPreTrainedModel._init_weights (Orthrus/mamba-ssm initialisation).
        setattr(self.mixer.dt_proj, "orthrus_init", "time_step")  # noqa: B010
        setattr(self.mixer.out_proj, "orthrus_init", "residual_output")  # noqa: B010

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Shape: (batch, length, hidden_size) each -> the new ``(hidden, residual)``, same shapes."""
        residual = hidden if residual is None else hidden + residual
        hidden = self.mixer(self.norm(residual.to(self.norm.weight.dtype)))
        return hidden, residual


__all__ = ["OrthrusBlock", "OrthrusMixer", "mixer_config", "selective_scan"]
