"""Orthrus checkpoints -> model folders that load with ``AutoModel`` (``isoclr convert-orthrus``).

Not remote code (package only). Two sources are read:

- an Orthrus Hugging Face folder: ``config.json`` (``model_type "orthrus"``, ``n_tracks``,
  ``ssm_model_dim``, ``ssm_n_layers``) and ``model.safetensors``; the keys are Orthrus's
  ``MixerModel`` names, which are this package's too;
- an Orthrus Lightning checkpoint (``.ckpt``): ``state_dict`` keys ``model.<key>`` (Orthrus's
  ``load_model`` strips the prefix the same way). The sizes are read from the tensors' shapes. It is
  read with ``torch.load(weights_only=True)``: tensors and plain containers only, never unpickled code.

Orthrus's heads (contrastive projections, the MLM and splice/codon heads) are dropped, as Orthrus's
own ``load_model`` does; any other key, a missing key or a shape that the sizes do not explain is an
error naming the key and the config field. The folder written holds the weights (safetensors), a
``config.json`` of ``model_type "isoclr_orthrus"``, the remote code and the IsoCLR tokenizer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch

from ..isoclr.tokenization_isoclr import IsoCLRTokenizer
from .configuration_orthrus import OrthrusConfig
from .modeling_orthrus import OrthrusModel

ORTHRUS_MODEL_TYPE = "orthrus"  # the Hub's Orthrus remote code (orthrus_hf.py)
LIGHTNING_PREFIX = "model."
# Orthrus heads that its own load_model drops (lightning_key_map.json of the reference files).
HEAD_PREFIXES = (
    "contrastive_projection_head.", "ortho_head.", "splice_self_head.", "splice_head.", "codon_head.", "sequence_head.",
)  # fmt: skip
# Orthrus config field -> OrthrusConfig field, and the weight whose shape shows it.
CONFIG_FIELDS = {"n_tracks": "n_tracks", "ssm_model_dim": "hidden_size", "ssm_n_layers": "num_hidden_layers"}
_LAYER = re.compile(r"^layers\.(\d+)\.")


class OrthrusConversionError(ValueError):
    """A source that is not a readable Orthrus checkpoint; the message names the file, key or field."""


def _listed(keys: list[str], shown: int = 5) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:shown]) + (f" and {len(keys) - shown} more" if len(keys) > shown else "")


def read_hf_folder(folder: Path) -> tuple[dict[str, int], dict[str, torch.Tensor]]:
    """The sizes and the weights of an Orthrus Hugging Face folder."""
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise OrthrusConversionError(f"{folder}: no config.json; expected an Orthrus folder or a .ckpt file")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OrthrusConversionError(f"{config_path}: not a valid JSON config ({error})") from error
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type == OrthrusConfig.model_type:
        raise OrthrusConversionError(f"{folder}: already an isoclr-hf Orthrus folder; load it with AutoModel")
    if model_type != ORTHRUS_MODEL_TYPE:
        raise OrthrusConversionError(
            f"{config_path}: model_type {model_type!r} is not an Orthrus config (expected {ORTHRUS_MODEL_TYPE!r} "
            f"with {', '.join(CONFIG_FIELDS)})"
        )
    sizes = {}
    for field in CONFIG_FIELDS:
        value = config.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise OrthrusConversionError(f"{config_path}: {field} must be a positive integer, got {value!r}")
        sizes[field] = value
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise OrthrusConversionError(f"{folder}: no model.safetensors in the Orthrus folder")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(weights)
    except (SafetensorError, OSError, RuntimeError, ValueError) as error:
        raise OrthrusConversionError(
            f"{weights}: cannot read the weights, the file is truncated or corrupt ({error})"
        ) from error
    return sizes, state


def read_lightning_checkpoint(path: Path) -> tuple[dict[str, int], dict[str, torch.Tensor]]:
    """The sizes (from the tensors' shapes) and the encoder weights of an Orthrus Lightning checkpoint."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OrthrusConversionError(
            f"{path}: cannot be read as tensors with torch.load(weights_only=True) ({first}). Checkpoints are "
            "never unpickled here; in a trusted environment save its state_dict alone "
            "(torch.save(torch.load(path)['state_dict'], 'weights.ckpt')) and convert that"
        ) from error
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise OrthrusConversionError(f"{path}: no state_dict of tensors in the checkpoint")
    prefixed = [key for key in state if key.startswith(LIGHTNING_PREFIX)]
    if not prefixed:
        raise OrthrusConversionError(
            f"{path}: no '{LIGHTNING_PREFIX}*' keys; an Orthrus Lightning checkpoint holds the encoder under "
            f"'{LIGHTNING_PREFIX}' (keys found: {_listed(list(state))})"
        )
    encoder = {key.removeprefix(LIGHTNING_PREFIX): value for key, value in state.items() if key in prefixed}
    others = [key for key in state if key not in prefixed and not key.startswith(HEAD_PREFIXES)]
    if others:
        raise OrthrusConversionError(f"{path}: unexpected keys outside the encoder and Orthrus's heads: "
                                     f"{_listed(others)}")
    embedding = encoder.get("embedding.weight")
    if embedding is None or embedding.dim() != 2:
        raise OrthrusConversionError(f"{path}: no 2-D {LIGHTNING_PREFIX}embedding.weight, so not an Orthrus encoder")
    layers = {int(match.group(1)) for key in encoder if (match := _LAYER.match(key))}
    sizes = {"n_tracks": int(embedding.shape[1]), "ssm_model_dim": int(embedding.shape[0]),
             "ssm_n_layers": max(layers) + 1 if layers else 0}  # fmt: skip
    return sizes, encoder


