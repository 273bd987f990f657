"""Fixtures of the Orthrus tests: the golden reference converted once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from isoclr_hf.models.orthrus.conversion_orthrus import convert_orthrus
from tests.models.orthrus.reference_files import orthrus_hf_folder


@pytest.fixture(scope="session")
def converted_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference Orthrus folder converted by ``convert_orthrus``."""
    root = tmp_path_factory.mktemp("orthrus_reference")
    return convert_orthrus(orthrus_hf_folder(root / "orthrus_hf"), root / "converted")


# The eager scan for the Orthrus tests (and the processes they start): compiling the fast scan costs
# minutes of CPU on a busy machine. Its compiled path has its own tests (test_scan_orthrus.py, slow);
# ORTHRUS_SCAN=compiled (or auto) in the environment runs every test with it instead.
os.environ.setdefault("ORTHRUS_SCAN", "eager")
