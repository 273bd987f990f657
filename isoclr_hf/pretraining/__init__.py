"""Pretraining: contrastive (IsoCLR, Orthrus) and masked LM (RNA-FM, RiNALMo), one loop and one launcher.

``training/pretrain.py`` is a thin launcher around :func:`run_pretraining`:

    from isoclr_hf.pretraining import parse_pretraining_config, run_pretraining
    summary = run_pretraining(parse_pretraining_config(["--config", "training/configs/demo_cpu.yaml",
                                                        "--corpus", "runs/demo_corpus"]))

Modules: ``config`` (:class:`PretrainingConfig`, command line + YAML; the ``model`` preset chooses the
objective), ``loop`` (the shared loop), ``checkpoints`` (``save_state`` + progress as JSON, bit-exact
resume), ``metric_logging`` (metrics.jsonl and trackers), ``process`` (output-folder lock, dying with the
launcher), ``cropping`` (the one crop rule), ``batching`` (length buckets), ``data`` (corpus split ->
this process's batches). Contrastive: ``contrastive`` (the objective), ``pairs`` (positive pairs and their
Eq. 3 weights), ``contrastive_metrics`` (held-out retrieval). Masked LM: ``masked_lm`` (the objective, the
15% / 80-10-10 masking, held-out loss and accuracy), ``masked_lm_data`` (transcripts as examples).
Fine-tuning is evaluation's (:mod:`isoclr_hf.evaluation.fine_tuning`).
"""

from __future__ import annotations

import importlib
from typing import Any

# Each exported name and its module, imported on first access (PEP 562): `training/pretrain.py --help` reads
# only ``config`` and answers without importing torch, accelerate or datasets.
_EXPORTS = {
    "ContrastivePairCollator": "batching",
    "bucketed_batches": "batching",
    "padded_fraction": "batching",
    "random_batches": "batching",
    "shard_batch": "batching",
    "stream_bucketed_batches": "batching",
    "MaskedLMCollator": "masked_lm",
    "mask_tokens": "masked_lm",
    "PretrainingConfig": "config",
    "parse_pretraining_config": "config",
    "run_pretraining": "loop",
    "GeneSetPairDataset": "pairs",
    "gene_set_pair_weights": "pairs",
    "gene_set_weight_normaliser": "pairs",
    "pair_lengths": "pairs",
    "sample_epoch_pairs": "pairs",
    "stream_pairs": "pairs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
