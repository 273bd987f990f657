"""The released isoclr-s: a Hub-layout folder in the package, found by short name, loadable without the package.

Under every transformers version we declare (this venv's and the compatibility venvs of
tests/models/isoclr/test_supported_transformers.py), ``AutoModel.from_pretrained(folder,
trust_remote_code=True)`` in a Python that cannot import ``isoclr_hf`` gives the embeddings the package
gives; ``isoclr embed --model isoclr-s`` finds it by name; its remote code is the package's current code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from isoclr_hf.cli import main
from isoclr_hf.hub.package import remote_code_files
from isoclr_hf.loading import load_encoder, load_tokenizer, resolve_model_path
from isoclr_hf.released import released_model_path, released_models
from tests.hub.isolated_python import run_without_package
from tests.hub.published_models import CODING, NON_CODING
from tests.models.isoclr.test_supported_transformers import VERSIONS, compat_python

INPUTS = [CODING, {"sequence": NON_CODING}]
FOLDER = released_model_path("isoclr-s")


def test_isoclr_s_is_released_in_hub_layout():
    assert "isoclr-s" in released_models() and FOLDER is not None
    names = {path.name for path in FOLDER.iterdir()}
    assert {"config.json", "model.safetensors", "README.md", "tokenizer_config.json"} <= names
    assert (FOLDER / "model.safetensors").stat().st_size < 10 * 2**20  # a few MB, fine in git
    config = json.loads((FOLDER / "config.json").read_text())
    assert config["model_type"] == "isoclr" and config["auto_map"]["AutoModel"] == "modeling_isoclr.IsoCLRModel"
    card = (FOLDER / "README.md").read_text()
    for fact in ("isoclr build-corpus --all-real", "training/configs/isoclr_s_release.yaml", "Leakage", "license"):
        assert fact in card, fact


def test_released_remote_code_is_the_package_code():
    for source in remote_code_files():
        assert (FOLDER / source.name).read_bytes() == source.read_bytes(), (
            f"{source.name} changed since the release: rerun training/release.py (or copy the file)"
        )


def test_short_name_resolves_and_a_local_folder_of_that_name_wins(tmp_path, monkeypatch):
    assert resolve_model_path("isoclr-s") == FOLDER
    monkeypatch.chdir(tmp_path)
    (tmp_path / "isoclr-s").mkdir()
    assert resolve_model_path("isoclr-s") == Path("isoclr-s")


@torch.no_grad()
def package_embeddings() -> list:
    model, tokenizer = load_encoder(FOLDER), load_tokenizer(FOLDER)
    batch = tokenizer([i["sequence"] for i in INPUTS], exon_ends=[i.get("exon_ends") for i in INPUTS],
                      cds=[i.get("cds") for i in INPUTS], return_tensors="pt")  # fmt: skip
    return model.eval()(**batch).pooler_output.tolist()


@pytest.mark.slow
@pytest.mark.parametrize("version", ["installed", *VERSIONS])
def test_released_folder_loads_without_the_package(version: str, tmp_path: Path):
    python = None if version == "installed" else compat_python(version)
    code = f"""
        import json
        import torch
        from transformers import AutoModel, AutoTokenizer
        torch.set_grad_enabled(False)
        inputs = {INPUTS!r}
        model = AutoModel.from_pretrained({str(FOLDER)!r}, trust_remote_code=True).eval()
        tokenizer = AutoTokenizer.from_pretrained({str(FOLDER)!r}, trust_remote_code=True)
        batch = tokenizer([i["sequence"] for i in inputs], exon_ends=[i.get("exon_ends") for i in inputs],
                          cds=[i.get("cds") for i in inputs], return_tensors="pt")
        print(json.dumps(model(**batch).pooler_output.tolist()))
        """
    result = run_without_package(code, tmp_path, python=python, timeout=300)
    output = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(output, package_embeddings(), rtol=1e-5, atol=1e-6)


def test_embed_command_takes_the_short_name(tmp_path):
    fasta = tmp_path / "two.fa"
    fasta.write_text(">coding\n" + CODING["sequence"] + "\n>non_coding\n" + NON_CODING + "\n")
    out = tmp_path / "embeddings.parquet"
    assert main(["embed", "--model", "isoclr-s", "--fasta", str(fasta), "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    assert len(table) == 2


def _release_script():  # type: ignore[no-untyped-def]
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "training" / "release.py"
    spec = importlib.util.spec_from_file_location("release_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_refresh_rewrites_the_code_and_keeps_weights_card_and_embeddings(tmp_path: Path):
    """``training/release.py --refresh``: stale remote code is replaced, the weights and card kept, embeddings equal."""
    import shutil

    release = _release_script()
    folder = tmp_path / "isoclr-s"
    shutil.copytree(FOLDER, folder)
    (folder / "vocabulary_isoclr.py").write_text("# a file of an older release\n")
    (folder / "modeling_isoclr.py").write_text((folder / "modeling_isoclr.py").read_text() + "\n# stale\n")
    before = release.refresh_embeddings(FOLDER)
    release.refresh(folder)
    assert not (folder / "vocabulary_isoclr.py").exists()
    for source in remote_code_files():
        assert (folder / source.name).read_bytes() == source.read_bytes(), source.name
    assert (folder / "README.md").read_bytes() == (FOLDER / "README.md").read_bytes()
    assert (folder / "model.safetensors").read_bytes() == (FOLDER / "model.safetensors").read_bytes()
    np.testing.assert_allclose(release.refresh_embeddings(folder), before, rtol=0, atol=1e-6)
    assert not any(path.name.startswith(".") for path in tmp_path.iterdir())  # no temporary folder left
