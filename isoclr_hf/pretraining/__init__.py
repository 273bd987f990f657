"""Contrastive pretraining: pair sampling, cropping, length bucketing, the loop and its checkpoints.

``training/pretrain.py`` is a thin launcher around :func:`run_pretraining`:

    from isoclr_hf.pretraining import parse_pretraining_config, run_pretraining
    summary = run_pretraining(parse_pretraining_config(["--config", "training/configs/demo_cpu.yaml",
                                                        "--corpus", "runs/demo_corpus"]))

Modules: ``config`` (:class:`PretrainingConfig`, command line + YAML), ``pairs`` (positive pairs and
their Eq. 3 weights), ``batching`` (length buckets, the pair collator), ``data`` (corpus split ->
this process's batches, in memory-mapped or streamed form), ``loop`` (the loop),
``checkpoints`` (``save_state`` + progress as JSON, bit-exact resume), ``metric_logging`` and
``contrastive_metrics`` (metrics.jsonl, held-out retrieval), ``process`` (output-folder lock,
dying with the launcher). Fine-tuning is evaluation's (:mod:`isoclr_hf.evaluation.fine_tuning`).
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
from .loop import run_pretraining
from .pairs import (
    GeneSetPairDataset,
    gene_set_pair_weights,
    gene_set_weight_normaliser,
    pair_lengths,
    sample_epoch_pairs,
    stream_pairs,
)

__all__ = [
    "ContrastivePairCollator",
    "GeneSetPairDataset",
    "PretrainingConfig",
    "bucketed_batches",
    "gene_set_pair_weights",
    "gene_set_weight_normaliser",
    "padded_fraction",
    "pair_lengths",
    "parse_pretraining_config",
    "random_batches",
    "run_pretraining",
    "sample_epoch_pairs",
    "shard_batch",
    "stream_bucketed_batches",
    "stream_pairs",
]
