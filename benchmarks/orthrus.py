"""Orthrus large vs isoclr-m on this CPU, old scan vs new scan, side by side in one run.

Embedding: nucleotides/s of the encoder's forward (``torch.inference_mode``, random weights, random
transcripts with exons and a CDS, token ids from ``IsoCLRTokenizer``) at each length, batch 1 and 4,
in fp32 and in bf16 (``torch.autocast``, what ``isoclr embed --dtype bfloat16`` uses), with the FLOPs
per nucleotide (``torch.utils.flop_counter``: matmuls and convolutions) and the achieved GFLOP/s as a
fraction of the dense matmul peak of the same dtype, measured in the same run (``inference.py``'s
``matmul_peak``). The cases take turns, round after round, so that noise hits all of them.

Orthrus runs twice: with the old scan (``ORTHRUS_SCAN=reference``: the loop over positions) and the
new one (default: ``scan_orthrus.py``'s chunks compiled by ``torch.compile``). Also measured:

- the scan alone (one Orthrus-large layer, 1 x 4,096 nt): reference, eager chunks, compiled chunks;
- compile time, in fresh processes: cold (an empty ``TORCHINDUCTOR_CACHE_DIR``) and warm (the same
  directory again): the first inference call at batch 1 and 4 and the first training step;
- a forward + backward at 256, 1k and 4k nt (batch 1): seconds and the bytes autograd saves for the
  backward (``saved_tensors_hooks``), to show both grow linearly with the length;
- pretraining pairs/s (the DCL loss, 15% masking, AdamW) on the same length-bucketed real pairs of the
  bundled corpus for all three (``training_throughput.py``'s ``real_batches``), with 256-nt crops.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/orthrus.py --threads 1   # results/orthrus.md
    python benchmarks/orthrus.py --lengths 1024 --batches 1 --train-precisions fp32

Writes benchmarks/results/orthrus.{md,json}. Timings on a shared machine vary; the ratios within one
run are the figures to read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from inference import matmul_peak, timed  # sibling benchmark script: peak and timing helpers
from torch.utils.flop_counter import FlopCounterMode
from training_throughput import real_batches  # sibling benchmark script: bucketed real pairs

from isoclr_hf import IsoCLRConfig, IsoCLRForContrastivePretraining, IsoCLRModel, IsoCLRTokenizer
from isoclr_hf.machine import cpu_description
from isoclr_hf.models.orthrus import OrthrusConfig, OrthrusForContrastivePretraining, OrthrusModel
from isoclr_hf.models.orthrus.encoder_orthrus import selective_scan
from isoclr_hf.models.orthrus.scan_orthrus import COMPILED_CHUNK, fast_selective_scan

RESULTS = Path(__file__).resolve().parent / "results"
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
# Each measured model: (model, ORTHRUS_SCAN for it or None).
VARIANTS = {"isoclr-m": ("isoclr-m", None), "orthrus old scan": ("orthrus-large", "reference"),
            "orthrus new scan": ("orthrus-large", "auto")}  # fmt: skip


def scan_setting(path: str | None) -> None:
    if path is None:
        os.environ.pop("ORTHRUS_SCAN", None)
    else:
        os.environ["ORTHRUS_SCAN"] = path


def encoders() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {"isoclr-m": IsoCLRModel(IsoCLRConfig.from_preset("isoclr-m")).eval(),
            "orthrus-large": OrthrusModel(OrthrusConfig.from_preset("orthrus-large")).eval()}  # fmt: skip


def transcripts(length: int, count: int) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(count)]
    exons, cds = [length // 3, 2 * length // 3, length], (100, 100 + 3 * ((length - 200) // 3))
    return dict(IsoCLRTokenizer()(sequences, exon_ends=[exons] * count, cds=[cds] * count, return_tensors="pt"))


def flops_per_nucleotide(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> float:
    scan_setting("reference")  # the counter sees matmuls and convolutions; the same in every scan
    with FlopCounterMode(display=False) as counter:  # grad enabled: IsoCLR's plain convolutions, as inference.py
        model(**batch)
    return counter.get_total_flops() / int(batch["attention_mask"].sum())


def embedding_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    models, rows = encoders(), []
    for length in args.lengths:
        flops = {name: flops_per_nucleotide(models[name], transcripts(length, 1)) for name in models}
        batches = {count: transcripts(length, count) for count in args.batches}
        cases = [(precision, count, variant) for precision in args.precisions for count in args.batches
                 for variant in VARIANTS if variant != "orthrus old scan" or count in args.old_batches]  # fmt: skip
        best: dict[tuple[str, int, str], float] = {}
        for _ in range(args.rounds):  # the cases take turns, round after round: noise hits all of them
            for precision, count, variant in cases:
                name, path = VARIANTS[variant]
                scan_setting(path)

                def forward(model: torch.nn.Module = models[name], batch: dict = batches[count],
                            low: bool = precision == "bf16") -> None:  # fmt: skip
                    with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=low):
                        model(**batch)

                seconds = timed(forward, args.seconds)  # after one warm-up call (compiles the new scan)
                key = (precision, count, variant)
                best[key] = min(seconds, best.get(key, float("inf")))
                print(f"embed {variant} {length} nt x {count} {precision}: {count * length / seconds:,.0f} nt/s",
                      flush=True)  # fmt: skip
        for (precision, count, variant), seconds in best.items():
            name = VARIANTS[variant][0]
            rows.append({"variant": variant, "length": length, "precision": precision, "batch": count,
                         "nt_per_s": count * length / seconds, "flops_per_nt": flops[name],
                         "gflops": flops[name] * count * length / seconds / 1e9})  # fmt: skip
    scan_setting(None)
    return rows


def scan_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One Orthrus-large layer's scan alone (1 x 4,096 nt, d_inner 1,024, d_state 16), inference."""
    generator = torch.Generator().manual_seed(0)
    length, width, states = 4096, 1024, 16
    x = torch.randn(1, length, width, generator=generator)
    delta = torch.rand(1, length, width, generator=generator) * 0.1
    rates = -torch.arange(1, states + 1, dtype=torch.float32).expand(width, states).contiguous()
    b, c = torch.randn(1, length, states, generator=generator), torch.randn(1, length, states, generator=generator)
    scans = {"reference": lambda: selective_scan(x.transpose(1, 2), delta.transpose(1, 2), rates, b, c),
             "eager": lambda: fast_selective_scan(x, delta, rates, b, c, path="eager"),
             "compiled": lambda: fast_selective_scan(x, delta, rates, b, c, path="compiled")}  # fmt: skip
    rows = []
    with torch.inference_mode():
        for name, scan in scans.items():
            rows.append({"scan": name, "seconds": timed(scan, args.seconds)})
            print(f"scan {name}: {rows[-1]['seconds']:.3f} s", flush=True)
    return rows


