"""Paths of the bundled annotation data (data/pretraining) for the reader tests."""

from __future__ import annotations

from pathlib import Path

import pytest

PRETRAINING = Path(__file__).resolve().parents[2] / "data" / "pretraining"


@pytest.fixture
def chr9_gtf() -> Path:
    return PRETRAINING / "ensembl91_chr9_1mb" / "Homo_sapiens.GRCh38.91_chr9_1_1000000.gtf"


@pytest.fixture
def chr9_genome() -> Path:
    return PRETRAINING / "ensembl91_chr9_1mb" / "Homo_sapiens.GRCh38.dna_sm.primary_assembly_chr9_1_1000000.fa"


@pytest.fixture
def mapt_gtf() -> Path:
    return PRETRAINING / "gencode_mouse_mapt" / "MAPT.Mouse.genedb.gtf"


@pytest.fixture
def mapt_genome() -> Path:
    return PRETRAINING / "gencode_mouse_mapt" / "MAPT.Mouse.reference.fasta"


@pytest.fixture
def sqanti_files() -> tuple[Path, Path, Path]:
    """(transcript FASTA, GTF, classification table) of the SQANTI3 chr22 run."""
    folder = PRETRAINING / "sqanti3_uhr_chr22"
    return (
        folder / "UHR_chr22.filtered.fasta",
        folder / "UHR_chr22.filtered.gtf",
        folder / "UHR_chr22_ML_result_classification.txt",
    )
