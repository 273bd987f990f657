"""The IsoCLR encoder's modules: checkpoint names, eval-time batch-norm folding and its cache,
the fused oneDNN path, activation dtypes, length groups and the HF output conventions."""

from __future__ import annotations

import itertools
import random

import pytest
import torch

from isoclr_hf import IsoCLRForSequenceClassification, IsoCLRModel
from isoclr_hf.models.isoclr import encoder_isoclr
from isoclr_hf.models.isoclr.encoder_isoclr import IsoCLRLayer
from isoclr_hf.models.isoclr.length_groups import plan_length_groups
from tests.tiny_models import tiny_config


def randomised_model(**overrides: object) -> IsoCLRModel:
    """A tiny model with non-trivial batch-norm statistics and affine parameters, in eval mode."""
    torch.manual_seed(0)
    model = IsoCLRModel(tiny_config(**overrides))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    return model.eval()


def padded_batch(lengths: tuple[int, ...] = (300, 250, 100, 37, 290)) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    width = max(lengths)
    ids = torch.randint(1, 5, (len(lengths), width), generator=generator)
    mask = (torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]).long()
    cds = torch.zeros_like(ids)
    cds[:, 10::3] = 1
    return {"input_ids": ids * mask, "attention_mask": mask, "cds_track": cds * mask}


