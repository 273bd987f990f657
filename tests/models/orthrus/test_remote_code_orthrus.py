"""Saved Orthrus folders load without the package, on this transformers and the declared older ones.

As ``tests/models/isoclr/test_supported_transformers.py``: each load runs in a fresh interpreter that
cannot import ``isoclr_hf``, with a fresh module cache, under this venv's transformers (5.x) and under
each ``.venv-compat/transformers-<version>`` (skipped where missing, unless ``ISOCLR_COMPAT_VENVS``
lists it: then a missing venv fails). The converted golden reference must reproduce Orthrus's outputs
there too, and the folder's tokenizer must give the package's embedding (a head saved under each version
is the shared contract's, tests/models/model_contract.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.models.orthrus import OrthrusModel
from tests.hub.isolated_python import run_without_package
from tests.models.isoclr.test_supported_transformers import compat_python
from tests.models.orthrus.reference_files import GOLDEN

REPOSITORY = Path(__file__).resolve().parents[3]
REQUIRED = os.environ.get("ISOCLR_COMPAT_VENVS", "").split()
VERSIONS = ["this venv", *(REQUIRED or ["4.46.3", "4.57.6"])]
SEQUENCES = ["ACGTTGCAAGGCTAGCTAGGATCGATCGATTTACG", "GGCAUGCCC"]


def interpreter(version: str) -> Path | None:
    return None if version == "this venv" else compat_python(version)


CODE = """
import json
import numpy as np
import torch
import transformers
from transformers import AutoModel, AutoTokenizer
torch.set_grad_enabled(False)
GOLDEN, REFERENCE = {golden!r}, {reference!r}
# The model's module first (what failed on 4.x for IsoCLR), then its tokenizer.
model = AutoModel.from_pretrained(REFERENCE, trust_remote_code=True).eval()
inputs, outputs = np.load(GOLDEN + "/inputs.npz"), np.load(GOLDEN + "/outputs.npz")
x, lengths = torch.from_numpy(inputs["x_padded"]), torch.from_numpy(inputs["lengths"])
difference = float(np.abs(model.representation(x, lengths, channel_last=True).numpy() - outputs["repr_batch"]).max())
states = model(tracks=x, attention_mask=(torch.arange(x.shape[1])[None] < lengths[:, None]).long()).last_hidden_state
valid = np.concatenate([states[i, :n].numpy() for i, n in enumerate(lengths.tolist())])
difference = max(difference, float(np.abs(valid - outputs["hidden_batch_valid"]).max()))
tokenizer = AutoTokenizer.from_pretrained(REFERENCE, trust_remote_code=True)
batch = tokenizer({sequences!r}, exon_ends=[None, [4, 9]], cds=[(2, 32), None], return_tensors="pt")
print(json.dumps({{"version": transformers.__version__, "golden_difference": difference,
                   "modules": [type(model).__module__, type(tokenizer).__module__],
                   "embedding": model(**batch).pooler_output.tolist()}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_converted_reference_loads_without_the_package(version: str, converted_reference: Path, tmp_path: Path) -> None:
    python = interpreter(version)
    code = CODE.format(golden=str(GOLDEN), reference=str(converted_reference), sequences=SEQUENCES)
    result = run_without_package(code, tmp_path, python=python, timeout=300)
    output = json.loads(result.stdout.strip().splitlines()[-1])
    if version != "this venv":
        assert output["version"] == version
    assert not any("isoclr_hf" in module for module in output["modules"]), output["modules"]
    assert output["golden_difference"] <= 1e-5
    model = OrthrusModel.from_pretrained(converted_reference).eval()
    with torch.no_grad():
        batch = IsoCLRTokenizer()(SEQUENCES, exon_ends=[None, [4, 9]], cds=[(2, 32), None], return_tensors="pt")
        expected = model(**batch).pooler_output.numpy()
    np.testing.assert_allclose(output["embedding"], expected, rtol=1e-5, atol=1e-6)  # the folder's own tokenizer
