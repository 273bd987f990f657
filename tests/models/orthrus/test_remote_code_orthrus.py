"""Saved Orthrus folders load without the package, on this transformers and the declared older ones.

As ``tests/models/isoclr/test_supported_transformers.py``: each load runs in a fresh interpreter that
cannot import ``isoclr_hf``, with a fresh module cache, under this venv's transformers (5.x) and under
each ``.venv-compat/transformers-<version>`` (skipped where missing, unless ``ISOCLR_COMPAT_VENVS``
lists it: then a missing venv fails). The converted golden reference must reproduce Orthrus's outputs
there too, and a 4-track head must predict what it predicts here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.models.orthrus import OrthrusForSequenceClassification
from tests.hub.isolated_python import run_without_package
from tests.models.isoclr.test_supported_transformers import compat_python
from tests.models.orthrus.reference_files import GOLDEN, tiny_orthrus_config

REPOSITORY = Path(__file__).resolve().parents[3]
REQUIRED = os.environ.get("ISOCLR_COMPAT_VENVS", "").split()
VERSIONS = ["this venv", *(REQUIRED or ["4.46.3", "4.57.6"])]
SEQUENCES = ["ACGTTGCAAGGCTAGCTAGGATCGATCGATTTACG", "GGCAUGCCC"]


def interpreter(version: str) -> Path | None:
    return None if version == "this venv" else compat_python(version)


@pytest.fixture(scope="module")
def head_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[float]]]:
    """A saved 4-track regression head (tokenizer saved first) and its predictions on SEQUENCES."""
    folder = tmp_path_factory.mktemp("orthrus_head")
    torch.manual_seed(0)
    config = tiny_orthrus_config(n_tracks=4, target_names=["half_life"], target_mean=[4.0], target_std=[2.0],
                                 classifier_zero_init=False)  # fmt: skip
    model = OrthrusForSequenceClassification(config).eval()
    tokenizer = IsoCLRTokenizer()
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    batch = tokenizer(SEQUENCES, exon_ends=[None, [4, 9]], cds=[(2, 32), None], return_tensors="pt")
    with torch.no_grad():
        return folder, model(**batch).predictions.tolist()


CODE = """
import json
import numpy as np
import torch
import transformers
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer
torch.set_grad_enabled(False)
GOLDEN, REFERENCE, HEAD = {golden!r}, {reference!r}, {head!r}
# The model's module first (what failed on 4.x for IsoCLR), then its tokenizer.
model = AutoModel.from_pretrained(REFERENCE, trust_remote_code=True).eval()
inputs, outputs = np.load(GOLDEN + "/inputs.npz"), np.load(GOLDEN + "/outputs.npz")
x, lengths = torch.from_numpy(inputs["x_padded"]), torch.from_numpy(inputs["lengths"])
difference = float(np.abs(model.representation(x, lengths, channel_last=True).numpy() - outputs["repr_batch"]).max())
states = model(tracks=x, attention_mask=(torch.arange(x.shape[1])[None] < lengths[:, None]).long()).last_hidden_state
valid = np.concatenate([states[i, :n].numpy() for i, n in enumerate(lengths.tolist())])
difference = max(difference, float(np.abs(valid - outputs["hidden_batch_valid"]).max()))
tokenizer = AutoTokenizer.from_pretrained(REFERENCE, trust_remote_code=True)
# The head: tokenizer first.
head_tokenizer = AutoTokenizer.from_pretrained(HEAD, trust_remote_code=True)
head = AutoModelForSequenceClassification.from_pretrained(HEAD, trust_remote_code=True).eval()
batch = head_tokenizer({sequences!r}, exon_ends=[None, [4, 9]], cds=[(2, 32), None], return_tensors="pt")
print(json.dumps({{"version": transformers.__version__, "golden_difference": difference,
                   "modules": [type(model).__module__, type(tokenizer).__module__, type(head).__module__],
                   "predictions": head(**batch).predictions.tolist()}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_saved_folders_load_without_the_package(
    version: str, converted_reference: Path, head_folder: tuple[Path, list[list[float]]], tmp_path: Path
) -> None:
    python = interpreter(version)
    head, predictions = head_folder
    code = CODE.format(golden=str(GOLDEN), reference=str(converted_reference), head=str(head), sequences=SEQUENCES)
    result = run_without_package(code, tmp_path, python=python, timeout=300)
    output = json.loads(result.stdout.strip().splitlines()[-1])
    if version != "this venv":
        assert output["version"] == version
    assert not any("isoclr_hf" in module for module in output["modules"]), output["modules"]
    assert output["golden_difference"] <= 1e-5
    np.testing.assert_allclose(output["predictions"], predictions, rtol=1e-5, atol=1e-6)
