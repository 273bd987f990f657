"""training/finetune.py (launcher of ``isoclr_hf.evaluation.fine_tuning.launcher``) end to end on CPU."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from transformers import AutoModelForSequenceClassification

from isoclr_hf.evaluation.fine_tuning import launcher as fine_tuning_run
from isoclr_hf.evaluation.fine_tuning.engine import predict_records
from isoclr_hf.evaluation.fine_tuning.launcher import parse_fine_tuning_args
from isoclr_hf.evaluation.tasks.registry import load_task
from isoclr_hf.loading import load_tokenizer
from tests.tiny_tasks import save_tiny_encoder

SCRIPT = Path(__file__).resolve().parents[3] / "training" / "finetune.py"


@pytest.fixture(scope="module")
def finetune_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("finetune_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_finetune_saves_a_head_and_metrics(finetune_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model_dir = save_tiny_encoder(tmp_path / "encoder")
    out = tmp_path / "head"
    argv = ["--model", str(model_dir), "--task", "te_5utr_muscle", "--output-dir", str(out), "--max-examples", "100",
            "--epochs", "2", "--max-steps", "3", "--batch-size", "8", "--cpu", "--quiet"]
    assert finetune_module.main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["history"]["steps"] == 3
    assert {"pearson", "spearman", "mse", "n_train", "n_test"} <= set(metrics)
    head = AutoModelForSequenceClassification.from_pretrained(out, trust_remote_code=True)
    task = load_task("te_5utr_muscle")
    assert head.config.target_names == ["log2_te"]
    assert head.config.target_mean[0] == pytest.approx(float(np.mean(task.labels)), abs=1.0)
    predictions = predict_records(head, load_tokenizer(out), task.records[:8])
    assert np.all(np.abs(predictions - np.mean(task.labels)) < 4 * np.std(task.labels))


def test_parse_args_defaults_follow_the_paper_recipe() -> None:
    args = parse_fine_tuning_args(["--model", "m", "--task", "t", "--output-dir", "o"])
    assert args.settings.lr_decay == 0.95 and args.settings.head_learning_rate == 0.01
    assert args.settings.head_weight_decay == 0.0


def test_trust_remote_code_is_off_unless_asked_and_passed_through(finetune_module, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_fine_tuning_args(["--model", "m", "--task", "t", "--output-dir", "o"]).trust_remote_code is False
    seen: dict[str, object] = {}

    class StopError(Exception):
        pass

    def build_regression_model(path, **options):  # type: ignore[no-untyped-def]
        seen["model"] = options["trust_remote_code"]
        return object()

    def load_tokenizer(path, *, trust_remote_code=False):  # type: ignore[no-untyped-def]
        seen["tokenizer"] = trust_remote_code
        raise StopError

    monkeypatch.setattr(fine_tuning_run, "build_regression_model", build_regression_model)
    monkeypatch.setattr(fine_tuning_run, "load_tokenizer", load_tokenizer)
    argv = ["--model", "m", "--task", "te_5utr_muscle", "--output-dir", str(tmp_path), "--max-examples", "60",
            "--cpu", "--quiet"]
    for extra, expected in (([], False), (["--trust-remote-code"], True)):
        with pytest.raises(StopError):
            finetune_module.main(argv + extra)
        assert seen == {"model": expected, "tokenizer": expected}
