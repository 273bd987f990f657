"""Evaluate an encoder on a task: probe, compare, optionally fine-tune, write a report.

Side by side in one run: the model at --model (pretrained), the same architecture randomly
initialised, and a k-mer/length/GC baseline; linear probes (ridge for regression, per-class
logistic regression for multi-label classification such as dm3loc_localisation) at several training
fractions and seeds. Embeddings are cached on disk (--cache-dir; --no-cache to turn off), so a
second run on the same model and task only fits probes. With --fine-tune, both encoders are also
fully fine-tuned (an estimate of the time is printed first), and the pretrained head is written to
DIR/head: a publishable folder (weights, config, remote code, tokenizer, pipelines and a card with
the report's figures) that `pipeline(model=DIR/head, trust_remote_code=True)` loads without this
package and `isoclr push` uploads. Writes DIR/report.json, DIR/report.md and plots. An existing
non-empty DIR is kept unless --overwrite is given.

A task is a bundled benchmark by name or a parquet/CSV/TSV(.gz) file whose columns the --*-column
options name (see isoclr_hf.evaluation.tasks.files); a task whose test split has fewer than 20
examples is refused.

Examples:
    isoclr evaluate --model runs/isoclr-s --task te_5utr_hek293 --out reports/te_hek293
    isoclr evaluate --model runs/isoclr-s --task saluki_halflife_human --fine-tune --out reports/halflife
    isoclr evaluate --model runs/isoclr-s --task utrs.csv --sequence-column seq --target-column y --group-column gene \\
        --out reports/utrs
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..evaluation.defaults import (
    DEFAULT_FRACTIONS,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_MIN_TRAIN,
    DEFAULT_SEEDS,
    EMBEDDING_BATCH_SIZE,
    TASK_FILE_FORMATS,
    TASK_NAMES,
    default_cache_dir,
)
from ..evaluation.fine_tuning.settings import FineTuneSettings, add_fine_tuning_options, option_names

if TYPE_CHECKING:
    from ..evaluation.comparison import ComparisonSettings
    from ..evaluation.tasks.files import TaskColumns
    from ..evaluation.tasks.registry import Task

# Only light modules above: the evaluation, models and plots (numpy, pandas, torch, transformers,
# matplotlib) are imported in the functions that use them, so `isoclr evaluate --help`, a bad command line
# and an existing --out are answered at once.


def _floats(text: str) -> tuple[float, ...]:
    if text.strip().lower() in ("", "none"):
        return ()
    return tuple(float(v) for v in text.split(","))


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def _text(values: tuple[float, ...] | tuple[int, ...]) -> str:
    """A default as it is typed (argparse converts string defaults with the option's type)."""
    return ",".join(f"{v:g}" for v in values)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="Folder, released short name (isoclr-s) or Hub id of a checkpoint (a training run folder "
                             "means its final/).")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="Allow a model that is not an IsoCLR model, running the code in its folder. "
                             "IsoCLR folders always load with this package's classes.")
    parser.add_argument("--task", required=True,
                        help=f"One of {', '.join(TASK_NAMES)}, or a task file: {TASK_FILE_FORMATS}, with a "
                             "header; the mRNABench layout (sequence, cds, splice, target, gene) needs no column "
                             "options.")
    parser.add_argument("--sequence-column", default=None, metavar="NAME",
                        help="Task file: the sequence column (default: sequence).")
    parser.add_argument("--target-column", action="append", default=None, metavar="NAME[,NAME...]",
                        help="Task file: the target column(s), repeatable or comma-separated (default: target). "
                             "Several targets are evaluated one after the other, each into OUT/<target>/.")
    parser.add_argument("--group-column", default=None, metavar="NAME",
                        help="Task file: rows of one group (gene) never straddle splits (default: gene or gene_id "
                             "when present, else each row its own group, with a warning).")
    parser.add_argument("--cds-column", default=None, metavar="NAME",
                        help="Task file: the CDS, per row 'start:end' / 'start-end' / [start, end] (0-based, end "
                             "exclusive) or a 0/1 track marking each codon's first nucleotide; empty = non-coding "
                             "(default: cds when present, else every row non-coding).")
    parser.add_argument("--exon-ends-column", default=None, metavar="NAME",
                        help="Task file: exon ends per row, a list like '41,120' (0-based exclusive) or a 0/1 "
                             "splice track marking each exon's last nucleotide (default: splice or exon_ends "
                             "when present, else one exon per row).")
    parser.add_argument("--out", required=True, type=Path, help="Folder for the report, plots and head.")
    parser.add_argument("--overwrite", action="store_true",
                        help="Write into an existing --out, replacing its report, plots and head/.")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="Folder with benchmarks/ and pretraining/ (the repository's data/ when not given).")
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES,
                        help="Subsample the task to about this many examples, whole genes/UTRs at a time "
                             "(recorded in the report).")
    parser.add_argument("--full", action="store_true", help="Use every example (ignores --max-examples).")
    parser.add_argument("--fractions", type=_floats, default=_text(DEFAULT_FRACTIONS),
                        help="Comma-separated training fractions for the low-data curve.")
    parser.add_argument("--seeds", type=_ints, default=_text(DEFAULT_SEEDS),
                        help="Comma-separated seeds of the low-data draws.")
    parser.add_argument("--min-train", type=int, default=DEFAULT_MIN_TRAIN,
                        help="Fewest training examples at any fraction.")
    parser.add_argument("--fine-tune", action="store_true",
                        help="Also fine-tune both encoders (slow: an estimate of the time is printed before it "
                             "starts). Off by default; the fine-tuning options below need it.")
    parser.add_argument("--fine-tune-fractions", type=_floats, default=None,
                        help="Fractions at which both encoders are fine-tuned (default with --fine-tune: 1); 'none' "
                             "skips fine-tuning.")
    parser.add_argument("--fine-tune-seeds", type=_ints, default=None,
                        help="Split seeds of the fine-tuning runs (default: every --seeds value).")
    parser.add_argument("--batch-size", type=int, default=None,
                        help=f"Transcripts per batch, for embedding (default {EMBEDDING_BATCH_SIZE}) and for "
                             f"fine-tuning (default {FineTuneSettings.batch_size}).")
    # The seed of a fine-tuning run is its split seed; the batch size is shared with embedding (above).
    add_fine_tuning_options(parser, unset=True, skip=("seed", "batch_size"))
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help=f"Folder of the embedding cache (default {default_cache_dir()}).")
    parser.add_argument("--no-cache", action="store_true", help="Embed without reading or writing the cache.")
    parser.add_argument("--no-head", action="store_true", help="Do not save the fine-tuned head.")
    parser.add_argument("--quiet", action="store_true", help="No progress bars.")
    parser.add_argument("--contender", action="append", default=[], type=_contender, metavar="NAME=MODEL",
                        help="Another encoder probed on the same splits (e.g. previous_release=path/to/folder); "
                             "the report adds `pretrained - NAME`. Repeatable.")
    parser.add_argument("--pretraining-corpus", action="append", default=[], type=Path, metavar="CORPUS",
                        help="A corpus the encoders were pretrained on (an `isoclr build-corpus` folder); the report "
                             "adds every probe's metrics on the test examples that no such corpus read "
                             "(same sequence, end 32-mers or gene symbol). Repeatable.")


