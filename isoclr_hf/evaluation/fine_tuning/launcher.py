"""What ``training/finetune.py`` runs: its options (a dataclass read by ``HfArgumentParser``) and the run.

Task -> grouped split -> a regression head fine-tuned with :func:`isoclr_hf.evaluation.fine_tuning.engine.fine_tune`,
saved with its ``metrics.json``. Every option is a field of :class:`FineTuningArguments`, given on the
command line as ``--name value`` (``--output-dir`` and ``--output_dir`` both work).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import set_seed
from transformers import HfArgumentParser

from ...atomic_files import write_json_atomically
from ...loading import load_tokenizer
from ..low_data import training_subsets
from ..metrics import regression_metrics
from ..tasks.registry import load_task
from ..tasks.regression import RegressionTask
from ..tasks.splits import subsample_groups, task_split
from .engine import fine_tune, predict_records
from .heads import build_regression_model
from .settings import FineTuneSettings, add_fine_tuning_options, settings_from_options


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
    seed: int = field(default=0, metadata={"help": "Seed of the initialisation, the shuffling and the fraction draw."})
    split_seed: int = field(default=0, metadata={"help": "Seed of the grouped split and subsampling."})
    mixed_precision: str = field(default="no", metadata={"choices": ["no", "bf16", "fp16"]})
    cpu: bool = field(default=False, metadata={"help": "Run on the CPU even when a GPU is present."})
    quiet: bool = field(default=False, metadata={"help": "No progress bars."})
    # The hyperparameters: their options come from FineTuneSettings's fields (see parse_fine_tuning_args).
    settings: FineTuneSettings = field(default_factory=FineTuneSettings, init=False)


def parse_fine_tuning_args(argv: Sequence[str] | None = None) -> FineTuningArguments:
    """Read :class:`FineTuningArguments` and its :class:`FineTuneSettings` from the command line
    (``argv``; default ``sys.argv[1:]``)."""
    parser = HfArgumentParser(FineTuningArguments, description="Fine-tune an encoder into a regression head.")
    add_fine_tuning_options(parser.add_argument_group("fine-tuning hyperparameters"), skip=("seed",))  # type: ignore[arg-type]
    namespace = parser.parse_args(args=list(argv) if argv is not None else None)
    own = {f.name for f in dataclasses.fields(FineTuningArguments) if f.init and f.name != "settings"}
    values = vars(namespace)
    arguments = FineTuningArguments(**{name: values[name] for name in own})
    try:
        arguments.settings = settings_from_options(values, seed=arguments.seed)
    except ValueError as error:
        parser.error(str(error))
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
    settings = args.settings
    model, history = fine_tune(model, tokenizer, train.records, train.labels, splits["validation"].records,
                               splits["validation"].labels, settings=settings, accelerator=accelerator,
                               progress=not args.quiet)
    test = splits["test"]
    predictions = predict_records(model, tokenizer, test.records, batch_size=2 * settings.batch_size)
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
            "history": history.as_dict(),
            "settings": dataclasses.asdict(settings),
        })
        if history.worse_than_mean:
            print(f"Warning: the best validation MSE {history.best_validation:.4g} is not below predicting "
                  f"the training mean ({history.mean_baseline_mse:.4g}): fine-tuning learnt nothing usable.")
        print(f"test Pearson r {metrics['pearson']:.3f}, Spearman rho {metrics['spearman']:.3f}, "
              f"MSE {metrics['mse']:.4g} on {len(test)} examples; head saved to {args.output_dir}")
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return metrics


__all__ = ["FineTuningArguments", "parse_fine_tuning_args", "prepare_splits", "run_fine_tuning"]
