"""Tiny corpora in the layout `isoclr build-corpus` writes, and tiny runs, for the pretraining tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from isoclr_hf.pretraining import parse_pretraining_config, run_pretraining

TRAINING_DIR = Path(__file__).resolve().parents[2] / "training"

# A model small enough for a training step in milliseconds.
TINY_MODEL = {
    "stem_filters": 8,
    "stage_filters": [8, 8, 16, 16],
    "blocks_per_stage": [1, 1, 1, 1],
    "projection_hidden_size": 32,
    "projection_dim": 16,
}


def make_transcript(rng: np.random.Generator, gene_id: str, number: int, exons: list[str]) -> dict[str, Any]:
    """A transcript record dict (TranscriptRecord fields) from its exon sequences."""
    sequence = "".join(exons)
    exon_ends = np.cumsum([len(e) for e in exons]).tolist()
    coding = number % 3 != 2
    cds_start = int(rng.integers(0, 20)) if coding else -1
    cds_end = cds_start + 3 * ((len(sequence) - cds_start) // 3) if coding else -1
    return {
        "transcript_id": f"{gene_id}.{number}",
        "gene_id": gene_id,
        "gene_name": f"NAME{gene_id[-3:]}",
        "species": "homo_sapiens",
        "sequence": sequence,
        "exon_ends": exon_ends,
        "cds_start": cds_start,
        "cds_end": cds_end,
        "biotype": "protein_coding" if coding else "lncRNA",
        "flags": [],
    }


def make_gene_set(rng: np.random.Generator, index: int, n_transcripts: int, mean_length: int) -> dict[str, Any]:
    """A gene with ``n_transcripts`` isoforms: each keeps a random subset of the gene's exons."""
    gene_id = f"ENSG{index:011d}"
    n_exons = int(rng.integers(2, 6))
    exons = ["".join(rng.choice(list("ACGT"), size=max(40, int(rng.normal(mean_length, mean_length / 3)) // n_exons)))
             for _ in range(n_exons)]
    transcripts = []
    for number in range(n_transcripts):
        keep = [e for e in exons if rng.random() < 0.8] or exons[:1]
        transcripts.append(make_transcript(rng, gene_id, number, keep))
    return {"set_id": gene_id, "set_size": n_transcripts, "species": ["homo_sapiens"], "transcripts": transcripts}


def make_corpus(sizes: dict[str, int], *, seed: int = 0, mean_length: int = 300) -> datasets.DatasetDict:
    """A DatasetDict of gene sets with splits named as ``sizes`` (split -> number of gene sets)."""
    rng = np.random.default_rng(seed)
    splits = {}
    start = 0
    for split, count in sizes.items():
        rows = [make_gene_set(rng, start + i, int(rng.integers(1, 5)), mean_length) for i in range(count)]
        splits[split] = datasets.Dataset.from_list(rows)
        start += count
    return datasets.DatasetDict(splits)


def tiny_run_arguments(corpus: Path, output_dir: Path, **settings: Any) -> list[str]:
    """Command line of a tiny CPU pretraining run (any setting overridable)."""
    values: dict[str, Any] = {
        "corpus": str(corpus),
        "output_dir": str(output_dir),
        "model_overrides": json.dumps(TINY_MODEL),
        "max_length": 512,
        "per_device_batch_size": 8,
        "max_steps": 6,
        "learning_rate": 0.003,
        "log_every": 1,
        "log_with": "null",
        "eval_every": 0,
        "checkpoint_every": 0,
        "progress_bar": "false",
        **settings,
    }
    arguments = []
    for name, value in values.items():
        arguments += [f"--{name}", str(value)]
    return arguments


def pretrain(arguments: list[str]) -> dict[str, Any]:
    """A pretraining run from its command line, as ``training/pretrain.py`` runs it; returns the summary."""
    return run_pretraining(parse_pretraining_config(arguments))
