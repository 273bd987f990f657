"""IsoCLR models: the shared model contract (tests/models/model_contract.py), and what only IsoCLR has:
shapes at 1/32 resolution, annotation tracks, initialisation, length groups, the contrastive model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isoclr_hf import (
    IsoCLRConfig,
    IsoCLRForContrastivePretraining,
    IsoCLRForSequenceClassification,
    IsoCLRModel,
    IsoCLRSequenceClassifierOutput,
    IsoCLRTokenizer,
)
from isoclr_hf.models.isoclr.track_inputs import base_track_table, random_position_mask
from tests.models.model_contract import ModelContract, ModelTester
from tests.tiny_models import tiny_config

BASES = np.array(list("ACGT"))


def random_sequence(length: int, rng: np.random.Generator) -> str:
    return "".join(rng.choice(BASES, size=length))


@pytest.fixture
def tokenizer() -> IsoCLRTokenizer:
    return IsoCLRTokenizer()


class IsoCLRTester(ModelTester):
    config_class = IsoCLRConfig
    encoder_class = IsoCLRModel
    head_class = IsoCLRForSequenceClassification
    output_class = IsoCLRSequenceClassifierOutput
    base_model_prefix = "isoclr"
    padding_variants = ({"pooling": "mean"}, {"pooling": "max"})

    def config(self, **overrides: object) -> IsoCLRConfig:
        return tiny_config(**overrides)

    def perturb(self, model: torch.nn.Module) -> torch.nn.Module:
        """Non-trivial batch-norm running statistics and biases: padding mistakes would show."""
        generator = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.BatchNorm1d):
                    module.running_mean.copy_(torch.rand(module.running_mean.shape, generator=generator) - 0.5)
                    module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) * 1.5 + 0.5)
                    module.bias.copy_(torch.rand(module.bias.shape, generator=generator) - 0.5)
        return model


class TestIsoCLRContract(ModelContract):
    tester = IsoCLRTester()


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


def test_encoder_from_contrastive_checkpoint(tmp_path, config, tokenizer) -> None:
    model = IsoCLRForContrastivePretraining(config).eval()
    model.save_pretrained(tmp_path)
    encoder = IsoCLRModel.from_pretrained(tmp_path).eval()
    batch = tokenizer(["ACGTACGTAAGGCC"], return_tensors="pt")
    torch.testing.assert_close(encoder(**batch).pooler_output, model.isoclr(**batch).pooler_output)


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
    from isoclr_hf.models.isoclr.length_groups import plan_length_groups

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
