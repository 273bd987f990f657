"""The README's Python examples run as written (in order, in one namespace), so they never rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 3


def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    assert tuple(namespace["embeddings"].shape) == (2, 256)
    assert set(namespace["predict"]({"sequence": "AUGGCCAAAUAG", "cds": (0, 12)})) == {"half_life"}
    assert "torch.Size([2, 256])" in capsys.readouterr().out
