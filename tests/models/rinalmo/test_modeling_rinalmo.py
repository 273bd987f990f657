"""RiNALMo: the shared model contract, the presets' sizes, the masked-LM loss and the fill-mask pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from isoclr_hf.models.rinalmo import (
    RiNALMoConfig,
    RiNALMoForMaskedLM,
    RiNALMoForSequenceClassification,
    RiNALMoModel,
    RiNALMoSequenceClassifierOutput,
)
from tests.models.mlm_families import NucleotideTester, check_fill_mask, check_masked_lm_loss
from tests.models.model_contract import ModelContract


class RiNALMoTester(NucleotideTester):
    config_class = RiNALMoConfig
    encoder_class = RiNALMoModel
    head_class = RiNALMoForSequenceClassification
    masked_lm_class = RiNALMoForMaskedLM
    output_class = RiNALMoSequenceClassifierOutput
    base_model_prefix = "rinalmo"


class TestRiNALMoContract(ModelContract):
    tester = RiNALMoTester()


def test_published_size_has_the_papers_parameter_count() -> None:
    """RiNALMo giga: 651M parameters with the masked-LM head (Penic et al. 2024); mega 640 x 30, micro 480 x 12."""
    config = RiNALMoConfig.from_preset("rinalmo-giga")
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads, config.intermediate_size,
            config.max_position_embeddings, config.window_nucleotides) == (1280, 33, 20, 3413, 1024, 1022)  # fmt: skip
    assert RiNALMoConfig().to_dict() == config.to_dict()  # the defaults are giga
    with torch.device("meta"):  # shapes only: 2.6 GB of float32 is never allocated
        parameters = sum(p.numel() for p in RiNALMoForMaskedLM(config).parameters())
    assert round(parameters / 1e6) == 651, parameters
    for name, width, layers in (("rinalmo-mega", 640, 30), ("rinalmo-micro", 480, 12)):
        sizes = RiNALMoConfig.from_preset(name)
        assert (sizes.hidden_size, sizes.num_hidden_layers, sizes.intermediate_size) == (
            width,
            layers,
            int(2 / 3 * 4 * width),
        )


def test_cpu_small_preset_runs_and_unknown_presets_are_named() -> None:
    model = RiNALMoForMaskedLM(RiNALMoConfig.from_preset("rinalmo-cpu-small")).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[1, 6, 7, 8, 9, 2]])).logits
    assert logits.shape == (1, 6, 28)
    with pytest.raises(ValueError, match="Unknown preset 'rinalmo-huge'; choose one of rinalmo-giga, rinalmo-mega"):
        RiNALMoConfig.from_preset("rinalmo-huge")
    with pytest.raises(ValueError, match="feed_forward='relu' is not supported; choose one of gelu, swiglu"):
        RiNALMoConfig(feed_forward="relu")


def test_config_fields_round_trip(tmp_path: Path) -> None:
    config = RiNALMoTester().config(window_overlap=7, token_dropout=True)
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "isoclr_rinalmo" and saved["window_overlap"] == 7 and saved["token_dropout"] is True
    assert RiNALMoConfig.from_pretrained(tmp_path).to_dict() == config.to_dict()
    assert set(saved["auto_map"]) == {"AutoConfig", "AutoModel", "AutoModelForMaskedLM",
                                      "AutoModelForSequenceClassification", "AutoTokenizer"}  # fmt: skip


def test_masked_lm_loss() -> None:
    check_masked_lm_loss(RiNALMoTester())


def test_decoder_is_its_own_weight() -> None:
    model = RiNALMoForMaskedLM(RiNALMoTester().config())
    assert model.lm_head.decoder is not None and "lm_head.decoder.weight" in model.state_dict()


@pytest.mark.slow
def test_fill_mask_pipeline_on_a_saved_folder(tmp_path: Path) -> None:
    check_fill_mask(RiNALMoTester(), tmp_path)
