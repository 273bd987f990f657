"""A fast exact Mamba-1 selective scan in pure torch, for machines without mamba-ssm's CUDA kernels.

Remote code: a sibling of ``modeling_orthrus.py`` (which imports it directly, as transformers 4.x
copies only direct relative imports); imports only torch.

The scan (Gu & Dao 2023, Mamba, eq. 2a-2b with the zero-order hold of Algorithm 2) is, per channel e
and state n, ``s_t = exp(Δ_t A) s_{t-1} + Δ_t x_t B_t`` with ``s_0 = 0`` and ``y_t = Σ_n s_t C_t``.
Two paths compute it over the whole batch at once, chunk by chunk, with the state in float32:

- ``"compiled"``: the recurrence itself, unrolled over :data:`COMPILED_CHUNK` positions and compiled
  once by ``torch.compile`` (inductor: one fused C++ loop nest per chunk on a CPU), called ``L /
  COMPILED_CHUNK`` times per layer. It is the sequential recurrence, so it is exact and cannot
  overflow. Its backward is written by hand (:func:`chunk_backward`, also compiled): it recomputes a
  chunk's states from the state saved at the chunk's start, so time and memory are linear in the
  length (one ``(batch, d_state, d_inner)`` state is saved per chunk).
- ``"eager"``: the same chunks in closed form with plain torch ops and autograd: within a chunk
  ``s_t = exp(P_t) s_0 + Σ_{k≤t} exp(P_t - P_k) Δ_k x_k B_k`` with ``P_t = Σ_{j≤t} Δ_j A`` taken
  relative to the chunk's middle. A chunk whose ``max|A| Σ Δ`` exceeds :data:`EXP_SPAN_LIMIT` is
  halved (down to single positions) so every ``exp`` stays finite and well above underflow.

The path is chosen at each call by the environment variable ``ORTHRUS_SCAN``: ``auto`` (default:
compiled where ``torch.compile`` works, eager otherwise), ``compiled``, ``eager``, or ``reference``
(the position-by-position loop ``encoder_orthrus.selective_scan``, which tests compare against).
A compilation failure is never an error: the scan warns once and runs eagerly from then on.
Inductor keeps its compiled kernels on disk (``TORCHINDUCTOR_CACHE_DIR``, by default under the
temporary directory), so a second process skips most of the compile time.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import torch

COMPILED_CHUNK = 8  # positions unrolled per compiled call (measured 8 vs 16: as fast, compiles in a third of the time)
EAGER_CHUNK = 16  # positions per closed-form chunk on the eager path
EXP_SPAN_LIMIT = 60.0  # largest max|A|·ΣΔ over an eager chunk: exp(±60) is far from fp32 over- and underflow
SCAN_PATHS = ("auto", "compiled", "eager", "reference")

_compiled: dict[str, Callable] = {}  # "forward"/"backward" -> compiled chunk function
_compile_failed = False


def scan_path() -> str:
    """The path ``ORTHRUS_SCAN`` asks for: one of :data:`SCAN_PATHS` (default ``"auto"``).

    Raises:
        ValueError: When ``ORTHRUS_SCAN`` holds anything else.
    """
    path = os.environ.get("ORTHRUS_SCAN", "auto").strip().lower() or "auto"
    if path not in SCAN_PATHS:
        raise ValueError(f"ORTHRUS_SCAN={path!r} is not a scan path; use one of {', '.join(SCAN_PATHS)}.")
    return path


def chunk_forward(
    state: torch.Tensor, delta: torch.Tensor, delta_x: torch.Tensor, input_weights: torch.Tensor,
    readout_weights: torch.Tensor, decay_rates: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The recurrence over one chunk, position by position (unrolled when compiled).

    Shape: state (batch, d_state, d_inner); delta, delta_x (batch, chunk, d_inner); input_weights,
    readout_weights (batch, chunk, d_state); decay_rates (d_state, d_inner) -> y (batch, chunk,
    d_inner) and the state after the chunk (batch, d_state, d_inner).
    """
    outputs = []
    for t in range(delta.shape[1]):
        decay = torch.exp(delta[:, t, None, :] * decay_rates)  # (b, N, E)
        state = decay * state + delta_x[:, t, None, :] * input_weights[:, t, :, None]
        outputs.append((state * readout_weights[:, t, :, None]).sum(1))  # (b, E)
    return torch.stack(outputs, dim=1), state


