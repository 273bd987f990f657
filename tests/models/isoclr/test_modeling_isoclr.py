"""IsoCLR models: shapes, padding invariance, heads, initialisation and save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isoclr_hf import (
    IsoCLRForContrastivePretraining,
    IsoCLRForSequenceClassification,
    IsoCLRModel,
    IsoCLRTokenizer,
)
from isoclr_hf.models.isoclr.encoder_isoclr import base_track_table, random_position_mask
from tests.tiny_models import tiny_config

BASES = np.array(list("ACGT"))


def random_sequence(length: int, rng: np.random.Generator) -> str:
    return "".join(rng.choice(BASES, size=length))


@pytest.fixture
def tokenizer() -> IsoCLRTokenizer:
    return IsoCLRTokenizer()


def test_output_shapes(config, tokenizer) -> None:
    model = IsoCLRModel(config).eval()
    rng = np.random.default_rng(0)
    batch = tokenizer([random_sequence(n, rng) for n in (100, 64, 7)], return_tensors="pt")
    out = model(**batch, output_hidden_states=True)
    assert out.last_hidden_state.shape == (3, 4, config.hidden_size)  # ceil(100 / 32) = 4
    assert out.pooler_output.shape == (3, config.hidden_size)
    assert out.output_mask.sum(1).tolist() == [4, 2, 1]
    widths = [config.stem_filters, *config.stage_filters]
    assert [h.shape[-1] for h in out.hidden_states] == widths
    assert [h.shape[1] for h in out.hidden_states] == [50, 25, 13, 7, 4]  # ceil(100 / 2^k)


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_padding_invariance(pooling, tokenizer) -> None:
    """An embedding is the same alone or batched with sequences three times longer."""
    model = IsoCLRModel(tiny_config(pooling=pooling))
    # Give batch norm non-trivial running statistics and affine parameters.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.bias.data.uniform_(-0.5, 0.5)
    model.eval()
    rng = np.random.default_rng(1)
    for length in (37, 200, 513):
        sequence = random_sequence(length, rng)
        exons = [length // 3, length]
        cds = (3, 3 + 3 * ((length - 6) // 3))
        alone = model(**tokenizer([sequence], exon_ends=[exons], cds=[cds], return_tensors="pt"))
        others = [random_sequence(3 * length, rng) for _ in range(2)]
        batched = model(
            **tokenizer([others[0], sequence, others[1]], exon_ends=[None, exons, None], cds=[None, cds, None],
                        pad_to_multiple_of=32, return_tensors="pt")
        )  # fmt: skip
        torch.testing.assert_close(batched.pooler_output[1], alone.pooler_output[0], atol=1e-5, rtol=1e-5)
        valid = int(alone.output_mask.sum())
        torch.testing.assert_close(
            batched.last_hidden_state[1, :valid], alone.last_hidden_state[0, :valid], atol=1e-5, rtol=1e-5
        )


def test_precomputed_tracks_give_the_same_embedding(config, tokenizer) -> None:
    model = IsoCLRModel(config).eval()
    batch = tokenizer(["ATGAAATAGNNC"], exon_ends=[[5, 12]], cds=[(0, 9)], return_tensors="pt")
    table = base_track_table(config, torch.device("cpu"), torch.float32)
    tracks = torch.cat(
        [
            table[batch["input_ids"].long()],
            batch["cds_track"][..., None].float(),
            batch["splice_track"][..., None].float(),
        ],
        dim=-1,
    )  # (1, L, 6)
    torch.testing.assert_close(model(tracks=tracks).pooler_output, model(**batch).pooler_output)


def test_unknown_base_encodings() -> None:
    uniform = base_track_table(tiny_config(), torch.device("cpu"), torch.float32)
    iupac = base_track_table(tiny_config(unknown_base_encoding="iupac"), torch.device("cpu"), torch.float32)
    assert uniform[0].tolist() == [0, 0, 0, 0]  # padding
    assert uniform[1].tolist() == [1, 0, 0, 0]  # A
    assert uniform[5].tolist() == [0.25] * 4  # N
    assert uniform[6].tolist() == [0.25] * 4  # R, uniform
    assert iupac[6].tolist() == [0.5, 0, 0.5, 0]  # R = A/G
    assert iupac[5].tolist() == [0.25] * 4


def test_four_track_model_ignores_annotations(tokenizer) -> None:
    model = IsoCLRModel(tiny_config(n_tracks=4)).eval()
    plain = tokenizer(["ACGTACGTAAGG"], return_tensors="pt")
    annotated = tokenizer(["ACGTACGTAAGG"], exon_ends=[[4, 12]], cds=[(0, 12)], return_tensors="pt")
    torch.testing.assert_close(model(**plain).pooler_output, model(**annotated).pooler_output)


def test_annotations_change_the_six_track_embedding(config, tokenizer) -> None:
    model = IsoCLRModel(config).eval()
    plain = tokenizer(["ACGTACGTAAGG"], return_tensors="pt")
    annotated = tokenizer(["ACGTACGTAAGG"], exon_ends=[[4, 12]], cds=[(0, 12)], return_tensors="pt")
    assert not torch.allclose(model(**plain).pooler_output, model(**annotated).pooler_output)


def test_random_position_mask_counts_valid_positions_only() -> None:
    attention = torch.zeros(3, 100, dtype=torch.long)
    attention[0, :100] = 1
    attention[1, :40] = 1
    attention[2, :7] = 1
    chosen = random_position_mask(attention, 0.15)
    assert chosen.sum(1).tolist() == [15, 6, 1]
    assert not bool((chosen & ~attention.bool()).any())


def test_regression_head_named_targets_in_original_units(tokenizer) -> None:
    config = tiny_config(target_names=["half_life", "mrl"], target_mean=[5.0, -1.0], target_std=[2.0, 0.5],
                         classifier_zero_init=False)  # fmt: skip
    model = IsoCLRForSequenceClassification(config).eval()
    batch = tokenizer(["ACGTACGTAA", "GGGCCCAAAT"], return_tensors="pt")
    labels = torch.tensor([[6.0, float("nan")], [4.0, -1.5]])
    out = model(**batch, labels=labels)
    assert out.logits.shape == (2, 2)
    torch.testing.assert_close(out.predictions, out.logits * torch.tensor([2.0, 0.5]) + torch.tensor([5.0, -1.0]))
    normalised = torch.tensor([[0.5, float("nan")], [-0.5, -1.0]])
    measured = ~torch.isnan(normalised)
    expected = torch.nn.functional.mse_loss(out.logits[measured], normalised[measured])
    torch.testing.assert_close(out.loss, expected)


def test_zero_initialised_head_predicts_the_mean(tokenizer) -> None:
    config = tiny_config(target_names=["half_life"], target_mean=[3.0], target_std=[2.0])
    model = IsoCLRForSequenceClassification(config).eval()
    out = model(**tokenizer(["ACGTACGTAA"], return_tensors="pt"))
    assert out.predictions.tolist() == [[3.0]]


def test_classification_heads(tokenizer) -> None:
    batch = tokenizer(["ACGTACGTAA", "GGGCCCAAAT", "ATATATATGC"], return_tensors="pt")
    single = IsoCLRForSequenceClassification(tiny_config(num_labels=3, classifier_zero_init=False))
    out = single(**batch, labels=torch.tensor([0, 2, 1]))
    torch.testing.assert_close(out.loss, torch.nn.functional.cross_entropy(out.logits, torch.tensor([0, 2, 1])))
    assert out.predictions is None
    multi = IsoCLRForSequenceClassification(
        tiny_config(num_labels=4, problem_type="multi_label_classification", classifier_zero_init=False)
    )
    labels = torch.tensor([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]], dtype=torch.float32)
    out = multi(**batch, labels=labels)
    torch.testing.assert_close(out.loss, torch.nn.functional.binary_cross_entropy_with_logits(out.logits, labels))
    out.loss.backward()
    assert multi.isoclr.encoder.stem_conv.weight.grad is not None


def test_contrastive_model_forward_and_gradients(config, tokenizer) -> None:
    model = IsoCLRForContrastivePretraining(config).train()
    rng = np.random.default_rng(2)
    view_a = tokenizer([random_sequence(n, rng) for n in (60, 90, 45, 70)], return_tensors="pt")
    view_b = tokenizer([random_sequence(n, rng) for n in (80, 30, 45, 100)], return_tensors="pt")
    out = model(**view_a, **{f"partner_{k}": v for k, v in view_b.items()}, weights=torch.tensor([1.0, 0.5, 1.5, 1.0]))
    assert out.projections.shape == (4, config.projection_dim)
    assert out.embeddings.shape == (4, config.hidden_size)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.isoclr.encoder.stem_conv.weight.grad.abs().sum() > 0


def test_initialisation_is_sane(config) -> None:
    model = IsoCLRModel(config)
    conv = model.encoder.stages[1][0].conv1
    fan_out = conv.out_channels * conv.kernel_size[0]
    assert conv.weight.std().item() == pytest.approx((2.0 / fan_out) ** 0.5, rel=0.3)
    assert torch.all(conv.bias == 0)
    norm = model.encoder.stem_norm
    assert torch.all(norm.weight == 1) and torch.all(norm.bias == 0)


def test_save_load_keeps_weights_and_outputs(tmp_path, config, tokenizer) -> None:
    model = IsoCLRForSequenceClassification(tiny_config(target_names=["y"], classifier_zero_init=False)).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-1, 1)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    loaded = IsoCLRForSequenceClassification.from_pretrained(tmp_path).eval()
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), f"{name} was re-initialised on load"
    batch = tokenizer(["ACGTACGTAAGGCC"], return_tensors="pt")
    torch.testing.assert_close(loaded(**batch).predictions, model(**batch).predictions)
    # The encoder loads from the head checkpoint (base_model_prefix) with the same weights.
    encoder = IsoCLRModel.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(encoder(**batch).pooler_output, model(**batch).embeddings)


def test_encoder_from_contrastive_checkpoint(tmp_path, config, tokenizer) -> None:
    model = IsoCLRForContrastivePretraining(config).eval()
    model.save_pretrained(tmp_path)
    encoder = IsoCLRModel.from_pretrained(tmp_path).eval()
    batch = tokenizer(["ACGTACGTAAGGCC"], return_tensors="pt")
    torch.testing.assert_close(encoder(**batch).pooler_output, model.isoclr(**batch).pooler_output)


def test_bf16_forward_runs_and_stays_close(config, tokenizer) -> None:
    model = IsoCLRModel(config).eval()
    batch = tokenizer(["ACGTACGTAAGGCCTTAGCATCGATCGACTAGCTAGCATCGA"], return_tensors="pt")
    reference = model(**batch).pooler_output
    low = model.to(torch.bfloat16)(**batch).pooler_output
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), reference, atol=0.1, rtol=0.05)


def test_training_statistics_ignore_padding(config, tokenizer) -> None:
    """In train mode, extra padding changes neither the outputs nor the batch-norm running statistics."""
    rng = np.random.default_rng(3)
    sequences = [random_sequence(70, rng), random_sequence(133, rng)]
    initial = IsoCLRModel(config).state_dict()
    results = []
    for multiple in (None, 256):
        model = IsoCLRModel(config).train()
        model.load_state_dict(initial)
        batch = tokenizer(sequences, pad_to_multiple_of=multiple, return_tensors="pt")
        out = model(**batch)
        results.append((out.pooler_output, model.encoder.stages[2][0].norm1.running_mean.clone()))
    torch.testing.assert_close(results[0][0], results[1][0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(results[0][1], results[1][1], atol=1e-6, rtol=1e-5)


def test_plan_length_groups_cuts_padding() -> None:
    from isoclr_hf.models.isoclr.encoder_isoclr import plan_length_groups

    lengths = [1000, 990, 300, 310, 980, 295]
    groups = plan_length_groups(lengths, max_groups=4)
    assert sorted(i for group in groups for i in group) == list(range(6))
    assert sorted(sorted(group) for group in groups) == [[0, 1, 4], [2, 3, 5]]
    assert plan_length_groups([100, 98, 99], max_groups=4) == [[0, 2, 1]]  # saving under 10%: one group
    assert len(plan_length_groups(list(range(1, 400)), max_groups=3)) == 3  # large batches: equal counts


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_length_groups_change_compute_not_results(mode, tokenizer) -> None:
    """Grouped encoding equals one padded batch: outputs, gradients and batch-norm statistics."""
    rng = np.random.default_rng(4)
    sequences = [random_sequence(n, rng) for n in (900, 120, 870, 95, 400, 130)]
    batch = tokenizer(sequences, return_tensors="pt")
    initial = IsoCLRModel(tiny_config(max_length_groups=1)).state_dict()
    results = []
    for groups in (1, 4):
        model = IsoCLRModel(tiny_config(max_length_groups=groups))
        model.load_state_dict(initial)
        model.train(mode == "train")
        out = model(**batch)
        out.pooler_output.pow(2).sum().backward()
        norm = model.encoder.stages[1][0].norm1
        results.append((out, model.encoder.stem_conv.weight.grad.clone(), norm.running_var.clone()))
    (single, single_grad, single_var), (grouped, grouped_grad, grouped_var) = results
    torch.testing.assert_close(grouped.pooler_output, single.pooler_output, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(grouped.output_mask, single.output_mask)
    valid = single.output_mask.bool()
    torch.testing.assert_close(grouped.last_hidden_state[valid], single.last_hidden_state[valid], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(grouped_grad, single_grad, atol=1e-4, rtol=1e-3)
    torch.testing.assert_close(grouped_var, single_var, atol=1e-6, rtol=1e-5)
