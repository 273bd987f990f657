"""Benchmark: contrastive training throughput (pairs/s, nucleotides/s) of isoclr-s and isoclr-m, fp32 vs bf16.

Each case trains ``IsoCLRForContrastivePretraining`` (the paper's projection head, 15% masking,
weighted DCL loss, AdamW) on the same length-bucketed batches of real pairs from the bundled corpus
(``isoclr build-corpus --bundled``, or ``--corpus PATH``): ``--steps`` batches, trained once to warm
up (oneDNN builds its kernels once per input shape, which is slow for bf16), then timed
``--repeats`` times, keeping the fastest pass (other work on a shared machine only slows one down). bf16
is ``torch.autocast`` (what ``accelerate --mixed_precision bf16`` applies). Nucleotides
count valid positions of both views; "padded positions/s" counts what the encoder computes on.

    python benchmarks/training_throughput.py                       # under a minute on 2 idle cores
    python benchmarks/training_throughput.py --steps 5 --max-length 4096

Writes benchmarks/results/training_throughput.{md,json}. Timings on a shared machine vary; the
fp32/bf16 ratios within one run are the figures to read.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from padding import bundled_corpus  # sibling benchmark script: builds the bundled corpus

from isoclr_hf import IsoCLRConfig, IsoCLRForContrastivePretraining, IsoCLRTokenizer
from isoclr_hf.pretraining.batching import ContrastivePairCollator, bucketed_batches
from isoclr_hf.pretraining.pairs import GeneSetPairDataset, gene_set_pair_weights, pair_lengths, sample_epoch_pairs

RESULTS = Path(__file__).resolve().parent / "results"


def real_batches(corpus_path: str | None, *, batch_size: int, count: int, max_length: int) -> list[dict]:
    """``count`` collated, length-bucketed batches of training pairs (epoch 0), in the bucketed order."""
    with tempfile.TemporaryDirectory() as scratch:
        corpus, _ = bundled_corpus(corpus_path, scratch)
        gene_sets = corpus["train"]
        lengths = [[len(t["sequence"]) for t in transcripts] for transcripts in gene_sets["transcripts"]]
        sizes = np.array([len(x) for x in lengths])
        pairs = sample_epoch_pairs(sizes, seed=0, epoch=0)
        views = pair_lengths(lengths, pairs, max_length)
        batches = bucketed_batches(views.max(1), batch_size, seed=0, epoch=0)[:count]
        weights = gene_set_pair_weights(sizes, IsoCLRConfig().gene_set_weight_constant)
        dataset = GeneSetPairDataset(gene_sets, pairs, weights)
        collator = ContrastivePairCollator(
            IsoCLRTokenizer(model_max_length=max_length), max_length=max_length,
            pad_to_multiple_of=IsoCLRConfig().downsampling,
        )
        return [collator([dataset[i] for i in batch]) for batch in batches]


def time_case(preset: str, precision: str, batches: list[dict], steps: int, repeats: int) -> dict[str, float]:
    """Train ``steps`` over the batches (after a warm-up pass over them); throughput of the timed steps."""
    torch.manual_seed(0)
    model = IsoCLRForContrastivePretraining(IsoCLRConfig.from_preset(preset)).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-6)

    def train_step(batch: dict) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()

    for batch in batches:  # warm-up: oneDNN builds (JIT-compiles, for bf16) kernels once per input shape
        train_step(batch)
    pairs = sum(b["input_ids"].shape[0] for b in batches[:steps])
    nucleotides = sum(int(b["attention_mask"].sum() + b["partner_attention_mask"].sum()) for b in batches[:steps])
    positions = sum(2 * b["input_ids"].shape[0] * max(b["input_ids"].shape[1], b["partner_input_ids"].shape[1])
                    for b in batches[:steps])
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):  # best of several passes: other work on a shared machine only slows a pass down
        wall, cpu = time.perf_counter(), time.process_time()
        for batch in batches[:steps]:
            train_step(batch)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return {"seconds_per_step": best_wall / steps, "pairs_per_second": pairs / best_wall,
            "nucleotides_per_second": nucleotides / best_wall, "padded_positions_per_second": positions / best_wall,
            "cpu_seconds_per_pair": best_cpu / pairs,
            "encoder_parameters": sum(p.numel() for p in model.isoclr.parameters())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", help="corpus folder (default: build the bundled one)")
    parser.add_argument("--presets", nargs="+", default=["isoclr-s", "isoclr-m"])
    parser.add_argument("--batch-size", type=int, default=16, help="pairs per step")
    parser.add_argument("--max-length", type=int, default=2048, help="truncate transcripts (paper: 12288)")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per pass")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per case (the best is kept)")
    args = parser.parse_args()

    batches = real_batches(args.corpus, batch_size=args.batch_size, count=args.steps, max_length=args.max_length)
    rows = []
    for preset in args.presets:
        for precision in ("fp32", "bf16"):
            result = time_case(preset, precision, batches, args.steps, args.repeats)
            rows.append({"preset": preset, "precision": precision, **result})
            print(f"{preset} {precision}: {result['pairs_per_second']:.1f} pairs/s, "
                  f"{result['nucleotides_per_second']:,.0f} nt/s", flush=True)
    for row in rows:
        fp32 = next(r for r in rows if r["preset"] == row["preset"] and r["precision"] == "fp32")
        row["speedup_vs_fp32"] = row["pairs_per_second"] / fp32["pairs_per_second"]

    machine = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads"
    header = (f"Contrastive training steps on CPU ({machine}; torch {torch.__version__}); {args.batch_size} pairs "
              f"per step from the bundled corpus, length-bucketed, transcripts cut to {args.max_length} nt; "
              f"best of {args.repeats} timed passes of {args.steps} steps after a warm-up pass over the same batches. "
              "Command: `python benchmarks/training_throughput.py`.")
    table = ["| model | encoder params | precision | s/step | pairs/s | nucleotides/s | padded positions/s | "
             "CPU s/pair | speed-up vs fp32 |", "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        table.append(f"| {row['preset']} | {row['encoder_parameters']:,} | {row['precision']} | "
                     f"{row['seconds_per_step']:.2f} | {row['pairs_per_second']:.1f} | "
                     f"{row['nucleotides_per_second']:,.0f} | {row['padded_positions_per_second']:,.0f} | "
                     f"{row['cpu_seconds_per_pair']:.2f} | {row['speedup_vs_fp32']:.2f}x |")
    text = "\n".join(["# Training throughput", "", header, "", *table, ""])
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "training_throughput.md").write_text(text)
    (RESULTS / "training_throughput.json").write_text(json.dumps(
        {"machine": machine, "batch_size": args.batch_size, "max_length": args.max_length, "steps": args.steps,
         "repeats": args.repeats,
         "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
