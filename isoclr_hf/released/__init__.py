"""Models released with the package, found by short name: ``isoclr embed --model isoclr-s``.

Each is a folder in Hub layout under ``isoclr_hf/released/`` (weights, config with ``auto_map``,
tokenizer, remote code, card), installed with the package, so a short name works offline and
``AutoModel.from_pretrained(released_model_path("isoclr-s"), trust_remote_code=True)`` loads it
like any Hub checkout. A local folder of the same name takes precedence over a short name.
"""

from __future__ import annotations

from pathlib import Path

RELEASED_DIR = Path(__file__).resolve().parent


def released_models() -> dict[str, Path]:
    """Short name -> folder of every released model."""
    if not RELEASED_DIR.is_dir():
        return {}
    return {folder.name: folder for folder in sorted(RELEASED_DIR.iterdir()) if (folder / "config.json").is_file()}


def released_model_path(name: str) -> Path | None:
    """The folder of the released model ``name``, or ``None`` if there is none of that name."""
    return released_models().get(name)


__all__ = ["RELEASED_DIR", "released_model_path", "released_models"]
