"""Fine-tune an IsoCLR encoder into a regression head on a task with measured labels.

The head is an ``IsoCLRForSequenceClassification`` checkpoint with named targets and the target
normalisation in its config (predictions come back in original units), loadable with
``AutoModelForSequenceClassification.from_pretrained(DIR, trust_remote_code=True)``.

Recipe (IsoCLR paper, see ``isoclr_hf.evaluation.fine_tuning.engine.FineTuneSettings``): head's last layer
zero-initialised, Adam, exponential decay 0.95 per epoch, no weight decay on the pretrained encoder,
the epoch best on the validation split kept.

Launch:
    # one CPU or GPU
    python training/finetune.py --model runs/isoclr-s --task te_5utr_hek293 --output-dir heads/te_hek293
    # several GPUs, bf16
    accelerate launch --multi_gpu --num_processes 4 training/finetune.py --mixed-precision bf16 \\
        --model runs/isoclr-m --task /data/mrnabench/go_mf.parquet --output-dir heads/go_mf
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from isoclr_hf.evaluation.fine_tuning.launcher import parse_fine_tuning_args, run_fine_tuning


def main(argv: Sequence[str] | None = None) -> int:
    run_fine_tuning(parse_fine_tuning_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
