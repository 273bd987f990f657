"""Run Python code in a subprocess that cannot import ``isoclr_hf``: what a Hub user without the package has.

The package is installed editable into the virtualenv, so leaving it off ``sys.path`` is not enough: the
child runs in isolated mode (``-I``: no PYTHONPATH, no script folder on the path), from a temporary
working directory, with a ``sys.meta_path`` finder that refuses ``isoclr_hf`` and its submodules.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

_BLOCKER = '''
import sys

class _RefuseIsoCLRPackage:
    """Make `import isoclr_hf` fail, as in an environment without the package."""

    def find_spec(self, name, path=None, target=None):
        if name == "isoclr_hf" or name.startswith("isoclr_hf."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked for this test)", name=name)
        return None

sys.meta_path.insert(0, _RefuseIsoCLRPackage())
try:
    import isoclr_hf  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("isoclr_hf is importable; the isolation failed")
'''


def run_without_package(
    code: str,
    workdir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    python: str | Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child Python that cannot import ``isoclr_hf``; raises with its output on failure.

    Hugging Face caches (modules, hub) go under ``workdir``, and the Hub is offline. ``python`` is the
    interpreter to use (another venv's, e.g. one with an older transformers); this one by default.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "run_without_package.py"
    script.write_text(_BLOCKER + "\n" + textwrap.dedent(code), encoding="utf-8")
    child_env = {
        key: value for key, value in os.environ.items() if not key.startswith(("HF_", "PYTHON", "TRANSFORMERS_"))
    }
    child_env.update(
        HF_HOME=str(workdir / "hf_home"),
        HF_MODULES_CACHE=str(workdir / "hf_modules"),
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        TOKENIZERS_PARALLELISM="false",
    )
    child_env.update(env or {})
    result = subprocess.run(
        [str(python or sys.executable), "-I", str(script)],
        cwd=workdir, env=child_env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"The isolated child failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
