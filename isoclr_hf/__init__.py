"""isoclr-hf: IsoCLR RNA foundation models (Fradkin et al. 2023) in Hugging Face format.

The models live in ``isoclr_hf.models`` (one folder per family). This module is lazy (PEP 562): ``import
isoclr_hf`` imports neither torch nor transformers, so the ``isoclr`` command answers ``--help`` at once;
``from isoclr_hf import IsoCLRModel`` imports the models on first use.

Registration with the transformers Auto classes (so saved models load with or without
``trust_remote_code`` when the package is installed) happens when the model families are imported:
on the first model name taken from this module, on ``import isoclr_hf.models``, or, after a plain
``import isoclr_hf``, as soon as transformers itself is imported (at once when it already is). So
``import isoclr_hf`` followed by ``AutoModel.from_pretrained(folder)`` works in either order.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Any

__version__ = "0.1.0"

# Every name this module exports, and the module that defines it (imported on first access).
_EXPORTS = {
    "PRESETS": "isoclr_hf.models.isoclr",
    "DecoupledContrastiveLoss": "isoclr_hf.models.isoclr",
    "IsoCLRConfig": "isoclr_hf.models.isoclr",
    "IsoCLRContrastiveOutput": "isoclr_hf.models.isoclr",
    "IsoCLRForContrastivePretraining": "isoclr_hf.models.isoclr",
    "IsoCLRForSequenceClassification": "isoclr_hf.models.isoclr",
    "IsoCLRModel": "isoclr_hf.models.isoclr",
    "IsoCLRModelOutput": "isoclr_hf.models.isoclr",
    "IsoCLRSequenceClassifierOutput": "isoclr_hf.models.isoclr",
    "IsoCLRTokenizer": "isoclr_hf.models.isoclr",
    "gather_with_gradients": "isoclr_hf.models.isoclr",
    "gene_set_weights": "isoclr_hf.models.isoclr",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first access (PEP 562); submodules import as usual."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


def register_auto_classes() -> None:
    """Register every model family with the transformers Auto classes and pipelines (idempotent).

    Imports torch and transformers. Importing ``isoclr_hf.models`` does the same.
    """
    importlib.import_module("isoclr_hf.models")


class _RegisteringLoader(importlib.abc.Loader):
    """transformers' own loader, which registers this package's models once transformers has loaded."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        register_auto_classes()

    def __getattr__(self, name: str) -> Any:  # is_package, get_resource_reader, ...: transformers' loader's
        return getattr(self._loader, name)


class _RegisterWhenTransformersLoads(importlib.abc.MetaPathFinder):
    """Finds transformers as usual, with a loader that registers the models after it (then leaves meta_path)."""

    def find_spec(self, name: str, path: Any = None, target: ModuleType | None = None) -> Any:
        if name != "transformers":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


def _register_when_transformers_loads() -> None:
    if "transformers" in sys.modules:
        register_auto_classes()
    elif not any(isinstance(finder, _RegisterWhenTransformersLoads) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterWhenTransformersLoads())


_register_when_transformers_loads()
