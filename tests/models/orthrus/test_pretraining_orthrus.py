"""Orthrus pretraining with the IsoCLR script: the presets, a run that resumes exactly, the saved encoder.

Mirrors ``tests/pretraining/test_pretrain_resume.py`` with ``--model orthrus-cpu-small``: the same corpus,
collator, DCL loss, masking and checkpoints; only the encoder differs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModel

from isoclr_hf.models.orthrus import OrthrusForContrastivePretraining, OrthrusModel
from isoclr_hf.pretraining.config import parse_pretraining_config
from isoclr_hf.pretraining.loop import build_model
from tests.pretraining.tiny_corpus import TRAINING_DIR, make_corpus, pretrain, tiny_run_arguments

TINY_ORTHRUS = {"hidden_size": 8, "num_hidden_layers": 1, "projection_hidden_size": 32, "projection_dim": 16}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 training gene sets, 12 validation, 12 test (as the IsoCLR pretraining tests)."""
    path = tmp_path_factory.mktemp("corpus") / "tiny_corpus"
    make_corpus({"train": 48, "validation": 12, "test": 12}).save_to_disk(str(path))
    return path


def orthrus_run(corpus: Path, output_dir: Path, **settings: object) -> list[str]:
    # Views cut to 96 nt: without mamba-ssm the scan is a loop over positions.
    return tiny_run_arguments(corpus, output_dir, model="orthrus-cpu-small", model_overrides=json.dumps(TINY_ORTHRUS),
                              max_length=96, **settings)  # fmt: skip


@pytest.mark.parametrize(
    ("config_file", "n_tracks", "parameters"),
    [("orthrus_large.yaml", 6, 10_179_072), ("orthrus_base.yaml", 4, 1_316_608), ("orthrus_cpu_small.yaml", 6, None)],
)
def test_presets_build_the_published_sizes(config_file: str, n_tracks: int, parameters: int | None) -> None:
    config = parse_pretraining_config(["--config", str(TRAINING_DIR / "configs" / config_file), "--corpus", "x"])
    with torch.device("meta"):
        model = build_model(config)
    assert isinstance(model, OrthrusForContrastivePretraining)
    assert model.config.n_tracks == n_tracks
    if parameters is not None:
        assert sum(p.numel() for p in model.orthrus.parameters()) == parameters
    # `--model orthrus` is the large model.
    with torch.device("meta"):
        alias = build_model(parse_pretraining_config(["--model", "orthrus", "--corpus", "x"]))
    assert alias.config.hidden_size == 512 and alias.config.num_hidden_layers == 6


@pytest.mark.slow
def test_resumed_orthrus_run_matches_an_uninterrupted_run(corpus: Path, tmp_path: Path) -> None:
    # 48 gene sets / 8 pairs = 6 micro-batches = 3 optimizer steps an epoch with accumulation 2; the
    # interrupted run checkpoints at step 2 (mid-epoch), stops at 4 and loses its step-4 checkpoint.
    settings = {"max_steps": 5, "gradient_accumulation_steps": 2, "eval_every": 2, "checkpoint_every": 2}
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    expected_summary = pretrain(orthrus_run(corpus, straight, **settings))
    partial = pretrain(orthrus_run(corpus, interrupted, stop_after_steps=4, **settings))
    assert partial["steps"] == 4 and not (interrupted / "final").exists()
    shutil.rmtree(interrupted / "checkpoints" / "step_000004")
    resumed = pretrain(orthrus_run(corpus, interrupted, resume_from_checkpoint="latest", **settings))
    assert resumed["steps"] == 5 and resumed["segments"] == 2

    expected = load_file(straight / "final" / "model.safetensors")
    actual = load_file(interrupted / "final" / "model.safetensors")
    assert expected.keys() == actual.keys() and "layers.0.mixer.A_log" in expected
    for name in expected:
        assert torch.equal(actual[name], expected[name]), name
    for name in ("retrieval_start", "retrieval_end", "first_epoch_loss", "last_epoch_loss"):
        assert resumed[name] == expected_summary[name], name
    # Training moved the weights.
    initial = build_model(parse_pretraining_config(orthrus_run(corpus, tmp_path)))
    assert not torch.equal(initial.orthrus.state_dict()["layers.0.mixer.in_proj.weight"],
                           expected["layers.0.mixer.in_proj.weight"])  # fmt: skip
    # The final folder is an Orthrus encoder that AutoModel loads.
    encoder = AutoModel.from_pretrained(straight / "final")
    assert isinstance(encoder, OrthrusModel) and encoder.config.model_type == "isoclr_orthrus"
    assert (straight / "final" / "modeling_orthrus.py").is_file() and (straight / "final" / "vocab.json").is_file()
