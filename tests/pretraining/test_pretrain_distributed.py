"""Two CPU processes (gloo): the script runs, and the loss takes its negatives from the global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from accelerate.utils import set_seed

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.pretraining.batching import ContrastivePairCollator
from isoclr_hf.pretraining.config import parse_pretraining_config
from isoclr_hf.pretraining.data import PairCorpus, load_corpus_splits, plan_epoch, process_dataloader
from isoclr_hf.pretraining.loop import build_model
from tests.pretraining.tiny_corpus import tiny_run_arguments

CHECK_SCRIPT = Path(__file__).with_name("distributed_check.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def single_process_losses(corpus_path: Path, tmp_path: Path) -> tuple[float, float]:
    """Loss of the 8-pair global batch in one process, and the mean loss of its two halves alone."""
    config = parse_pretraining_config(tiny_run_arguments(corpus_path, tmp_path))
    set_seed(config.seed)
    model = build_model(config).eval()
    corpus = PairCorpus.from_split(load_corpus_splits(str(corpus_path))["train"], model.config.gene_set_weight_constant)
    plan = plan_epoch(corpus, epoch=0, seed=config.seed, global_batch_size=8, max_length=config.max_length,
                      bucketing=True, mega_batch_batches=64, max_nucleotides=None, world_size=1)
    collator = ContrastivePairCollator(IsoCLRTokenizer(), max_length=config.max_length, pad_to_multiple_of=32)
    with torch.no_grad():
        whole = model(**next(iter(process_dataloader(corpus, plan, collator, rank=0, world_size=1, n_batches=1))))
        halves = [
            model(**next(iter(process_dataloader(corpus, plan, collator, rank=rank, world_size=2, n_batches=1)))).loss
            for rank in range(2)
        ]
    return float(whole.loss), float(sum(halves) / 2)


@pytest.mark.slow
def test_two_cpu_processes_train_and_share_negatives(tiny_corpus_path: Path, tmp_path: Path) -> None:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_port", str(free_port()), str(CHECK_SCRIPT), str(tiny_corpus_path), str(tmp_path)]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    # 2 processes x 4 pairs: each process's loss uses all 8 pairs' negatives, so their mean is
    # the one-process loss of the 8 pairs, and not the loss of each half on its own.
    check = json.loads((tmp_path / "loss_check" / "rank_losses.json").read_text())
    assert check["processes"] == 2
    whole, halves_alone = single_process_losses(tiny_corpus_path, tmp_path / "reference")
    assert sum(check["losses"]) / 2 == pytest.approx(whole, abs=1e-5)
    assert abs(halves_alone - whole) > 1e-3

    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 3
    assert (tmp_path / "run" / "final" / "model.safetensors").exists()
    checkpoint = tmp_path / "run" / "checkpoints" / "step_000002"
    assert (checkpoint / "random_states_1.pkl").exists()
    # Each process keeps its own progress (its share of the epoch loss, its batches) as JSON.
    progress = [json.loads((checkpoint / f"training_progress_{rank}.json").read_text()) for rank in range(2)]
    assert [p["step"] for p in progress] == [2, 2] and not list(checkpoint.glob("custom_checkpoint_*"))