PROBE = """
import json, sys, time, torch
sys.path.insert(0, {benchmarks!r})
from isoclr_hf.models.orthrus import OrthrusConfig, OrthrusModel
torch.set_num_threads({threads})
model = OrthrusModel(OrthrusConfig.from_preset("orthrus-large"))
ids = torch.randint(1, 5, (4, 64))
times = {{}}
for name, batch in (("inference, batch 1", ids[:1]), ("inference, batch 4", ids)):
    start = time.perf_counter()
    with torch.inference_mode():
        model(input_ids=batch)
    times[name] = time.perf_counter() - start
start = time.perf_counter()
model(input_ids=ids).last_hidden_state.sum().backward()
times["training step (forward + backward), batch 4"] = time.perf_counter() - start
start = time.perf_counter()
model(input_ids=ids).last_hidden_state.sum().backward()
times["the same step again (no compiling)"] = time.perf_counter() - start
print("PROBE" + json.dumps(times))
"""


def compile_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """First calls in fresh processes: with an empty inductor cache, then with the cache it left."""
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for state in ("cold", "warm"):
            env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache}
            env.pop("ORTHRUS_SCAN", None)
            code = PROBE.format(benchmarks=str(Path(__file__).parent), threads=torch.get_num_threads())
            output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            times = json.loads(output.stdout.split("PROBE", 1)[1])
            rows.append({"cache": state, **times})
            print(f"compile {state}: {times}", flush=True)
    return rows


