"""Loading saved IsoCLR models where only transformers and torch exist: the files a folder holds, and a Hub id
offline (loading a folder under each transformers version is in the shared contract, tests/models/model_contract.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from isoclr_hf import IsoCLRForSequenceClassification, IsoCLRModel, IsoCLRTokenizer
from tests.tiny_models import tiny_config

SEQUENCES = ["ACGTTGCAAGGCTAGCTAGGATCGATCGATTTACG", "GGCAUGCCC"]

# Run in a fresh interpreter that refuses to import isoclr_hf: the saved remote code must suffice.
LOADER = """
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "isoclr_hf" or name.startswith("isoclr_hf."):
            raise ImportError("isoclr_hf is blocked in this test")
sys.meta_path.insert(0, Block())
import numpy as np
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer
source, out = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(source, trust_remote_code=True)
batch = tok(json.loads(sys.argv[3]), exon_ends=[None, [4, 9]], cds=[(2, 32), None], return_tensors="pt")
encoder = AutoModel.from_pretrained(source, trust_remote_code=True).eval()
head = AutoModelForSequenceClassification.from_pretrained(source, trust_remote_code=True).eval()
np.savez(out, embedding=encoder(**batch).pooler_output.detach().numpy(),
         predictions=head(**batch).predictions.detach().numpy(),
         modules=np.array([type(encoder).__module__, type(tok).__module__]))
"""


def saved_model(folder: Path) -> tuple[IsoCLRForSequenceClassification, IsoCLRTokenizer]:
    config = tiny_config(target_names=["half_life"], target_mean=[4.0], target_std=[2.0], classifier_zero_init=False)
    model = IsoCLRForSequenceClassification(config).eval()
    tokenizer = IsoCLRTokenizer()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model, tokenizer


def expected_outputs(model: IsoCLRForSequenceClassification, tokenizer: IsoCLRTokenizer) -> dict[str, np.ndarray]:
    batch = tokenizer(SEQUENCES, exon_ends=[None, [4, 9]], cds=[(2, 32), None], return_tensors="pt")
    with torch.no_grad():
        out = model(**batch)
    return {"embedding": out.embeddings.numpy(), "predictions": out.predictions.numpy()}


def run_isolated(source: str, tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    script = tmp_path / "load.py"
    script.write_text(LOADER)
    out = tmp_path / "out.npz"
    environment = {"PATH": "/usr/bin:/bin", "HF_MODULES_CACHE": str(tmp_path / "modules"), **(env or {})}
    subprocess.run(
        [sys.executable, "-s", str(script), source, str(out), json.dumps(SEQUENCES)],
        cwd=tmp_path, env=environment, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return dict(np.load(out))


def test_saved_folder_holds_remote_code_and_full_auto_map(tmp_path: Path) -> None:
    saved_model(tmp_path)
    for name in ("configuration_isoclr.py", "modeling_isoclr.py", "encoder_isoclr.py", "loss_isoclr.py",
                 "track_inputs.py", "track_vocabulary.py", "sequence_head.py", "length_groups.py",
                 "tokenization_isoclr.py",
                 "model.safetensors", "tokenizer_config.json"):  # fmt: skip
        assert (tmp_path / name).exists(), name
    auto_map = json.loads((tmp_path / "config.json").read_text())["auto_map"]
    assert set(auto_map) == {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification", "AutoTokenizer"}
    # An encoder saved on its own carries the same map.
    IsoCLRModel(tiny_config()).save_pretrained(tmp_path / "encoder")
    assert json.loads((tmp_path / "encoder" / "config.json").read_text())["auto_map"] == auto_map


def lay_out_hub_cache(folder: Path, cache: Path, repo_id: str, commit: str = "a" * 40) -> None:
    """Write ``folder`` into ``cache`` the way huggingface_hub stores a downloaded model repo."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    for index, file in enumerate(sorted(folder.iterdir())):
        blob = repo / "blobs" / f"{index:040x}"
        shutil.copyfile(file, blob)
        (snapshot / file.name).symlink_to(Path("..") / ".." / "blobs" / blob.name)


def test_load_by_hub_id_offline_from_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    model, tokenizer = saved_model(folder)
    cache = tmp_path / "hub"
    lay_out_hub_cache(folder, cache, "isoclr-org/isoclr-tiny")
    loaded = run_isolated(
        "isoclr-org/isoclr-tiny", tmp_path, env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)}
    )
    for key, value in expected_outputs(model, tokenizer).items():
        np.testing.assert_allclose(loaded[key], value, rtol=1e-5, atol=1e-6)
