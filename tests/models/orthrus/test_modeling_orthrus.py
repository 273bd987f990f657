"""Orthrus models: the shared model contract (tests/models/model_contract.py), and what only Orthrus has:
per-nucleotide states, Orthrus's own ``representation`` call, sizes, initialisation, the mixer's scan."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers.models.mamba.modeling_mamba import MambaMixer

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.models.orthrus import (
    OrthrusConfig,
    OrthrusForContrastivePretraining,
    OrthrusForSequenceClassification,
    OrthrusModel,
    OrthrusSequenceClassifierOutput,
)
from isoclr_hf.models.orthrus.encoder_orthrus import OrthrusMixer, mixer_config
from isoclr_hf.models.orthrus.track_inputs import base_track_table
from tests.models.model_contract import ModelContract, ModelTester
from tests.models.orthrus.reference_files import tiny_orthrus_config

BASES = np.array(list("ACGT"))


def random_sequence(length: int, rng: np.random.Generator) -> str:
    return "".join(rng.choice(BASES, size=length))


def perturbed(model: torch.nn.Module) -> torch.nn.Module:
    """Non-trivial LayerNorm affine parameters, embedding bias and D: a forgotten bias would show."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith(("norm.weight", "norm.bias", "norm_f.weight", "norm_f.bias", "embedding.bias", ".D")):
                parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


class OrthrusTester(ModelTester):
    config_class = OrthrusConfig
    encoder_class = OrthrusModel
    head_class = OrthrusForSequenceClassification
    output_class = OrthrusSequenceClassifierOutput
    base_model_prefix = "orthrus"

    def config(self, **overrides: object) -> OrthrusConfig:
        return tiny_orthrus_config(**overrides)

    def perturb(self, model: torch.nn.Module) -> torch.nn.Module:
        return perturbed(model)


class TestOrthrusContract(ModelContract):
    tester = OrthrusTester()


@pytest.fixture
def tokenizer() -> IsoCLRTokenizer:
    return IsoCLRTokenizer()


@pytest.fixture
def model() -> OrthrusModel:
    torch.manual_seed(0)
    return perturbed(OrthrusModel(tiny_orthrus_config()))  # type: ignore[return-value]


def test_output_shapes(model, tokenizer) -> None:
    rng = np.random.default_rng(0)
    batch = tokenizer([random_sequence(n, rng) for n in (50, 20, 7)], return_tensors="pt")
    out = model(**batch, output_hidden_states=True)
    assert out.last_hidden_state.shape == (3, 50, 16)  # one state per nucleotide
    assert out.pooler_output.shape == (3, 16)
    assert out.output_mask.sum(1).tolist() == [50, 20, 7]
    assert len(out.hidden_states) == 1 + model.config.num_hidden_layers
    assert torch.all(out.last_hidden_state[1, 20:] == 0) and torch.all(out.last_hidden_state[2, 7:] == 0)
    # The pooled embedding is the mean of the valid states.
    torch.testing.assert_close(out.pooler_output[1], out.last_hidden_state[1, :20].mean(0))


def test_tracks_and_token_ids_give_the_same_embedding(model, tokenizer) -> None:
    batch = tokenizer(["ATGAAATAGNNC"], exon_ends=[[5, 12]], cds=[(0, 9)], return_tensors="pt")
    table = base_track_table(model.config, torch.device("cpu"), torch.float32)
    tracks = torch.cat([table[batch["input_ids"][0].long()], batch["cds_track"][0, :, None].float(),
                        batch["splice_track"][0, :, None].float()], dim=-1)[None]  # (1, 12, 6)  # fmt: skip
    assert tracks[0, 9:11, :4].tolist() == [[0.25] * 4] * 2  # N
    torch.testing.assert_close(model(tracks=tracks).pooler_output, model(**batch).pooler_output)
    # Orthrus's own call, channels-first (its default) and channels-last.
    torch.testing.assert_close(model.representation(tracks.transpose(1, 2), [12]), model(**batch).pooler_output)
    torch.testing.assert_close(model.representation(tracks, torch.tensor([12]), channel_last=True),
                               model(**batch).pooler_output)  # fmt: skip


def test_representation_rejects_bad_lengths(model) -> None:
    with pytest.raises(ValueError, match=r"lengths must hold one value in \[1, 10\]"):
        model.representation(torch.zeros(2, 10, 6), [10, 11], channel_last=True)
    with pytest.raises(ValueError, match="tracks have 4 channels but the model expects 6"):
        model.representation(torch.zeros(1, 10, 4), [10], channel_last=True)