def chunk_backward(
    state: torch.Tensor, delta: torch.Tensor, delta_x: torch.Tensor, input_weights: torch.Tensor,
    readout_weights: torch.Tensor, decay_rates: torch.Tensor, grad_y: torch.Tensor, grad_state: torch.Tensor,
) -> tuple[torch.Tensor, ...]:
    """Gradients of :func:`chunk_forward`, recomputing the chunk's states from its starting ``state``.

    Shape: the inputs of :func:`chunk_forward`, grad_y (batch, chunk, d_inner) and grad_state (batch,
    d_state, d_inner) -> gradients of delta, delta_x (batch, chunk, d_inner), input_weights,
    readout_weights (batch, chunk, d_state), decay_rates (d_state, d_inner) and the starting state.
    """
    length = delta.shape[1]
    states, decays = [state], []
    for t in range(length):
        decays.append(torch.exp(delta[:, t, None, :] * decay_rates))
        states.append(decays[t] * states[t] + delta_x[:, t, None, :] * input_weights[:, t, :, None])
    grad = grad_state  # gradient of the loss with respect to s_t, accumulated backwards
    grad_delta, grad_delta_x, grad_input, grad_readout = [], [], [], []
    grad_decay_rates = torch.zeros_like(decay_rates)
    for t in reversed(range(length)):
        grad = grad + grad_y[:, t, None, :] * readout_weights[:, t, :, None]
        grad_readout.append((grad_y[:, t, None, :] * states[t + 1]).sum(-1))  # (b, N)
        grad_delta_x.append((grad * input_weights[:, t, :, None]).sum(1))  # (b, E)
        grad_input.append((grad * delta_x[:, t, None, :]).sum(-1))  # (b, N)
        grad_exponent = grad * states[t] * decays[t]  # d loss / d (Δ_t A)
        grad_delta.append((grad_exponent * decay_rates).sum(1))  # (b, E)
        grad_decay_rates = grad_decay_rates + (grad_exponent * delta[:, t, None, :]).sum(0)
        grad = grad * decays[t]
    def stacked(values: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(values[::-1], dim=1)

    return (stacked(grad_delta), stacked(grad_delta_x), stacked(grad_input), stacked(grad_readout),
            grad_decay_rates, grad)  # fmt: skip


def _compile_failure(error: BaseException) -> None:
    global _compile_failed
    _compile_failed = True
    warnings.warn(
        f"torch.compile failed for the Orthrus selective scan ({type(error).__name__}: "
        f"{(str(error).splitlines() or [''])[0][:200]}); "
        "running the eager chunked scan instead (slower, same results). Set ORTHRUS_SCAN=eager to skip the attempt.",
        RuntimeWarning,
        stacklevel=3,
    )


def _chunk_function(kind: str) -> Callable:
    """The compiled chunk function, or the plain one once compilation has failed."""
    plain = chunk_forward if kind == "forward" else chunk_backward
    if _compile_failed:
        return plain
    if kind not in _compiled:
        # Automatic dynamic shapes: the first shape compiles a specialised kernel (fastest to build); a
        # second shape recompiles once with the changed sizes (batch, width) symbolic, reused from then on.
        _compiled[kind] = torch.compile(plain, dynamic=None, fullgraph=True)
    return _compiled[kind]


def _run_chunk(kind: str, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
    try:
        return _chunk_function(kind)(*args)
    except Exception as error:  # compilation problems surface here (no compiler, unsupported device, ...)
        if _compile_failed:
            raise
        _compile_failure(error)
        plain = chunk_forward if kind == "forward" else chunk_backward
        return plain(*args)


def _chunks(*tensors: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
    """(batch, length, width) tensors, length a multiple of the chunk -> per chunk, (batch, chunk, width) views."""
    return list(zip(*(values.split(COMPILED_CHUNK, dim=1) for values in tensors)))


def _fresh(pieces: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
    """Copies with no requires_grad, no inference flag, offset 0 and plain strides, whatever the caller's
    mode: dynamo's guards on them always hold, so the compiled kernels are reused (2 per kind: batch 1 and more).
    """
    return [piece.clone(memory_format=torch.contiguous_format) for piece in pieces]


def _compiled_forward(
    delta: torch.Tensor, delta_x: torch.Tensor, input_weights: torch.Tensor, readout_weights: torch.Tensor,
    decay_rates: torch.Tensor, keep_starts: bool,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """y over all chunks (batch, length, d_inner), and each chunk's starting state (b, N, E) if asked."""
    batch, _, width = delta.shape
    with torch.inference_mode(False), torch.no_grad():
        rates = decay_rates.detach().clone()
        state = delta.new_zeros(batch, decay_rates.shape[0], width)  # (b, N, E)
        outputs, starts = [], []
        for pieces in _chunks(delta, delta_x, input_weights, readout_weights):
            if keep_starts:
                starts.append(state)
            y, state = _run_chunk("forward", state, *_fresh(pieces), rates)
            outputs.append(y)
        return torch.cat(outputs, dim=1), starts  # (b, L, E)


class _CompiledScan(torch.autograd.Function):
    """The chunked scan over compiled chunk kernels; saves one state per chunk for the backward."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, delta: torch.Tensor, delta_x: torch.Tensor,
        input_weights: torch.Tensor, readout_weights: torch.Tensor, decay_rates: torch.Tensor,
    ) -> torch.Tensor:
        y, starts = _compiled_forward(delta, delta_x, input_weights, readout_weights, decay_rates, keep_starts=True)
        ctx.save_for_backward(delta, delta_x, input_weights, readout_weights, decay_rates, *starts)
        return y

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_y: torch.Tensor) -> tuple[torch.Tensor, ...]:  # type: ignore[override]
        delta, delta_x, input_weights, readout_weights, decay_rates, *starts = ctx.saved_tensors
        pieces = _chunks(delta, delta_x, input_weights, readout_weights, grad_y.float())
        rates = decay_rates.detach().clone()
        grad_state = torch.zeros_like(starts[0])
        grad_decay_rates = torch.zeros_like(decay_rates)
        grads: list[list[torch.Tensor]] = [[], [], [], []]
        for index in reversed(range(len(pieces))):
            *inputs, grad_piece = _fresh(pieces[index])
            *piece_grads, grad_rates, grad_state = _run_chunk(
                "backward", starts[index], *inputs, rates, grad_piece, grad_state
            )
            grad_decay_rates += grad_rates
            for collected, value in zip(grads, piece_grads):
                collected.append(value)

        def whole(values: list[torch.Tensor]) -> torch.Tensor:  # chunks in reverse -> (b, L, width)
            return torch.cat(values[::-1], dim=1)

        return (*(whole(values) for values in grads), grad_decay_rates)


# Kept out of any graph that dynamo traces around it (a user compiling the whole model): traced, the
# loop over chunks would be unrolled L / COMPILED_CHUNK times.
_compiled_scan = torch._dynamo.disable(_CompiledScan.apply)
_compiled_forward = torch._dynamo.disable(_compiled_forward)


def _eager_spans(delta: torch.Tensor, decay_rates: torch.Tensor, chunk: int) -> list[int]:
    """Lengths of the eager path's chunks: ``chunk`` positions, halved where ``max|A| ΣΔ`` is too large."""
    length = delta.shape[1]
    rate = decay_rates.detach().abs().amax(0)  # (E,): the fastest decay of each channel
    exponents = delta.detach() * rate  # (b, L, E): |Δ_t A| bound per position and channel
    spans: list[int] = []

    def split(start: int, size: int) -> None:
        if size == 1 or float(exponents[:, start : start + size].sum(1).amax()) <= EXP_SPAN_LIMIT:
            spans.append(size)
        else:
            split(start, size // 2)
            split(start + size // 2, size - size // 2)

    full = length - length % chunk
    if full:
        totals = exponents[:, :full].reshape(delta.shape[0], full // chunk, chunk, -1).sum(2).amax(dim=(0, 2))
        for index, total in enumerate(totals.tolist()):
            if total <= EXP_SPAN_LIMIT:
                spans.append(chunk)
            else:
                split(index * chunk, chunk)
    if length % chunk:
        split(full, length % chunk)
    return spans


def _eager_chunk(
    state: torch.Tensor, delta: torch.Tensor, delta_x: torch.Tensor, input_weights: torch.Tensor,
    readout_weights: torch.Tensor, decay_rates: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One chunk in closed form; the arguments and shapes of :func:`chunk_forward`."""
    length = delta.shape[1]
    # Sums over the chunk's first t positions as one matmul with a lower-triangular matrix of ones:
    # torch.cumsum along this axis is several times slower (it is most of the eager scan's time).
    lower = torch.ones(length, length, device=delta.device, dtype=delta.dtype).tril()  # (T, T)

    def cumulative_sum(values: torch.Tensor) -> torch.Tensor:  # (b, T, N, E) -> same, summed over t
        return torch.matmul(lower, values.flatten(2)).view_as(values)

    exponent = delta[:, :, None, :] * decay_rates  # (b, T, N, E): Δ_t A
    cumulative = cumulative_sum(exponent)  # P_t
    middle = (length - 1) // 2
    relative = cumulative - cumulative[:, middle : middle + 1]  # P_t - P_m: |.| <= EXP_SPAN_LIMIT
    inputs = delta_x[:, :, None, :] * input_weights[..., None]  # (b, T, N, E): Δ_k x_k B_k
    summed = cumulative_sum(torch.exp(-relative) * inputs)  # Σ_{k<=t} exp(P_m - P_k) u_k
    start = torch.exp(cumulative[:, middle : middle + 1]) * state[:, None]  # exp(P_m) s_0
    states = torch.exp(relative) * (start + summed)  # (b, T, N, E)
    y = (states * readout_weights[..., None]).sum(2)  # (b, T, E)
    return y, states[:, -1]


def _eager_scan(
    delta: torch.Tensor, delta_x: torch.Tensor, input_weights: torch.Tensor, readout_weights: torch.Tensor,
    decay_rates: torch.Tensor,
) -> torch.Tensor:
    spans = _eager_spans(delta, decay_rates, EAGER_CHUNK)
    state = delta.new_zeros(delta.shape[0], decay_rates.shape[0], delta.shape[2])  # (b, N, E)
    outputs = []
    # split, not slicing: the backward of a slice allocates the whole input, which would make it quadratic.
    for piece in zip(*(v.split(spans, dim=1) for v in (delta, delta_x, input_weights, readout_weights))):
        y, state = _eager_chunk(state, *piece, decay_rates)
        outputs.append(y)
    return torch.cat(outputs, dim=1)


def fast_selective_scan(
    x: torch.Tensor, delta: torch.Tensor, decay_rates: torch.Tensor, input_weights: torch.Tensor,
    readout_weights: torch.Tensor, path: str = "compiled",
) -> torch.Tensor:
    """``s_t = exp(Δ_t A) s_{t-1} + Δ_t x_t B_t`` (s_0 = 0), ``y_t = s_t C_t``, chunk by chunk, in float32.

    Args:
        x: The convolved, activated input. Shape: (batch, length, d_inner).
        delta: Δ after softplus. Shape: (batch, length, d_inner).
        decay_rates: A (negative). Shape: (d_inner, d_state).
        input_weights: B. Shape: (batch, length, d_state).
        readout_weights: C. Shape: (batch, length, d_state).
        path: ``"compiled"`` (falls back to eager with a warning if compilation fails) or ``"eager"``.

    Returns:
        y, float32. Shape: (batch, length, d_inner).
    """
    if path not in ("compiled", "eager"):
        raise ValueError(f"path must be 'compiled' or 'eager'; got {path!r}.")
    delta, x = delta.float(), x.float()
    delta_x = delta * x
    input_weights, readout_weights = input_weights.float(), readout_weights.float()
    rates = decay_rates.float().t().contiguous()  # (N, E): the state is (batch, d_state, d_inner)
    if path == "eager" or _compile_failed:
        return _eager_scan(delta, delta_x, input_weights, readout_weights, rates)
    length = delta.shape[1]
    padding = -length % COMPILED_CHUNK  # Δ = 0 and Δx = 0 past the end: the state carries unchanged

    def padded(values: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(values, (0, 0, 0, padding)) if padding else values

    inputs = (padded(delta), padded(delta_x), padded(input_weights), padded(readout_weights), rates)
    if torch.is_grad_enabled() and any(value.requires_grad for value in inputs):
        y = _compiled_scan(*inputs)
    else:  # inference: no states kept for a backward
        y = _compiled_forward(*inputs, keep_starts=False)[0]
    return y[:, :length] if padding else y


__all__ = ["COMPILED_CHUNK", "EAGER_CHUNK", "EXP_SPAN_LIMIT", "SCAN_PATHS", "chunk_backward", "chunk_forward",
           "fast_selective_scan", "scan_path"]  # fmt: skip