def _contender(text: str) -> tuple[str, str]:
    """``NAME=MODEL`` -> ``(NAME, MODEL)`` (argparse names the option in the error)."""
    name, separator, model = text.partition("=")
    if not separator or not name.strip() or not model.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=MODEL (e.g. previous_release=path/to/model), got {text!r}")
    return name.strip(), model.strip()

# Options that only fine-tuning uses: without --fine-tune they are an error, not silently ignored.
FINE_TUNE_OPTIONS = ("fine_tune_seeds", *(name for name in option_names() if name not in ("seed", "batch_size")))
REPORT_FILES = ("report.json", "report.md", "low_data_curve.png", "predicted_vs_measured.png", "embedding_map.png")


def check_output(out: Path, overwrite: bool) -> None:
    """Refuse a file, or an existing non-empty folder without ``overwrite``, before any work."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out}: --out is a file; name a folder for the report")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out} exists and is not empty; pass --overwrite to replace its report")


def write_head(head: Any, tokenizer: Any, folder: Path, *, report: dict[str, Any]) -> Path:
    """Write the fine-tuned head as a publishable folder; its card carries the report's figures.

    An IsoCLR head, regression or classification, gets the package's folder (remote code, pipelines and a
    card whose model-index holds the report's figures: Pearson r for regression, macro AUROC and AUPRC for
    classification). A head from other code (an Orthrus head, or a model loaded with --trust-remote-code) is
    saved as its own code saves it, without a card: the card's renderer is IsoCLR's.
    """
    from ..hub.package import prepare_model_folder
    from ..models.isoclr.modeling_isoclr import IsoCLRForSequenceClassification
    from ..models.isoclr.tokenization_isoclr import IsoCLRTokenizer

    if isinstance(head, IsoCLRForSequenceClassification) and isinstance(tokenizer, IsoCLRTokenizer):
        return prepare_model_folder(head.to("cpu"), tokenizer, folder, evaluation_report=report)
    head.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def fine_tuning_requested(args: argparse.Namespace) -> bool:
    """Fine-tuning is opt-in: ``--fine-tune`` (``--fine-tune-fractions none`` turns it off again).

    Raises:
        ValueError: A fine-tuning option (``--epochs``, ``--fine-tune-fractions 0.1,1``, ...) without
            ``--fine-tune``.
    """
    given = [name for name in FINE_TUNE_OPTIONS if getattr(args, name) is not None]
    if args.fine_tune_fractions:  # a list of fractions; None (not given) or () ('none') ask for nothing
        given.insert(0, "fine_tune_fractions")
    if given and not args.fine_tune:
        options = ", ".join("--" + name.replace("_", "-") for name in given)
        raise ValueError(f"{options} set(s) fine-tuning, which runs only with --fine-tune; add --fine-tune or drop it")
    if args.fine_tune_fractions is not None:
        return args.fine_tune and bool(args.fine_tune_fractions)
    return bool(args.fine_tune)


def settings_from_args(args: argparse.Namespace) -> ComparisonSettings:
    """The comparison settings the command line asks for."""
    from ..evaluation.comparison import ComparisonSettings
    from ..evaluation.fine_tuning.settings import settings_from_options

    fine_tune = fine_tuning_requested(args)
    return ComparisonSettings(
        fractions=args.fractions,
        seeds=args.seeds,
        min_train=args.min_train,
        fine_tune_fractions=(args.fine_tune_fractions or (1.0,)) if fine_tune else (),
        fine_tune_seeds=args.fine_tune_seeds,
        fine_tune=settings_from_options(args),
        max_examples=None if args.full else args.max_examples,
        batch_size=EMBEDDING_BATCH_SIZE if args.batch_size is None else args.batch_size,
        cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
        contenders=dict(args.contender),
        pretraining_corpora=tuple(args.pretraining_corpus),
    )


def columns_from_args(args: argparse.Namespace) -> TaskColumns | None:
    """The task-file columns the command line names (``None`` when no column option is given)."""
    from ..evaluation.tasks.files import TaskColumns

    options = (args.sequence_column, args.target_column, args.group_column, args.cds_column, args.exon_ends_column)
    if all(option is None for option in options):
        return None
    targets = tuple(name.strip() for value in args.target_column or ["target"] for name in value.split(",")
                    if name.strip())
    return TaskColumns(sequence=args.sequence_column or "sequence", targets=targets, group=args.group_column,
                       cds=args.cds_column, exon_ends=args.exon_ends_column)


def check_test_splits(task: Task, settings: ComparisonSettings) -> None:
    """Refuse, before any work, a task with fewer than MIN_TEST_EXAMPLES test examples on any split seed."""
    from ..evaluation.tasks.splits import MIN_TEST_EXAMPLES, evaluation_splits

    seeds = tuple(settings.seeds)
    tune_seeds = getattr(settings, "fine_tune_seeds", None)
    if settings.fine_tune_fractions and tune_seeds:
        seeds = seeds + tuple(tune_seeds)
    evaluation_splits(task, seeds=seeds, max_examples=settings.max_examples,
                      subsample_seed=settings.split_seed, min_test=MIN_TEST_EXAMPLES)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out: Path = args.out
    check_output(out, args.overwrite)
    fine_tuning_requested(args)  # a fine-tuning option without --fine-tune, before the heavy imports
    from ..evaluation.comparison import check_contenders
    from ..evaluation.tasks.registry import load_tasks
    from ..loading import load_encoder, resolve_model_path

    settings = settings_from_args(args)
    model_path = resolve_model_path(args.model, announce=print)
    # A local folder as the model (a run's final/); a Hub id as given, not its cache folder.
    model_name = str(model_path) if Path(args.model).expanduser().exists() else str(args.model)
    tasks = load_tasks(args.task, data_dir=args.data_dir, columns=columns_from_args(args),
                       announce=lambda text: print(f"warning: {text}", file=sys.stderr))
    # The model is checked first (its errors name the folder), then every task's split is checked
    # (>= MIN_TEST_EXAMPLES test examples) before any embedding or training.
    load_encoder(model_path, trust_remote_code=args.trust_remote_code)
    check_contenders(settings.contenders)
    if len(settings.contenders) != len(args.contender):
        raise ValueError("--contender: each NAME may be given once")
    for path in settings.contenders.values():
        load_encoder(resolve_model_path(path), trust_remote_code=args.trust_remote_code)
    for corpus in settings.pretraining_corpora:
        if not (corpus / "dataset_dict.json").is_file():
            raise FileNotFoundError(f"--pretraining-corpus {corpus}: not a corpus folder written by "
                                    "`isoclr build-corpus` (no dataset_dict.json)")
    for task in tasks:
        check_test_splits(task, settings)
    for task in tasks:
        folder = out if len(tasks) == 1 else out / task.target_name
        if len(tasks) > 1:
            print(f"\nTarget {task.target_name} ({task.name}) -> {folder}")
        evaluate_task(task, folder, args, settings, model_path, model_name, started)
    return 0


def evaluate_task(task: Task, out: Path, args: argparse.Namespace, settings: ComparisonSettings,
                  model_path: Path, model_name: str, started: float) -> None:
    """Compare, plot and write one task's report (and head) into ``out``."""
    from ..evaluation.comparison import run_comparison
    from ..evaluation.probes.runs import is_classification
    from ..evaluation.reports.plots import plot_embedding_map, plot_low_data_curve, plot_predicted_vs_measured
    from ..evaluation.reports.writing import report_dict, write_json, write_markdown

    outcome = run_comparison(task, model_path, settings=settings, progress=not args.quiet,
                             trust_remote_code=args.trust_remote_code, announce=print)
    out.mkdir(parents=True, exist_ok=True)
    task = outcome.task
    classification = is_classification(task)
    test = outcome.split["test"]
    plots = ["low_data_curve.png", "embedding_map.png"]
    plot_low_data_curve(outcome.results, out / plots[0])
    if not classification:
        plots.insert(1, "predicted_vs_measured.png")
        plot_predicted_vs_measured(outcome.test_predictions, task.labels[test], out / plots[1])
    categories = task.categories
    colour = categories if categories is not None and len(set(categories)) > 1 else task.labels
    plot_embedding_map(outcome.embeddings["pretrained"], colour, out / plots[-1],
                       title=f"{task.name}: pretrained embeddings (PCA)")
    notes = list(task.notes)
    if outcome.floored_fractions:
        notes.append(f"Fractions {', '.join(f'{f:g}' for f in outcome.floored_fractions)} would leave fewer than "
                     f"{settings.min_train} training examples; those runs use {settings.min_train}.")
    if classification:
        notes.append("Linear probe and k-mer baseline: one L2 logistic regression per class on standardised features, "
                     "C chosen per class on the validation AUROC from 1e-4, 1e-3, 0.01, 0.1, 1 "
                     f"({len(outcome.split['validation'])} validation examples).")
    else:
        notes.append(f"Linear probe and k-mer baseline: ridge on standardised features, penalty chosen on the "
                     f"validation split ({len(outcome.split['validation'])} examples).")
    if settings.fine_tune_fractions:
        tune = settings.fine_tune
        rates = ", ".join(f"{rate:g}" for rate in tune.rates)
        chosen_on = "macro AUROC, binary cross-entropy loss" if classification else "MSE"
        notes.append(f"Fine-tuning: {tune.epochs} epochs, batch {tune.batch_size}, Adam, encoder lr chosen on "
                     f"validation {chosen_on} from {rates} (no weight decay), head lr {tune.head_learning_rate:g}, "
                     f"decay {tune.lr_decay:g}/epoch, head zero-initialised, best validation epoch kept.")
    else:
        notes.append("No fine-tuning (opt-in: --fine-tune).")
    extra = {
        "settings": {"max_examples": settings.max_examples, "fractions": list(settings.fractions),
                     "seeds": list(settings.seeds), "min_train": settings.min_train,
                     "fine_tune_fractions": list(settings.fine_tune_fractions),
                     "fine_tune_seeds": list(settings.fine_tune_seeds or settings.seeds),
                     "fine_tune": vars(settings.fine_tune)},
        "splits": {name: len(indices) for name, indices in outcome.split.items()},
        "notes": notes,
        "timings": {**outcome.timings, "total_s": time.perf_counter() - started},
    }
    report = report_dict(task_name=task.name, target_name=task.target_name, dataset_name=task.dataset_name,
                         source=task.source, model=model_name, results=outcome.results, extra=extra,
                         task_type=task.task_type, target_names=getattr(task, "label_names", None))
    write_json(report, out / "report.json")
    table = write_markdown(report, out / "report.md", plots=plots, notes=notes)
    head_dir = out / "head"
    if (head_dir / "config.json").is_file():  # an earlier run's head (allowed by --overwrite): not this report's
        shutil.rmtree(head_dir)
    if outcome.head is not None and not args.no_head:
        write_head(outcome.head, outcome.tokenizer, head_dir, report=report)
    print(table)
    print(f"\nWrote {out / 'report.md'}, {out / 'report.json'} and plots"
          f"{' and the head in ' + str(out / 'head') if outcome.head is not None and not args.no_head else ''} "
          f"({time.perf_counter() - started:.0f} s).")
