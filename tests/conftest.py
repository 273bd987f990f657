"""Shared fixtures: a tiny config, a fixed seed and the repository's bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from isoclr_hf import IsoCLRConfig
from tests.tiny_models import tiny_config

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def config() -> IsoCLRConfig:
    return tiny_config()


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def data_dir() -> Path:
    return DATA_DIR
