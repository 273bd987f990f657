"""`isoclr embed --out DIR` at scale, one run: 1 vs 2 accelerate processes, 1 vs 2 Ray actors, streaming RSS.

Throughput cases embed the same synthetic transcripts (``--records`` of ``--length`` nt, random
sequence) with the released isoclr-s in float32, one thread per process or actor
(``OMP_NUM_THREADS=1``), into a fresh folder each:

- ``local-1``: ``python -m isoclr_hf.cli embed`` (one process);
- ``accelerate-2``: ``accelerate launch --multi_gpu --num_processes 2 -m isoclr_hf.cli embed``
  (``ACCELERATE_USE_CPU=true``: two CPU processes);
- ``ray-1``/``ray-2``: ``isoclr embed --engine ray --num-workers 1/2`` (a local Ray of 1/2 CPUs).

nt/s is the nucleotides over the embedding time the command reports (for accelerate the slowest
process's, from its model loaded to its last part; for Ray the span from the first shard an actor
started to the last it finished); the wall time includes start-up and model loading. Peak RSS is
the largest sum over the command's process tree, sampled every 0.2 s.

Streaming: ``--stream-records`` (1k and 100k) synthetic records of ~100 nt embedded by one process
with a tiny random-init model into a folder (``--shard-size 1024``): the peak RSS should not grow with
the number of records. The load average is recorded before and after each case: on a shared machine
compare ratios within one run only.

    python benchmarks/embedding_scale.py                 # writes benchmarks/results/embedding_scale.{md,json}
    python benchmarks/embedding_scale.py --records 64 --stream-records 1000 20000   # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = REPOSITORY / "benchmarks" / "results"


def write_fasta(path: Path, count: int, length: int, seed: int = 0) -> Path:
    """``count`` random transcripts of ``length`` nt (+-20%), plain headers."""
    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"ACGT", dtype=np.uint8)
    with path.open("w") as handle:
        for index in range(count):
            size = int(length * rng.uniform(0.8, 1.2))
            handle.write(f">t{index}\n{alphabet[rng.integers(0, 4, size)].tobytes().decode()}\n")
    return path


def run_measured(command: list[str], environment: dict[str, str]) -> dict[str, object]:
    """Run ``command``; its output, wall seconds and the peak RSS summed over its process tree."""
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    process = subprocess.Popen(command, cwd=REPOSITORY, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    root = psutil.Process(process.pid)
    peak = 0
    output_lines: list[str] = []
    import threading

    reader = threading.Thread(target=lambda: output_lines.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    while process.poll() is None:
        total = 0
        with contextlib.suppress(psutil.Error):
            for member in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += member.memory_info().rss
        peak = max(peak, total)
        time.sleep(0.2)
    reader.join(timeout=10)
    output = "".join(output_lines)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{output[-4000:]}")
    return {"output": output, "wall_seconds": time.perf_counter() - started, "peak_rss_mb": peak / 2**20,
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def embed_throughput(output: str) -> tuple[int, float]:
    """Nucleotides embedded and embedding seconds, from the command's summary lines."""
    processes = re.findall(r"process \d+/\d+: embedded \d+ shard\(s\), [\d,]+ transcripts \(([\d,]+) nt\) in "
                           r"([\d.]+) s", output)
    if processes:
        return sum(int(n.replace(",", "")) for n, _ in processes), max(float(s) for _, s in processes)
    ray = re.search(r"ray: embedded [\d,]+ transcripts \(([\d,]+) nt\) in ([\d.]+) s", output)  # actors' span
    if ray is None:
        raise RuntimeError(f"no summary in:\n{output[-3000:]}")
    return int(ray.group(1).replace(",", "")), float(ray.group(2))


def throughput_cases(fasta: Path, work: Path, model: str, shard_size: int) -> list[dict[str, object]]:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true"}
    embed = ["embed", "--model", model, "--fasta", str(fasta), "--quiet", "--shard-size", str(shard_size)]
    python = [sys.executable, "-m", "isoclr_hf.cli"]
    accelerate = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", "--multi_gpu",
                  "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                  "--main_process_port", "29577", "-m", "isoclr_hf.cli"]
    cases = {
        "local-1": python + embed,
        "accelerate-2": accelerate + embed,
        "ray-1": python + embed + ["--engine", "ray", "--num-workers", "1"],
        "ray-2": python + embed + ["--engine", "ray", "--num-workers", "2"],
    }
    rows = []
    for name, command in cases.items():
        out = work / name
        shutil.rmtree(out, ignore_errors=True)
        print(f"{name} ...", flush=True)
        measured = run_measured([*command, "--out", str(out)], environment)
        nucleotides, seconds = embed_throughput(str(measured["output"]))
        rows.append({"case": name, "nucleotides": nucleotides, "embed_seconds": seconds,
                     "nt_per_second": nucleotides / seconds, **{k: v for k, v in measured.items() if k != "output"}})
        print(f"  {rows[-1]['nt_per_second']:,.0f} nt/s, peak RSS {rows[-1]['peak_rss_mb']:,.0f} MB", flush=True)
    return rows


