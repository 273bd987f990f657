"""RNA-FM and RiNALMo through the command line: `isoclr convert`, `isoclr embed` and `isoclr evaluate`.

The converted references are small (hidden 64, 2 layers) and the SQANTI transcripts of chr22 are 0.3-5 kb, longer
than one window (1,022 nucleotides), so `isoclr embed` runs the windows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from isoclr_hf.cli import main
from isoclr_hf.loading import load_encoder, load_tokenizer
from isoclr_hf.models.rinalmo import RiNALMoModel
from isoclr_hf.models.rnafm import NucleotideTokenizer, RnaFmModel
from tests.models.mlm_families import FIXTURES

SQANTI = Path(__file__).resolve().parents[3] / "data" / "pretraining" / "sqanti3_uhr_chr22"
SQANTI_ARGUMENTS = [
    "--fasta", str(SQANTI / "UHR_chr22.filtered.fasta"),
    "--gtf", str(SQANTI / "UHR_chr22.filtered.gtf"),
    "--sqanti-classification", str(SQANTI / "UHR_chr22_ML_result_classification.txt"),
]  # fmt: skip


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("converted")
    for family in ("rnafm", "rinalmo"):
        assert main(["convert", str(FIXTURES / family), str(root / family)]) == 0
    return {family: root / family for family in ("rnafm", "rinalmo")}


def test_convert_prints_what_it_wrote_and_loading_is_strict(converted: dict[str, Path], tmp_path: Path, capsys) -> None:
    assert main(["convert", str(FIXTURES / "rnafm"), str(tmp_path / "again")]) == 0
    printed = capsys.readouterr().out
    assert "(rnafm) ->" in printed and "hidden_size=64, 2 layers" in printed
    assert isinstance(load_encoder(converted["rnafm"]), RnaFmModel)  # the encoder of a masked-LM folder
    assert isinstance(load_encoder(converted["rinalmo"]), RiNALMoModel)
    assert isinstance(load_tokenizer(converted["rinalmo"]), NucleotideTokenizer)
    assert main(["convert", str(converted["rnafm"]), str(tmp_path / "twice")]) == 2  # already converted
    assert "already an isoclr-hf folder (model_type 'isoclr_rnafm')" in capsys.readouterr().err
    assert main(["embed", "--model", str(FIXTURES / "rnafm"), *SQANTI_ARGUMENTS, "--out", str(tmp_path / "x.npy")]) == 2
    assert "convert it with `isoclr convert" in capsys.readouterr().err  # multimolecule's own folder is refused


@pytest.mark.parametrize("family", ["rnafm", "rinalmo"])
def test_embed_matches_the_model_with_windows(family: str, converted: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "emb.parquet"
    assert main(["embed", "--model", str(converted[family]), *SQANTI_ARGUMENTS, "--limit", "6", "--out", str(out)]) == 0
    table = pq.read_table(out).to_pydict()
    from isoclr_hf.annotations.sqanti import read_sqanti

    records = {r.transcript_id: r for r in read_sqanti(SQANTI / "UHR_chr22.filtered.fasta", SQANTI /
                                                       "UHR_chr22.filtered.gtf", SQANTI /
                                                       "UHR_chr22_ML_result_classification.txt")}  # fmt: skip
    encoder = load_encoder(converted[family])
    lengths = []
    for transcript, embedding in zip(table["transcript_id"], table["embedding"], strict=True):
        sequence = records[transcript].sequence
        lengths.append(len(sequence))
        with torch.no_grad():
            expected = encoder(**NucleotideTokenizer()([sequence], return_tensors="pt")).pooler_output[0].numpy()
        np.testing.assert_allclose(np.asarray(embedding), expected, rtol=1e-4, atol=1e-5)
    assert max(lengths) > encoder.config.window_nucleotides  # windows were used


@pytest.mark.slow
def test_evaluate_probes_and_fine_tunes_a_converted_model(converted: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    argv = ["evaluate", "--model", str(converted["rinalmo"]), "--task", "te_5utr_pc3", "--out", str(out),
            "--max-examples", "250", "--fractions", "1", "--seeds", "0", "--fine-tune", "--epochs", "1",
            "--max-steps", "2", "--batch-size", "8", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert {(r["encoder"], r["method"]) for r in report["results"]} == {
        ("pretrained", "linear_probe"), ("random_init", "linear_probe"), ("kmer_baseline", "ridge"),
        ("pretrained", "fine_tune"), ("random_init", "fine_tune")}  # fmt: skip
    head = json.loads((out / "head" / "config.json").read_text())
    assert head["model_type"] == "isoclr_rinalmo" and head["target_names"] == ["log2_te"]
