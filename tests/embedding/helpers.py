"""Shared by the embedding tests: a tiny model folder, the SQANTI3 sample's arguments, results compared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from isoclr_hf import IsoCLRModel, IsoCLRTokenizer
from tests.tiny_models import tiny_config

REPOSITORY = Path(__file__).resolve().parents[2]
SQANTI = REPOSITORY / "data" / "pretraining" / "sqanti3_uhr_chr22"


def save_tiny_model(folder: Path, seed: int = 0) -> Path:
    import torch

    torch.manual_seed(seed)
    IsoCLRModel(tiny_config()).save_pretrained(folder)
    IsoCLRTokenizer().save_pretrained(folder)
    return folder


def sqanti_arguments(limit: int) -> list[str]:
    """Real long-read transcripts (SQANTI3 UHR chr22): FASTA, GTF and classification."""
    return [
        "--fasta", str(SQANTI / "UHR_chr22.filtered.fasta"),
        "--gtf", str(SQANTI / "UHR_chr22.filtered.gtf"),
        "--sqanti-classification", str(SQANTI / "UHR_chr22_ML_result_classification.txt"),
        "--limit", str(limit),
    ]  # fmt: skip


def read_embeddings(path: Path) -> tuple[list[str], np.ndarray]:
    """Ids and embeddings of a .parquet file or an embedding folder, sorted by id."""
    table = pq.read_table(path).to_pydict()
    order = np.argsort(table["transcript_id"])
    ids = [table["transcript_id"][i] for i in order]
    return ids, np.asarray(table["embedding"], dtype=np.float32)[order]


def assert_same_embeddings(actual: Path, expected: Path) -> None:
    """The same ids, each exactly once, and embeddings within 1e-5 (fp32)."""
    actual_ids, actual_embeddings = read_embeddings(actual)
    expected_ids, expected_embeddings = read_embeddings(expected)
    assert len(set(actual_ids)) == len(actual_ids)
    assert actual_ids == expected_ids
    np.testing.assert_allclose(actual_embeddings, expected_embeddings, rtol=0, atol=1e-5)
