"""End-to-end pretraining through ``main([...])`` on a tiny corpus, and the run settings."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import torch
import yaml
from transformers import AutoModel, AutoTokenizer

from isoclr_hf.pretraining.config import PretrainingConfig, parse_pretraining_config
from isoclr_hf.pretraining.loop import build_model, with_model_defaults
from isoclr_hf.pretraining.process import OutputFolderLockedError, OutputLock
from tests.pretraining.tiny_corpus import TINY_MODEL, TRAINING_DIR, pretrain, tiny_run_arguments

METRICS = {"loss", "positive_similarity", "negative_similarity", "alignment", "uniformity", "learning_rate",
           "pairs_per_second", "nucleotides_per_second"}


def test_smoke_run_trains_logs_checkpoints_and_saves_a_loadable_encoder(tiny_corpus_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = pretrain(tiny_run_arguments(tiny_corpus_path, out, max_steps=4, eval_every=2, checkpoint_every=2))

    assert summary["steps"] == 4 and summary["processes"] == 1
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4]
    assert set(steps[0]) >= METRICS and all(torch.isfinite(torch.tensor(r["loss"])) for r in steps)
    evaluations = [r for r in records if "retrieval_top1" in r]
    assert [r["step"] for r in evaluations] == [0, 2, 4]  # at the start, every 2 steps and at the end
    assert all(0 <= r["retrieval_chance"] < 1 for r in evaluations)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000002", "step_000004"]
    assert json.loads((out / "summary.json").read_text())["steps"] == 4

    # The final folder is the encoder alone, loadable as remote code, with its tokenizer.
    model = AutoModel.from_pretrained(out / "final", trust_remote_code=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(out / "final", trust_remote_code=True)
    assert type(model).__name__ == "IsoCLRModel"
    assert model.config.stage_filters == TINY_MODEL["stage_filters"]
    batch = tokenizer(["ACGTACGTAAGGCT" * 5], exon_ends=[[30, 70]], cds=[(0, 69)], return_tensors="pt")
    with torch.no_grad():
        assert model(**batch).pooler_output.shape == (1, TINY_MODEL["stage_filters"][-1])


def test_training_lowers_the_epoch_loss(tiny_corpus_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    overrides = json.dumps({**TINY_MODEL, "dropout": 0.0})
    # 48 gene sets / 8 pairs: 6 steps an epoch, so 3 epochs over the same gene sets.
    arguments = tiny_run_arguments(tiny_corpus_path, out, max_steps=18, learning_rate=0.01, model_overrides=overrides)
    summary = pretrain(arguments)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    epoch_losses = [r["epoch_loss"] for r in records if "epoch_loss" in r]
    assert len(epoch_losses) == 3
    assert epoch_losses[-1] < epoch_losses[0]
    assert summary["first_epoch_loss"] == epoch_losses[0] and summary["last_epoch_loss"] == epoch_losses[-1]


def test_command_line_overrides_the_config_file(tmp_path: Path) -> None:
    preset = tmp_path / "preset.yaml"
    preset.write_text("corpus: corpus_a\nlearning_rate: 0.01\nweight_decay: 1.0e-6\nbucketing: true\n")
    config = parse_pretraining_config(["--config", str(preset), "--learning_rate", "1e-3", "--bucketing", "false",
                           "--model_overrides", "{stem_filters: 8}", "--max_steps", "null"])
    assert config.corpus == "corpus_a" and config.weight_decay == pytest.approx(1e-6)
    assert config.learning_rate == pytest.approx(1e-3) and config.bucketing is False
    assert config.model_overrides == {"stem_filters": 8} and config.max_steps is None


def test_bad_settings_are_named(tmp_path: Path) -> None:
    preset = tmp_path / "preset.yaml"
    preset.write_text("corpus: c\nlearning_rat: 0.01\n")
    with pytest.raises(ValueError, match="learning_rat"):
        parse_pretraining_config(["--config", str(preset)])
    with pytest.raises(ValueError, match="mixed_precision"):
        parse_pretraining_config(["--corpus", "c", "--mixed_precision", "fp8"])
    with pytest.raises(ValueError, match="--corpus"):
        parse_pretraining_config([])


def test_mixed_precision_no_is_accepted_from_yaml_and_the_command_line(tmp_path: Path) -> None:
    # YAML 1.1 reads an unquoted `no` as false.
    preset = tmp_path / "preset.yaml"
    preset.write_text("corpus: c\nmixed_precision: no\n")
    assert parse_pretraining_config(["--config", str(preset)]).mixed_precision == "no"
    assert parse_pretraining_config(["--corpus", "c", "--mixed_precision", "no"]).mixed_precision == "no"
    assert parse_pretraining_config(["--config", str(preset), "--mixed_precision", "bf16"]).mixed_precision == "bf16"
    assert parse_pretraining_config(["--corpus", "c", "--mixed_precision", "null"]).mixed_precision is None
    # Other text settings are taken as written, not as YAML booleans or numbers.
    config = parse_pretraining_config(["--corpus", "on", "--output_dir", "010", "--log_with", "null"])
    assert config.corpus == "on" and config.output_dir == "010" and config.log_with is None
    with pytest.raises(ValueError, match="mixed_precision"):
        parse_pretraining_config(["--corpus", "c", "--mixed_precision", "yes"])


def test_a_second_run_on_a_locked_output_folder_fails_at_once(tiny_corpus_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    with OutputLock(out):  # as a running trainer holds it
        with pytest.raises(OutputFolderLockedError, match=rf"{re.escape(str(out))} is in use .*pid {os.getpid()}"):
            pretrain(tiny_run_arguments(tiny_corpus_path, out, max_steps=1))
        assert not (out / "metrics.jsonl").exists()
    # Released with the holder: the folder can be used, and is released after the run.
    assert pretrain(tiny_run_arguments(tiny_corpus_path, out, max_steps=1))["steps"] == 1
    OutputLock(out).acquire().release()


@pytest.mark.parametrize("preset", sorted((TRAINING_DIR / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_presets_parse(preset: Path) -> None:
    values = yaml.safe_load(preset.read_text())
    config = parse_pretraining_config(["--config", str(preset), "--corpus", values.get("corpus") or "corpus"])
    assert isinstance(config, PretrainingConfig)


def test_paper_preset_records_the_paper_recipe() -> None:
    preset = TRAINING_DIR / "configs" / "isoclr_paper.yaml"
    config = parse_pretraining_config(["--config", str(preset), "--corpus", "c"])
    assert config.learning_rate == pytest.approx(0.01) and config.weight_decay == pytest.approx(1e-6)
    assert config.epochs == 1000 and config.max_length is None  # the model's maximum:
    assert with_model_defaults(config, build_model(config).config).max_length == 12288
    assert config.per_device_batch_size * 4 == 1024  # 4 GPUs in the paper
