"""Push a model through huggingface_hub with only HTTP replaced, then load it by repo id offline from the cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import HfApi, snapshot_download

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.hub.package import remote_code_files
from isoclr_hf.hub.push import push_model_folder
from tests.hub.fake_hub import ENDPOINT, fake_hub_http
from tests.hub.isolated_python import run_without_package
from tests.hub.published_models import CODING, NON_CODING, tiny_head

# The remote code is whatever the package's remote-code files import relatively (it changes as the code is split).
EXPECTED_FILES = {
    ".gitattributes", "README.md", "config.json", "model.safetensors", "tokenizer_config.json", "vocab.json",
    *(path.name for path in remote_code_files()),
}  # fmt: skip


@pytest.fixture
def saved_head(tmp_path: Path) -> Path:
    """A head as a training run leaves it: save_pretrained of the model and the tokenizer, nothing else."""
    folder = tmp_path / "run" / "best"
    tiny_head().save_pretrained(folder)
    IsoCLRTokenizer().save_pretrained(folder)
    return folder


def test_push_is_one_commit_and_loads_offline_by_repo_id(saved_head: Path, tmp_path: Path) -> None:
    cache = tmp_path / "hub_cache"
    with fake_hub_http() as hub:
        api = HfApi(endpoint=ENDPOINT, token="hf_test")
        commit = push_model_folder(saved_head, "lab/tiny-half-life", private=True, api=api)
        snapshot_download("lab/tiny-half-life", cache_dir=cache, endpoint=ENDPOINT, token="hf_test")
    assert len(hub.commits) == 1 and hub.commits[0].sha == commit.oid
    assert set(hub.commits[0].files) == EXPECTED_FILES
    assert {"configuration_isoclr.py", "modeling_isoclr.py", "tokenization_isoclr.py", "pipeline_isoclr.py"} <= (
        EXPECTED_FILES
    )
    assert hub.private["lab/tiny-half-life"] is True
    assert len(hub.validated_cards) == 1 and not hub.invalid_cards
    config = json.loads(hub.commits[0].files["config.json"])
    assert set(config["auto_map"]) >= {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification", "AutoTokenizer"}
    assert list(config["custom_pipelines"]) == ["rna-property"]
    assert (cache / "models--lab--tiny-half-life" / "refs" / "main").read_text() == commit.oid

    inputs = [CODING, {"sequence": NON_CODING}]
    tokenizer = IsoCLRTokenizer()
    batch = tokenizer(
        [i["sequence"] for i in inputs], exon_ends=[i.get("exon_ends") for i in inputs],
        cds=[i.get("cds") for i in inputs], return_tensors="pt",
    )
    expected = tiny_head()(**batch).predictions.detach().numpy().tolist()
    result = run_without_package(
        f"""
        import json
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
        inputs = {inputs!r}
        model = AutoModelForSequenceClassification.from_pretrained("lab/tiny-half-life", trust_remote_code=True)
        tokenizer = AutoTokenizer.from_pretrained("lab/tiny-half-life", trust_remote_code=True)
        batch = tokenizer([i["sequence"] for i in inputs], exon_ends=[i.get("exon_ends") for i in inputs],
                          cds=[i.get("cds") for i in inputs], return_tensors="pt")
        predictions = model.eval()(**batch).predictions.tolist()
        predict = pipeline(model="lab/tiny-half-life", trust_remote_code=True)
        print(json.dumps({{"predictions": predictions, "pipeline": predict(inputs)}}))
        """,
        tmp_path / "offline",
        env={"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"},
    )
    output = json.loads(result.stdout.strip().splitlines()[-1])
    # Same weights and inputs, but another process: oneDNN may choose other kernels (blocking, thread
    # split) there, so float32 sums can differ in the last bits (2.4e-7 seen with torch 2.13). Equality
    # within float32 rounding is the contract here, not bit identity.
    np.testing.assert_allclose(output["predictions"], expected, rtol=1e-5, atol=1e-6)
    assert [row["half_life"] for row in output["pipeline"]] == pytest.approx([row[0] for row in expected])


def test_push_to_a_branch_leaves_main_alone(saved_head: Path) -> None:
    with fake_hub_http() as hub:
        api = HfApi(endpoint=ENDPOINT, token="hf_test")
        commit = push_model_folder(saved_head, "lab/tiny", revision="v1", api=api)
    assert [(c.revision, c.sha) for c in hub.commits] == [("v1", commit.oid)]
    assert hub.repos["lab/tiny"]["main"] != commit.oid


def test_bad_repo_id_and_missing_folder_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ORG/NAME"):
        push_model_folder(tmp_path, "no-slash")
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        push_model_folder(tmp_path, "lab/name")
