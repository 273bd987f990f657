"""The Orthrus golden files (tests/fixtures/orthrus) and tiny Orthrus configs, for the Orthrus tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from isoclr_hf.models.orthrus import OrthrusConfig

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "orthrus"


def orthrus_hf_folder(destination: Path) -> Path:
    """The reference model laid out as an Orthrus Hub folder (config.json + model.safetensors)."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(GOLDEN / "config.json", destination / "config.json")
    shutil.copyfile(GOLDEN / "weights_orthrus_hf.safetensors", destination / "model.safetensors")
    return destination


def golden_arrays() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``inputs.npz`` and ``outputs.npz`` as dicts."""
    return dict(np.load(GOLDEN / "inputs.npz")), dict(np.load(GOLDEN / "outputs.npz"))


def tiny_orthrus_config(**overrides: object) -> OrthrusConfig:
    """A 2-layer, d=16 Orthrus with a small projection head."""
    settings: dict[str, object] = {"hidden_size": 16, "num_hidden_layers": 2, "projection_hidden_size": 32,
                                   "projection_dim": 8}  # fmt: skip
    settings.update(overrides)
    return OrthrusConfig.from_preset("orthrus-cpu-small", **settings)
