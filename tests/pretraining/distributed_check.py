"""Run by ``test_pretrain_distributed.py`` under ``torchrun --nproc_per_node 2`` (gloo on the CPU).

1. The contrastive loss of each process's half of the first global batch, in eval mode (no
   masking, batch norm running statistics), written to ``OUT/rank_losses.json`` by rank 0.
2. A short pretraining run through ``pretrain.main`` on both processes.

Usage: torchrun --nproc_per_node 2 tests/pretraining/distributed_check.py CORPUS OUT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from accelerate.utils import set_seed

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY))  # started as a script by torchrun: `tests` from the repository
from isoclr_hf import IsoCLRTokenizer  # noqa: E402
from isoclr_hf.pretraining.batching import ContrastivePairCollator  # noqa: E402
from isoclr_hf.pretraining.config import parse_pretraining_config  # noqa: E402
from isoclr_hf.pretraining.data import PairCorpus, load_corpus_splits, plan_epoch, process_dataloader  # noqa: E402
from isoclr_hf.pretraining.loop import build_accelerator, build_model  # noqa: E402
from tests.pretraining.tiny_corpus import pretrain, tiny_run_arguments  # noqa: E402

PER_PROCESS = 4


def first_batch_loss(corpus_path: Path, arguments: list[str]) -> None:
    config = parse_pretraining_config(arguments)
    accelerator = build_accelerator(config)
    set_seed(config.seed)
    model = build_model(config).eval()
    corpus = PairCorpus.from_split(load_corpus_splits(str(corpus_path))["train"], model.config.gene_set_weight_constant)
    plan = plan_epoch(corpus, epoch=0, seed=config.seed, global_batch_size=PER_PROCESS * accelerator.num_processes,
                      max_length=config.max_length, bucketing=True, mega_batch_batches=64, max_nucleotides=None,
                      world_size=accelerator.num_processes)
    collator = ContrastivePairCollator(IsoCLRTokenizer(), max_length=config.max_length, pad_to_multiple_of=32)
    loader = process_dataloader(corpus, plan, collator, rank=accelerator.process_index,
                                world_size=accelerator.num_processes, n_batches=1)
    with torch.no_grad():
        loss = model(**next(iter(loader))).loss
    losses = accelerator.gather(loss.reshape(1)).tolist()
    if accelerator.is_main_process:
        out = Path(config.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "rank_losses.json").write_text(json.dumps({"processes": accelerator.num_processes, "losses": losses}))
    accelerator.wait_for_everyone()


def main() -> None:
    corpus, out = Path(sys.argv[1]), Path(sys.argv[2])
    first_batch_loss(corpus, tiny_run_arguments(corpus, out / "loss_check"))
    pretrain(tiny_run_arguments(corpus, out / "run", per_device_batch_size=PER_PROCESS, max_steps=3,
                                     checkpoint_every=2))


if __name__ == "__main__":
    main()
