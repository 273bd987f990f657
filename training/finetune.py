"""Fine-tune an IsoCLR encoder into a regression head on a task with measured labels.

The head is an ``IsoCLRForSequenceClassification`` checkpoint with named targets and the target
normalisation in its config (predictions come back in original units), loadable with
``AutoModelForSequenceClassification.from_pretrained(DIR, trust_remote_code=True)``.

Recipe (IsoCLR paper, see ``isoclr_hf.evaluation.fine_tuning.FineTuneSettings``): head's last layer
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

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import set_seed

from isoclr_hf.evaluation.fine_tuning import (
    FineTuneSettings,
    build_regression_model,
    fine_tune,
    load_tokenizer,
    predict_records,
)
from isoclr_hf.evaluation.low_data import training_subsets
from isoclr_hf.evaluation.metrics import regression_metrics
from isoclr_hf.evaluation.splits import subsample_groups, task_split
from isoclr_hf.evaluation.tasks import RegressionTask, load_task


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", required=True, help="Folder or Hub id of an IsoCLR checkpoint.")
    parser.add_argument("--task", required=True, help="A task name (see `isoclr evaluate --help`) or an "
                                                      "mRNABench-layout .parquet file.")
    parser.add_argument("--output-dir", required=True, type=Path, help="Where the head and metrics go.")
    parser.add_argument("--data-dir", type=Path, default=None, help="Folder with benchmarks/ (default: data/).")
    parser.add_argument("--max-examples", type=int, default=None, help="Subsample the task (whole groups).")
    parser.add_argument("--train-fraction", type=float, default=1.0, help="Fraction of the training split.")
    parser.add_argument("--min-train", type=int, default=10, help="Fewest training examples at any fraction.")
    parser.add_argument("--random-init", action="store_true",
                        help="Start from the same architecture randomly initialised (the control).")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="Allow a --model that is not an IsoCLR checkpoint and run the Python code it ships "
                             "(off by default: IsoCLR checkpoints load with the installed isoclr_hf code).")
    defaults = FineTuneSettings()
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="Per process.")
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate,
                        help="Encoder learning rate (default 1e-3; the paper used 0.01).")
    parser.add_argument("--head-learning-rate", type=float, default=defaults.head_learning_rate)
    parser.add_argument("--lr-decay", type=float, default=defaults.lr_decay, help="Per-epoch decay (paper 0.95).")
    parser.add_argument("--head-weight-decay", type=float, default=defaults.head_weight_decay)
    parser.add_argument("--max-steps", type=int, default=None, help="Stop after this many steps.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split-seed", type=int, default=0, help="Seed of the grouped split and subsampling.")
    parser.add_argument("--mixed-precision", choices=("no", "bf16", "fp16"), default="no")
    parser.add_argument("--cpu", action="store_true", help="Run on the CPU even when a GPU is present.")
    parser.add_argument("--quiet", action="store_true", help="No progress bars.")
    return parser.parse_args(argv)


def prepare_splits(task: RegressionTask, args: argparse.Namespace) -> dict[str, RegressionTask]:
    """Subsample, split by group, and cut the training split to ``--train-fraction``."""
    if args.max_examples is not None:
        task = task.subset(subsample_groups(task.groups, args.max_examples, seed=args.split_seed))
    split = task_split(task, seed=args.split_seed)
    subset = training_subsets(len(split["train"]), fractions=(args.train_fraction,), seeds=(args.seed,),
                              min_train=args.min_train)[0]
    return {
        "train": task.subset(split["train"][subset.indices]),
        "validation": task.subset(split["validation"]),
        "test": task.subset(split["test"]),
    }


def write_metrics(path: Path, payload: dict[str, object]) -> None:
    """Write JSON atomically (temporary file in the same folder, then rename)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    accelerator = Accelerator(mixed_precision=args.mixed_precision, cpu=args.cpu)
    set_seed(args.seed)
    with accelerator.main_process_first():
        splits = prepare_splits(load_task(args.task, data_dir=args.data_dir), args)
    train = splits["train"]
    model = build_regression_model(
        args.model, target_name=train.target_name, target_mean=float(train.labels.mean()),
        target_std=float(train.labels.std()), pretrained=not args.random_init, seed=args.seed,
        trust_remote_code=args.trust_remote_code,
    )
    tokenizer = load_tokenizer(args.model, trust_remote_code=args.trust_remote_code)
    settings = FineTuneSettings(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        head_learning_rate=args.head_learning_rate, lr_decay=args.lr_decay,
        head_weight_decay=args.head_weight_decay, max_steps=args.max_steps, seed=args.seed,
    )
    model, history = fine_tune(model, tokenizer, train.records, train.labels, splits["validation"].records,
                               splits["validation"].labels, settings=settings, accelerator=accelerator,
                               progress=not args.quiet)
    test = splits["test"]
    predictions = predict_records(model, tokenizer, test.records, batch_size=2 * args.batch_size)
    metrics = regression_metrics(predictions, test.labels)
    if accelerator.is_main_process:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(args.output_dir)
        tokenizer.save_pretrained(args.output_dir)
        write_metrics(args.output_dir / "metrics.json", {
            "task": train.name, "target_names": [train.target_name], "model": str(args.model),
            "encoder": "random_init" if args.random_init else "pretrained", "method": "fine_tune",
            "train_fraction": args.train_fraction, "seed": args.seed, "n_train": len(train),
            "n_validation": len(splits["validation"]), "n_test": len(test), **metrics,
            "history": {"train_loss": history.train_loss, "validation_mse": history.validation_mse,
                        "best_epoch": history.best_epoch, "steps": history.steps},
            "settings": vars(settings),
        })
        print(f"test Pearson r {metrics['pearson']:.3f}, Spearman rho {metrics['spearman']:.3f}, "
              f"MSE {metrics['mse']:.4g} on {len(test)} examples; head saved to {args.output_dir}")
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return 0


if __name__ == "__main__":
    sys.exit(main())
