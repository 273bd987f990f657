"""What ``training/finetune.py`` runs: its options (a dataclass read by ``HfArgumentParser``) and the run.

Task -> grouped split -> a regression head fine-tuned with :func:`isoclr_hf.training.fine_tuning.fine_tune`,
saved with its ``metrics.json``. Every option is a field of :class:`FineTuningArguments`, given on the
command line as ``--name value`` (``--output-dir`` and ``--output_dir`` both work).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import set_seed
from transformers import HfArgumentParser

from ..evaluation.low_data import training_subsets
from ..evaluation.metrics import regression_metrics
from ..evaluation.regression_task import RegressionTask
from ..evaluation.splits import subsample_groups, task_split
from ..evaluation.tasks import load_task
from .checkpoints import write_json_atomically
from .fine_tuning import (
    DEFAULT_LEARNING_RATES,
    FineTuneSettings,
    build_regression_model,
    fine_tune,
    load_tokenizer,
    predict_records,
)

_DEFAULTS = FineTuneSettings()


@dataclass
class FineTuningArguments:
    """Options of ``training/finetune.py``."""

    model: str = field(metadata={"help": "Folder or Hub id of an IsoCLR checkpoint."})
    task: str = field(metadata={"help": "A task name (see `isoclr evaluate --help`) or a parquet/CSV/TSV task file."})
    output_dir: Path = field(metadata={"help": "Where the head and metrics go."})
    data_dir: Path | None = field(default=None, metadata={"help": "Folder with benchmarks/ (None: the bundled data/)."})
    max_examples: int | None = field(default=None, metadata={"help": "Subsample the task (whole groups)."})
    train_fraction: float = field(default=1.0, metadata={"help": "Fraction of the training split."})
    min_train: int = field(default=10, metadata={"help": "Fewest training examples at any fraction."})
    random_init: bool = field(
        default=False, metadata={"help": "Start from the same architecture randomly initialised (the control)."}
    )
    trust_remote_code: bool = field(default=False, metadata={
        "help": "Allow a --model that is not an IsoCLR checkpoint and run the Python code it ships (off by default: "
                "IsoCLR checkpoints load with the installed isoclr_hf code)."})  # fmt: skip
    epochs: int = _DEFAULTS.epochs
    batch_size: int = field(default=_DEFAULTS.batch_size, metadata={"help": "Per process."})
    learning_rate: float | None = field(
        default=None, metadata={"help": "One encoder learning rate (no grid; the paper used 0.01)."}
    )
    learning_rates: str = field(
        default=",".join(f"{rate:g}" for rate in DEFAULT_LEARNING_RATES),
        metadata={"help": "Comma-separated encoder learning rates; the best on validation is kept."},
    )
    head_learning_rate: float = _DEFAULTS.head_learning_rate
    lr_decay: float = field(default=_DEFAULTS.lr_decay, metadata={"help": "Per-epoch decay (paper 0.95)."})
    head_weight_decay: float = _DEFAULTS.head_weight_decay
    max_steps: int | None = field(default=None, metadata={"help": "Stop after this many steps."})
    seed: int = 0
    split_seed: int = field(default=0, metadata={"help": "Seed of the grouped split and subsampling."})
    mixed_precision: str = field(default="no", metadata={"choices": ["no", "bf16", "fp16"]})
    cpu: bool = field(default=False, metadata={"help": "Run on the CPU even when a GPU is present."})
    quiet: bool = field(default=False, metadata={"help": "No progress bars."})

    @property
    def learning_rate_grid(self) -> tuple[float, ...]:
        """``learning_rates`` as numbers."""
        try:
            return tuple(float(value) for value in self.learning_rates.split(",") if value.strip())
        except ValueError:
            raise ValueError(f"--learning-rates must be comma-separated numbers, got {self.learning_rates!r}") from None


def parse_fine_tuning_args(argv: Sequence[str] | None = None) -> FineTuningArguments:
    """Read :class:`FineTuningArguments` from the command line (``argv``; default ``sys.argv[1:]``)."""
    parser = HfArgumentParser(FineTuningArguments, description="Fine-tune an IsoCLR encoder into a regression head.")
    (arguments,) = parser.parse_args_into_dataclasses(args=list(argv) if argv is not None else None)
    arguments.learning_rate_grid  # noqa: B018  (refuse malformed rates before any work)
    return arguments


def prepare_splits(task: RegressionTask, args: FineTuningArguments) -> dict[str, RegressionTask]:
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


def run_fine_tuning(args: FineTuningArguments) -> dict[str, object]:
    """Task -> grouped split -> fine-tuned head saved in ``args.output_dir`` with ``metrics.json``.

    Args:
        args: The options (:class:`FineTuningArguments`).

    Returns:
        The test metrics (Pearson, Spearman, MSE, ...), as written to ``metrics.json``.
    """
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
        epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate if args.learning_rate is not None else FineTuneSettings.learning_rate,
        learning_rates=(args.learning_rate,) if args.learning_rate is not None else args.learning_rate_grid,
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
        write_json_atomically(args.output_dir / "metrics.json", {
            "task": train.name, "target_names": [train.target_name], "model": str(args.model),
            "encoder": "random_init" if args.random_init else "pretrained", "method": "fine_tune",
            "train_fraction": args.train_fraction, "seed": args.seed, "n_train": len(train),
            "n_validation": len(splits["validation"]), "n_test": len(test), **metrics,
            "history": {"train_loss": history.train_loss, "validation_mse": history.validation_mse,
                        "best_epoch": history.best_epoch, "steps": history.steps,
                        "learning_rate": history.learning_rate,
                        "grid_validation_mse": {f"{k:g}": v for k, v in history.grid_validation_mse.items()},
                        "best_validation_mse": history.best_validation_mse,
                        "mean_baseline_mse": history.mean_baseline_mse,
                        "worse_than_mean": history.worse_than_mean},
            "settings": vars(settings),
        })
        if history.worse_than_mean:
            print(f"Warning: the best validation MSE {history.best_validation_mse:.4g} is not below predicting "
                  f"the training mean ({history.mean_baseline_mse:.4g}): fine-tuning learnt nothing usable.")
        print(f"test Pearson r {metrics['pearson']:.3f}, Spearman rho {metrics['spearman']:.3f}, "
              f"MSE {metrics['mse']:.4g} on {len(test)} examples; head saved to {args.output_dir}")
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return metrics


__all__ = ["FineTuningArguments", "parse_fine_tuning_args", "prepare_splits", "run_fine_tuning"]