def build_model(sizes: dict[str, int], state: dict[str, torch.Tensor], *, source: Path) -> OrthrusModel:
    """An :class:`OrthrusModel` of these sizes holding ``state``; every mismatch is named."""
    try:
        config = OrthrusConfig(**{ours: sizes[theirs] for theirs, ours in CONFIG_FIELDS.items()})
    except ValueError as error:
        raise OrthrusConversionError(f"{source}: {error}") from error
    with torch.device("meta"):
        expected = OrthrusModel(config).state_dict()
    state = {key: value for key, value in state.items() if not key.startswith(HEAD_PREFIXES)}
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    fields = ", ".join(f"{theirs}={sizes[theirs]}" for theirs in CONFIG_FIELDS)
    if missing:
        raise OrthrusConversionError(f"{source}: {len(missing)} weights missing for {fields}: {_listed(missing)}")
    if extra:
        raise OrthrusConversionError(f"{source}: {len(extra)} unexpected weights for {fields}: {_listed(extra)}")
    for key, tensor in expected.items():
        if state[key].shape != tensor.shape:
            raise OrthrusConversionError(
                f"{source}: {key} has shape {tuple(state[key].shape)} but {fields} needs {tuple(tensor.shape)}"
                f"{_field_hint(key)}"
            )
    model = OrthrusModel(config)
    model.load_state_dict({key: value.to(torch.float32) for key, value in state.items()}, strict=True)
    return model.eval()


def _field_hint(key: str) -> str:
    if key.startswith("embedding."):
        return " (check n_tracks and ssm_model_dim)"
    return " (check ssm_model_dim)"


def convert_orthrus(source: str | Path, out_dir: str | Path) -> Path:
    """Convert an Orthrus folder or Lightning ``.ckpt`` to a model folder; returns ``out_dir``.

    Raises:
        OrthrusConversionError: naming the file, key or field for anything but a readable Orthrus encoder.
        FileExistsError: ``out_dir`` exists and is not empty.
    """
    source, out = Path(source), Path(out_dir)
    if not source.exists():
        raise OrthrusConversionError(f"no such Orthrus folder or checkpoint: {source}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose a new output folder")
    sizes, state = read_hf_folder(source) if source.is_dir() else read_lightning_checkpoint(source)
    model = build_model(sizes, state, source=source)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    IsoCLRTokenizer.from_model_config(model.config).save_pretrained(out)
    return out


def summarize(model_dir: Path) -> dict[str, Any]:
    """What a converted folder holds: the sizes and the parameter count."""
    config = OrthrusConfig.from_pretrained(model_dir)
    with torch.device("meta"):
        parameters = sum(p.numel() for p in OrthrusModel(config).parameters())
    return {"n_tracks": config.n_tracks, "hidden_size": config.hidden_size,
            "num_hidden_layers": config.num_hidden_layers, "parameters": parameters}  # fmt: skip


__all__ = ["OrthrusConversionError", "convert_orthrus", "read_hf_folder", "read_lightning_checkpoint", "summarize"]
