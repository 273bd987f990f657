"""The README's Python examples run as written, each on its own in a fresh Python, so they never rot.

A reader copies one block, not the whole page: every block runs alone in a new process, from an empty
working directory, with the Hub offline, so a block that needs a name or a folder from an earlier one fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def run_block(block: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run one block in a fresh interpreter from an empty ``workdir``; raise with its output on failure."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "block.py"
    script.write_text(block, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "PYTHONPATH"))}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(workdir / "hf_home"), HF_MODULES_CACHE=str(workdir / "hf_modules"),
               HF_HUB_DISABLE_TELEMETRY="1", TOKENIZERS_PARALLELISM="false")
    result = subprocess.run([sys.executable, str(script)], cwd=workdir, env=env, capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        raise AssertionError(f"README block failed on its own ({result.returncode}):\n{block}\n{result.stderr[-4000:]}")
    return result


# What each block must print (in README order); a block added to the README must be added here.
EXPECTED_OUTPUT = [
    r"torch\.Size\(\[2, 256\]\)",
    r"tensor\(.*\) tensor\(\[\[",
    r"\{'half_life': -?\d",
    r"torch\.Size\(\[2, 3002, 128\]\) torch\.Size\(\[2, 128\]\)",
]


def test_readme_has_examples() -> None:
    assert len(python_blocks()) == len(EXPECTED_OUTPUT)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(EXPECTED_OUTPUT)))
def test_readme_block_runs_alone(index: int, tmp_path: Path) -> None:
    block = python_blocks()[index]
    result = run_block(block, tmp_path / f"block{index}")
    assert re.search(EXPECTED_OUTPUT[index], result.stdout), result.stdout


def test_a_block_that_needs_an_earlier_one_fails(tmp_path: Path) -> None:
    """The isolation is real: the old README's pipeline block (``head`` from a previous block) fails."""
    with pytest.raises(AssertionError, match="NameError: name 'head' is not defined"):
        run_block("from isoclr_hf.hub.package import prepare_model_folder\n"
                  "prepare_model_folder(head, None, 'out')\n", tmp_path)
