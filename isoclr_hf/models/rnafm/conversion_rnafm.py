"""RNA-FM checkpoints -> model folders that load with ``AutoModel`` / ``AutoModelForMaskedLM`` (``isoclr convert``).

Not remote code (package only). Two sources are read:

- a multimolecule RNA-FM folder (``config.json`` with ``model_type "rnafm"``, ``model.safetensors``):
  multimolecule's names (``model.embeddings...``, ``model.encoder.layer.{i}...``, ``lm_head.transform...``)
  are this package's but for the prefix; the sizes come from its config;
- the authors' checkpoint (``RNA-FM_pretrained.pth`` of ml4bio/RNA-FM): ``{"args": Namespace, "model":
  fairseq state dict}``, read with ``torch.load(weights_only=True)`` allowing ``argparse.Namespace`` only.
  Keys are upgraded as RNA-FM's own loader does (``encoder.sentence_encoder.`` / ``encoder.`` stripped)
  and renamed from ESM-1b's (``embed_tokens``, ``layers.{i}.self_attn.q_proj``, ``fc1`` ...); the
  25-token vocabulary is re-ordered into the 28-token one (tokens it lacks take its ``<unk>`` row, as
  its tokenizer reads them), and the ``<mask>`` embedding is zeroed as RNA-FM's loader does. The sizes
  come from the tensors and ``args.encoder_attention_heads``. This path was tested on checkpoints built
  in that layout from the reference weights, not on the published file (not available offline).

The helpers shared with RiNALMo's conversion (the strict check, writing the folder) live here too.
Any missing or extra key, or a shape the sizes do not explain, is an error naming the key and the fields.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import torch

from .configuration_rnafm import RnaFmConfig
from .modeling_rnafm import RnaFmForMaskedLM, RnaFmModel
from .tokenization_nucleotide import VOCABULARY, NucleotideTokenizer

MULTIMOLECULE_MODEL_TYPE = "rnafm"
# multimolecule's `original_vocabs["single"]` of its RNA-FM converter: the order of RNA-FM's own alphabet.
ORIGINAL_VOCABULARY = ("<cls>", "<pad>", "<eos>", "<unk>", "A", "C", "G", "U", "R", "Y", "K", "M", "S", "W", "B",
                       "D", "H", "V", "N", "-", "<null>", "<null>", "<null>", "<null>", "<mask>")  # fmt: skip
ORIGINAL_RENAMES = (  # ESM-1b name (after RNA-FM's upgrade) -> this package's (under "rnafm.")
    (r"^embed_tokens\.", "embeddings.word_embeddings."),
    (r"^embed_positions\.", "embeddings.position_embeddings."),
    (r"^emb_layer_norm_before\.", "embeddings.layer_norm."),
    (r"^emb_layer_norm_after\.", "encoder.layer_norm."),
    (r"^layers\.(\d+)\.self_attn\.q_proj\.", r"encoder.layer.\1.attention.self.query."),
    (r"^layers\.(\d+)\.self_attn\.k_proj\.", r"encoder.layer.\1.attention.self.key."),
    (r"^layers\.(\d+)\.self_attn\.v_proj\.", r"encoder.layer.\1.attention.self.value."),
    (r"^layers\.(\d+)\.self_attn\.out_proj\.", r"encoder.layer.\1.attention.output.dense."),
    (r"^layers\.(\d+)\.self_attn_layer_norm\.", r"encoder.layer.\1.attention.layer_norm."),
    (r"^layers\.(\d+)\.fc1\.", r"encoder.layer.\1.intermediate.dense."),
    (r"^layers\.(\d+)\.fc2\.", r"encoder.layer.\1.output.dense."),
    (r"^layers\.(\d+)\.final_layer_norm\.", r"encoder.layer.\1.layer_norm."),
)
MULTIMOLECULE_FIELDS = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                        "max_position_embeddings", "layer_norm_eps")  # fmt: skip
# multimolecule's head modules that a masked-LM folder may carry and this package does not.
DROPPED_PREFIXES = ("pooler.", "contact_head.", "pretrain.contact_head.")


class MaskedLMConversionError(ValueError):
    """A source that is not a readable RNA-FM or RiNALMo checkpoint; the message names the file, key or field."""


def listed(keys: list[str], shown: int = 5) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:shown]) + (f" and {len(keys) - shown} more" if len(keys) > shown else "")


def read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MaskedLMConversionError(f"{path}: not a readable JSON config ({error})") from error
    if not isinstance(value, dict):
        raise MaskedLMConversionError(f"{path}: not a JSON object")
    return value


def read_safetensors(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = folder / "model.safetensors"
    if not path.is_file():
        raise MaskedLMConversionError(f"{folder}: no model.safetensors in the folder")
    try:
        return load_file(path)
    except (SafetensorError, OSError, RuntimeError, ValueError) as error:
        raise MaskedLMConversionError(f"{path}: cannot read the weights, the file is truncated or corrupt ({error})") \
            from error  # fmt: skip


def load_tensors(path: Path) -> Any:
    """``torch.load(weights_only=True)``; ``argparse.Namespace`` (RNA-FM's ``args``) is the one class allowed."""
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise MaskedLMConversionError(
            f"{path}: cannot be read as tensors with torch.load(weights_only=True) ({first}). Checkpoints are never "
            "unpickled here; in a trusted environment save the state dict alone and convert that"
        ) from error


def multimolecule_sizes(config: dict[str, Any], path: Path, family: str, checks: dict[str, Any]) -> dict[str, Any]:
    """The multimolecule config's sizes, after checking the fields whose values this package fixes."""
    for field, expected in {"vocab_size": len(VOCABULARY), "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2,
                            "mask_token_id": 4, "hidden_act": "gelu", **checks}.items():  # fmt: skip
        if field in config and config[field] != expected:
            raise MaskedLMConversionError(f"{path}: {field} is {config[field]!r}; a {family} checkpoint this package "
                                          f"converts has {expected!r}")  # fmt: skip
    head = config.get("lm_head") or {}
    if head and (head.get("transform") not in (None, "nonlinear") or head.get("transform_act") not in (None, "gelu")):
        raise MaskedLMConversionError(
            f"{path}: lm_head transform {head.get('transform')!r}/"
            f"{head.get('transform_act')!r} is not the dense-GELU-LayerNorm head"
        )
    sizes = {}
    for field in MULTIMOLECULE_FIELDS:
        value = config.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise MaskedLMConversionError(f"{path}: {field} must be a positive number, got {value!r}")
        sizes[field] = value
    return sizes


def build_checked(config: Any, state: dict[str, torch.Tensor], classes: tuple[type, type], *, source: Path,
                  fields: str) -> torch.nn.Module:  # fmt: skip
    """The masked-LM model (or the encoder, when ``state`` has no ``lm_head.``) holding ``state``, strictly.

    ``state`` is in the masked-LM model's names (encoder under its ``base_model_prefix``).
    """
    masked_lm_class, encoder_class = classes
    prefix = masked_lm_class.base_model_prefix + "."
    with_head = any(key.startswith("lm_head.") for key in state)
    if not with_head:
        state = {key.removeprefix(prefix): value for key, value in state.items()}
    model_class = masked_lm_class if with_head else encoder_class
    with torch.device("meta"):
        expected = model_class(config).state_dict()
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing:
        raise MaskedLMConversionError(f"{source}: {len(missing)} weights missing for {fields}: {listed(missing)}")
    if extra:
        raise MaskedLMConversionError(f"{source}: {len(extra)} unexpected weights for {fields}: {listed(extra)}")
    for key, tensor in expected.items():
        if state[key].shape != tensor.shape:
            raise MaskedLMConversionError(f"{source}: {key} has shape {tuple(state[key].shape)} but {fields} needs "
                                          f"{tuple(tensor.shape)}")  # fmt: skip
    model = model_class(config)
    model.load_state_dict({key: value.to(torch.float32) for key, value in state.items()}, strict=True)
    return model.eval()


def describe(config: Any) -> str:
    names = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "max_position_embeddings")
    return ", ".join(f"{name}={getattr(config, name)}" for name in names)


