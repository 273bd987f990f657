"""RNA-FM: the shared model contract, the presets' sizes, the masked-LM loss and the fill-mask pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from isoclr_hf.models.rnafm import (
    RnaFmConfig,
    RnaFmForMaskedLM,
    RnaFmForSequenceClassification,
    RnaFmModel,
    RnaFmSequenceClassifierOutput,
)
from tests.models.mlm_families import NucleotideTester, check_fill_mask, check_masked_lm_loss
from tests.models.model_contract import ModelContract


class RnaFmTester(NucleotideTester):
    config_class = RnaFmConfig
    encoder_class = RnaFmModel
    head_class = RnaFmForSequenceClassification
    masked_lm_class = RnaFmForMaskedLM
    output_class = RnaFmSequenceClassifierOutput
    base_model_prefix = "rnafm"


class TestRnaFmContract(ModelContract):
    tester = RnaFmTester()


def test_published_size_has_the_papers_parameter_count() -> None:
    """RNA-FM: 99.5M parameters with the masked-LM head (Chen et al. 2022; multimolecule's card: 99.52M)."""
    config = RnaFmConfig.from_preset("rnafm")
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads, config.intermediate_size,
            config.max_position_embeddings, config.window_nucleotides) == (640, 12, 20, 5120, 1026, 1022)  # fmt: skip
    with torch.device("meta"):
        parameters = sum(p.numel() for p in RnaFmForMaskedLM(config).parameters())
    assert round(parameters / 1e6, 1) == 99.5, parameters


def test_cpu_small_preset_runs_and_unknown_presets_are_named() -> None:
    model = RnaFmForMaskedLM(RnaFmConfig.from_preset("rnafm-cpu-small")).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[1, 6, 7, 8, 9, 2]])).logits
    assert logits.shape == (1, 6, 28)
    with pytest.raises(ValueError, match="Unknown preset 'rnafm-huge'; choose one of rnafm, rnafm-cpu-small"):
        RnaFmConfig.from_preset("rnafm-huge")
    with pytest.raises(ValueError, match="feed_forward='relu' is not supported; choose one of gelu, swiglu"):
        RnaFmConfig(feed_forward="relu")


def test_config_fields_round_trip(tmp_path: Path) -> None:
    config = RnaFmTester().config(window_overlap=7, token_dropout=True)
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "isoclr_rnafm" and saved["window_overlap"] == 7 and saved["token_dropout"] is True
    assert RnaFmConfig.from_pretrained(tmp_path).to_dict() == config.to_dict()
    assert set(saved["auto_map"]) == {"AutoConfig", "AutoModel", "AutoModelForMaskedLM",
                                      "AutoModelForSequenceClassification", "AutoTokenizer"}  # fmt: skip


def test_masked_lm_loss() -> None:
    check_masked_lm_loss(RnaFmTester())


def test_decoder_is_the_token_embedding() -> None:
    model = RnaFmForMaskedLM(RnaFmTester().config())
    assert model.lm_head.decoder is None and not any(k.startswith("lm_head.decoder") for k in model.state_dict())


@pytest.mark.slow
def test_fill_mask_pipeline_on_a_saved_folder(tmp_path: Path) -> None:
    check_fill_mask(RnaFmTester(), tmp_path)
