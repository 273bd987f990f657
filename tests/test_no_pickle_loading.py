"""No code in the package or the training scripts unpickles: unpickling a file can run any code in it.

The scan (``ast``, with import aliases resolved) flags ``pickle``/``dill``/``cloudpickle``/``joblib``
loads and unpicklers, ``pandas.read_pickle``, ``shelve.open``, ``marshal`` loads, ``torch.load``
without a literal ``weights_only=True`` and ``numpy.load`` with ``allow_pickle`` other than a literal
``False``. It is checked on planted examples first, so a scanner that finds nothing fails too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SCANNED = ("isoclr_hf", "training")

ALWAYS_UNSAFE = {
    f"{module}.{name}"
    for module in ("pickle", "_pickle", "cPickle", "dill", "cloudpickle")
    for name in ("load", "loads", "Unpickler")
} | {"joblib.load", "pandas.read_pickle", "shelve.open", "shelve.DbfilenameShelf", "marshal.load", "marshal.loads",
     "numpy.lib.format.read_array"}
TORCH_LOADS = {"torch.load", "torch.serialization.load"}
NUMPY_LOADS = {"numpy.load"}


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}  # local name -> dotted origin
        self.findings: list[tuple[int, str]] = []

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def dotted(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def visit_Call(self, node: ast.Call) -> None:
        name = self.dotted(node.func)
        keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
        unpacked = any(k.arg is None for k in node.keywords)
        if name in ALWAYS_UNSAFE or (isinstance(node.func, ast.Attribute) and node.func.attr == "read_pickle"):
            self.findings.append((node.lineno, f"{name or node.func.attr}(...) unpickles"))
        elif name in TORCH_LOADS:
            value = keywords.get("weights_only")
            if unpacked or not (isinstance(value, ast.Constant) and value.value is True):
                self.findings.append((node.lineno, f"{name}(...) without weights_only=True"))
        elif name in NUMPY_LOADS:
            value = keywords.get("allow_pickle")
            if unpacked or (value is not None and not (isinstance(value, ast.Constant) and value.value is False)):
                self.findings.append((node.lineno, f"{name}(...) with allow_pickle"))
        self.generic_visit(node)


def pickle_loads_in(source: str) -> list[tuple[int, str]]:
    """(line, reason) of every call in ``source`` that may unpickle."""
    scanner = _Scanner()
    scanner.visit(ast.parse(source))
    return scanner.findings


def scan(root: Path, folders: tuple[str, ...]) -> list[str]:
    """``path:line: reason`` of every pickle load in the Python files under ``root/folder``."""
    found = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            for line, reason in pickle_loads_in(path.read_text(encoding="utf-8")):
                found.append(f"{path.relative_to(root).as_posix()}:{line}: {reason}")
    return found


UNSAFE = [
    "import pickle\npickle.load(open('f', 'rb'))",
    "import pickle as p\np.loads(b'')",
    "from pickle import load\nload(handle)",
    "from pickle import Unpickler as U\nU(handle).load()",
    "import dill\ndill.load(handle)",
    "import joblib\njoblib.load('model.joblib')",
    "import pandas as pd\npd.read_pickle('frame.pkl')",
    "import torch\ntorch.load('x.pt')",
    "import torch\ntorch.load('x.pt', map_location='cpu', weights_only=False)",
    "import torch\ntorch.load('x.pt', **options)",
    "from torch import load as torch_load\ntorch_load('x.pt')",
    "import torch.serialization\ntorch.serialization.load('x.pt')",
    "import numpy as np\nnp.load('a.npy', allow_pickle=True)",
    "import numpy\nnumpy.load('a.npy', allow_pickle=flag)",
    "from numpy import load\nload('a.npz', allow_pickle=True)",
    "def f():\n    import shelve\n    return shelve.open('db')",
]
SAFE = [
    "import torch\ntorch.load('x.pt', weights_only=True)",
    "import torch\ntorch.load('x.pt', map_location='cpu', weights_only=True)",
    "import numpy as np\nnp.load('a.npy')",
    "import numpy as np\nnp.load('a.npy', allow_pickle=False, mmap_mode='r')",
    "import json\njson.load(handle)",
    "import yaml\nyaml.safe_load(text)",
    "from safetensors.torch import load_file\nload_file('m.safetensors')",
    "import pickle\npickle.dumps(obj)",
]


@pytest.mark.parametrize("source", UNSAFE)
def test_the_scanner_finds_planted_pickle_loads(source: str) -> None:
    findings = pickle_loads_in(source)
    assert findings, source
    assert findings[0][0] == source.count("\n") + 1  # the line of the call


@pytest.mark.parametrize("source", SAFE)
def test_the_scanner_passes_safe_loads(source: str) -> None:
    assert pickle_loads_in(source) == []


def test_the_scanner_reports_file_and_line(tmp_path: Path) -> None:
    planted = tmp_path / "isoclr_hf" / "planted.py"
    planted.parent.mkdir()
    planted.write_text("import json\n\nimport torch\n\nstate = torch.load('state.pt')\n")
    assert scan(tmp_path, ("isoclr_hf",)) == ["isoclr_hf/planted.py:5: torch.load(...) without weights_only=True"]


def test_no_pickle_loading_in_the_package_or_the_training_scripts() -> None:
    found = scan(REPOSITORY, SCANNED)
    assert not found, "Code that unpickles (can run code from a file):\n" + "\n".join(found)