def make_config(config_class: type, source: Path, **values: Any) -> Any:
    try:
        return config_class(**values)
    except ValueError as error:
        raise MaskedLMConversionError(f"{source}: {error}") from error


def write_folder(model: torch.nn.Module, out: Path) -> Path:
    """Save the model (safetensors, config, remote code) and the tokenizer into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    NucleotideTokenizer().save_pretrained(out)
    return out


def reorder_vocabulary(rows: torch.Tensor, original: tuple[str, ...], *, source: Path, key: str) -> torch.Tensor:
    """Rows of an original vocabulary -> the 28-token one; tokens it lacks take its ``<unk>`` row.

    Shape: (V, ...) -> (28, ...).
    """
    if rows.shape[0] != len(original):
        raise MaskedLMConversionError(f"{source}: {key} has {rows.shape[0]} rows but the original vocabulary has "
                                      f"{len(original)} tokens")  # fmt: skip
    index = [original.index(token) if token in original else original.index("<unk>") for token in VOCABULARY]
    return rows[index].clone()


# --- RNA-FM -----------------------------------------------------------------------------------------


def from_multimolecule(folder: Path) -> torch.nn.Module:
    """An RNA-FM model from a multimolecule RNA-FM folder."""
    path = folder / "config.json"
    mm = read_json(path)
    sizes = multimolecule_sizes(mm, path, "RNA-FM", {"position_embedding_type": "absolute", "codon": False})
    config = make_config(
        RnaFmConfig, path, **sizes, embedding_layer_norm=bool(mm.get("embed_norm", True)),
        token_dropout=bool(mm.get("token_dropout", False)),
        decoder_tied_to_embeddings=bool(mm.get("tie_word_embeddings", True)),
    )  # fmt: skip
    state = {}
    for key, value in read_safetensors(folder).items():
        if key.startswith(DROPPED_PREFIXES) or key == "lm_head.decoder.bias":
            continue
        key = re.sub(r"^(model|rnafm)\.", "rnafm.", key)
        key = key.replace("lm_head.transform.", "lm_head.").replace("pretrain.predictions.", "lm_head.")
        key = key.replace(".emb_layer_norm_after.", ".layer_norm.")
        if key == "lm_head.decoder.weight" and config.decoder_tied_to_embeddings:
            continue  # multimolecule may save the tied decoder too: it is the embedding
        state[key] = value
    return build_checked(config, state, (RnaFmForMaskedLM, RnaFmModel), source=folder, fields=describe(config))


def upgrade_original_key(key: str) -> str:
    """RNA-FM's own upgrade of fairseq names (``fm.pretrained``): strip ``sentence_encoder.`` then ``encoder.``."""
    for marker in ("sentence_encoder.", "encoder."):
        if marker in key:
            key = key.split(marker, 1)[1]
    return key


