"""Orthrus's building blocks: the pre-norm Mamba block and its mixer.

Remote code: imported by ``modeling_orthrus.py`` and copied next to the weights; imports only torch,
transformers and the sibling ``configuration_orthrus.py``. The input tracks are built in the shared
``track_inputs.py``.

The mixer is transformers' ``MambaMixer``, which computes mamba-ssm's ``Mamba`` (the unfused path
of Orthrus's ``mamba.py``) and takes its parameter names unchanged (``in_proj``, ``conv1d``,
``x_proj``, ``dt_proj``, ``A_log``, ``D``, ``out_proj``). On a GPU with mamba-ssm (or the ``kernels``
package) installed, transformers runs it with the CUDA kernels. Everywhere else :class:`OrthrusMixer`
runs the same equations with its own pure-torch scan: transformers' fallback slices a
``(batch, d_inner, length, d_state)`` tensor at each position, whose backward allocates a tensor of
that size per position (training time grows with the square of the length: 3.3 s against 0.25 s for
the backward of one d=512 layer over 8 x 64 nt); here each position's slice is contiguous and the
backward is linear. Δ, ``A``, ``D`` and the scan run in float32, also under autocast, as mamba-ssm does.
"""

from __future__ import annotations

import importlib.util

import torch
import torch.nn.functional as F
from torch import nn
from transformers import MambaConfig
from transformers.models.mamba.modeling_mamba import MambaMixer

from .configuration_orthrus import OrthrusConfig


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
    """transformers' ``MambaMixer`` with a pure-torch path whose backward is linear in the length.

    transformers' own ``forward`` (CUDA kernels) runs on a GPU where mamba-ssm or ``kernels`` is
    installed; otherwise :meth:`scan_forward`, the same equations (README of the golden files).
    """

    def forward(self, hidden_states: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:  # type: ignore[override]
        if args or kwargs or (hidden_states.is_cuda and CUDA_KERNELS):
            return super().forward(hidden_states, *args, **kwargs)
        return self.scan_forward(hidden_states)

    def scan_forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """Shape: (batch, length, hidden_size) -> (batch, length, hidden_size)."""
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
