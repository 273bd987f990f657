"""`isoclr`: every bad input is one line on stderr naming the file or folder and the problem, exit code 2.

Each case goes through `isoclr_hf.cli.main`, as the console script does; `--debug` adds the traceback.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from isoclr_hf import IsoCLRForSequenceClassification, IsoCLRModel, IsoCLRTokenizer
from isoclr_hf.cli import ERROR_EXIT_CODE, SUBCOMMANDS, main
from isoclr_hf.hub.package import prepare_model_folder
from tests.tiny_models import tiny_config
from tests.tiny_tasks import write_mrnabench_parquet

DATA = Path(__file__).resolve().parents[2] / "data" / "pretraining"
SQANTI = DATA / "sqanti3_uhr_chr22"
SQANTI_ARGUMENTS = [
    "--fasta", str(SQANTI / "UHR_chr22.filtered.fasta"),
    "--gtf", str(SQANTI / "UHR_chr22.filtered.gtf"),
    "--sqanti-classification", str(SQANTI / "UHR_chr22_ML_result_classification.txt"),
    "--limit", "3", "--quiet",
]  # fmt: skip


def save_encoder(folder: Path, **overrides: object) -> Path:
    IsoCLRModel(tiny_config(**overrides)).save_pretrained(folder)
    IsoCLRTokenizer().save_pretrained(folder)
    return folder


def embed(model: str | Path, out: Path, *extra: str) -> int:
    return main(["embed", "--model", str(model), *SQANTI_ARGUMENTS, "--out", str(out), *extra])


def one_line_error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """The single stderr line of a failed command (no traceback), without its prefix."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"isoclr {command}: error: "), err
    return lines[0].removeprefix(f"isoclr {command}: error: ")


# Each bad model folder: how to make it, and what the error must say (besides the folder or file it names).
def _truncated(folder: Path) -> tuple[Path, list[str]]:
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    return folder, [str(weights), "truncated"]


def _no_config(folder: Path) -> tuple[Path, list[str]]:
    (folder / "config.json").unlink()
    return folder, [str(folder), "no config.json"]


def _missing_stem(folder: Path) -> tuple[Path, list[str]]:
    weights = folder / "model.safetensors"
    state = load_file(weights)
    del state["encoder.stem_conv.weight"]
    save_file(state, weights, metadata={"format": "pt"})
    return folder, [str(folder), "missing", "encoder.stem_conv.weight"]


def _fewer_blocks(folder: Path) -> tuple[Path, list[str]]:
    config = json.loads((folder / "config.json").read_text())
    config["blocks_per_stage"] = [1, 1, 1, 1]  # the weights have two blocks in stage 2
    (folder / "config.json").write_text(json.dumps(config))
    return folder, [str(folder), "unexpected", "encoder.stages.1"]


def _not_isoclr(folder: Path) -> tuple[Path, list[str]]:
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "isoclr_fork"
    (folder / "config.json").write_text(json.dumps(config))
    return folder, [str(folder), "isoclr_fork", "--trust-remote-code"]


def _missing_folder(folder: Path) -> tuple[Path, list[str]]:
    shutil.rmtree(folder)
    return folder, [f"no such model folder: {folder}"]


