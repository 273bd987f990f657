"""Convert a published checkpoint (Orthrus, RNA-FM, RiNALMo) to a model folder that loads with AutoModel.

SRC is detected from what it holds:
  - an Orthrus Hugging Face folder (config.json model_type "orthrus") or Lightning checkpoint (.ckpt);
  - a multimolecule RNA-FM or RiNALMo folder (config.json model_type "rnafm" / "rinalmo", model.safetensors);
  - the authors' RNA-FM checkpoint (RNA-FM_pretrained.pth: {"args", "model"}) or RiNALMo checkpoint
    (rinalmo_*_pretrained.pt: a state dict with embedding.weight and transformer.blocks.*).
Files are read with torch.load(weights_only=True) (RNA-FM's argparse.Namespace is the one class allowed),
never unpickled. OUT gets the weights (safetensors), a config.json of model_type "isoclr_orthrus",
"isoclr_rnafm" or "isoclr_rinalmo", the remote code and the tokenizer: AutoModel (and, for RNA-FM and
RiNALMo, AutoModelForMaskedLM) .from_pretrained(OUT, trust_remote_code=True) load it without this package,
and `isoclr embed` / `isoclr evaluate` take it. The RNA-FM/RiNALMo original-checkpoint paths were tested on
files built in those layouts, not on the published files.

Examples:
    isoclr convert multimolecule-rnafm/ models/rnafm
    isoclr convert RNA-FM_pretrained.pth models/rnafm
    isoclr convert rinalmo_micro_pretrained.pt models/rinalmo-micro
    isoclr convert orthrus-large-6-track/ models/orthrus-large
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from ..models.orthrus.conversion_orthrus import convert_orthrus
from ..models.rinalmo import conversion_rinalmo
from ..models.rnafm import conversion_rnafm
from ..models.rnafm.conversion_rnafm import MaskedLMConversionError, load_tensors, read_json, write_folder

PACKAGE_TYPES = ("isoclr", "isoclr_orthrus", "isoclr_rnafm", "isoclr_rinalmo")
FOLDER_TYPES = ("orthrus", "rnafm", "rinalmo")


def detect_file(path: Path, checkpoint: Any) -> str:
    """``"orthrus"``, ``"rnafm"`` or ``"rinalmo"`` for a checkpoint's contents; raises naming the file."""
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("model"), dict):
        keys = list(checkpoint["model"])
        if any(key.endswith("embed_tokens.weight") for key in keys):
            return "rnafm"
        checkpoint = checkpoint["model"]
    if isinstance(checkpoint, dict):
        if "embedding.weight" in checkpoint and any(str(k).startswith("transformer.blocks.") for k in checkpoint):
            return "rinalmo"
        state = checkpoint.get("state_dict", checkpoint)
        if isinstance(state, dict) and "model.embedding.weight" in state:
            return "orthrus"
    raise MaskedLMConversionError(
        f"{path}: not a checkpoint this command knows (an Orthrus Lightning .ckpt with model.embedding.weight, "
        "an RNA-FM .pth with {'args', 'model': ...embed_tokens...}, or a RiNALMo .pt with embedding.weight and "
        "transformer.blocks.*)"
    )


def convert(source: str | Path, out_dir: str | Path, *, num_attention_heads: int | None = None) -> tuple[str, Path]:
    """Convert ``source`` into ``out_dir``; returns the family (``"orthrus"``, ``"rnafm"``, ``"rinalmo"``) and folder.

    Raises:
        ValueError: naming the file, key or field, for anything but a readable checkpoint of these families.
        FileExistsError: ``out_dir`` exists and is not empty.
    """
    source, out = Path(source), Path(out_dir)
    if not source.exists():
        raise MaskedLMConversionError(f"no such checkpoint folder or file: {source}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose a new output folder")
    if source.is_dir():
        config_path = source / "config.json"
        if not config_path.is_file():
            raise MaskedLMConversionError(f"{source}: no config.json; expected a model folder or a checkpoint file")
        model_type = read_json(config_path).get("model_type")
        if model_type in PACKAGE_TYPES:
            raise MaskedLMConversionError(f"{source}: already an isoclr-hf folder (model_type {model_type!r}); "
                                          "load it with AutoModel")  # fmt: skip
        if model_type not in FOLDER_TYPES:
            raise MaskedLMConversionError(f"{config_path}: model_type {model_type!r} is not one this command converts "
                                          f"({', '.join(map(repr, FOLDER_TYPES))})")  # fmt: skip
        family = str(model_type)
        if family == "orthrus":
            return family, convert_orthrus(source, out)
        model = (conversion_rnafm if family == "rnafm" else conversion_rinalmo).from_multimolecule(source)
        return family, write_folder(model, out)
    if source.suffix == ".ckpt":
        return "orthrus", convert_orthrus(source, out)
    checkpoint = load_tensors(source)
    family = detect_file(source, checkpoint)
    if family == "orthrus":
        return family, convert_orthrus(source, out)
    if family == "rnafm":
        model = conversion_rnafm.from_original(source, checkpoint=checkpoint)
    else:
        heads = conversion_rinalmo.ORIGINAL_HEADS if num_attention_heads is None else num_attention_heads
        model = conversion_rinalmo.from_original(source, heads, checkpoint=checkpoint)
    return family, write_folder(model, out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, metavar="SRC", help="Checkpoint folder or file (see above).")
    parser.add_argument("out", type=Path, metavar="OUT", help="Folder to write (new, or empty).")
    parser.add_argument(
        "--num-attention-heads",
        type=int,
        default=None,
        help="Heads of a RiNALMo .pt (not stored in the file; default 20, every published size).",
    )


def run(args: argparse.Namespace) -> int:
    from transformers import AutoConfig, AutoModel

    family, out = convert(args.source, args.out, num_attention_heads=args.num_attention_heads)

    config = AutoConfig.from_pretrained(out)
    with torch.device("meta"):
        parameters = sum(p.numel() for p in AutoModel.from_config(config).parameters())
    print(f"Converted {args.source} ({family}) -> {out}: hidden_size={config.hidden_size}, "
          f"{config.num_hidden_layers} layers, {parameters:,} encoder parameters. "
          f"Load with AutoModel.from_pretrained({str(out)!r}, trust_remote_code=True).")  # fmt: skip
    return 0