def unfolded(model: IsoCLRModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Eval output with gradients enabled: batch norm folded on the fly, nothing cached or fused."""
    return model(**batch).last_hidden_state.detach()


def test_checkpoint_names_are_those_of_the_original_layout() -> None:
    """Saved IsoCLR checkpoints keep loading: the parameter names of the first (flat) encoder layout."""
    config = tiny_config()
    norm = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    expected = [f"encoder.stem_conv.{p}" for p in ("weight", "bias")] + [f"encoder.stem_norm.{p}" for p in norm]
    channels = [config.stem_filters, *config.stage_filters]
    for s, depth in enumerate(config.blocks_per_stage):
        for j in range(depth):
            names = ["conv1", "norm1", "conv2", "norm2"]
            if j == 0 and channels[s] != channels[s + 1]:
                names += ["shortcut_conv", "shortcut_norm"]
            for name in names:
                params = ("weight", "bias") if "conv" in name else norm
                expected += [f"encoder.stages.{s}.{j}.{name}.{p}" for p in params]
    assert sorted(IsoCLRModel(config).state_dict()) == sorted(expected)


def test_folded_cached_and_fused_equal_unfolded() -> None:
    model = randomised_model()
    batch = padded_batch()
    reference = unfolded(model, batch)
    with torch.no_grad():
        cached = model(**batch).last_hidden_state
        again = model(**batch).last_hidden_state
    with torch.inference_mode():
        inference = model(**batch).last_hidden_state
    torch.testing.assert_close(cached, reference, rtol=1e-5, atol=1e-5)
    assert torch.equal(cached, again) and torch.equal(cached, inference)


def test_unfused_fallback_matches(monkeypatch) -> None:
    model = randomised_model()
    batch = padded_batch()
    with torch.no_grad():
        fused = model(**batch).last_hidden_state
        monkeypatch.setattr(encoder_isoclr, "_fused_conv_available", lambda x, weight: False)
        plain = model(**batch).last_hidden_state
    torch.testing.assert_close(plain, fused, rtol=1e-5, atol=1e-5)


def test_folded_weights_are_built_once_and_never_stale() -> None:
    model = randomised_model()
    encoder = model.encoder
    batch = padded_batch()
    with torch.no_grad():
        before = model(**batch).last_hidden_state
        cache = encoder._folded
        model(**batch)
        assert encoder._folded is cache  # not rebuilt for an unchanged model
        encoder.stages[1][0].conv2.weight.mul_(1.5)  # an in-place change bumps the version counter
        changed = model(**batch).last_hidden_state
    assert not torch.allclose(changed, before)
    torch.testing.assert_close(changed, unfolded(model, batch), rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        encoder.stages[2][0].norm1.running_var.fill_(3.0)  # buffers count too
        torch.testing.assert_close(model(**batch).last_hidden_state, unfolded(model, batch), rtol=1e-5, atol=1e-5)

    fresh = randomised_model()
    with torch.no_grad():
        model.load_state_dict(fresh.state_dict())
        torch.testing.assert_close(model(**batch).last_hidden_state, fresh(**batch).last_hidden_state)
        model.train()
        assert encoder._folded is None
        model.eval()
        model.to(torch.bfloat16)  # another dtype: rebuilt in it
        assert model(**batch).last_hidden_state.dtype == torch.bfloat16


def test_eval_mode_gradients_flow_to_the_weights() -> None:
    """With gradients enabled, eval mode folds differentiably (frozen-statistics fine-tuning)."""
    model = randomised_model()
    model(**padded_batch()).pooler_output.sum().backward()
    assert model.encoder.stem_conv.weight.grad is not None
    assert model.encoder.stages[0][0].norm2.weight.grad is not None


def test_bf16_activations_stay_bf16_on_padded_batches() -> None:
    """Masks are kept in the activation dtype: a padded batch never promotes bf16 activations."""
    dtypes = []
    model = randomised_model()
    for module in model.modules():
        if isinstance(module, IsoCLRLayer):
            module.register_forward_hook(lambda _m, _i, out: dtypes.extend(x.dtype for x in out[0]))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        model(**padded_batch())
    assert dtypes and set(dtypes) == {torch.bfloat16}
    dtypes.clear()
    with torch.no_grad():
        model.to(torch.bfloat16)(**padded_batch())
    assert dtypes and set(dtypes) == {torch.bfloat16}


def test_output_length_follows_the_configured_downsampling() -> None:
    for stages in (4, 3):
        config = tiny_config(stage_filters=(8, 12, 16, 20)[:stages], blocks_per_stage=(1, 2, 1, 1)[:stages])
        model = IsoCLRModel(config).eval()
        out = model(**padded_batch((100, 64)))
        assert config.downsampling == 2 ** (stages + 1)
        assert out.last_hidden_state.shape[1] == -(-100 // config.downsampling)
        assert out.output_mask.sum(1).tolist() == [-(-n // config.downsampling) for n in (100, 64)]


def test_return_dict_and_output_hidden_states_are_honoured() -> None:
    model = randomised_model()
    batch = padded_batch()
    with torch.no_grad():
        out = model(**batch)
        as_tuple = model(**batch, return_dict=False)
        assert isinstance(as_tuple, tuple) and len(as_tuple) == 3  # no hidden states asked for
        assert torch.equal(as_tuple[0], out.last_hidden_state) and torch.equal(as_tuple[1], out.pooler_output)
        assert out.hidden_states is None
        model.config.output_hidden_states = True
        assert len(model(**batch).hidden_states) == 1 + len(model.config.stage_filters)
        model.config.output_hidden_states = False
        model.config.return_dict = False
        assert isinstance(model(**batch), tuple)
    head = IsoCLRForSequenceClassification(tiny_config(num_labels=1)).eval()
    with torch.no_grad():
        logits, _predictions, embeddings = head(**batch, return_dict=False)
    assert logits.shape == (5, 1) and embeddings.shape == (5, head.config.hidden_size)


def test_unknown_forward_arguments_raise_type_error() -> None:
    model = randomised_model()
    with pytest.raises(TypeError, match="token_type_ids"):
        model(**padded_batch(), token_type_ids=torch.zeros(5, 300, dtype=torch.long))
    head = IsoCLRForSequenceClassification(tiny_config(num_labels=1))
    with pytest.raises(TypeError, match="lables"):
        head(**padded_batch(), lables=torch.zeros(5))


def reference_plan(lengths: list[int], max_groups: int, min_saving: float = 0.1) -> list[list[int]]:
    """The original pure-Python dynamic program (for batches up to 128 rows)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    count = len(order)
    if max_groups <= 1 or count < 2:
        return [order]
    sorted_lengths = [lengths[i] for i in order]
    groups = min(max_groups, count)
    inf = float("inf")
    cost = [[inf] * (count + 1) for _ in range(groups + 1)]
    cut = [[0] * (count + 1) for _ in range(groups + 1)]
    cost[0][0] = 0.0
    for g in range(1, groups + 1):
        for j in range(1, count + 1):
            for i in range(g - 1, j):
                value = cost[g - 1][i] + (j - i) * sorted_lengths[i]
                if value < cost[g][j]:
                    cost[g][j], cut[g][j] = value, i
    single = count * sorted_lengths[0]
    groups = min(g for g in range(1, groups + 1) if cost[g][count] <= cost[groups][count] + 0.02 * single)
    bounds, j = [count], count
    for g in range(groups, 0, -1):
        j = cut[g][j]
        bounds.append(j)
    runs = [order[a:b] for a, b in itertools.pairwise(bounds[::-1]) if b > a]
    if sum(len(run) * lengths[run[0]] for run in runs) > (1 - min_saving) * single:
        return [order]
    return runs


def test_vectorised_length_plan_matches_the_dynamic_program() -> None:
    rng = random.Random(0)
    for trial in range(60):
        count = rng.randint(1, 70)
        lengths = [rng.choice([rng.randint(1, 12288), rng.randint(200, 400)]) for _ in range(count)]
        if trial % 5 == 0:
            lengths = [rng.choice([256, 512, 4096]) for _ in range(count)]  # ties
        groups = rng.randint(1, 6)
        plan, reference = plan_length_groups(lengths, groups), reference_plan(lengths, groups)
        padded = [sum(len(run) * lengths[run[0]] for run in p) for p in (plan, reference)]
        assert padded[0] == padded[1] and len(plan) == len(reference), (lengths, groups)
        assert sorted(itertools.chain(*plan)) == list(range(count))
