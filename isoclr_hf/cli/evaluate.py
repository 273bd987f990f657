"""Evaluate an encoder on a regression task: probe, fine-tune, compare, write a report.

Side by side in one run: the model at --model (pretrained), the same architecture randomly
initialised, and a ridge on k-mer/length/GC features; linear probes at several training fractions
and seeds, full fine-tuning of both encoders. Writes DIR/report.json, DIR/report.md, plots and the
fine-tuned head (DIR/head, an IsoCLRForSequenceClassification checkpoint).

Example:
    isoclr evaluate --model runs/isoclr-s --task te_5utr_hek293 --out reports/te_hek293
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from transformers.utils import logging as transformers_logging

from ..evaluation.comparison import ComparisonSettings, run_comparison
from ..evaluation.fine_tuning import FineTuneSettings, load_tokenizer
from ..evaluation.low_data import DEFAULT_FRACTIONS, DEFAULT_MIN_TRAIN, DEFAULT_SEEDS
from ..evaluation.report import (
    plot_embedding_map,
    plot_low_data_curve,
    plot_predicted_vs_measured,
    report_dict,
    write_json,
    write_markdown,
)
from ..evaluation.tasks import load_task, task_names


def _floats(text: str) -> tuple[float, ...]:
    if text.strip().lower() in ("", "none"):
        return ()
    return tuple(float(v) for v in text.split(","))


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="Folder or Hub id of an IsoCLR checkpoint.")
    parser.add_argument("--task", required=True,
                        help=f"One of {', '.join(task_names())}, or an mRNABench-layout .parquet file "
                             "(columns sequence, cds, splice, target, gene).")
    parser.add_argument("--out", required=True, type=Path, help="Folder for the report, plots and head.")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="Folder with benchmarks/ and pretraining/ (default: the repository's data/).")
    parser.add_argument("--max-examples", type=int, default=2000,
                        help="Subsample the task to about this many examples, whole genes/UTRs at a time "
                             "(default 2000; recorded in the report).")
    parser.add_argument("--full", action="store_true", help="Use every example (ignores --max-examples).")
    parser.add_argument("--fractions", type=_floats, default=DEFAULT_FRACTIONS,
                        help="Training fractions for the low-data curve (default 0.005,0.01,0.1,1).")
    parser.add_argument("--seeds", type=_ints, default=DEFAULT_SEEDS, help="Seeds of the low-data draws.")
    parser.add_argument("--min-train", type=int, default=DEFAULT_MIN_TRAIN,
                        help="Fewest training examples at any fraction (default 10).")
    parser.add_argument("--fine-tune-fractions", type=_floats, default=(1.0,),
                        help="Fractions at which both encoders are fine-tuned; 'none' skips fine-tuning.")
    parser.add_argument("--fine-tune-seeds", type=_ints, default=(0,), help="Seeds of the fine-tuning runs.")
    parser.add_argument("--epochs", type=int, default=3, help="Fine-tuning epochs (default 3).")
    parser.add_argument("--max-steps", type=int, default=None, help="Cap on fine-tuning steps per run.")
    parser.add_argument("--batch-size", type=int, default=32, help="Fine-tuning batch size.")
    parser.add_argument("--learning-rate", type=float, default=FineTuneSettings.learning_rate,
                        help="Encoder learning rate for fine-tuning (default 1e-3; the paper used 0.01).")
    parser.add_argument("--head-learning-rate", type=float, default=FineTuneSettings.head_learning_rate,
                        help="Head learning rate for fine-tuning (default 0.01, the paper's).")
    parser.add_argument("--lr-decay", type=float, default=FineTuneSettings.lr_decay,
                        help="Exponential learning-rate decay per epoch (default 0.95, the paper's).")
    parser.add_argument("--no-head", action="store_true", help="Do not save the fine-tuned head.")
    parser.add_argument("--quiet", action="store_true", help="No progress bars.")


def settings_from_args(args: argparse.Namespace) -> ComparisonSettings:
    """The comparison settings the command line asks for."""
    return ComparisonSettings(
        fractions=args.fractions,
        seeds=args.seeds,
        min_train=args.min_train,
        fine_tune_fractions=args.fine_tune_fractions,
        fine_tune_seeds=args.fine_tune_seeds,
        fine_tune=FineTuneSettings(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                                   head_learning_rate=args.head_learning_rate, lr_decay=args.lr_decay,
                                   max_steps=args.max_steps),
        max_examples=None if args.full else args.max_examples,
    )


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    settings = settings_from_args(args)
    if args.quiet:
        transformers_logging.disable_progress_bar()
    try:
        task = load_task(args.task, data_dir=args.data_dir)
        outcome = run_comparison(task, args.model, settings=settings, progress=not args.quiet)
    except (ValueError, FileNotFoundError) as error:
        print(f"isoclr evaluate: error: {error}", file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    task = outcome.task
    test = outcome.split["test"]
    plots = ["low_data_curve.png", "predicted_vs_measured.png", "embedding_map.png"]
    plot_low_data_curve(outcome.results, out / plots[0])
    plot_predicted_vs_measured(outcome.test_predictions, task.labels[test], out / plots[1])
    categories = task.categories
    colour = categories if categories is not None and len(set(categories)) > 1 else task.labels
    plot_embedding_map(outcome.embeddings["pretrained"], colour, out / plots[2],
                       title=f"{task.name}: pretrained embeddings (PCA)")
    notes = list(task.notes)
    if outcome.floored_fractions:
        notes.append(f"Fractions {', '.join(f'{f:g}' for f in outcome.floored_fractions)} would leave fewer than "
                     f"{settings.min_train} training examples; those runs use {settings.min_train}.")
    notes.append(f"Linear probe and k-mer baseline: ridge on standardised features, penalty chosen on the "
                 f"validation split ({len(outcome.split['validation'])} examples).")
    if settings.fine_tune_fractions:
        tune = settings.fine_tune
        notes.append(f"Fine-tuning: {tune.epochs} epochs, batch {tune.batch_size}, Adam, encoder lr "
                     f"{tune.learning_rate:g} (no weight decay), head lr {tune.head_learning_rate:g}, decay "
                     f"{tune.lr_decay:g}/epoch, head zero-initialised, best validation epoch kept.")
    extra = {
        "settings": {"max_examples": settings.max_examples, "fractions": list(settings.fractions),
                     "seeds": list(settings.seeds), "min_train": settings.min_train,
                     "fine_tune_fractions": list(settings.fine_tune_fractions),
                     "fine_tune_seeds": list(settings.fine_tune_seeds), "fine_tune": vars(settings.fine_tune)},
        "splits": {name: len(indices) for name, indices in outcome.split.items()},
        "notes": notes,
        "timings": {**outcome.timings, "total_s": time.perf_counter() - started},
    }
    report = report_dict(task_name=task.name, target_name=task.target_name, dataset_name=task.dataset_name,
                         source=task.source, model=str(args.model), results=outcome.results, extra=extra)
    write_json(report, out / "report.json")
    table = write_markdown(report, out / "report.md", plots=plots, notes=notes)
    if outcome.head is not None and not args.no_head:
        outcome.head.save_pretrained(out / "head")
        load_tokenizer(args.model).save_pretrained(out / "head")
    print(table)
    print(f"\nWrote {out / 'report.md'}, {out / 'report.json'} and plots"
          f"{' and the head in ' + str(out / 'head') if outcome.head is not None and not args.no_head else ''} "
          f"({time.perf_counter() - started:.0f} s).")
    return 0
