"""Fixtures of the pretraining tests: a tiny saved corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pretraining.tiny_corpus import make_corpus


@pytest.fixture(scope="session")
def tiny_corpus_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved corpus: 48 training gene sets, 12 validation, 12 test."""
    path = tmp_path_factory.mktemp("corpus") / "tiny_corpus"
    make_corpus({"train": 48, "validation": 12, "test": 12}).save_to_disk(str(path))
    return path
