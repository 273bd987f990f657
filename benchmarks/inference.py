"""Encoder inference before/after, next to the machine's matmul peak, all from one run.

The current tree and a baseline git ref (``--baseline``, default ``f011cc0``: the encoder before
the ConvNext-style restructuring) are each loaded in a worker process (the baseline from a
``git archive`` of the ref in a temporary folder). The workers take turns on every case, round
after round, so noise from other processes hits both sides; each case reports the best round.

For each dtype and length, two rows per side:

- ``model``: ``IsoCLRModel`` cast to the dtype, ``torch.inference_mode``, a batch of random
  transcripts of about ``--nucleotides-per-batch`` nucleotides;
- ``embed``: the ``isoclr embed`` code path, ``isoclr_hf.inference.embed_records`` on the
  same transcripts as records (float32 weights, ``dtype=torch.bfloat16`` autocast for bf16),
  tokenization included.

Throughput is in nucleotides/s; GFLOP/s counts the convolutions (``torch.utils.flop_counter`` on
one forward) and is given as a fraction of the dense matmul peak of the same dtype (the better of
MKL's matmul and a oneDNN 1x1 convolution), measured in the
same run (best of before and after the encoder cases). The CPU model and its AMX / AVX-512 BF16
flags are recorded.

    python benchmarks/inference.py                       # isoclr-m, 1k and 4k nt, fp32 and bf16
    python benchmarks/inference.py --lengths 12288 --dtypes bfloat16 --baseline HEAD

Results go to benchmarks/results/inference.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="isoclr-m")
    parser.add_argument("--lengths", nargs="+", type=int, default=[1024, 4096])
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), default=["float32", "bfloat16"])
    parser.add_argument("--nucleotides-per-batch", type=int, default=49_152)
    parser.add_argument("--seconds", type=float, default=1.5, help="Time spent measuring each case per round.")
    parser.add_argument("--rounds", type=int, default=2, help="Alternating rounds; the best round counts.")
    parser.add_argument("--baseline", default="f011cc0", help="Git ref to compare with ('' to skip).")
    parser.add_argument("--out", type=Path, default=RESULTS / "inference")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
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
    """Dense matrix-multiply GFLOP/s for ``dtype``: the best of two libraries' GEMMs.

    ``a @ b`` goes to MKL, which on some CPUs (AMD EPYC here) takes a slower path than oneDNN, the
    library that runs the encoder's convolutions; a 1x1 convolution is a oneDNN GEMM. Taking the
    better of the two keeps the fraction of peak below 1 on every machine.
    """
    n = 2048
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    mkl = 2 * n**3 / timed(lambda: a @ b, seconds) / 1e9
    channels, length = 1024, 8192
    x = torch.randn(1, channels, 1, length, dtype=dtype).contiguous(memory_format=torch.channels_last)
    w = torch.randn(channels, channels, 1, 1, dtype=dtype).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        onednn = 2 * channels * channels * length / timed(lambda: torch.nn.functional.conv2d(x, w), seconds) / 1e9
    return max(mkl, onednn)


# --- worker: runs inside the tree being measured (imports isoclr_hf from its PYTHONPATH) -------------


class Worker:
    def __init__(self, preset: str, nucleotides_per_batch: int) -> None:
        import numpy as np

        from isoclr_hf import IsoCLRConfig, IsoCLRModel, IsoCLRTokenizer

        torch.manual_seed(0)
        self.np, self.nucleotides = np, nucleotides_per_batch
        self.fp32 = IsoCLRModel(IsoCLRConfig.from_preset(preset)).eval()
        self.models = {"float32": self.fp32}
        self.tokenizer = IsoCLRTokenizer()

    def model(self, dtype_name: str) -> torch.nn.Module:
        if dtype_name not in self.models:
            import copy

            self.models[dtype_name] = copy.deepcopy(self.fp32).to(DTYPES[dtype_name])
        return self.models[dtype_name]

    def inputs(self, length: int) -> tuple[dict[str, torch.Tensor], list]:
        from isoclr_hf.annotations.records import TranscriptRecord

        batch = max(1, self.nucleotides // length)
        rng = self.np.random.default_rng(0)
        sequences = ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(batch)]
        exons = [length // 3, 2 * length // 3, length]
        cds = (100, 100 + 3 * ((length - 200) // 3))
        records = [
            TranscriptRecord(f"t{i}", "g", "", "homo_sapiens", s, exons, cds[0], cds[1])
            for i, s in enumerate(sequences)
        ]
        encoded = self.tokenizer(sequences, exon_ends=[exons] * batch, cds=[cds] * batch, return_tensors="pt")
        return dict(encoded), records

    def tokenize(self, seconds: float) -> dict:
        """The tokenizer alone: 64 transcripts of 12,288 nt with exon ends and a CDS."""
        count, length = 64, 12288
        rng = self.np.random.default_rng(1)
        sequences = ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(count)]
        exons = [[length // 4, length // 2, length]] * count
        cds = [(99, 99 + 3 * 3000)] * count
        elapsed = timed(lambda: self.tokenizer(sequences, exon_ends=exons, cds=cds, return_tensors="pt"), seconds)
        return {"seconds": elapsed, "batch": count, "length": length}

    def run(self, case: dict) -> dict:
        from isoclr_hf.inference import embed_records

        if case["what"] == "tokenizer":
            return self.tokenize(case["seconds"])
        batch, records = self.inputs(case["length"])
        if case["what"] == "flops":
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=False) as counter:  # grad enabled: the plain convolutions
                self.fp32(**batch)
            return {"flops": counter.get_total_flops()}
        if case["what"] == "model":
            model = self.model(case["dtype"])
            with torch.inference_mode():
                seconds = timed(lambda: model(**batch), case["seconds"])
        else:
            dtype = None if case["dtype"] == "float32" else DTYPES[case["dtype"]]
            size = len(records)
            seconds = timed(
                lambda: embed_records(self.fp32, self.tokenizer, records, batch_size=size, dtype=dtype, progress=False),
                case["seconds"],
            )
        return {"seconds": seconds, "batch": len(records)}


def worker_main(args: argparse.Namespace) -> None:
    worker = Worker(args.preset, args.nucleotides_per_batch)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(worker.run(json.loads(line))), flush=True)


class Side:
    """A worker process on one tree."""

    def __init__(self, name: str, tree: Path, args: argparse.Namespace) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--preset", args.preset,
                   "--nucleotides-per-batch", str(args.nucleotides_per_batch)]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)  # fmt: skip
        self._read()

    def _read(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} worker exited (exit status {self.process.wait()})")
        return json.loads(line)

    def run(self, case: dict) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(case) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def machine() -> dict:
    cpu, flags = platform.processor() or platform.machine(), set()
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    return {
        "cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
        "amx_bf16": "amx_bf16" in flags, "avx512_bf16": "avx512_bf16" in flags,
    }  # fmt: skip


def write_results(rows: list[dict], info: dict, command: str, out: Path) -> str:
    lines = [
        f"# Inference throughput, before/after\n\nMachine: {info['cpu']} ({info['cores']} cores, "
        f"AMX-BF16: {'yes' if info['amx_bf16'] else 'no'}, AVX-512 BF16: {'yes' if info['avx512_bf16'] else 'no'}), "
        f"torch {info['torch']} ({info['torch_threads']} threads). Command: `{command}`. Baseline: "
        f"`{info['baseline']}`; both sides measured in turn in one run, best of {info['rounds']} rounds.\n",
        "| path | dtype | length | batch | baseline nt/s | current nt/s | speed-up | baseline fraction of peak "
        "| current fraction of peak |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        base = row.get("baseline_nt_per_s")
        cells = [row["path"], row["dtype"], f"{row['length']:,}", str(row["batch"]),
                 "-" if base is None else f"{base:,.0f}", f"{row['current_nt_per_s']:,.0f}",
                 "-" if base is None else f"{row['current_nt_per_s'] / base:.2f}x",
                 "-" if base is None else f"{row['baseline_fraction_of_peak']:.2f}",
                 f"{row['current_fraction_of_peak']:.2f}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    peaks = ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in info["matmul_peak_gflop_per_s"].items())
    lines.append(f"\nMatmul peak (same run; best of a 2048x2048 matmul and a 1024x1024x8192 1x1 convolution): {peaks}.")
    rates = ", ".join(f"{side} {rate / 1e6:,.0f}M" for side, rate in info["tokenizer_nt_per_s"].items())
    lines.append(f"\nTokenizer, 64 x 12,288 nt with exon ends and a CDS (nt/s): {rates}.")
    table = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(table)
    out.with_suffix(".json").write_text(json.dumps({"machine": info, "rows": rows}, indent=2) + "\n")
    return table


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return
    torch.manual_seed(0)
    peaks = {name: matmul_peak(DTYPES[name], args.seconds) for name in args.dtypes}
    with tempfile.TemporaryDirectory() as scratch:
        sides = {"current": Side("current", ROOT, args)}
        if args.baseline:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline], check=True,
                                     capture_output=True).stdout  # fmt: skip
            subprocess.run(["tar", "-x", "-C", scratch], input=archive, check=True)
            sides["baseline"] = Side("baseline", Path(scratch), args)
        try:
            cases = [(path, dtype, length) for dtype in args.dtypes for length in args.lengths
                     for path in ("model", "embed")]  # fmt: skip
            flops = {n: sides["current"].run({"what": "flops", "length": n})["flops"] for n in args.lengths}
            best: dict[tuple[str, str, str, int], dict] = {}
            for round_ in range(args.rounds):
                for path, dtype, length in cases:
                    order = list(sides.values()) if round_ % 2 == 0 else list(sides.values())[::-1]
                    for side in order:
                        result = side.run({"what": path, "dtype": dtype, "length": length, "seconds": args.seconds})
                        key = (side.name, path, dtype, length)
                        if key not in best or result["seconds"] < best[key]["seconds"]:
                            best[key] = result
                        print(f"round {round_} {side.name} {path} {dtype} {length}: "
                              f"{result['batch'] * length / result['seconds']:,.0f} nt/s", flush=True)  # fmt: skip
            tokenizer: dict[str, float] = {}
            for round_ in range(args.rounds):
                for side in list(sides.values()) if round_ % 2 == 0 else list(sides.values())[::-1]:
                    result = side.run({"what": "tokenizer", "seconds": args.seconds})
                    rate = result["batch"] * result["length"] / result["seconds"]
                    tokenizer[side.name] = max(tokenizer.get(side.name, 0.0), rate)
        finally:
            for side in sides.values():
                side.close()
    for name in args.dtypes:  # the peak again, after the encoder cases: the best of the two counts
        peaks[name] = max(peaks[name], matmul_peak(DTYPES[name], args.seconds))
    rows = []
    for path, dtype, length in cases:
        row: dict = {"path": path, "dtype": dtype, "length": length, "matmul_peak_gflop_per_s": peaks[dtype]}
        for side in sides:
            result = best[(side, path, dtype, length)]
            row["batch"] = result["batch"]
            row[f"{side}_nt_per_s"] = result["batch"] * length / result["seconds"]
            row[f"{side}_gflop_per_s"] = flops[length] / result["seconds"] / 1e9
            row[f"{side}_fraction_of_peak"] = row[f"{side}_gflop_per_s"] / peaks[dtype]
        rows.append(row)
    info = {**machine(), "baseline": args.baseline, "rounds": args.rounds, "matmul_peak_gflop_per_s": peaks,
            "tokenizer_nt_per_s": tokenizer}
    command = "python benchmarks/inference.py" + (f" {' '.join(argv)}" if argv else "")
    print(write_results(rows, info, command, args.out))


if __name__ == "__main__":
    main(sys.argv[1:])
