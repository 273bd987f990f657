"""Orthrus on a CUDA GPU: which mixer path transformers takes, the golden check, and throughput.

Run on a GPU machine from the repository root (no network needed):

    python benchmarks/orthrus_gpu_check.py --out OUT_DIR

1. Prints torch / CUDA / transformers versions and whether mamba-ssm and causal-conv1d import (with both,
   transformers runs ``MambaMixer`` with their CUDA kernels; without, a pure-torch scan on the GPU).
2. Golden check on CUDA, fp32: the reference model of ``tests/fixtures/orthrus`` (converted from the
   Orthrus layout) against Orthrus's own outputs (``outputs.npz``): every representation and valid
   state, alone and batched; the maximum absolute differences.
3. Throughput of Orthrus large (random weights) on CUDA, fp32 and bf16 autocast, at 1k and 4k nt: the
   encoder's forward, and a contrastive training step (DCL loss, masking, AdamW; package only). Without
   mamba-ssm, once per scan of ``--scans`` (``ORTHRUS_SCAN``: ``auto`` is the compiled chunked scan of
   ``scan_orthrus.py``, ``reference`` the loop over positions), with the first call's time (compiling).

Writes ``OUT_DIR/orthrus_gpu.json`` and ``OUT_DIR/orthrus_gpu.md``. Uses the package when it imports;
otherwise the remote code of a converted folder (``--reference-folder``), which needs only torch and
transformers.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "fixtures" / "orthrus"


def environment() -> dict:
    info: dict = {"python": platform.python_version(), "torch": torch.__version__,
                  "cuda_available": torch.cuda.is_available(), "torch_cuda": torch.version.cuda}  # fmt: skip
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    for module in ("transformers", "mamba_ssm", "causal_conv1d", "kernels", "safetensors"):
        try:
            info[module] = getattr(importlib.import_module(module), "__version__", "imported")
        except Exception as error:
            info[module] = f"not importable ({type(error).__name__}: {str(error).splitlines()[0][:120]})"
    return info


def orthrus_classes(reference_folder: Path | None) -> tuple[type, type, Path, str]:
    """(OrthrusConfig, OrthrusModel, converted reference folder, where the classes came from)."""
    try:
        sys.path.insert(0, str(ROOT))
        from isoclr_hf.models.orthrus import OrthrusConfig, OrthrusModel
        from isoclr_hf.models.orthrus.conversion_orthrus import convert_orthrus

        scratch = Path(tempfile.mkdtemp())
        source = scratch / "orthrus_hf"
        source.mkdir()
        shutil.copyfile(GOLDEN / "config.json", source / "config.json")
        shutil.copyfile(GOLDEN / "weights_orthrus_hf.safetensors", source / "model.safetensors")
        return OrthrusConfig, OrthrusModel, convert_orthrus(source, scratch / "converted"), "isoclr_hf package"
    except ImportError as error:
        if reference_folder is None:
            raise
        from transformers.dynamic_module_utils import get_class_from_dynamic_module

        model_class = get_class_from_dynamic_module("modeling_orthrus.OrthrusModel", str(reference_folder))
        config_class = get_class_from_dynamic_module("configuration_orthrus.OrthrusConfig", str(reference_folder))
        return config_class, model_class, reference_folder, f"remote code of {reference_folder} ({error})"


@torch.no_grad()
def golden_check(model_class: type, folder: Path, device: str) -> dict:
    model = model_class.from_pretrained(folder).to(device).eval()
    inputs, outputs = np.load(GOLDEN / "inputs.npz"), np.load(GOLDEN / "outputs.npz")
    x, lengths = torch.from_numpy(inputs["x_padded"]).to(device), torch.from_numpy(inputs["lengths"]).to(device)
    mask = (torch.arange(x.shape[1], device=device)[None] < lengths[:, None]).long()

    def valid(states: torch.Tensor, ns: list[int]) -> np.ndarray:
        return np.concatenate([states[i, :n].cpu().numpy() for i, n in enumerate(ns)])

    ns = lengths.tolist()
    result = {
        "repr_batch": model.representation(x, lengths, channel_last=True).cpu().numpy() - outputs["repr_batch"],
        "hidden_batch_valid": valid(model(tracks=x, attention_mask=mask).last_hidden_state, ns)
        - outputs["hidden_batch_valid"],
    }
    alone_repr, alone_states = [], []
    for row, n in enumerate(ns):
        single = x[row : row + 1, :n]
        alone_repr.append(model.representation(single, [n], channel_last=True).cpu().numpy())
        alone_states.append(valid(model(tracks=single).last_hidden_state, [n]))
    result["repr_alone"] = np.concatenate(alone_repr) - outputs["repr_alone"]
    result["hidden_alone"] = np.concatenate(alone_states) - outputs["hidden_alone"]
    long_x = torch.from_numpy(inputs["long_x"])[None].to(device)
    result["long_repr"] = model.representation(long_x, [long_x.shape[1]], channel_last=True)[0].cpu().numpy() - \
        outputs["long_repr"]
    return {name: float(np.abs(difference).max()) for name, difference in result.items()}


def throughput(config_class: type, model_class: type, device: str, lengths: list[int], budget: int,
               scan: str) -> list[dict]:  # fmt: skip
    os.environ["ORTHRUS_SCAN"] = scan
    torch.manual_seed(0)
    model = model_class(config_class(n_tracks=6, hidden_size=512, num_hidden_layers=6)).to(device).eval()
    parameters = sum(p.numel() for p in model.parameters())
    rows = []
    for length in lengths:
        batch = max(1, budget // length)
        ids = torch.randint(1, 5, (batch, length), device=device)
        for precision in ("fp32", "bf16"):
            def forward(ids: torch.Tensor = ids, low: bool = precision == "bf16") -> None:
                with torch.inference_mode(), torch.autocast(device, torch.bfloat16, enabled=low):
                    model(input_ids=ids)

            start = time.perf_counter()
            forward()  # warm-up (compiles the chunked scan on the first call)
            torch.cuda.synchronize()
            first_call = time.perf_counter() - start
            best = float("inf")
            for _ in range(2):
                start = time.perf_counter()
                forward()
                torch.cuda.synchronize()
                best = min(best, time.perf_counter() - start)
            rows.append({"scan": scan, "length": length, "precision": precision, "batch": batch, "seconds": best,
                         "nt_per_s": batch * length / best, "first_call_s": first_call,
                         "parameters": parameters})  # fmt: skip
            print(f"orthrus-large {scan} {length} nt x {batch} {precision}: {batch * length / best:,.0f} nt/s",
                  flush=True)  # fmt: skip
    return rows


def training_throughput(device: str, pairs: int, length: int, scan: str) -> list[dict]:
    from isoclr_hf.models.orthrus import OrthrusConfig, OrthrusForContrastivePretraining

    os.environ["ORTHRUS_SCAN"] = scan
    torch.manual_seed(0)
    model = OrthrusForContrastivePretraining(OrthrusConfig.from_preset("orthrus-large")).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ids = torch.randint(1, 5, (2, pairs, length), device=device)
    batch = {"input_ids": ids[0], "attention_mask": torch.ones_like(ids[0]), "cds_track": None, "splice_track": None,
             "partner_input_ids": ids[1], "partner_attention_mask": torch.ones_like(ids[1]),
             "partner_cds_track": None, "partner_splice_track": None,
             "weights": torch.ones(pairs, device=device)}  # fmt: skip
    rows = []
    for precision in ("fp32", "bf16"):
        def step(low: bool = precision == "bf16") -> None:
            with torch.autocast(device, torch.bfloat16, enabled=low):
                loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        step()  # warm-up
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(2):
            step()
        torch.cuda.synchronize()
        seconds = (time.perf_counter() - start) / 2
        rows.append({"scan": scan, "precision": precision, "pairs": pairs, "length": length, "s_per_step": seconds,
                     "pairs_per_s": pairs / seconds})  # fmt: skip
        print(f"train orthrus-large {scan} {pairs} pairs x {length} nt {precision}: {pairs / seconds:.1f} pairs/s",
              flush=True)  # fmt: skip
    return rows


def render(record: dict) -> str:
    env = record["environment"]
    lines = ["# Orthrus on GPU", "", "Command: `python benchmarks/orthrus_gpu_check.py --out OUT` on the project's GPU "
             "machine (one run; no network there).", "", "| | |", "|---|---|"]  # fmt: skip
    for key, value in env.items():
        lines.append(f"| {key} | {value} |")
    lines += [f"| classes from | {record.get('classes_from')} |", f"| mixer path | {record.get('mixer_path')} |", ""]
    if "golden" in record:
        lines += ["## Golden check on CUDA, fp32 (max abs difference to Orthrus's own outputs)", "",
                  "| output | max abs diff |", "|---|---:|"]  # fmt: skip
        lines += [f"| {name} | {value:.3g} |" for name, value in record["golden"].items()]
        lines.append("")
    if record.get("throughput"):
        lines += ["## Orthrus large (random weights) embedding throughput", "",
                  "| scan | length | precision | batch | s/forward | nt/s | first call (s) |",
                  "|---|---:|---|---:|---:|---:|---:|"]  # fmt: skip
        lines += [f"| {r.get('scan', 'auto')} | {r['length']:,} | {r['precision']} | {r['batch']} | {r['seconds']:.3f} "
                  f"| {r['nt_per_s']:,.0f} | {r.get('first_call_s', float('nan')):.1f} |"
                  for r in record["throughput"]]  # fmt: skip
        lines.append("")
    if record.get("training"):
        lines += ["## Orthrus large contrastive training step (random tokens, DCL loss, 15% masking, AdamW)", "",
                  "| scan | pairs | length | precision | s/step | pairs/s |",
                  "|---|---:|---:|---|---:|---:|"]  # fmt: skip
        lines += [f"| {r.get('scan', 'auto')} | {r['pairs']} | {r['length']:,} | {r['precision']} | "
                  f"{r['s_per_step']:.3f} | {r['pairs_per_s']:.1f} |" for r in record["training"]]  # fmt: skip
        lines.append("")
    for error in record.get("errors", []):
        lines += ["```", error.strip(), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reference-folder", type=Path, default=None, help="converted folder (remote-code fallback)")
    parser.add_argument("--lengths", nargs="+", type=int, default=[1024, 4096])
    parser.add_argument("--nucleotides-per-batch", type=int, default=16_384)
    parser.add_argument("--train-pairs", type=int, default=16)
    parser.add_argument("--train-length", type=int, default=1024)
    parser.add_argument("--scans", nargs="+", choices=["auto", "compiled", "eager", "reference"],
                        default=["auto", "reference"], help="ORTHRUS_SCAN values measured (without mamba-ssm)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    record: dict = {"environment": environment(), "errors": []}
    print(json.dumps(record["environment"], indent=1), flush=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    def save() -> None:
        (args.out / "orthrus_gpu.json").write_text(json.dumps(record, indent=1) + "\n")
        (args.out / "orthrus_gpu.md").write_text(render(record))

    try:
        config_class, model_class, folder, record["classes_from"] = orthrus_classes(args.reference_folder)
        kernels = importlib.import_module(model_class.__module__.rsplit(".", 1)[0] + ".encoder_orthrus").CUDA_KERNELS
        record["mixer_path"] = ("transformers MambaMixer.forward (CUDA kernels)" if kernels and device == "cuda"
                                else "OrthrusMixer.scan_forward (pure torch, ORTHRUS_SCAN per row)")  # fmt: skip
        record["golden"] = golden_check(model_class, folder, device)
        print("golden", json.dumps(record["golden"]), flush=True)
        save()
        if device == "cuda":
            scans = ["auto"] if kernels else args.scans  # with mamba-ssm's kernels the scan setting is unused
            record["throughput"], record["training"] = [], []
            for scan in scans:
                record["throughput"] += throughput(config_class, model_class, device, args.lengths,
                                                   args.nucleotides_per_batch, scan)  # fmt: skip
                save()
            if record["classes_from"] == "isoclr_hf package":
                for scan in scans:
                    record["training"] += training_throughput(device, args.train_pairs, args.train_length, scan)
                    save()
    except Exception:
        record["errors"].append(traceback.format_exc())
        print(record["errors"][-1], flush=True)
    save()
    print(render(record))


if __name__ == "__main__":
    main()
