"""The side-by-side comparison behind ``isoclr evaluate``.

In one run, on the same splits of one task: the encoder under test (``pretrained``), the same
architecture freshly initialised with a fixed seed (``random_init``), and a k-mer, length and GC
baseline (``kmer_baseline``: a ridge for regression, per-class logistic regression for
multi-label classification). Both encoders are linear-probed at every training fraction and seed
(ridge, or per-class logistic regression) and, when asked (fine-tuning is opt-in), fully
fine-tuned at the chosen fractions and seeds; the baseline is fitted at every fraction and seed.
Embeddings are computed once per encoder and task, and cached on disk when ``cache_dir`` is set.

A seed is a split seed: each seed draws its own grouped train/validation/test split (genes or
homology groups never straddle two splits), and the training subsets of the low-data curve are
drawn from that split with the same seed. All contenders see the same split and subset on a seed,
so their differences are paired (:mod:`isoclr_hf.evaluation.reports.statistics`). A task with its own split
(Saluki's gene folds) uses that split for the first seed and grouped random splits of the same
genes for the others, so the paper's split is one of the repeats.

Every result row carries, besides the report contract's keys, ``split_seed``, ``n_train_split``
(the whole training split of that seed), ``n_validation`` and the task type's validation checks
(:mod:`isoclr_hf.evaluation.probes.runs`: ``validation_mse``, ``mean_baseline_mse`` and
``worse_than_mean`` for regression; ``validation_auroc_macro`` and ``worse_than_chance`` for
classification); fine-tuning rows also ``learning_rate`` and ``best_epoch``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from transformers import PreTrainedTokenizerBase

from ..loading import load_encoder, load_tokenizer, resolve_model_path
from ..models.isoclr.modeling_isoclr import IsoCLRModel
from .defaults import DEFAULT_MAX_EXAMPLES, EMBEDDING_BATCH_SIZE
from .embedding_cache import cached_embeddings
from .fine_tuning.runs import estimate_fine_tuning, fine_tune_run, fine_tuning_runs
from .fine_tuning.settings import FineTuneSettings
from .low_data import DEFAULT_FRACTIONS, DEFAULT_MIN_TRAIN, DEFAULT_SEEDS, training_subsets
from .probes.features import sequence_features
from .probes.runs import Task, run_probe
from .reports.statistics import STANDARD_ENCODERS
from .tasks.splits import evaluation_splits


@dataclass
class ComparisonSettings:
    """What ``isoclr evaluate`` runs.

    Attributes:
        fractions: Training fractions of the low-data curve (probes and baseline).
        seeds: Split seeds; each gives a grouped split and the low-data draws on it (at least 5 for
            the paired statistics to mean anything).
        min_train: Fewest training examples at any fraction.
        fine_tune_fractions: Fractions at which both encoders are fine-tuned (empty, the default: no
            fine-tuning; it is opt-in, ``isoclr evaluate --fine-tune``).
        fine_tune_seeds: Split seeds of the fine-tuning runs (``None``: all of ``seeds``).
        fine_tune: Fine-tuning hyperparameters.
        max_examples: Subsample the task to about this many examples, whole groups at a time
            (``None``: all).
        batch_size: Batch size for embedding.
        split_seed: Seed of the subsampling (``max_examples``).
        init_seed: Seed of the random-initialisation control.
        cache_dir: Folder of the embedding cache (:mod:`isoclr_hf.evaluation.embedding_cache`);
            ``None``: no cache.
        contenders: Other encoders probed on the same splits and subsets, name -> model folder (e.g.
            ``{"previous_release": "path/to/isoclr-s-v1"}``); each gets the paired comparison
            ``pretrained - <name>``.
        pretraining_corpora: Corpora (``isoclr build-corpus`` folders) the encoders were pretrained on;
            every probe row then also carries ``pretraining_free``: its metrics on the test examples none of
            them read (:func:`isoclr_hf.evaluation.overlap.seen_in_pretraining`).
    """

    fractions: tuple[float, ...] = DEFAULT_FRACTIONS
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    min_train: int = DEFAULT_MIN_TRAIN
    fine_tune_fractions: tuple[float, ...] = ()
    fine_tune_seeds: tuple[int, ...] | None = None
    fine_tune: FineTuneSettings = field(default_factory=FineTuneSettings)
    max_examples: int | None = DEFAULT_MAX_EXAMPLES
    batch_size: int = EMBEDDING_BATCH_SIZE
    split_seed: int = 0
    init_seed: int = 0
    cache_dir: Path | None = None
    contenders: dict[str, Path] = field(default_factory=dict)
    pretraining_corpora: tuple[Path, ...] = ()


@dataclass
class ComparisonOutcome:
    """Everything the report needs.

    Attributes:
        task: The (possibly subsampled) task that was evaluated.
        split: Indices of train/validation/test into ``task`` of the first seed.
        results: One dict per run, with the keys of the report contract (and those in the module docstring).
        test_predictions: ``"encoder/method"`` -> predictions on the test split of the full-data run
            (first seed, so on ``split["test"]``).
        embeddings: ``"pretrained"``/``"random_init"`` -> embeddings of all examples. Shape: (n, hidden).
        head: The pretrained encoder fine-tuned on the full training split (first seed), or ``None``.
        floored_fractions: Fractions whose subsets were raised to ``min_train`` examples.
        timings: Seconds spent per stage.
        tokenizer: The model's tokenizer (saved with the head).
        splits: Split seed -> indices of train/validation/test into ``task``.
        merged_fractions: Requested fraction -> the fraction it was merged into (same n).
        pretraining_free: Per example of ``task``, whether no pretraining corpus read it (``None``
            without ``pretraining_corpora``).
    """

    task: Task
    split: dict[str, np.ndarray]
    results: list[dict[str, object]]
    test_predictions: dict[str, np.ndarray]
    embeddings: dict[str, np.ndarray]
    head: torch.nn.Module | None
    floored_fractions: list[float]
    timings: dict[str, float]
    tokenizer: PreTrainedTokenizerBase | None = None
    splits: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    merged_fractions: dict[float, float] = field(default_factory=dict)
    pretraining_free: np.ndarray | None = None


RESERVED_ENCODERS = STANDARD_ENCODERS  # the names a contender may not take


def check_contenders(contenders: dict[str, Path]) -> None:
    """Raise ``ValueError`` for a contender name that is reserved or not a plain identifier."""
    for name in contenders:
        if name in RESERVED_ENCODERS or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"contender name {name!r}: use letters, digits, '_' or '-', and none of "
                             f"{', '.join(RESERVED_ENCODERS)}")


def _encoders(model_path: str | Path, init_seed: int, *, trust_remote_code: bool = False) -> dict[str, IsoCLRModel]:
    """The encoder under test (loaded strictly) and the same architecture freshly initialised."""
    pretrained = load_encoder(model_path, trust_remote_code=trust_remote_code)
    torch.manual_seed(init_seed)
    return {"pretrained": pretrained, "random_init": type(pretrained)(pretrained.config)}


def run_comparison(
    task: Task,
    model_path: str | Path,
    *,
    settings: ComparisonSettings | None = None,
    accelerator: Accelerator | None = None,
    progress: bool = True,
    trust_remote_code: bool = False,
    announce: Callable[[str], object] | None = None,
) -> ComparisonOutcome:
    """Probe, fine-tune (when asked) and compare on one task; see the module docstring.

    ``announce`` gets the fine-tuning time estimate before fine-tuning starts (and the time taken against it
    after), and the cache hits
    (default: ``print`` for the estimate, nothing for cache hits).

    ``model_path`` is loaded strictly (see :mod:`isoclr_hf.loading`): IsoCLR folders with
    this package's classes; other model types only with ``trust_remote_code=True``.

    Raises:
        ModelLoadingError: naming the folder or file, for a model that cannot be loaded as it is.
    """
    settings = settings or ComparisonSettings()
    check_contenders(settings.contenders)
    model_path = resolve_model_path(model_path)
    contender_paths = {name: resolve_model_path(path) for name, path in settings.contenders.items()}
    # Load (and so check) the model before any work on the task.
    tokenizer = load_tokenizer(model_path, trust_remote_code=trust_remote_code)
    encoders = _encoders(model_path, settings.init_seed, trust_remote_code=trust_remote_code)
    contenders = {name: (load_encoder(path, trust_remote_code=trust_remote_code),
                         load_tokenizer(path, trust_remote_code=trust_remote_code), path)
                  for name, path in contender_paths.items()}
    timings: dict[str, float] = {}
    seeds = tuple(settings.seeds)
    if not seeds:
        raise ValueError("Give at least one seed.")
    tune_seeds = seeds if settings.fine_tune_seeds is None else tuple(settings.fine_tune_seeds)
    full_size = len(task)
    # The same subsampling and splits as the CLI's up-front check (splits.evaluation_splits).
    task, splits = evaluation_splits(task, seeds=seeds + tune_seeds, max_examples=settings.max_examples,
                                     subsample_seed=settings.split_seed, min_test=0)
    task = replace(task, notes=list(task.notes))  # notes added below stay with this run
    if len(task) < full_size:
        task.notes.append(f"Subsampled to {len(task)} examples (whole groups; --max-examples "
                          f"{settings.max_examples}; --full uses all).")
    if task.predefined_split is not None and len(splits) > 1:
        task.notes.append(f"Seed {seeds[0]} uses the task's own split; seeds "
                          f"{', '.join(str(s) for s in list(splits)[1:])} use grouped random 80/10/10 splits "
                          "of the same groups.")
    else:
        task.notes.append(f"{len(splits)} grouped 80/10/10 splits (seeds {', '.join(str(s) for s in splits)}); "
                          "all encoders and methods share the split and training subset of each seed.")

    start = time.perf_counter()
    features = {"kmer_baseline": sequence_features(task.records)}
    embeddings: dict[str, np.ndarray] = {}
    # (encoder, its tokenizer, the folder its weights come from, its cache role) per name
    embedded = {name: (encoder, tokenizer, model_path, name) for name, encoder in encoders.items()}
    embedded.update({name: (encoder, own_tokenizer, path, "pretrained")
                     for name, (encoder, own_tokenizer, path) in contenders.items()})
    for name, (encoder, encoder_tokenizer, path, role) in embedded.items():
        embeddings[name] = cached_embeddings(encoder, encoder_tokenizer, task.records, model_path=path, role=role,
                                             task_name=task.name, init_seed=settings.init_seed,
                                             cache_dir=settings.cache_dir, batch_size=settings.batch_size,
                                             progress=progress, announce=announce)
        features[name] = embeddings[name]
    timings["features_s"] = time.perf_counter() - start
    free = None
    if settings.pretraining_corpora:
        from .overlap import seen_in_pretraining

        start = time.perf_counter()
        free = ~seen_in_pretraining(task.records, settings.pretraining_corpora)
        timings["pretraining_overlap_s"] = time.perf_counter() - start
        task.notes.append(
            f"Pretraining-free test: the test examples that no pretraining corpus read ({int(free.sum()):,} of "
            f"{len(free):,} examples are free: not the same sequence, not contained by their end 32-mers, not the "
            "same gene symbol; corpora: " + ", ".join(str(c) for c in settings.pretraining_corpora) + ").")

    start = time.perf_counter()
    results: list[dict[str, object]] = []
    test_predictions: dict[str, np.ndarray] = {}
    floored: set[float] = set()
    merged: dict[float, float] = {}
    for seed in seeds:
        split = splits[seed]
        for subset in training_subsets(len(split["train"]), fractions=settings.fractions, seeds=(seed,),
                                       min_train=settings.min_train):
            if subset.floored:
                floored.add(subset.fraction)
            merged.update({f: subset.fraction for f in subset.merged_fractions})
            chosen = split["train"][subset.indices]
            for name, matrix in features.items():
                row, predictions = run_probe(task, name, matrix, chosen=chosen, split=split,
                                             fraction=subset.fraction, seed=seed, free=free)
                results.append(row)
                if subset.fraction == max(settings.fractions) and seed == seeds[0]:
                    test_predictions[f"{name}/{row['method']}"] = predictions
    if merged:
        task.notes.append("Training fractions giving the same number of examples were merged into the largest: "
                          + ", ".join(f"{f:g} -> {to:g}" for f, to in sorted(merged.items())) + ".")
    timings["probes_s"] = time.perf_counter() - start

    start = time.perf_counter()
    head = None
    runs = (fine_tuning_runs(task, splits, tune_seeds, settings.fine_tune_fractions, settings.min_train)
            if settings.fine_tune_fractions else [])
    if runs:  # the estimate first: a user can stop a run that would take hours
        estimate = estimate_fine_tuning(task, model_path, tokenizer, runs, settings.fine_tune,
                                        test_batch_size=settings.batch_size, init_seed=settings.init_seed,
                                        trust_remote_code=trust_remote_code)
        (announce or print)(estimate.message())
        task.notes.append(estimate.message())
    for seed, subset, split in runs:
        chosen = split["train"][subset.indices]
        for name in ("pretrained", "random_init"):
            row, predictions, model = fine_tune_run(
                task, name, model_path, tokenizer, chosen=chosen, split=split, fraction=subset.fraction, seed=seed,
                settings=settings.fine_tune, init_seed=settings.init_seed, batch_size=settings.batch_size,
                accelerator=accelerator, progress=progress, trust_remote_code=trust_remote_code)
            results.append(row)
            if subset.fraction == max(settings.fine_tune_fractions) and seed == tune_seeds[0]:
                if seed == seeds[0]:
                    test_predictions[f"{name}/fine_tune"] = predictions
                if name == "pretrained":
                    head = model
    timings["fine_tuning_s"] = time.perf_counter() - start
    if runs:  # the estimate against the actual time, so a user learns how far to trust the next estimate
        (announce or print)(estimate.against(timings["fine_tuning_s"]))
        task.notes.append(estimate.against(timings["fine_tuning_s"]))
        timings["fine_tuning_estimate_s"] = estimate.seconds
    split = splits[seeds[0]]
    return ComparisonOutcome(task, split, results, test_predictions, embeddings, head, sorted(floored), timings,
                             tokenizer, splits=splits, merged_fractions=merged, pretraining_free=free)


__all__ = ["RESERVED_ENCODERS", "ComparisonOutcome", "ComparisonSettings", "check_contenders", "run_comparison"]
