"""Masked-LM runs resume exactly, and two processes average their gradients (DDP)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from tests.pretraining.test_pretrain_distributed import free_port
from tests.pretraining.test_pretrain_mlm import mlm_arguments
from tests.pretraining.tiny_corpus import pretrain

CHECK_SCRIPT = Path(__file__).with_name("mlm_distributed_check.py")
TIMED = {"transcripts_per_second", "nucleotides_per_second"}


def records(run: Path) -> list[dict[str, Any]]:
    """metrics.jsonl less the wall-clock throughputs."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in TIMED} for line in lines]


@pytest.mark.slow
def test_a_resumed_masked_lm_run_equals_an_uninterrupted_one_bit_for_bit(tiny_corpus_path: Path,
                                                                          tmp_path: Path) -> None:
    # 48 gene sets hold ~120 transcripts: 15 micro-batches of 8 = 7 optimizer steps an epoch with accumulation
    # 2. The interrupted run checkpoints at step 4 (mid-epoch), stops at step 8 (epoch 1) and loses its
    # step-8 checkpoint, as if killed before writing it; the resume from step 4 redoes steps 5-8 and the epoch
    # end and goes on to step 9. Dropout is on, so the RNG states must come back too; masks and windows
    # follow from the seed and the epoch.
    settings = {"max_steps": 9, "gradient_accumulation_steps": 2, "eval_every": 4, "checkpoint_every": 4,
                "model_overrides": json.dumps({"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                                               "intermediate_size": 64, "hidden_dropout": 0.1})}
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    expected_summary = pretrain(mlm_arguments(tiny_corpus_path, straight, **settings))
    assert expected_summary["first_epoch"] == 0 and expected_summary["last_epoch"] == 0  # crossed an epoch end
    partial = pretrain(mlm_arguments(tiny_corpus_path, interrupted, stop_after_steps=8, **settings))
    assert partial["steps"] == 8 and not (interrupted / "final").exists()
    shutil.rmtree(interrupted / "checkpoints" / "step_000008")
    resumed = pretrain(mlm_arguments(tiny_corpus_path, interrupted, resume_from_checkpoint="latest", **settings))
    assert resumed["steps"] == 9 and resumed["segments"] == 2

    expected = load_file(straight / "final" / "model.safetensors")
    actual = load_file(interrupted / "final" / "model.safetensors")
    assert expected.keys() == actual.keys()
    for name in expected:
        assert torch.equal(actual[name], expected[name]), name
    assert not torch.equal(expected["rnafm.encoder.layer_norm.weight"], torch.ones(32))  # initialised at 1: trained

    assert records(interrupted) == records(straight)  # every step once, the same losses and evaluations
    for name in ("eval_loss_start", "eval_loss_end", "eval_accuracy_end", "first_epoch_loss", "last_epoch_loss"):
        assert resumed[name] == expected_summary[name], name


@pytest.mark.slow
def test_two_cpu_processes_average_their_gradients(tiny_corpus_path: Path, tmp_path: Path) -> None:
    """Two processes x 4 transcripts (DDP) train as one process accumulating two micro-batches of 4.

    Random (unbucketed) batches are consecutive runs of one permutation, so the 2-process global batch
    ``k`` holds the transcripts of the 1-process micro-batches ``2k`` and ``2k + 1``; masks and windows
    follow from each transcript's seed and dropout is off. Averaging the two processes' gradients (DDP) is
    then what accumulation does (each micro-batch's loss divided by 2): the weights must agree.
    """
    settings = {"max_steps": 3, "bucketing": "false", "checkpoint_every": 2, "eval_every": 2,
                "model_overrides": json.dumps({"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                                               "intermediate_size": 64, "hidden_dropout": 0.0,
                                               "attention_dropout": 0.0})}
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(free_port()), str(CHECK_SCRIPT), str(tiny_corpus_path), str(tmp_path / "two"), json.dumps(settings)]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    one = pretrain(mlm_arguments(tiny_corpus_path, tmp_path / "one", per_device_batch_size=4,
                                 gradient_accumulation_steps=2, **settings))

    two = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert two["processes"] == 2 and two["steps"] == 3 and one["processes"] == 1
    assert (tmp_path / "two" / "checkpoints" / "step_000002" / "random_states_1.pkl").exists()
    # The held-out evaluation is split over the processes and summed: the same targets, the same numbers.
    assert two["eval_masked_tokens"] == one["eval_masked_tokens"]
    assert two["eval_loss_start"] == pytest.approx(one["eval_loss_start"], abs=1e-6)
    expected = load_file(tmp_path / "one" / "final" / "model.safetensors")
    actual = load_file(tmp_path / "two" / "final" / "model.safetensors")
    for name in expected:  # the all-reduce sums in another order: equal within float32 rounding
        torch.testing.assert_close(actual[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)
    assert not torch.equal(expected["rnafm.encoder.layer_norm.weight"], torch.ones(32))  # training moved it
