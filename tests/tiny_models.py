"""Tiny IsoCLR configs for tests: the real topology (4 stages, 32x downsampling), few parameters."""

from __future__ import annotations

from isoclr_hf import IsoCLRConfig


def tiny_config(**overrides: object) -> IsoCLRConfig:
    settings: dict[str, object] = {
        "stem_filters": 8,
        "stage_filters": (8, 12, 16, 20),
        "blocks_per_stage": (1, 2, 1, 1),
        "projection_hidden_size": 32,
        "projection_dim": 16,
        "dropout": 0.0,
    }
    settings.update(overrides)
    return IsoCLRConfig.from_preset("isoclr-s", **settings)
