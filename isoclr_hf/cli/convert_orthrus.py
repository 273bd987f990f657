"""Convert an Orthrus checkpoint to a model folder that loads with AutoModel (no mamba-ssm, CPU or GPU).

SRC is an Orthrus Hugging Face folder (config.json with model_type "orthrus" and model.safetensors)
or an Orthrus Lightning checkpoint (.ckpt, encoder keys under "model."; read as tensors only, never
unpickled). OUT gets the weights, a config.json of model_type "isoclr_orthrus", the remote code and
the IsoCLR tokenizer: AutoModel / AutoTokenizer.from_pretrained(OUT, trust_remote_code=True) load it
without this package, and `isoclr embed` / `isoclr evaluate` take it. Orthrus's heads (contrastive
projections, MLM, splice/codon) are left out, as Orthrus's own load_model does.

Examples:
    isoclr convert-orthrus orthrus-large-6-track/ models/orthrus-large
    isoclr convert-orthrus epoch=21-step=20000.ckpt models/orthrus-base
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, metavar="SRC",
                        help="Orthrus folder (config.json + model.safetensors) or Lightning checkpoint (.ckpt).")
    parser.add_argument("out", type=Path, metavar="OUT", help="Folder to write (new, or empty).")


def run(args: argparse.Namespace) -> int:
    from ..models.orthrus.conversion_orthrus import convert_orthrus, summarize  # torch, transformers: work starts

    out = convert_orthrus(args.source, args.out)
    sizes = summarize(out)
    print(f"Converted {args.source} -> {out}: {sizes['n_tracks']} tracks, d={sizes['hidden_size']}, "
          f"{sizes['num_hidden_layers']} layers, {sizes['parameters']:,} parameters. "
          f"Load with AutoModel.from_pretrained({str(out)!r}, trust_remote_code=True).")
    return 0