def streaming_cases(work: Path, counts: list[int]) -> list[dict[str, object]]:
    sys.path.insert(0, str(REPOSITORY))
    from isoclr_hf import IsoCLRModel, IsoCLRTokenizer
    from tests.tiny_models import tiny_config

    model = work / "tiny_model"
    IsoCLRModel(tiny_config()).save_pretrained(model)
    IsoCLRTokenizer().save_pretrained(model)
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    rows = []
    for count in counts:
        fasta = write_fasta(work / f"stream_{count}.fa", count, 100, seed=1)
        out = work / f"stream_{count}"
        print(f"stream {count:,} ...", flush=True)
        measured = run_measured([sys.executable, "-m", "isoclr_hf.cli", "embed", "--model", str(model), "--fasta",
                                 str(fasta), "--quiet", "--shard-size", "1024", "--out", str(out)], environment)
        rows.append({"records": count, **{k: v for k, v in measured.items() if k != "output"}})
        print(f"  peak RSS {rows[-1]['peak_rss_mb']:,.0f} MB in {rows[-1]['wall_seconds']:.0f} s", flush=True)
    return rows


def help_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "isoclr_hf.cli", "embed", "--help"], cwd=REPOSITORY, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def write_report(result: dict[str, object]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embedding_scale.json").write_text(json.dumps(result, indent=1))
    rows = result["throughput"]
    by_case = {row["case"]: row for row in rows}  # type: ignore[index]
    lines = [
        "# isoclr embed at scale (benchmarks/embedding_scale.py, one run)", "",
        f"Machine: {result['cpu']}, {result['cores']} cores, shared; load average (1 min) at start "
        f"{result['load_start']:.1f}, at end {result['load_end']:.1f}. Model {result['model']}, float32, one thread "
        f"per process/actor, {result['records']} synthetic transcripts of ~{result['length']} nt, "
        f"--shard-size {result['shard_size']}.", "",
        "| case | nt | embed s | nt/s | wall s (start-up included) | peak RSS MB | load before/after |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:  # type: ignore[attr-defined]
        lines.append(f"| {row['case']} | {row['nucleotides']:,} | {row['embed_seconds']:.2f} | "
                     f"{row['nt_per_second']:,.0f} | {row['wall_seconds']:.1f} | {row['peak_rss_mb']:,.0f} | "
                     f"{row['load_before']:.1f} / {row['load_after']:.1f} |")
    lines += ["", f"Speed-up from 2 accelerate processes: "
              f"{by_case['accelerate-2']['nt_per_second'] / by_case['local-1']['nt_per_second']:.2f}x; "
              f"from 2 Ray actors: {by_case['ray-2']['nt_per_second'] / by_case['ray-1']['nt_per_second']:.2f}x "
              "(goal: 1.7x).", "", "Streaming (one process, tiny model, ~100 nt records, folder output):", "",
              "| records | wall s | peak RSS MB |", "|---:|---:|---:|"]
    for row in result["streaming"]:  # type: ignore[attr-defined]
        lines.append(f"| {row['records']:,} | {row['wall_seconds']:.0f} | {row['peak_rss_mb']:,.0f} |")
    lines += ["", f"`python -m isoclr_hf.cli embed --help`: {result['help_seconds']:.1f} s."]
    (RESULTS / "embedding_scale.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="isoclr-s")
    parser.add_argument("--records", type=int, default=640)
    parser.add_argument("--length", type=int, default=2000)
    parser.add_argument("--shard-size", type=int, default=16)
    parser.add_argument("--stream-records", type=int, nargs="+", default=[1_000, 100_000])
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="embedding_scale_") as folder:
        work = Path(folder)
        fasta = write_fasta(work / "records.fa", args.records, args.length)
        throughput = throughput_cases(fasta, work, args.model, args.shard_size)
        streaming = streaming_cases(work, args.stream_records)
    result = {"cpu": cpu_model(), "cores": os.cpu_count(), "model": args.model, "records": args.records,
              "length": args.length, "shard_size": args.shard_size, "load_start": load_start,
              "load_end": os.getloadavg()[0], "throughput": throughput, "streaming": streaming,
              "help_seconds": help_seconds()}
    write_report(result)
    print((RESULTS / "embedding_scale.md").read_text())


if __name__ == "__main__":
    main()
