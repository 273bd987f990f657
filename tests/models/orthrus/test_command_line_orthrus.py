"""Orthrus folders in the package's strict loader, ``isoclr embed`` and ``isoclr evaluate``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from isoclr_hf import IsoCLRTokenizer, loading
from isoclr_hf.cli import main
from isoclr_hf.models.orthrus import OrthrusConfig, OrthrusForSequenceClassification, OrthrusModel
from tests.models.orthrus.reference_files import orthrus_hf_folder, tiny_orthrus_config

SQANTI = Path(__file__).resolve().parents[3] / "data" / "pretraining" / "sqanti3_uhr_chr22"


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    folder = tmp_path / "orthrus_tiny"
    OrthrusModel(tiny_orthrus_config(hidden_size=8)).save_pretrained(folder)
    IsoCLRTokenizer().save_pretrained(folder)
    return folder


def test_strict_loader_uses_the_package_classes(converted_reference: Path, tmp_path: Path) -> None:
    # No --trust-remote-code needed: the package's own classes, never the folder's code.
    encoder = loading.load_encoder(converted_reference)
    assert type(encoder) is OrthrusModel and not encoder.training
    assert type(loading.load_config(converted_reference)) is OrthrusConfig
    head = loading.load_head(converted_reference)
    assert type(head) is OrthrusForSequenceClassification
    torch.testing.assert_close(head.orthrus.norm_f.bias, encoder.norm_f.bias)
    assert type(loading.load_tokenizer(converted_reference)) is IsoCLRTokenizer
    # Strict: a weight missing from the folder is an error naming it.
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "model.safetensors"):
        (broken / name).write_bytes((converted_reference / name).read_bytes())
    state = load_file(broken / "model.safetensors")
    del state["layers.1.mixer.D"]
    save_file(state, broken / "model.safetensors")
    with pytest.raises(loading.ModelLoadingError, match=r"1 weights missing from the checkpoint \(layers.1.mixer.D\)"):
        loading.load_encoder(broken)


def test_an_unconverted_orthrus_folder_points_to_the_converter(tmp_path: Path) -> None:
    folder = orthrus_hf_folder(tmp_path / "orthrus_hub")
    with pytest.raises(loading.ModelLoadingError, match="convert it with `isoclr convert-orthrus"):
        loading.load_encoder(folder)


def test_embed_takes_an_orthrus_model(tiny_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "embeddings.npy"
    arguments = ["embed", "--model", str(tiny_folder), "--fasta", str(SQANTI / "UHR_chr22.filtered.fasta"),
                 "--gtf", str(SQANTI / "UHR_chr22.filtered.gtf"), "--sqanti-classification",
                 str(SQANTI / "UHR_chr22_ML_result_classification.txt"), "--limit", "3", "--dtype", "float32",
                 "--out", str(out), "--quiet"]  # fmt: skip
    assert main(arguments) == 0
    embeddings = np.load(out)
    assert embeddings.shape == (3, 8)
    from isoclr_hf.annotations.sqanti import read_sqanti

    first = next(read_sqanti(SQANTI / "UHR_chr22.filtered.fasta", SQANTI / "UHR_chr22.filtered.gtf",
                             SQANTI / "UHR_chr22_ML_result_classification.txt"))  # fmt: skip
    model = OrthrusModel.from_pretrained(tiny_folder).eval()
    batch = IsoCLRTokenizer()(first.sequence, exon_ends=first.exon_ends, cds=first.cds, return_tensors="pt")
    with torch.no_grad():
        expected = model(**batch).pooler_output[0].numpy()
    np.testing.assert_allclose(embeddings[0], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_evaluate_takes_an_orthrus_model(tiny_folder: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGU"), size=int(rng.integers(60, 100)))) for _ in range(240)]
    table = pd.DataFrame({"seq": sequences, "y": [s.count("G") / len(s) + rng.normal(0, 0.01) for s in sequences],
                          "gene": [f"g{i % 80}" for i in range(240)]})  # fmt: skip
    table.to_csv(tmp_path / "utrs.csv", index=False)
    out = tmp_path / "report"
    arguments = ["evaluate", "--model", str(tiny_folder), "--task", str(tmp_path / "utrs.csv"), "--sequence-column",
                 "seq", "--target-column", "y", "--group-column", "gene", "--out", str(out), "--fractions", "1",
                 "--seeds", "0", "--fine-tune", "--fine-tune-fractions", "1", "--epochs", "1", "--max-steps", "2",
                 "--batch-size", "16", "--quiet"]  # fmt: skip
    assert main(arguments) == 0
    report = json.loads((out / "report.json").read_text())
    encoders = {row["encoder"] for row in report["results"]}
    assert {"pretrained", "random_init"} <= encoders
    assert {row["method"] for row in report["results"]} >= {"linear_probe", "fine_tune"}
    # The fine-tuned head is saved as an Orthrus head folder.
    assert type(loading.load_head(out / "head")) is OrthrusForSequenceClassification
    # The package's classes throughout (no module imported from the folder's remote code).
    assert not [name for name in sys.modules if name.startswith("transformers_modules") and "orthrus" in name]
