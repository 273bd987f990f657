"""The fast selective scans (scan_orthrus.py) equal the sequential reference scan.

The eager chunked path is tested on its own (fast); the compiled path (torch.compile, minutes of CPU on a
busy machine when its cache is cold) in a few small tests marked slow. ``ORTHRUS_SCAN`` picks the path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModel

from isoclr_hf.models.orthrus import OrthrusModel, scan_orthrus
from isoclr_hf.models.orthrus.encoder_orthrus import selective_scan
from isoclr_hf.models.orthrus.scan_orthrus import EAGER_CHUNK, fast_selective_scan, scan_path
from tests.models.orthrus.reference_files import tiny_orthrus_config
from tests.models.orthrus.test_golden_orthrus import check_against_golden


def scan_inputs(batch: int, length: int, width: int = 12, states: int = 4, delta_scale: float = 0.3,
                seed: int = 0) -> list[torch.Tensor]:  # fmt: skip
    """x, Δ (batch, length, width), A (width, states), B, C (batch, length, states), requiring gradients."""
    generator = torch.Generator().manual_seed(seed)
    values = [torch.randn(batch, length, width, generator=generator),
              torch.rand(batch, length, width, generator=generator) * delta_scale,
              -torch.exp(torch.randn(width, states, generator=generator)) * 4,
              torch.randn(batch, length, states, generator=generator),
              torch.randn(batch, length, states, generator=generator)]  # fmt: skip
    return [value.requires_grad_() for value in values]


def reference(x: torch.Tensor, delta: torch.Tensor, rates: torch.Tensor, b: torch.Tensor, c: torch.Tensor
              ) -> torch.Tensor:  # fmt: skip
    """The sequential scan, channels-last like the fast one. Shape: (batch, length, width)."""
    return selective_scan(x.transpose(1, 2), delta.transpose(1, 2), rates, b, c).transpose(1, 2)


def output_and_gradients(scan: object, inputs: list[torch.Tensor]) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    y = scan(*inputs)  # type: ignore[operator]
    weights = torch.cos(torch.arange(y.numel(), dtype=torch.float32)).view_as(y)  # a loss that mixes positions
    return y, torch.autograd.grad((y * weights).sum(), inputs)


def assert_scans_equal(path: str, inputs: list[torch.Tensor], atol: float = 1e-5, grad_atol: float = 1e-4) -> None:
    expected, expected_grads = output_and_gradients(reference, inputs)
    actual, actual_grads = output_and_gradients(lambda *v: fast_selective_scan(*v, path=path), inputs)
    torch.testing.assert_close(actual, expected, atol=atol, rtol=0)
    for name, mine, theirs in zip(("x", "delta", "A", "B", "C"), actual_grads, expected_grads):
        torch.testing.assert_close(mine, theirs, atol=grad_atol, rtol=1e-5, msg=lambda m, n=name: f"grad {n}: {m}")


@pytest.mark.parametrize("batch,length", [(1, 1), (3, 37), (2, 64)])
def test_eager_scan_equals_sequential(batch: int, length: int) -> None:
    assert_scans_equal("eager", scan_inputs(batch, length))


def test_eager_scan_with_large_delta_falls_back_to_short_spans() -> None:
    inputs = scan_inputs(2, 53, delta_scale=0.05)
    with torch.no_grad():
        inputs[1][:, 5:9] *= 200.0  # |Δ A| far beyond exp's range over a chunk of 16
        inputs[1][1, 40] = 500.0
    spans = scan_orthrus._eager_spans(inputs[1], inputs[2].t(), EAGER_CHUNK)
    assert sum(spans) == 53 and 1 in spans and max(spans) == EAGER_CHUNK
    y = fast_selective_scan(*inputs, path="eager").detach()
    assert bool(torch.isfinite(y).all())
    assert_scans_equal("eager", inputs, atol=1e-5 * float(y.abs().max()), grad_atol=1e-4 * float(y.abs().max()))


def test_eager_spans_keep_every_exponent_in_range() -> None:
    delta = torch.full((1, 40, 3), 0.01)
    delta[0, 20, 1] = 100.0  # one position alone exceeds the limit: it becomes a span of one
    rates = -torch.ones(2, 3)  # (N, E)
    spans = scan_orthrus._eager_spans(delta, rates, 16)
    assert spans == [16, 4, 1, 1, 2, 8, 8]
    start = 0
    for span in spans:  # every span of more than one position stays within the limit
        assert span == 1 or float(delta[0, start : start + span].sum(0).max()) <= scan_orthrus.EXP_SPAN_LIMIT
        start += span


def test_padding_never_changes_valid_positions() -> None:
    x, delta, rates, b, c = (value.detach() for value in scan_inputs(2, 30))
    extended = [torch.cat([value, 1e3 * torch.rand(2, 9, value.shape[-1])], dim=1) for value in (x, delta, b, c)]
    short = fast_selective_scan(x, delta, rates, b, c, path="eager")
    long = fast_selective_scan(extended[0], extended[1], rates, extended[2], extended[3], path="eager")
    # Huge Δ past the end split the last chunk differently (other rounding), nothing more.
    torch.testing.assert_close(long[:, :30], short, atol=1e-6, rtol=0)


def test_scan_path_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORTHRUS_SCAN", raising=False)
    assert scan_path() == "auto"
    monkeypatch.setenv("ORTHRUS_SCAN", "Eager")
    assert scan_path() == "eager"
    monkeypatch.setenv("ORTHRUS_SCAN", "fast")
    with pytest.raises(ValueError, match=r"ORTHRUS_SCAN='fast'.*auto, compiled, eager, reference"):
        scan_path()
    with pytest.raises(ValueError, match="path must be"):
        fast_selective_scan(*scan_inputs(1, 4), path="reference")


def test_compilation_failure_falls_back_to_eager_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_compile(function: object, **options: object) -> object:
        def compiled(*args: object) -> object:
            raise RuntimeError("no C++ compiler")

        return compiled

    monkeypatch.setattr(scan_orthrus, "_compiled", {})
    monkeypatch.setattr(scan_orthrus, "_compile_failed", False)
    monkeypatch.setattr(scan_orthrus.torch, "compile", broken_compile)
    inputs = scan_inputs(2, 21)
    with pytest.warns(RuntimeWarning, match="torch.compile failed.*no C\\+\\+ compiler"):
        y = fast_selective_scan(*inputs, path="compiled")
    torch.testing.assert_close(y, reference(*inputs), atol=1e-5, rtol=0)
    assert scan_orthrus._compile_failed  # later calls go straight to the eager path
    assert_scans_equal("compiled", inputs)


def model_gradients(model: OrthrusModel, tracks: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
    out = model(tracks=tracks, attention_mask=mask).last_hidden_state
    loss = (out * torch.cos(torch.arange(out.numel(), dtype=torch.float32)).view_as(out)).sum()
    return [out, *torch.autograd.grad(loss, list(model.parameters()))]


def test_eager_model_gradients_equal_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    model = OrthrusModel(tiny_orthrus_config(hidden_size=24))
    tracks, mask = torch.rand(3, 45, 6), torch.ones(3, 45, dtype=torch.long)
    mask[1, 30:] = 0
    monkeypatch.setenv("ORTHRUS_SCAN", "reference")
    expected = model_gradients(model, tracks, mask)
    monkeypatch.setenv("ORTHRUS_SCAN", "eager")
    for actual, theirs in zip(model_gradients(model, tracks, mask), expected):
        torch.testing.assert_close(actual, theirs, atol=1e-4, rtol=1e-5)


@torch.no_grad()
def test_eager_path_reproduces_golden_outputs_and_a_12288_nt_reference(
    converted_reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = AutoModel.from_pretrained(converted_reference).eval()
    monkeypatch.setenv("ORTHRUS_SCAN", "eager")
    check_against_golden(model)
    tracks = torch.rand(1, 12_288, 6, generator=torch.Generator().manual_seed(1))
    tracks[..., :4] = torch.nn.functional.one_hot(tracks[..., :4].argmax(-1), 4).float()
    fast = model(tracks=tracks).last_hidden_state
    monkeypatch.setenv("ORTHRUS_SCAN", "reference")
    torch.testing.assert_close(fast, model(tracks=tracks).last_hidden_state, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_compiled_scan_equals_sequential() -> None:
    # One small shape per kind of call keeps the compilations few (batch 1 and batch > 1 compile apart).
    assert_scans_equal("compiled", scan_inputs(3, 37))
    inputs = scan_inputs(2, 40)
    with torch.no_grad():
        inputs[1][:, 5:9] *= 200.0  # large Δ: the sequential recurrence cannot overflow
    y = fast_selective_scan(*inputs, path="compiled").detach()
    assert bool(torch.isfinite(y).all())
    assert_scans_equal("compiled", inputs, atol=1e-5 * float(y.abs().max()), grad_atol=1e-4 * float(y.abs().max()))
    x, delta, rates, b, c = (value.detach() for value in inputs)
    extended = [torch.cat([value, 1e3 * torch.rand(2, 9, value.shape[-1])], dim=1) for value in (x, delta, b, c)]
    long = fast_selective_scan(extended[0], extended[1], rates, extended[2], extended[3], path="compiled")
    torch.testing.assert_close(long[:, :40], fast_selective_scan(x, delta, rates, b, c), atol=0, rtol=0)


@pytest.mark.slow
@torch.no_grad()
def test_compiled_path_reproduces_golden_outputs_and_a_12288_nt_reference(
    converted_reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = AutoModel.from_pretrained(converted_reference).eval()
    monkeypatch.setenv("ORTHRUS_SCAN", "compiled")
    check_against_golden(model)
    tracks = torch.rand(1, 12_288, 6, generator=torch.Generator().manual_seed(1))
    fast = model(tracks=tracks).last_hidden_state
    monkeypatch.setenv("ORTHRUS_SCAN", "reference")
    torch.testing.assert_close(fast, model(tracks=tracks).last_hidden_state, atol=1e-5, rtol=0)
    assert not scan_orthrus._compile_failed
