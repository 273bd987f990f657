"""The `isoclr` command and training/pretrain.py answer help, bad command lines and an existing --out at once.

Each case runs in a fresh Python and checks which heavy libraries it imported (none of torch, transformers,
datasets, pandas), which is what makes the answer fast; benchmarks/cli_startup.py times the commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "datasets", "pandas", "accelerate", "numpy")

_RUN_CLI = """
import json, sys
from isoclr_hf.cli import main
code = None
try:
    code = main(json.loads(sys.argv[1]))
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "heavy": [m for m in json.loads(sys.argv[2]) if m in sys.modules]}))
"""


def _run_cli(argv: list[str], cwd: Path) -> tuple[int, list[str], str]:
    done = subprocess.run([sys.executable, "-c", _RUN_CLI, json.dumps(argv), json.dumps(HEAVY)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], result["heavy"], done.stdout + done.stderr


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["--version"],
    ["build-corpus", "--help"],
    ["evaluate", "--help"],
    ["push", "--help"],
    ["convert-orthrus", "--help"],
    ["evaluate", "--model", "isoclr-s"],  # --task and --out missing
    ["build-corpus", "--gtf"],  # no value
    ["push", "--model", "m"],  # --repo-id missing
    ["convert-orthrus", "only-one"],
    ["no-such-command"],
])
def test_help_and_argument_errors_import_no_heavy_library(argv: list[str], tmp_path: Path) -> None:
    code, heavy, output = _run_cli(argv, tmp_path)
    assert code == (0 if argv[-1] in ("--help", "--version") else 2), output
    assert heavy == [], f"isoclr {' '.join(argv)} imported {heavy}"
    if argv == ["--help"]:  # every subcommand listed with its summary, read without importing it
        for name in ("build-corpus", "convert-orthrus", "embed", "evaluate", "push"):
            assert name in output
        assert "Evaluate an encoder on a task" in output


def test_an_existing_out_is_refused_before_any_heavy_import(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.json").write_text("{}")
    code, heavy, output = _run_cli(["evaluate", "--model", "isoclr-s", "--task", "te_5utr_hek293", "--out", str(out)],
                                   tmp_path)
    assert (code, heavy) == (2, []), output
    assert f"{out} exists and is not empty" in output
    code, heavy, output = _run_cli(["build-corpus", "--bundled", "--out", str(out)], tmp_path)
    assert (code, heavy) == (2, []), output
    assert f"--out {out} already exists" in output


def test_the_dispatcher_imports_only_the_named_subcommand(tmp_path: Path) -> None:
    code = ("import sys; from isoclr_hf.cli import main\n"
            "try:\n    main(['push', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('isoclr_hf.cli.')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "['isoclr_hf.cli.push']", done.stdout + done.stderr


@pytest.mark.parametrize("argv", [["--help"], ["--corpus", "c", "--no-such-option", "1"]])
def test_pretrain_script_help_and_errors_import_no_heavy_library(argv: list[str], tmp_path: Path) -> None:
    script = REPOSITORY / "training" / "pretrain.py"
    code = f"""
import json, runpy, sys
sys.argv = ["pretrain.py", *json.loads(sys.argv[1])]
try:
    runpy.run_path({str(script)!r}, run_name="__main__")
except SystemExit as stop:
    print(json.dumps({{"code": stop.code, "heavy": [m for m in {list(HEAVY)!r} if m in sys.modules]}}))
"""
    done = subprocess.run([sys.executable, "-c", code, json.dumps(argv)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "400"})  # one line per option
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0 if argv == ["--help"] else 2, "heavy": []}, done.stdout + done.stderr
    if argv == ["--help"]:
        assert "Peak AdamW learning rate (paper: 0.01). (default: 0.01)" in done.stdout
        assert "--per_device_batch_size" in done.stdout and "(default: 256)" in done.stdout


def test_import_isoclr_hf_is_lazy_and_registers_the_auto_classes_with_transformers(tmp_path: Path) -> None:
    """`import isoclr_hf` imports no torch; importing transformers afterwards registers the models."""
    code = """
import sys
import isoclr_hf
lazy = not any(name in sys.modules for name in ("torch", "transformers"))
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
from transformers.models.auto.modeling_auto import MODEL_MAPPING
from isoclr_hf import IsoCLRConfig, IsoCLRModel
print(lazy, "isoclr" in CONFIG_MAPPING, "isoclr_orthrus" in CONFIG_MAPPING, MODEL_MAPPING[IsoCLRConfig] is IsoCLRModel)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "True True True True", done.stdout + done.stderr


def test_the_package_exports_its_names_lazily() -> None:
    import isoclr_hf
    from isoclr_hf.models import isoclr

    assert set(isoclr_hf.__all__) <= set(dir(isoclr_hf))
    for name in isoclr_hf.__all__:
        assert getattr(isoclr_hf, name) is getattr(isoclr, name)
    with pytest.raises(AttributeError, match="no_such_name"):
        isoclr_hf.no_such_name  # noqa: B018


def test_the_light_defaults_equal_their_sources() -> None:
    from isoclr_hf.cli import build_corpus
    from isoclr_hf.corpus import sources
    from isoclr_hf.evaluation import defaults
    from isoclr_hf.evaluation.tasks.registry import task_names
    from isoclr_hf.models.isoclr import IsoCLRConfig

    assert tuple(task_names()) == defaults.TASK_NAMES
    assert build_corpus.DEMO_ORTHOLOGY == sources.DEMO_ORTHOLOGY
    assert build_corpus.HCOP_ORTHOLOGY == sources.HCOP_ORTHOLOGY
    assert IsoCLRConfig().max_sequence_length == build_corpus.DEFAULT_MAX_LENGTH
