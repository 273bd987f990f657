"""IsoCLRConfig: presets with the paper's parameter counts, round trips, validation."""

from __future__ import annotations

import pytest

from isoclr_hf import IsoCLRConfig, IsoCLRModel
from tests.tiny_models import tiny_config


@pytest.mark.parametrize(
    ("preset", "six_track", "four_track"),
    [("isoclr-s", 787_264, 787_008), ("isoclr-m", 4_884_160, 4_883_904), ("isoclr-l", 9_570_752, 9_570_240)],
)
def test_preset_parameter_counts_match_the_paper(preset: str, six_track: int, four_track: int) -> None:
    six = IsoCLRModel(IsoCLRConfig.from_preset(preset))
    four = IsoCLRModel(IsoCLRConfig.from_preset(preset, n_tracks=4))
    assert sum(p.numel() for p in six.parameters()) == six_track
    # Only the stem sees the tracks: 2 fewer input channels x 64 filters x stem kernel.
    assert sum(p.numel() for p in four.parameters()) == four_track


def test_every_field_round_trips(tmp_path) -> None:
    config = tiny_config(
        n_tracks=4, kernel_size=3, stem_kernel_size=5, dilation_base=3, max_dilation=9, dropout=0.2,
        pooling="max", max_sequence_length=4096, unknown_base_value=0.1, unknown_base_encoding="iupac",
        projection_layers=2, loss_temperature=0.2, gene_set_weight_constant=1.5, mask_fraction=0.3, mask_value=0.5,
        classifier_dropout=0.1, classifier_hidden_size=7, classifier_zero_init=False,
        target_names=["half_life", "mrl"], target_mean=[1.0, 2.0], target_std=[3.0, 4.0],
    )  # fmt: skip
    config.save_pretrained(tmp_path)
    loaded = IsoCLRConfig.from_pretrained(tmp_path)
    original, reloaded = config.to_dict(), loaded.to_dict()
    reloaded.pop("transformers_version", None)
    original.pop("transformers_version", None)
    assert reloaded == original
    assert loaded.num_labels == 2
    for field in ("stage_filters", "blocks_per_stage", "pooling", "unknown_base_encoding", "target_std"):
        assert getattr(loaded, field) == getattr(config, field)


def test_auto_map_lists_every_auto_class() -> None:
    auto_map = IsoCLRConfig().auto_map
    assert set(auto_map) >= {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification", "AutoTokenizer"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pooling": "cls"}, r"pooling='cls' is not supported; choose one of mean, max"),
        ({"n_tracks": 5}, "choose one of 4, 6"),
        ({"unknown_base_encoding": "zero"}, "choose one of uniform, iupac"),
        ({"stage_filters": (8, 8)}, "one entry per stage"),
        ({"kernel_size": 0}, "kernel_size must be a positive integer"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"loss_temperature": 0.0}, "loss_temperature must be positive"),
        ({"target_names": ["a", "b"], "target_mean": [0.0]}, "target_mean has 1 values"),
        ({"target_names": ["a"], "target_std": [0.0]}, "target_std must be positive"),
    ],
)
def test_invalid_settings_are_rejected(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tiny_config(**overrides)


def test_unknown_preset() -> None:
    with pytest.raises(ValueError, match="choose one of isoclr-s, isoclr-m, isoclr-l"):
        IsoCLRConfig.from_preset("isoclr-xl")