BAD_MODELS: dict[str, Callable[[Path], tuple[Path, list[str]]]] = {
    "truncated_safetensors": _truncated,
    "no_config_json": _no_config,
    "missing_stem_conv_weight": _missing_stem,
    "config_with_fewer_blocks_than_weights": _fewer_blocks,
    "not_an_isoclr_model": _not_isoclr,
    "missing_folder": _missing_folder,
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_embed_reports_a_bad_model_in_one_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, fragments = BAD_MODELS[case](save_encoder(tmp_path / "model"))
    capsys.readouterr()
    out = tmp_path / "emb.parquet"
    assert embed(model, out) == ERROR_EXIT_CODE == 2
    message = one_line_error(capsys, "embed")
    for fragment in fragments:
        assert fragment in message
    assert not out.exists()


@pytest.mark.parametrize("case", ["missing_stem_conv_weight", "not_an_isoclr_model", "missing_folder"])
def test_evaluate_reports_a_bad_model_in_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, fragments = BAD_MODELS[case](save_encoder(tmp_path / "model"))
    capsys.readouterr()
    task = write_mrnabench_parquet(tmp_path / "bench.parquet")
    out = tmp_path / "report"
    assert main(["evaluate", "--model", str(model), "--task", str(task), "--out", str(out), "--quiet"]) == 2
    message = one_line_error(capsys, "evaluate")
    for fragment in fragments:
        assert fragment in message
    assert not out.exists()


def test_a_relative_path_that_does_not_exist_is_a_missing_folder(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    assert embed("outputs/no-such-run/final", tmp_path / "e.npy") == 2
    assert one_line_error(capsys, "embed") == "no such model folder: outputs/no-such-run/final"
    assert embed("./isoclr-s", tmp_path / "e.npy") == 2
    assert one_line_error(capsys, "embed") == "no such model folder: ./isoclr-s"


def test_a_hub_id_that_cannot_be_fetched_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    assert embed("no-such-org/no-such-model", tmp_path / "e.npy") == 2
    message = one_line_error(capsys, "embed")
    assert message.startswith("no such model folder: no-such-org/no-such-model (and no Hub repository")


def test_debug_adds_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, _ = _missing_stem(save_encoder(tmp_path / "model"))
    capsys.readouterr()
    for argv in (["--debug", "embed", "--model", str(model)], ["embed", "--model", str(model), "--debug"]):
        out = tmp_path / "emb.parquet"
        assert main([*argv, *SQANTI_ARGUMENTS, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err and "ModelLoadingError" in err
        assert err.strip().splitlines()[-1].startswith("isoclr embed: error: ")


def test_trust_remote_code_loads_a_model_that_is_not_isoclr(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    encoder = IsoCLRModel(tiny_config()).eval()
    folder = prepare_model_folder(encoder, IsoCLRTokenizer(), tmp_path / "fork")
    _not_isoclr(folder)
    capsys.readouterr()
    out = tmp_path / "emb.npy"
    assert embed(folder, out) == 2
    assert "--trust-remote-code" in one_line_error(capsys, "embed")
    assert embed(folder, out, "--trust-remote-code", "--dtype", "float32") == 0
    expected = tmp_path / "expected.npy"
    reference = save_encoder(tmp_path / "reference")
    IsoCLRModel.from_pretrained(folder).save_pretrained(reference)  # the same weights, as an IsoCLR folder
    assert embed(reference, expected, "--dtype", "float32") == 0
    np.testing.assert_allclose(np.load(out), np.load(expected), rtol=1e-5, atol=1e-6)


def test_an_isoclr_folder_never_runs_the_code_inside_it(tmp_path: Path) -> None:
    folder = save_encoder(tmp_path / "model")
    for name in ("configuration_isoclr.py", "modeling_isoclr.py", "tokenization_isoclr.py"):
        (folder / name).write_text("raise RuntimeError('the remote code in the folder ran')\n")
    assert embed(folder, tmp_path / "emb.npy") == 0


def test_a_head_checkpoint_embeds_with_its_encoder(tmp_path: Path) -> None:
    folder = tmp_path / "head"
    head = IsoCLRForSequenceClassification(tiny_config(num_labels=1)).eval()
    head.save_pretrained(folder)
    IsoCLRTokenizer().save_pretrained(folder)
    encoder_folder = tmp_path / "encoder"
    head.isoclr.save_pretrained(encoder_folder)
    assert embed(folder, tmp_path / "a.npy") == 0
    assert embed(encoder_folder, tmp_path / "b.npy") == 0
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"isoclr {version('isoclr-hf')}"


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_help_shows_defaults(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "(default:" in capsys.readouterr().out


def test_the_library_progress_bars_and_load_reports_are_quiet_and_restored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    folder = save_encoder(tmp_path / "model")
    capsys.readouterr()
    assert embed(folder, tmp_path / "emb.npy") == 0
    err = capsys.readouterr().err
    assert "Loading weights" not in err and "Writing model shards" not in err
    assert transformers_logging.get_verbosity() == verbosity
    assert transformers_logging.is_progress_bar_enabled()
