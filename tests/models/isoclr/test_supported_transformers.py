"""Saved folders load without the package under every transformers version we declare.

The newest release is the one in this venv (the lock's); the oldest and the newest 4.x each have a venv
of their own under ``.venv-compat/transformers-<version>`` holding only torch, transformers and numpy
(``make compat``, which ``make test`` runs). Each load runs in a fresh interpreter with a fresh
transformers module cache, because what breaks (4.x copying only a module's *direct* relative imports
from a local folder) depends on which class is loaded first.

When ``ISOCLR_COMPAT_VENVS`` lists versions (``make test`` sets it, so CI does), a missing venv fails
the test; otherwise versions without a venv are skipped with the reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.hub.package import prepare_model_folder
from tests.hub.isolated_python import run_without_package
from tests.hub.published_models import CODING, NON_CODING, tiny_encoder, tiny_head

REPOSITORY = Path(__file__).resolve().parents[3]
REQUIRED = os.environ.get("ISOCLR_COMPAT_VENVS", "").split()
VERSIONS = REQUIRED or ["4.46.3", "4.57.6"]
INPUTS = [CODING, {"sequence": NON_CODING}]


def compat_python(version: str) -> Path:
    python = REPOSITORY / ".venv-compat" / f"transformers-{version}" / "bin" / "python"
    if not python.exists():
        message = f"no venv with transformers {version} at {python.parent.parent} (run `make compat`)"
        if version in REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("published")
    tokenizer = IsoCLRTokenizer()
    return {
        "encoder": prepare_model_folder(tiny_encoder(), tokenizer, root / "encoder"),
        "head": prepare_model_folder(tiny_head(), tokenizer, root / "head"),
    }


@torch.no_grad()
def expected(folders: dict[str, Path]) -> dict[str, list]:
    tokenizer = IsoCLRTokenizer()
    batch = tokenizer([i["sequence"] for i in INPUTS], exon_ends=[i.get("exon_ends") for i in INPUTS],
                      cds=[i.get("cds") for i in INPUTS], return_tensors="pt")  # fmt: skip
    return {
        "embedding": tiny_encoder()(**batch).pooler_output.tolist(),
        "predictions": tiny_head()(**batch).predictions.tolist(),
    }


TOKENIZE = """
inputs = {inputs!r}
def tokenize(tokenizer):
    return tokenizer([i["sequence"] for i in inputs], exon_ends=[i.get("exon_ends") for i in inputs],
                     cds=[i.get("cds") for i in inputs], return_tensors="pt")
"""

SCENARIOS = {
    # The order that failed on 4.x: the model's module first, so the tokenizer's siblings were never copied.
    "model first": """
        model = AutoModel.from_pretrained(ENCODER, trust_remote_code=True).eval()
        tokenizer = AutoTokenizer.from_pretrained(ENCODER, trust_remote_code=True)
        result = {"embedding": model(**tokenize(tokenizer)).pooler_output.tolist()}
        """,
    "tokenizer first": """
        tokenizer = AutoTokenizer.from_pretrained(HEAD, trust_remote_code=True)
        model = AutoModelForSequenceClassification.from_pretrained(HEAD, trust_remote_code=True).eval()
        result = {"predictions": model(**tokenize(tokenizer)).predictions.tolist()}
        """,
    "pipelines": """
        predict = pipeline(model=HEAD, trust_remote_code=True)
        embed = pipeline(model=ENCODER, trust_remote_code=True)
        result = {"predictions": [[row["half_life"]] for row in predict(inputs)], "embedding": embed(inputs)}
        """,
}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("version", VERSIONS)
def test_saved_folder_loads_without_the_package(
    version: str, scenario: str, folders: dict[str, Path], tmp_path: Path
) -> None:
    python = compat_python(version)
    code = f"""
        import json
        import torch
        import transformers
        from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline
        ENCODER, HEAD = {str(folders["encoder"])!r}, {str(folders["head"])!r}
        torch.set_grad_enabled(False)
        """
    code = code + TOKENIZE.format(inputs=INPUTS).replace("\n", "\n        ") + SCENARIOS[scenario]
    code += """
        print(json.dumps({"version": transformers.__version__, **result}))
        """
    result = run_without_package(code, tmp_path, python=python, timeout=300)
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert output.pop("version") == version
    reference = expected(folders)
    for key, value in output.items():
        # Another process and library version: equal within float32 rounding, not bit for bit.
        np.testing.assert_allclose(value, reference[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_declared_minimum_is_the_oldest_version_tested() -> None:
    pyproject = (REPOSITORY / "pyproject.toml").read_text(encoding="utf-8")
    assert '"transformers>=4.46' in pyproject
    assert (REPOSITORY / "requirements" / "compat-transformers-4.46.3.in").is_file()
