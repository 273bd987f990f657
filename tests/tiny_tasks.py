"""Test helpers for evaluation and fine-tuning: a tiny saved encoder and a synthetic mRNABench table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from isoclr_hf import IsoCLRModel, IsoCLRTokenizer
from tests.tiny_models import tiny_config

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def save_tiny_encoder(path: Path, seed: int = 1234) -> Path:
    """Save a tiny encoder (seeded differently from the random-init control) and its tokenizer."""
    torch.manual_seed(seed)
    IsoCLRModel(tiny_config()).save_pretrained(path)
    IsoCLRTokenizer().save_pretrained(path)
    return path


def write_mrnabench_parquet(path: Path, *, genes: int = 12, per_gene: int = 3, seed: int = 0) -> Path:
    """A synthetic mRNABench-layout table: two exons, a CDS with per-codon marks, a target per row."""
    rng = np.random.default_rng(seed)
    rows = []
    for gene in range(genes):
        for isoform in range(per_gene):
            length = int(rng.integers(90, 150))
            sequence = "".join(rng.choice(list("ACGT"), size=length))
            cds = np.zeros(length, dtype=np.int8)
            cds[10 : 10 + 3 * ((length - 20) // 3) : 3] = 1
            splice = np.zeros(length, dtype=np.int8)
            splice[[40, length - 1]] = 1
            rows.append({"sequence": sequence, "cds": cds, "splice": splice,
                         "target": float(sequence.count("G") / length * 10 + rng.normal(0, 0.1)),
                         "gene": f"gene{gene}", "isoform": isoform})
    pd.DataFrame(rows).to_parquet(path)
    return path
