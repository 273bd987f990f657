"""Shared fixtures: a tiny config, a fixed seed and the repository's bundled data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hypothesis import settings

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


# Property tests: in CI the examples are derived from each test's name (the same every run), so a
# failure there is reproducible and CI is not green or red by chance; locally they are random, and
# hypothesis's example database replays any failure it found.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
