"""Training: pair sampling, length bucketing, the pretraining loop and its checkpoints, fine-tuning.

``training/pretrain.py`` and ``training/finetune.py`` are thin launchers around
:func:`run_pretraining` and :func:`run_fine_tuning`:

    from isoclr_hf.training import parse_pretraining_config, run_pretraining
    summary = run_pretraining(parse_pretraining_config(["--config", "training/configs/demo_cpu.yaml",
                                                        "--corpus", "runs/demo_corpus"]))

Modules: ``config`` (:class:`PretrainingConfig`, command line + YAML), ``pairs`` (positive pairs and
their Eq. 3 weights), ``batching`` (length buckets, the pair collator), ``data`` (corpus split ->
this process's batches, in memory-mapped or streamed form), ``pretraining`` (the loop),
``checkpoints`` (``save_state`` + progress as JSON, bit-exact resume), ``metric_logging`` and
``contrastive_metrics`` (metrics.jsonl, held-out retrieval), ``process`` (output-folder lock,
dying with the launcher), ``fine_tuning`` (regression heads).
"""

from .batching import (
    ContrastivePairCollator,
    bucketed_batches,
    padded_fraction,
    random_batches,
    shard_batch,
    stream_bucketed_batches,
)
from .config import PretrainingConfig, parse_pretraining_config
from .fine_tuning import FineTuneSettings, fine_tune
from .fine_tuning_run import FineTuningArguments, parse_fine_tuning_args, run_fine_tuning
from .pairs import (
    GeneSetPairDataset,
    gene_set_pair_weights,
    gene_set_weight_normaliser,
    pair_lengths,
    sample_epoch_pairs,
    stream_pairs,
)
from .pretraining import run_pretraining

__all__ = [
    "ContrastivePairCollator",
    "FineTuneSettings",
    "FineTuningArguments",
    "GeneSetPairDataset",
    "PretrainingConfig",
    "bucketed_batches",
    "fine_tune",
    "gene_set_pair_weights",
    "gene_set_weight_normaliser",
    "padded_fraction",
    "pair_lengths",
    "parse_fine_tuning_args",
    "parse_pretraining_config",
    "random_batches",
    "run_fine_tuning",
    "run_pretraining",
    "sample_epoch_pairs",
    "shard_batch",
    "stream_bucketed_batches",
    "stream_pairs",
]