def backward_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Forward + backward of Orthrus large at each length (batch 1): seconds and bytes saved for backward."""
    torch.manual_seed(0)
    model = OrthrusModel(OrthrusConfig.from_preset("orthrus-large")).train()
    rows, saved = [], [0]

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved[0] += tensor.numel() * tensor.element_size()
        return tensor

    for variant in ("orthrus new scan", "orthrus old scan"):
        scan_setting(VARIANTS[variant][1])
        for length in args.backward_lengths:
            if variant == "orthrus old scan" and length > args.old_backward_max:
                continue
            ids = torch.randint(1, 5, (1, length))

            def step(ids: torch.Tensor = ids) -> None:
                saved[0] = 0
                with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
                    loss = model(input_ids=ids).last_hidden_state.square().mean()
                loss.backward()

            seconds = timed(step, args.seconds)
            rows.append({"variant": variant, "length": length, "seconds": seconds, "saved_mb": saved[0] / 2**20})
            print(f"backward {variant} {length} nt: {seconds:.2f} s, {saved[0] / 2**20:,.0f} MB saved", flush=True)
            model.zero_grad()
    scan_setting(None)
    return rows


def training_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    batches = real_batches(None, batch_size=args.train_batch_size, count=args.train_steps,
                           max_length=args.train_max_length)  # fmt: skip
    builders = {"isoclr-m": lambda: IsoCLRForContrastivePretraining(IsoCLRConfig.from_preset("isoclr-m")),
                "orthrus-large": lambda: OrthrusForContrastivePretraining(OrthrusConfig.from_preset("orthrus-large"))}
    rows = []
    for precision in args.train_precisions:
        for variant, (name, path) in VARIANTS.items():
            scan_setting(path)
            torch.manual_seed(0)
            model = builders[name]().train()
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-6)

            def step(batch: dict, model: torch.nn.Module = model, optimizer: Any = optimizer,
                     low: bool = precision == "bf16") -> None:  # fmt: skip
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):
                    loss = model(**batch).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()

            step(batches[0])  # warm-up (and compiling, for the new scan)
            start = time.perf_counter()
            for batch in batches:
                step(batch)
            seconds = time.perf_counter() - start
            pairs = sum(b["input_ids"].shape[0] for b in batches)
            nucleotides = sum(int(b["attention_mask"].sum() + b["partner_attention_mask"].sum()) for b in batches)
            rows.append({"variant": variant, "precision": precision, "pairs_per_s": pairs / seconds,
                         "nt_per_s": nucleotides / seconds, "s_per_step": seconds / len(batches)})  # fmt: skip
            print(f"train {variant} {precision}: {rows[-1]['pairs_per_s']:.2f} pairs/s", flush=True)
    scan_setting(None)
    return rows


def ratio(embedding: list[dict], variant: str, length: int, precision: str, batch: int) -> float | None:
    """isoclr-m's nt/s over ``variant``'s for one case (None where a case was not measured)."""
    def rate(name: str) -> float | None:
        return next((r["nt_per_s"] for r in embedding if (r["variant"], r["length"], r["precision"], r["batch"])
                     == (name, length, precision, batch)), None)  # fmt: skip

    numerator, denominator = rate("isoclr-m"), rate(variant)
    return numerator / denominator if numerator and denominator else None


def render(record: dict, args: Any) -> str:
    embedding, peaks = record["embedding"], record["peaks_gflops"]
    lines = ["# Orthrus large vs isoclr-m on CPU: old scan vs new scan", "",
             f"CPU: {record['cpu']}; {record['torch_threads']} torch thread(s); torch {record['torch']}, "
             f"transformers {record['transformers']}; mamba-ssm not installed. Load average (1 min) "
             f"{record['load_before']:.1f} at the start, {record['load_after']:.1f} at the end: the machine has 2 "
             "cores and other engineers' jobs (test suites, training runs) kept the other core and more busy, so "
             "absolute figures are low and noisy; read the ratios between rows of this one run. Each embedding "
             f"case is the best of {args.rounds} alternating rounds; the old scan only at batch "
             f"{', '.join(map(str, args.old_batches))}. New scan: compiled chunks of {COMPILED_CHUNK} "
             "positions (`ORTHRUS_SCAN=auto`); old scan: `ORTHRUS_SCAN=reference`.", "",
             f"Dense matmul peak measured in this run (best of before and after): fp32 {peaks['fp32']:.0f} GFLOP/s, "
             f"bf16 {peaks['bf16']:.0f} GFLOP/s.", "",
             "## Embedding (encoder forward, random weights)", "",
             "| model | length | precision | batch | nt/s | FLOPs/nt | GFLOP/s | of peak | isoclr-m / this |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in embedding:
        times = ratio(embedding, row["variant"], row["length"], row["precision"], row["batch"])
        shown = f"{times:,.1f}x" if times and row["variant"] != "isoclr-m" else ""
        lines.append(f"| {row['variant']} | {row['length']:,} | {row['precision']} | {row['batch']} | "
                     f"{row['nt_per_s']:,.0f} | {row['flops_per_nt'] / 1e6:.1f} M | {row['gflops']:.1f} | "
                     f"{row['gflops'] / peaks[row['precision']]:.0%} | {shown} |")  # fmt: skip
    lines += ["", "## One layer's scan alone (1 x 4,096 nt, d_inner 1,024, d_state 16, inference)", "",
              "| scan | seconds | vs reference |", "|---|---:|---:|"]  # fmt: skip
    reference = next(r["seconds"] for r in record["scan"] if r["scan"] == "reference")
    lines += [f"| {r['scan']} | {r['seconds']:.3f} | {reference / r['seconds']:.1f}x faster |" for r in record["scan"]]
    lines += ["", "## Compile time (fresh processes; Orthrus large, 64-nt inputs)", "",
              "| inductor cache | " + " | ".join(k for k in record["compile"][0] if k != "cache") + " |",
              "|---|" + "---:|" * (len(record["compile"][0]) - 1)]  # fmt: skip
    for row in record["compile"]:
        lines.append(f"| {row['cache']} | " + " | ".join(f"{v:.1f} s" for k, v in row.items() if k != "cache") + " |")
    lines += ["", "## Forward + backward, batch 1 (time and the memory autograd saves both linear in the length)",
              "", "| scan | length | s | MB saved for backward | s per 1k nt | MB per 1k nt |",
              "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in record["backward"]:
        per = 1024 / row["length"]
        lines.append(f"| {row['variant']} | {row['length']:,} | {row['seconds']:.2f} | {row['saved_mb']:,.0f} | "
                     f"{row['seconds'] * per:.2f} | {row['saved_mb'] * per:,.0f} |")  # fmt: skip
    lines += ["", f"## Pretraining step ({args.train_batch_size} pairs a step, crops of {args.train_max_length} nt, "
              f"{args.train_steps} timed steps after a warm-up step)", "",
              "| model | precision | s/step | pairs/s | nt/s |", "|---|---|---:|---:|---:|"]  # fmt: skip
    for row in record["training"]:
        lines.append(f"| {row['variant']} | {row['precision']} | {row['s_per_step']:.2f} | {row['pairs_per_s']:.2f} | "
                     f"{row['nt_per_s']:,.0f} |")  # fmt: skip
    lines += ["", "## Goals (issue 27)", "", *goal_lines(record), ""]
    environment = "".join(f"{name}={os.environ[name]} " for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
                          if name in os.environ)  # fmt: skip
    lines += [f"Command: `{environment}{' '.join(['python benchmarks/orthrus.py', *args.argv])}`", ""]
    return "\n".join(lines)


def goal_lines(record: dict) -> list[str]:
    embedding, lines = record["embedding"], []
    for precision, goal in (("fp32", 45), ("bf16", 60)):
        for batch in sorted({r["batch"] for r in embedding}):
            new = ratio(embedding, "orthrus new scan", 4096, precision, batch)
            old = ratio(embedding, "orthrus old scan", 4096, precision, batch)
            if new is not None:
                verdict = "reached" if new <= goal else f"missed by {new / goal:.1f}x"
                was = f" (old scan {old:,.0f}x)" if old else ""
                lines.append(f"- {precision}, 4,096 nt, batch {batch}: {new:.0f}x behind isoclr-m{was}; goal {goal}x: "
                             f"{verdict}.")  # fmt: skip
    skip = ("cache", "the same step again (no compiling)")
    cold, warm = (sum(v for k, v in row.items() if k not in skip) for row in record["compile"][:2])
    lines.append(f"- Compile time, all first calls together: {cold:.0f} s cold, {warm:.0f} s warm (cached); goal "
                 f"under 30 s: {'reached' if cold < 30 else 'missed'} cold, {'reached' if warm < 30 else 'missed'} "
                 "warm.")  # fmt: skip
    for precision in sorted({r["precision"] for r in record["training"]}):
        rates = {r["variant"]: r["pairs_per_s"] for r in record["training"] if r["precision"] == precision}
        speedup = rates["orthrus new scan"] / rates["orthrus old scan"]
        lines.append(f"- Training step at 256 nt, {precision}: {speedup:.1f}x faster than the old scan; goal 5x: "
                     f"{'reached' if speedup >= 5 else 'missed'}.")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", nargs="+", type=int, default=[1024, 4096])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 4], help="transcripts per embedding call")
    parser.add_argument("--old-batches", nargs="+", type=int, default=[1],
                        help="batches measured with the old scan (slow: 4 x 4k nt take a minute a call)")
    parser.add_argument("--precisions", nargs="+", choices=sorted(DTYPES), default=["fp32", "bf16"])
    parser.add_argument("--seconds", type=float, default=1.0, help="measuring time per case (best call counts)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best round counts")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--backward-lengths", nargs="+", type=int, default=[256, 1024, 4096])
    parser.add_argument("--old-backward-max", type=int, default=1024, help="longest old-scan backward measured")
    parser.add_argument("--train-precisions", nargs="+", choices=sorted(DTYPES), default=["fp32", "bf16"])
    parser.add_argument("--train-batch-size", type=int, default=4, help="pairs per training step")
    parser.add_argument("--train-max-length", type=int, default=256, help="crop of each view in training")
    parser.add_argument("--train-steps", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "orthrus")
    args = parser.parse_args(argv)
    args.argv = argv if argv is not None else sys.argv[1:]

    import transformers

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    record: dict[str, Any] = {"cpu": cpu_description(), "torch_threads": torch.get_num_threads(),
                              "torch": torch.__version__, "transformers": transformers.__version__,
                              "load_before": os.getloadavg()[0]}  # fmt: skip
    record["compile"] = compile_rows(args)
    peaks = {name: matmul_peak(dtype, 2.0) for name, dtype in DTYPES.items()}
    record["embedding"] = embedding_rows(args)
    # Measured again after the cases, the better kept (as inference.py): a busy moment only lowers a peak.
    record["peaks_gflops"] = {name: max(peaks[name], matmul_peak(dtype, 2.0)) for name, dtype in DTYPES.items()}
    record["scan"] = scan_rows(args)
    record["backward"] = backward_rows(args)
    record["training"] = training_rows(args)
    record["load_after"] = os.getloadavg()[0]
    text = render(record, args)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
