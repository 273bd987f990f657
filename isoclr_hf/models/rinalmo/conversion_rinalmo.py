"""RiNALMo checkpoints -> model folders that load with ``AutoModel`` / ``AutoModelForMaskedLM`` (``isoclr convert``).

Not remote code (package only). Two sources are read:

- a multimolecule RiNALMo folder (``config.json`` with ``model_type "rinalmo"``, ``model.safetensors``):
  multimolecule's names are this package's but for the prefix (``model.`` -> ``rinalmo.``), the head's
  ``transform.`` and the Swish beta (``intermediate.bias`` -> ``intermediate.swish_scale``); multimolecule's
  ``intermediate_size`` is RiNALMo's ``4 * hidden`` and its SwiGLU branches are ``int(2/3 * that)`` wide;
- the authors' checkpoint (``rinalmo_*_pretrained.pt`` of lbcb-sci/RiNALMo): a state dict of RiNALMo's
  own module names (``embedding``, ``transformer.blocks.{i}.mh_attn.Wqkv`` split into query/key/value,
  ``transition.0``/``transition.2``, ``lm_mask_head.linear1/2`` ...), bare or under ``"model"``, read with
  ``torch.load(weights_only=True)``. The 22-token vocabulary is re-ordered into the 28-token one (tokens it
  lacks take its ``<unk>`` row). The sizes come from the tensors; the heads are not in the file:
  ``num_attention_heads`` (RiNALMo's 20 for every size) can be given. This path was tested on checkpoints
  built in that layout from the reference weights, not on the published files (not available offline).

Any missing or extra key, or a shape the sizes do not explain, is an error naming the key and the fields.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from ..rnafm.conversion_rnafm import (
    DROPPED_PREFIXES,
    MaskedLMConversionError,
    build_checked,
    describe,
    listed,
    load_tensors,
    make_config,
    multimolecule_sizes,
    read_json,
    read_safetensors,
    reorder_vocabulary,
)
from .configuration_rinalmo import RiNALMoConfig
from .modeling_rinalmo import RiNALMoForMaskedLM, RiNALMoModel

MULTIMOLECULE_MODEL_TYPE = "rinalmo"
# multimolecule's `original_vocab_list` of its RiNALMo converter: the order of RiNALMo's own alphabet.
ORIGINAL_VOCABULARY = ("<cls>", "<pad>", "<eos>", "<unk>", "<mask>", "A", "C", "G", "U", "I", "R", "Y", "K", "M", "S",
                       "W", "B", "D", "H", "V", "N", "-")  # fmt: skip
ORIGINAL_HEADS = 20  # every published RiNALMo size (rinalmo/config.py)
ORIGINAL_RENAMES = (  # RiNALMo's name -> this package's (under "rinalmo.")
    (r"^embedding\.", "embeddings.word_embeddings."),
    (r"^transformer\.final_layer_norm\.", "encoder.layer_norm."),
    (r"^transformer\.blocks\.(\d+)\.mh_attn\.out_proj\.", r"encoder.layer.\1.attention.output.dense."),
    (r"^transformer\.blocks\.(\d+)\.attn_layer_norm\.", r"encoder.layer.\1.attention.layer_norm."),
    (r"^transformer\.blocks\.(\d+)\.out_layer_norm\.", r"encoder.layer.\1.layer_norm."),
    (r"^transformer\.blocks\.(\d+)\.transition\.0\.beta$", r"encoder.layer.\1.intermediate.swish_scale"),
    (r"^transformer\.blocks\.(\d+)\.transition\.0\.", r"encoder.layer.\1.intermediate."),
    (r"^transformer\.blocks\.(\d+)\.transition\.2\.", r"encoder.layer.\1.output.dense."),
)
HEAD_RENAMES = {
    "lm_mask_head.linear1.weight": "lm_head.dense.weight",
    "lm_mask_head.linear1.bias": "lm_head.dense.bias",
    "lm_mask_head.layer_norm.weight": "lm_head.layer_norm.weight",
    "lm_mask_head.layer_norm.bias": "lm_head.layer_norm.bias",
    "lm_mask_head.linear2.weight": "lm_head.decoder.weight",
    "lm_mask_head.linear2.bias": "lm_head.bias",
}
_QKV = re.compile(r"^transformer\.blocks\.(\d+)\.mh_attn\.Wqkv\.(weight|bias)$")


def from_multimolecule(folder: Path) -> torch.nn.Module:
    """A RiNALMo model from a multimolecule RiNALMo folder."""
    path = folder / "config.json"
    mm = read_json(path)
    sizes = multimolecule_sizes(mm, path, "RiNALMo", {"position_embedding_type": "rotary"})
    sizes["intermediate_size"] = int(2 / 3 * sizes["intermediate_size"])  # multimolecule's RiNALMoIntermediate
    config = make_config(RiNALMoConfig, path, **sizes, token_dropout=bool(mm.get("token_dropout", True)),
                         decoder_tied_to_embeddings=bool(mm.get("tie_word_embeddings", False)))  # fmt: skip
    state = {}
    for key, value in read_safetensors(folder).items():
        if key.startswith(DROPPED_PREFIXES) or key == "lm_head.decoder.bias" or key.endswith("inv_freq"):
            continue
        key = re.sub(r"^(model|rinalmo)\.", "rinalmo.", key).replace("lm_head.transform.", "lm_head.")
        state[re.sub(r"\.intermediate\.bias$", ".intermediate.swish_scale", key)] = value
    return build_checked(config, state, (RiNALMoForMaskedLM, RiNALMoModel), source=folder, fields=describe(config))


def from_original(path: Path, num_attention_heads: int = ORIGINAL_HEADS, checkpoint: Any = None) -> torch.nn.Module:
    """A RiNALMo model from the authors' ``.pt`` state dict (``num_attention_heads`` is not in the file;
    ``checkpoint``: the file's contents when already read with ``load_tensors``)."""
    checkpoint = load_tensors(path) if checkpoint is None else checkpoint
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("model"), dict):
        checkpoint = checkpoint["model"]
    if not isinstance(checkpoint, dict) or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise MaskedLMConversionError(f"{path}: no state dict of tensors in the checkpoint")
    embedding = checkpoint.get("embedding.weight")
    if embedding is None or embedding.dim() != 2:
        raise MaskedLMConversionError(f"{path}: no 2-D embedding.weight, so not a RiNALMo checkpoint "
                                      f"(keys: {listed(list(checkpoint))})")  # fmt: skip
    blocks = {int(m.group(1)) for key in checkpoint if (m := re.match(r"^transformer\.blocks\.(\d+)\.", key))}
    gate = checkpoint.get("transformer.blocks.0.transition.0.linear.weight")
    config = make_config(RiNALMoConfig, path, hidden_size=int(embedding.shape[1]),
                         num_hidden_layers=max(blocks) + 1 if blocks else 0, num_attention_heads=num_attention_heads,
                         intermediate_size=int(gate.shape[0]) if gate is not None else 1)  # fmt: skip
    state = {}
    for key, value in checkpoint.items():
        if key.endswith("inv_freq"):
            continue  # rotary frequencies: recomputed from the head width
        if (match := _QKV.match(key)) is not None:
            layer, kind = match.groups()
            if value.shape[0] % 3:
                raise MaskedLMConversionError(f"{path}: {key} has {value.shape[0]} rows, not 3 x hidden_size")
            for name, part in zip(("query", "key", "value"), value.chunk(3, dim=0), strict=True):
                state[f"rinalmo.encoder.layer.{layer}.attention.self.{name}.{kind}"] = part.clone()
            continue
        if key in HEAD_RENAMES:
            name = HEAD_RENAMES[key]
            if key.startswith("lm_mask_head.linear2"):
                value = reorder_vocabulary(value, ORIGINAL_VOCABULARY, source=path, key=key)
            state[name] = value
            continue
        renamed = key
        for pattern, replacement in ORIGINAL_RENAMES:
            renamed = re.sub(pattern, replacement, renamed)
        if key == "embedding.weight":
            value = reorder_vocabulary(value, ORIGINAL_VOCABULARY, source=path, key=key)
        state["rinalmo." + renamed] = value
    return build_checked(config, state, (RiNALMoForMaskedLM, RiNALMoModel), source=path, fields=describe(config))


__all__ = ["MULTIMOLECULE_MODEL_TYPE", "from_multimolecule", "from_original"]
