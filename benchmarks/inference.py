"""Encoder inference and tokenizer throughput, next to the machine's matmul peak measured in the same run.

For each preset, length and dtype, the encoder embeds random transcripts (batches of about
``--nucleotides-per-batch`` nucleotides) and the table reports nucleotides/s, the achieved
GFLOP/s (FLOPs counted by ``torch.utils.flop_counter`` on one forward) and that as a fraction of
the dense matmul peak of the same dtype, measured first in the same process. The tokenizer row is
the nucleotides/s of ``IsoCLRTokenizer`` building a padded batch of 64 annotated 12,288-nt
transcripts into tensors.

    python benchmarks/inference.py                        # isoclr-s and -m, 1k/4k/12k, fp32 and bf16
    python benchmarks/inference.py --presets isoclr-m --lengths 12288 --dtypes bfloat16

Results go to benchmarks/results/inference.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from isoclr_hf import IsoCLRConfig, IsoCLRModel, IsoCLRTokenizer

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["isoclr-s", "isoclr-m"])
    parser.add_argument("--lengths", nargs="+", type=int, default=[1024, 4096, 12288])
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), default=["float32", "bfloat16"])
    parser.add_argument("--nucleotides-per-batch", type=int, default=49_152)
    parser.add_argument("--seconds", type=float, default=3.0, help="Time spent measuring each row.")
    parser.add_argument("--out", type=Path, default=RESULTS / "inference")
    return parser.parse_args(argv)


def timed(function, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """Best-of seconds per call over about ``seconds`` of repeated calls (after one warm-up)."""
    function()
    best, spent = float("inf"), 0.0
    while spent < seconds:
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return best


def matmul_peak(dtype: torch.dtype, seconds: float) -> float:
    """Dense square matmul GFLOP/s for ``dtype``."""
    n = 2048
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    return 2 * n**3 / timed(lambda: a @ b, seconds) / 1e9


def random_batch(batch: int, length: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    ids = torch.from_numpy(rng.integers(1, 5, size=(batch, length), dtype=np.uint8))
    cds = torch.zeros(batch, length, dtype=torch.uint8)
    cds[:, 100 : length - 100 : 3] = 1
    splice = torch.zeros(batch, length, dtype=torch.uint8)
    splice[:, length // 3 :: length // 3] = 1
    splice[:, -1] = 1
    return {"input_ids": ids, "cds_track": cds, "splice_track": splice, "attention_mask": torch.ones_like(ids)}


def encoder_row(preset: str, length: int, dtype_name: str, args: argparse.Namespace, peak: float) -> dict:
    dtype = DTYPES[dtype_name]
    model = IsoCLRModel(IsoCLRConfig.from_preset(preset)).eval().to(dtype)
    batch_size = max(1, args.nucleotides_per_batch // length)
    batch = random_batch(batch_size, length, np.random.default_rng(0))
    with torch.inference_mode():
        with FlopCounterMode(display=False) as counter:
            model(**batch)
        seconds = timed(lambda: model(**batch), args.seconds)
    nucleotides = batch_size * length
    gflops = counter.get_total_flops() / seconds / 1e9
    return {
        "what": f"{preset} encoder", "dtype": dtype_name, "length": length, "batch": batch_size,
        "nt_per_s": nucleotides / seconds, "gflop_per_s": gflops, "matmul_peak_gflop_per_s": peak,
        "fraction_of_peak": gflops / peak,
    }  # fmt: skip


def tokenizer_row(seconds: float) -> dict:
    tokenizer = IsoCLRTokenizer()
    rng = np.random.default_rng(0)
    length, count = 12_288, 64
    sequences = ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(count)]
    exon_ends = [[3000, 7000, length]] * count
    cds = [(150, 150 + 3 * 3000)] * count
    elapsed = timed(lambda: tokenizer(sequences, exon_ends=exon_ends, cds=cds, return_tensors="pt"), seconds)
    return {"what": "tokenizer (64 x 12,288 nt, annotated, to tensors)", "dtype": "uint8", "length": length,
            "batch": count, "nt_per_s": count * length / elapsed}  # fmt: skip


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__}


def write_results(rows: list[dict], info: dict, out: Path) -> str:
    lines = [
        f"# Inference throughput\n\nMachine: {info['cpu']}, {info['cores']} cores, torch {info['torch']} "
        f"({info['torch_threads']} threads). Command: `python benchmarks/inference.py`.\n",
        "| what | dtype | length | batch | nt/s | GFLOP/s | matmul peak GFLOP/s | fraction of peak |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        extra = (
            f"{row['gflop_per_s']:,.0f} | {row['matmul_peak_gflop_per_s']:,.0f} | {row['fraction_of_peak']:.2f}"
            if "gflop_per_s" in row else "- | - | -"
        )  # fmt: skip
        cells = f"{row['what']} | {row['dtype']} | {row['length']:,} | {row['batch']} | {row['nt_per_s']:,.0f}"
        lines.append(f"| {cells} | {extra} |")
    table = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(table)
    out.with_suffix(".json").write_text(json.dumps({"machine": info, "rows": rows}, indent=2) + "\n")
    return table


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.manual_seed(0)
    peaks = {name: matmul_peak(DTYPES[name], args.seconds) for name in args.dtypes}
    rows = []
    for preset in args.presets:
        for dtype_name in args.dtypes:
            for length in args.lengths:
                rows.append(encoder_row(preset, length, dtype_name, args, peaks[dtype_name]))
                print(f"{preset} {dtype_name} {length}: {rows[-1]['nt_per_s']:,.0f} nt/s", flush=True)
    rows.append(tokenizer_row(args.seconds))
    print(write_results(rows, machine(), args.out))


if __name__ == "__main__":
    main()