def from_original(path: Path, checkpoint: Any = None) -> torch.nn.Module:
    """An RNA-FM model from the authors' ``.pth`` (``{"args": Namespace, "model": state dict}``; ``checkpoint``:
    its contents when already read with :func:`load_tensors`)."""
    checkpoint = load_tensors(path) if checkpoint is None else checkpoint
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("model"), dict):
        raise MaskedLMConversionError(f"{path}: no 'model' state dict; an RNA-FM .pth holds {{'args', 'model'}}")
    args = checkpoint.get("args")
    heads = getattr(args, "encoder_attention_heads", 20)  # the published RNA-FM's 20 when args are absent
    original = {upgrade_original_key(key): value for key, value in checkpoint["model"].items()
                if not key.endswith("version") and not isinstance(value, int)}  # fmt: skip
    tokens, positions = original.get("embed_tokens.weight"), original.get("embed_positions.weight")
    if tokens is None or positions is None:
        raise MaskedLMConversionError(f"{path}: no embed_tokens.weight / embed_positions.weight, so not RNA-FM "
                                      f"(keys: {listed(list(original))})")  # fmt: skip
    layers = {int(m.group(1)) for key in original if (m := re.match(r"^layers\.(\d+)\.", key))}
    fc1 = original.get("layers.0.fc1.weight")
    config = make_config(
        RnaFmConfig, path, hidden_size=int(tokens.shape[1]), num_hidden_layers=max(layers) + 1 if layers else 0,
        num_attention_heads=int(heads), intermediate_size=int(fc1.shape[0]) if fc1 is not None else 1,
        max_position_embeddings=int(positions.shape[0]),
    )  # fmt: skip
    state = {}
    for key, value in original.items():
        if key.startswith("contact_head."):
            continue  # RNA-FM's contact regression: not carried
        if key.startswith("lm_head."):
            name = {"lm_head.weight": None, "lm_head.bias": "lm_head.bias"}.get(key, key)
            if name is None:  # the tied decoder: it must be the token embedding
                if value.shape != tokens.shape or not torch.equal(value, tokens):
                    raise MaskedLMConversionError(f"{path}: lm_head.weight differs from embed_tokens.weight; RNA-FM "
                                                  "ties them")  # fmt: skip
                continue
            state[name] = reorder_vocabulary(value, ORIGINAL_VOCABULARY, source=path, key=key) if name == \
                "lm_head.bias" else value  # fmt: skip
            continue
        renamed = key
        for pattern, replacement in ORIGINAL_RENAMES:
            renamed = re.sub(pattern, replacement, renamed)
        if key == "embed_tokens.weight":
            value = reorder_vocabulary(value, ORIGINAL_VOCABULARY, source=path, key=key)
            value[VOCABULARY.index("<mask>")] = 0.0  # RNA-FM's loader: "For token drop"
        state["rnafm." + renamed] = value
    return build_checked(config, state, (RnaFmForMaskedLM, RnaFmModel), source=path, fields=describe(config))


__all__ = ["MULTIMOLECULE_MODEL_TYPE", "MaskedLMConversionError", "from_multimolecule", "from_original"]
