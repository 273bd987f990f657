"""Shared fixtures: a tiny config, a fixed seed and the repository's bundled data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hypothesis import settings

from isoclr_hf import IsoCLRConfig
from isoclr_hf.evaluation.tasks.registry import RegressionTask, load_task
from tests.tiny_models import tiny_config
from tests.tiny_tasks import DATA_DIR, save_tiny_encoder


@pytest.fixture
def config() -> IsoCLRConfig:
    return tiny_config()


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _private_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test writes into the user's caches (``~/.cache/isoclr_hf``: embeddings, FASTA indexes)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache_home"))


@pytest.fixture
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_encoder(tmp_path_factory.mktemp("tiny_encoder"))


@pytest.fixture(scope="session")
def bundled_tasks() -> dict[str, RegressionTask]:
    """The bundled tasks used in the tests (the three TE cell lines share one file; one is enough)."""
    return {name: load_task(name, data_dir=DATA_DIR)
            for name in ("saluki_halflife_human", "siegel_3utr_jurkat", "te_5utr_hek293")}

# Property tests: in CI the examples are derived from each test's name (the same every run), so a
# failure there is reproducible and CI is not green or red by chance; locally they are random, and
# hypothesis's example database replays any failure it found.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
