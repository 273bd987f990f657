"""What a resumed embedding folder must share with the run that started it: model, inputs, options."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

# Files of a model folder that decide its numbers (weights, config) and its tokenizer's behaviour.
MODEL_FILE_PATTERNS = ("*.safetensors", "*.bin", "config.json", "tokenizer_config.json")


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def model_fingerprint(folder: Path) -> str:
    """SHA-256 over the names and contents of a model folder's weights, config and tokenizer config."""
    digest = hashlib.sha256()
    files = sorted({path for pattern in MODEL_FILE_PATTERNS for path in Path(folder).glob(pattern)})
    if not files:
        raise ValueError(f"{folder}: no weights or config.json to fingerprint")
    for path in files:
        digest.update(f"{path.name}\0{file_sha256(path)}\0".encode())
    return digest.hexdigest()


def input_fingerprints(paths: dict[str, Path | None]) -> dict[str, dict[str, Any]]:
    """``{option: {"name", "bytes", "sha256"}}`` of each input file given (by option, e.g. ``fasta``)."""
    return {
        option: {"name": path.name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
        for option, path in sorted(paths.items()) if path is not None
    }


def package_versions() -> dict[str, str]:
    """Versions of the packages that compute the embeddings (recorded, not compared on resume)."""
    found = {}
    for name in ("isoclr-hf", "torch", "transformers"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            found[name] = "unknown"
    return found


__all__ = ["input_fingerprints", "model_fingerprint", "package_versions"]