def test_four_track_model_drops_the_annotations(tokenizer) -> None:
    model = OrthrusModel(tiny_orthrus_config(n_tracks=4)).eval()
    assert model.embedding.weight.shape == (16, 4)
    plain = tokenizer(["ACGTACGTAAGGCCTT"], return_tensors="pt")
    annotated = tokenizer(["ACGTACGTAAGGCCTT"], exon_ends=[[8, 16]], cds=[(0, 12)], return_tensors="pt")
    torch.testing.assert_close(model(**plain).pooler_output, model(**annotated).pooler_output)
    six = OrthrusModel(tiny_orthrus_config()).eval()
    assert not torch.allclose(six(**plain).pooler_output, six(**annotated).pooler_output)


def test_published_sizes() -> None:
    with torch.device("meta"):
        counts = {name: sum(p.numel() for p in OrthrusModel(OrthrusConfig.from_preset(name)).parameters())
                  for name in ("orthrus-large", "orthrus-base")}  # fmt: skip
    assert counts == {"orthrus-large": 10_179_072, "orthrus-base": 1_316_608}
    assert OrthrusConfig.from_preset("orthrus").to_dict() == OrthrusConfig.from_preset("orthrus-large").to_dict()
    base = OrthrusConfig.from_preset("orthrus-base")
    assert (base.n_tracks, base.hidden_size, base.num_hidden_layers, base.time_step_rank) == (4, 256, 3, 16)


def test_config_validation_and_round_trip(tmp_path) -> None:
    with pytest.raises(ValueError, match="n_tracks=5 is not supported; choose one of 4, 6"):
        OrthrusConfig(n_tracks=5)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        OrthrusConfig(hidden_size=0)
    with pytest.raises(ValueError, match="Unknown preset 'orthrus-huge'"):
        OrthrusConfig.from_preset("orthrus-huge")
    config = tiny_orthrus_config(unknown_base_encoding="iupac", target_names=["a", "b"])
    config.save_pretrained(tmp_path)
    loaded = OrthrusConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()
    assert loaded.model_type == "isoclr_orthrus"
    assert set(loaded.auto_map) == {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification", "AutoTokenizer"}


def test_contrastive_model_trains_and_saves_its_encoder(tmp_path, tokenizer) -> None:
    torch.manual_seed(0)
    model = OrthrusForContrastivePretraining(tiny_orthrus_config())
    assert model.isoclr is model.orthrus
    rng = np.random.default_rng(4)
    view_a = tokenizer([random_sequence(n, rng) for n in (30, 40, 25)], return_tensors="pt")
    view_b = tokenizer([random_sequence(n, rng) for n in (35, 20, 45)], return_tensors="pt")
    out = model(**view_a, **{f"partner_{k}": v for k, v in view_b.items()}, weights=torch.ones(3))
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert model.orthrus.layers[0].mixer.A_log.grad.abs().sum() > 0
    model.eval().isoclr.save_pretrained(tmp_path)
    encoder = OrthrusModel.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(encoder(**view_a).pooler_output, model.orthrus(**view_a).pooler_output)


def test_initialisation_follows_orthrus() -> None:
    torch.manual_seed(0)
    model = OrthrusModel(tiny_orthrus_config(hidden_size=32))
    mixer = model.layers[0].mixer
    torch.testing.assert_close(mixer.A_log[3], torch.log(torch.arange(1, 17, dtype=torch.float32)))
    assert torch.all(mixer.D == 1) and torch.all(model.embedding.bias == 0) and torch.all(model.norm_f.weight == 1)
    dt = torch.nn.functional.softplus(mixer.dt_proj.bias.detach())
    assert float(dt.min()) >= 1e-4 and float(dt.max()) <= 0.1 + 1e-6
    assert mixer.out_proj.weight.abs().max() <= 1 / (64**0.5 * 2**0.5)  # U(±1/sqrt(fan_in)) / sqrt(n_layers)


def test_mixer_scan_equals_transformers_mixer() -> None:
    """OrthrusMixer's own scan (linear-time backward) computes what transformers' MambaMixer computes."""
    torch.manual_seed(0)
    mixer = OrthrusMixer(mixer_config(tiny_orthrus_config(hidden_size=32)), layer_idx=0)
    with torch.no_grad():
        mixer.A_log.add_(0.1 * torch.randn_like(mixer.A_log))
        mixer.D.add_(0.1 * torch.randn_like(mixer.D))
    x = torch.randn(3, 70, 32, requires_grad=True)
    ours = mixer(x)
    ours_grad = torch.autograd.grad(ours.square().sum(), [x, mixer.A_log, mixer.dt_proj.weight])
    theirs = MambaMixer.forward(mixer, x)
    theirs_grad = torch.autograd.grad(theirs.square().sum(), [x, mixer.A_log, mixer.dt_proj.weight])
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=1e-5)
    for mine, reference in zip(ours_grad, theirs_grad):
        torch.testing.assert_close(mine, reference, atol=1e-5, rtol=1e-4)
