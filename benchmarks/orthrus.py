"""Orthrus large vs isoclr-m on this CPU, side by side in one run: embedding and pretraining throughput.

Embedding: nucleotides/s of the encoder's forward (``torch.inference_mode``, random weights, random
transcripts with exons and a CDS, token ids from ``IsoCLRTokenizer``) at each length, in fp32 and in
bf16 (``torch.autocast``, what ``isoclr embed --dtype bfloat16`` uses), with the FLOPs per nucleotide
(``torch.utils.flop_counter`` on one forward: matmuls and convolutions) and the achieved GFLOP/s as a
fraction of the dense matmul peak of the same dtype, measured in the same run
(``benchmarks/inference.py``'s ``matmul_peak``). The two models take turns on each case.

On a CPU Orthrus's mixer runs ``OrthrusMixer.scan_forward``: the selective scan as a loop over
positions in pure torch (mamba-ssm's kernels are CUDA-only), which is what this measures. The counter
sees the scan's per-position ``state @ C`` products but not its elementwise updates (about
``6 * d_inner * d_state`` FLOPs per nucleotide and layer, 0.6 MFLOP/nt for Orthrus large).

Pretraining: pairs/s of a contrastive training step (the model's DCL loss, 15% masking, AdamW) on the
same length-bucketed real pairs of the bundled corpus for both models (``training_throughput.py``'s
``real_batches``), in fp32 and bf16 autocast, with short crops so that Orthrus fits in minutes.

    python benchmarks/orthrus.py                    # 1k and 4k nt, fp32 and bf16: a few minutes on 2 cores
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/orthrus.py --threads 1   # results/orthrus.md: one
                                                    # core, as another job held the other one
    python benchmarks/orthrus.py --lengths 1024 --train-precisions fp32 bf16

Writes benchmarks/results/orthrus.{md,json}. Timings on a shared machine vary; the ratios within one
run are the figures to read.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from inference import machine, matmul_peak, timed  # sibling benchmark script: peak and machine helpers
from torch.utils.flop_counter import FlopCounterMode
from training_throughput import real_batches  # sibling benchmark script: bucketed real pairs

from isoclr_hf import IsoCLRConfig, IsoCLRForContrastivePretraining, IsoCLRModel, IsoCLRTokenizer
from isoclr_hf.models.orthrus import OrthrusConfig, OrthrusForContrastivePretraining, OrthrusModel

RESULTS = Path(__file__).resolve().parent / "results"
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


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
    with FlopCounterMode(display=False) as counter:  # grad enabled: IsoCLR's plain convolutions, as inference.py
        model(**batch)
    return counter.get_total_flops() / int(batch["attention_mask"].sum())


def embedding_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    models, rows = encoders(), []
    for length in args.lengths:
        # isoclr-m: a batch of about --nucleotides-per-batch nt; Orthrus: one transcript (its scan's
        # per-position cost grows with the batch, and one 4k transcript already takes seconds).
        counts = {"isoclr-m": max(1, args.nucleotides_per_batch // length), "orthrus-large": 1}
        batches = {name: transcripts(length, count) for name, count in counts.items()}
        flops = {name: flops_per_nucleotide(models[name], transcripts(length, 1)) for name in models}
        cases = [(precision, name) for precision in args.precisions for name in models]
        best: dict[tuple[str, str], float] = {}
        for _ in range(args.rounds):  # the models take turns, round after round: noise hits both
            for precision, name in cases:
                model = models[name]
                def forward(model: torch.nn.Module = model, batch: dict = batches[name], low: bool = precision == "bf16"
                            ) -> None:  # fmt: skip
                    with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=low):
                        model(**batch)

                seconds = timed(forward, args.seconds)
                best[precision, name] = min(seconds, best.get((precision, name), float("inf")))
                print(f"embed {name} {length} nt {precision}: {counts[name] * length / seconds:,.0f} nt/s", flush=True)
        for (precision, name), seconds in best.items():
            nucleotides = counts[name] * length
            rows.append({"model": name, "length": length, "precision": precision, "batch": counts[name],
                         "nt_per_s": nucleotides / seconds, "flops_per_nt": flops[name],
                         "gflops": flops[name] * nucleotides / seconds / 1e9})  # fmt: skip
    return rows


def training_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    batches = real_batches(None, batch_size=args.train_batch_size, count=args.train_steps,
                           max_length=args.train_max_length)  # fmt: skip
    builders = {"isoclr-m": lambda: IsoCLRForContrastivePretraining(IsoCLRConfig.from_preset("isoclr-m")),
                "orthrus-large": lambda: OrthrusForContrastivePretraining(OrthrusConfig.from_preset("orthrus-large"))}
    rows = []
    for precision in args.train_precisions:
        for name, build in builders.items():
            torch.manual_seed(0)
            model = build().train()
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-6)

            def step(batch: dict, model: torch.nn.Module = model, optimizer: Any = optimizer,
                     low: bool = precision == "bf16") -> None:  # fmt: skip
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):
                    loss = model(**batch).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()

            step(batches[0])  # warm-up
            start = time.perf_counter()
            for batch in batches:
                step(batch)
            seconds = time.perf_counter() - start
            pairs = sum(b["input_ids"].shape[0] for b in batches)
            nucleotides = sum(int(b["attention_mask"].sum() + b["partner_attention_mask"].sum()) for b in batches)
            rows.append({"model": name, "precision": precision, "pairs_per_s": pairs / seconds,
                         "nt_per_s": nucleotides / seconds, "s_per_step": seconds / len(batches),
                         "encoder_parameters": sum(p.numel() for p in model.isoclr.parameters())})  # fmt: skip
            print(f"train {name} {precision}: {rows[-1]['pairs_per_s']:.2f} pairs/s", flush=True)
    return rows


def _peak_warnings(embedding: list[dict], peaks: dict[str, float]) -> list[str]:
    """A sentence for each dtype whose measured peak lies below a rate a model reached (a busy machine)."""
    lines = []
    for precision, peak in peaks.items():
        reached = max((row["gflops"] for row in embedding if row["precision"] == precision), default=0.0)
        if reached > peak:
            lines += [f"**The {precision} peak measured here ({peak:.0f} GFLOP/s) is below what isoclr-m reached "
                      f"({reached:.0f} GFLOP/s)**: the matmul was slowed by the other jobs, so the {precision} "
                      "fractions of peak are not meaningful in this run; compare nt/s.", ""]
    return lines


def render(embedding: list[dict], training: list[dict], peaks: dict[str, float], info: dict, args: Any) -> str:
    lines = ["# Orthrus large vs isoclr-m on CPU", "",
             f"CPU: {info['cpu']} ({info['cores']} cores, {info['torch_threads']} torch threads; AVX-512 BF16 "
             f"{'yes' if info['avx512_bf16'] else 'no'}, AMX {'yes' if info['amx_bf16'] else 'no'}); torch "
             f"{info['torch']}, transformers {info['transformers']}, mamba-ssm not installed (pure-torch scan). "
             "The machine has 2 cores and other long jobs (pretraining and evaluation runs) were running in the "
             "background: read the ratios between rows of this run, not the absolute figures. Each embedding "
             f"case is the best of {args.rounds} alternating rounds.", "",
             "Dense matmul peak measured in this run (best of before and after the embedding cases): "
             f"fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s.", "",
             *_peak_warnings(embedding, peaks),
             "## Embedding (encoder forward, random weights)", "",
             "| model | length | precision | batch | nt/s | FLOPs/nt (counted) | GFLOP/s | of peak "
             "| isoclr-m / orthrus |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in embedding:
        other = next(r for r in embedding if r["length"] == row["length"] and r["precision"] == row["precision"]
                     and r["model"] == "orthrus-large")  # fmt: skip
        ratio = f"{row['nt_per_s'] / other['nt_per_s']:,.0f}x" if row["model"] == "isoclr-m" else ""
        lines.append(f"| {row['model']} | {row['length']:,} | {row['precision']} | {row['batch']} | "
                     f"{row['nt_per_s']:,.0f} | {row['flops_per_nt'] / 1e6:.1f} M | {row['gflops']:.2f} | "
                     f"{row['gflops'] / peaks[row['precision']]:.2%} | {ratio} |")  # fmt: skip
    lines += ["", f"## Pretraining step ({args.train_batch_size} pairs a step, crops of {args.train_max_length} nt, "
              f"{args.train_steps} timed steps after a warm-up step)", "",
              "| model | encoder params | precision | s/step | pairs/s | nt/s |", "|---|---:|---|---:|---:|---:|"]
    for row in training:
        lines.append(f"| {row['model']} | {row['encoder_parameters']:,} | {row['precision']} | "
                     f"{row['s_per_step']:.2f} | {row['pairs_per_s']:.2f} | {row['nt_per_s']:,.0f} |")  # fmt: skip
    lines += ["", "Notes: FLOPs/nt are what `torch.utils.flop_counter` counts in one forward (matmuls and "
              "convolutions; for Orthrus also the scan's per-position `state @ C`, not its elementwise updates, "
              "about 0.6 MFLOP/nt more for Orthrus large). isoclr-m runs a batch of transcripts, Orthrus one at a "
              "time (its scan is a loop over positions). Orthrus's mixer here is `OrthrusMixer.scan_forward`; "
              "transformers' own pure-torch fallback computes the same forward at about the same speed but its "
              "backward grows with the square of the length (3.3 s against 0.25 s for one d=512 layer over "
              "8 x 64 nt), so training it is impractical on a CPU beyond toy crops."]
    environment = "".join(f"{name}={os.environ[name]} " for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
                          if name in os.environ)  # fmt: skip
    command = " ".join(["python benchmarks/orthrus.py", *args.argv])
    lines += ["", f"Command: `{environment}{command}`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", nargs="+", type=int, default=[1024, 4096])
    parser.add_argument("--precisions", nargs="+", choices=sorted(DTYPES), default=["fp32", "bf16"])
    parser.add_argument("--nucleotides-per-batch", type=int, default=16_384, help="isoclr-m batch size in nt")
    parser.add_argument("--seconds", type=float, default=1.0, help="measuring time per case (best call counts)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best round counts")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--train-precisions", nargs="+", choices=sorted(DTYPES), default=["fp32", "bf16"])
    parser.add_argument("--train-batch-size", type=int, default=4, help="pairs per training step")
    parser.add_argument("--train-max-length", type=int, default=256, help="crop of each view in training")
    parser.add_argument("--train-steps", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "orthrus")
    args = parser.parse_args(argv)
    args.argv = argv if argv is not None else __import__("sys").argv[1:]

    import transformers

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    info = {**machine(), "transformers": transformers.__version__}
    peaks = {name: matmul_peak(dtype, 2.0) for name, dtype in DTYPES.items()}
    embedding = embedding_rows(args)
    # Measured again after the cases, the better kept (as inference.py): a busy moment only lowers a peak.
    peaks = {name: max(peaks[name], matmul_peak(dtype, 2.0)) for name, dtype in DTYPES.items()}
    training = training_rows(args)
    text = render(embedding, training, peaks, info, args)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    record = {"machine": info, "peaks_gflops": peaks, "embedding": embedding, "training": training}
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
