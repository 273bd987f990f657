"""Pretraining on a corpus of `isoclr build-corpus`: contrastive (IsoCLR, Orthrus) or masked LM (RNA-FM, RiNALMo).

The ``--model`` preset chooses the objective: ``isoclr-*``/``orthrus*`` train contrastively on pairs of
isoforms; ``rnafm*``/``rinalmo*`` train with the masked-LM objective (15% of the nucleotides, 80/10/10) on
every transcript of the same corpus, with the same checkpoints, resume, logging and processes.

Launch (settings from a preset in training/configs/, any of them overridable as ``--name value``):

    # one CPU process
    accelerate launch --cpu training/pretrain.py --config training/configs/demo_cpu.yaml --corpus CORPUS
    # two CPU processes (gloo); `accelerate launch --cpu --num_processes 2` starts only one (it is
    # meant for mpirun), so use the multi-process launcher and tell accelerate to stay on the CPU:
    ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 training/pretrain.py --config ...
    torchrun --nproc_per_node 2 training/pretrain.py --config ...  # equivalent; CPU chosen without CUDA
    # one GPU, bf16
    accelerate launch --mixed_precision bf16 training/pretrain.py --config training/configs/isoclr_paper.yaml \
        --corpus CORPUS
    # several GPUs / nodes (DDP); FSDP and DeepSpeed through `accelerate config`
    accelerate launch --multi_gpu --num_processes 4 --mixed_precision bf16 training/pretrain.py --config ...
    # resume a killed run from its newest checkpoint (same data order, same RNG states)
    accelerate launch training/pretrain.py --config ... --resume_from_checkpoint latest
    # masked-LM pretraining of a CPU-sized RNA-FM or RiNALMo on the same corpus
    accelerate launch --cpu training/pretrain.py --config training/configs/rnafm_cpu_small.yaml --corpus CORPUS
    accelerate launch --cpu training/pretrain.py --config training/configs/rinalmo_cpu_small.yaml --corpus CORPUS
    # the published sizes: --model rnafm (99.5M), --model rinalmo (= rinalmo-giga, 651M), rinalmo-micro, ...
    accelerate launch --mixed_precision bf16 training/pretrain.py --model rnafm --corpus CORPUS --max_steps 100000

Options: every field of ``isoclr_hf.pretraining.PretrainingConfig`` (``--help`` lists them); the loop
and its outputs are described in ``isoclr_hf.pretraining.loop``. Started by ``accelerate launch``
or torchrun, the trainer stops when its launcher dies (even by SIGKILL).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from isoclr_hf.pretraining.config import parse_pretraining_config
from isoclr_hf.pretraining.process import exit_with_launcher, launched_by_a_launcher

# Exit code of a run refused for its input (a bad setting, a missing or damaged corpus), as for a bad command line.
INPUT_ERROR_EXIT_CODE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and pretrain; a bad setting or corpus prints one line naming it and returns 2."""
    try:
        config = parse_pretraining_config(argv)  # --help and bad options end here, before torch is imported
    except ValueError as error:
        return refuse(error)
    from isoclr_hf.corpus.storage import CorpusError
    from isoclr_hf.pretraining.config import PretrainingSettingError
    from isoclr_hf.pretraining.loop import run_pretraining

    try:
        run_pretraining(config)
    except (CorpusError, PretrainingSettingError) as error:
        return refuse(error)
    return 0


def refuse(error: Exception) -> int:
    print(f"pretrain.py: error: {' '.join(str(error).split())}", file=sys.stderr)
    return INPUT_ERROR_EXIT_CODE


if __name__ == "__main__":
    if launched_by_a_launcher():
        exit_with_launcher()  # a killed `accelerate launch`/torchrun takes the trainer with it
    sys.exit(main())
