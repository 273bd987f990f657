"""The Orthrus folder's copies of the IsoCLR input files are byte-identical to the originals.

transformers 4.x copies only the direct relative imports of a remote-code module, so each family folder
holds the files its models import; the IsoCLR family's are the single source of truth.
"""

from __future__ import annotations

from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[3] / "isoclr_hf" / "models"


@pytest.mark.parametrize("name", ["vocabulary_isoclr.py", "inputs_isoclr.py"])
def test_copy_is_identical(name: str) -> None:
    original, copy = MODELS / "isoclr" / name, MODELS / "orthrus" / name
    assert copy.read_bytes() == original.read_bytes(), (
        f"{copy} differs from {original}: edit the IsoCLR file and copy it (cp {original} {copy})"
    )
