"""``isoclr convert-orthrus``: what a converted folder holds, and one clear error for each bad input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from isoclr_hf.cli import main
from isoclr_hf.models.orthrus.conversion_orthrus import OrthrusConversionError, convert_orthrus
from tests.models.orthrus.reference_files import GOLDEN, orthrus_hf_folder


def test_converted_folder_holds_weights_code_and_tokenizer(converted_reference: Path) -> None:
    for name in ("config.json", "model.safetensors", "configuration_orthrus.py", "modeling_orthrus.py",
                 "encoder_orthrus.py", "track_inputs.py", "track_vocabulary.py", "sequence_head.py",
                 "tokenization_isoclr.py", "tokenizer_config.json", "vocab.json"):  # fmt: skip
        assert (converted_reference / name).is_file(), name
    config = json.loads((converted_reference / "config.json").read_text())
    assert config["model_type"] == "isoclr_orthrus"
    assert (config["n_tracks"], config["hidden_size"], config["num_hidden_layers"]) == (6, 64, 2)
    assert set(config["auto_map"]) == {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification", "AutoTokenizer"}
    # The weights are Orthrus's, under Orthrus's names.
    converted, original = load_file(converted_reference / "model.safetensors"), load_file(
        GOLDEN / "weights_orthrus_hf.safetensors")  # fmt: skip
    assert converted.keys() == original.keys()
    assert all(torch.equal(converted[key], original[key]) for key in original)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = orthrus_hf_folder(tmp_path / "orthrus")
    assert main(["convert-orthrus", str(source), str(tmp_path / "out")]) == 0
    assert "6 tracks, d=64, 2 layers, 66,112 parameters" in capsys.readouterr().out
    # The output folder is never overwritten.
    assert main(["convert-orthrus", str(source), str(tmp_path / "out")]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err


def edited_folder(tmp_path: Path, *, config: dict | None = None, drop: str | None = None,
                  add: dict[str, torch.Tensor] | None = None) -> Path:  # fmt: skip
    folder = orthrus_hf_folder(tmp_path / "orthrus")
    if config is not None:
        values = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**values, **config}))
    state = load_file(folder / "model.safetensors")
    if drop is not None:
        del state[drop]
    state.update(add or {})
    save_file(state, folder / "model.safetensors")
    return folder


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"config": {"model_type": "isoclr"}}, r"model_type 'isoclr' is not an Orthrus config"),
        ({"config": {"ssm_model_dim": 128}},
         r"embedding.weight has shape \(64, 6\) but n_tracks=6, ssm_model_dim=128, ssm_n_layers=2 needs \(128, 6\)"),
        ({"config": {"ssm_n_layers": 3}}, r"weights missing for .*ssm_n_layers=3: layers.2.mixer.A_log"),
        ({"config": {"ssm_n_layers": 1}}, r"unexpected weights for .*ssm_n_layers=1: layers.1.mixer.A_log"),
        ({"config": {"n_tracks": 4}}, r"embedding.weight has shape \(64, 6\) but n_tracks=4"),
        ({"config": {"ssm_model_dim": "64"}}, r"ssm_model_dim must be a positive integer, got '64'"),
        ({"drop": "norm_f.bias"}, r"1 weights missing for n_tracks=6, ssm_model_dim=64, ssm_n_layers=2: norm_f.bias"),
        ({"add": {"extra.weight": torch.zeros(2)}}, r"1 unexpected weights for .*: extra.weight"),
    ],
)
def test_bad_folders_are_named(tmp_path: Path, edit: dict, message: str) -> None:
    with pytest.raises(OrthrusConversionError, match=message):
        convert_orthrus(edited_folder(tmp_path, **edit), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_other_sources_are_refused(tmp_path: Path, converted_reference: Path) -> None:
    with pytest.raises(OrthrusConversionError, match="no such Orthrus folder or checkpoint"):
        convert_orthrus(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OrthrusConversionError, match=r"no config\.json"):
        convert_orthrus(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(OrthrusConversionError, match="already an isoclr-hf Orthrus folder"):
        convert_orthrus(converted_reference, tmp_path / "out")
    folder = orthrus_hf_folder(tmp_path / "no_weights")
    (folder / "model.safetensors").unlink()
    with pytest.raises(OrthrusConversionError, match=r"no model\.safetensors"):
        convert_orthrus(folder, tmp_path / "out")


def test_lightning_checkpoints_are_read_without_unpickling(tmp_path: Path) -> None:
    # A pickled Python object (Lightning's hyper_parameters often are): refused by weights_only=True.
    state = {f"model.{k}": v for k, v in load_file(GOLDEN / "weights_orthrus_hf.safetensors").items()}
    torch.save({"state_dict": state, "hyper_parameters": argparse.Namespace(lr=1e-3)}, tmp_path / "pickled.ckpt")
    with pytest.raises(OrthrusConversionError, match=r"weights_only=True.*never unpickled"):
        convert_orthrus(tmp_path / "pickled.ckpt", tmp_path / "out")
    torch.save({"state_dict": {k.removeprefix("model."): v for k, v in state.items()}}, tmp_path / "bare.ckpt")
    with pytest.raises(OrthrusConversionError, match=r"no 'model\.\*' keys"):
        convert_orthrus(tmp_path / "bare.ckpt", tmp_path / "out")
    torch.save({"state_dict": {**state, "optimizer_thing": torch.zeros(1)}}, tmp_path / "extra.ckpt")
    with pytest.raises(OrthrusConversionError, match=r"unexpected keys outside the encoder.*optimizer_thing"):
        convert_orthrus(tmp_path / "extra.ckpt", tmp_path / "out")
    del state["model.layers.1.norm.bias"]
    torch.save({"state_dict": state}, tmp_path / "missing.ckpt")
    with pytest.raises(OrthrusConversionError, match=r"1 weights missing .*: layers\.1\.norm\.bias"):
        convert_orthrus(tmp_path / "missing.ckpt", tmp_path / "out")


def test_command_line_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = edited_folder(tmp_path, config={"ssm_model_dim": 128})
    assert main(["convert-orthrus", str(folder), str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("isoclr convert-orthrus: error: ") and "\n" not in error
    assert "ssm_model_dim=128" in error
