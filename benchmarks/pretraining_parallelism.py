"""Benchmark: both cores for pretraining, 2 processes (cross-process negatives) vs 2 threads vs 1 thread.

Each case is the package's own launcher, ``accelerate launch training/pretrain.py``, on the same corpus and
recipe (``--config``, by default the release config) with the same global batch: one process of 2 threads
or of 1 thread reads ``--batch`` pairs a step; two processes of one thread read half of it each and gather
the other's embeddings as negatives (``gather_with_gradients``), so every case optimises the same loss over
the same number of pairs. Each runs ``--steps`` optimizer steps with no evaluation and no checkpoint; the
rate is the mean of the logged ``pairs_per_second`` after the first ``--skip`` logs (oneDNN builds its
kernels on the first batches of each shape).

    python benchmarks/pretraining_parallelism.py --corpus runs/all_real_corpus

Writes benchmarks/results/pretraining_parallelism.{md,json}. Run it on a quiet machine: the cases run one
after another and any other job changes them unequally.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

from isoclr_hf.atomic_files import atomic_write, write_json_atomically  # noqa: E402
from isoclr_hf.machine import cpu_description  # noqa: E402

#: name -> (processes, threads per process)
CASES = {"1 process x 1 thread": (1, 1), "1 process x 2 threads": (1, 2), "2 processes x 1 thread": (2, 1)}


def launch(config: str, corpus: str, out: Path, *, processes: int, threads: int, batch: int, steps: int,
           extra: list[str]) -> tuple[list[dict], float]:
    """Run one case; its logged metrics and its wall time."""
    # `--cpu --num_processes 2` starts one process: two CPU processes (gloo) are `--multi_gpu` with
    # ACCELERATE_USE_CPU, as the README says
    device = ["--multi_gpu"] if processes > 1 else ["--cpu"]
    command = [sys.executable, "-m", "accelerate.commands.launch", *device, "--num_processes", str(processes),
               "--num_machines", "1", "--dynamo_backend", "no", "--mixed_precision", "bf16",
               "--num_cpu_threads_per_process", str(threads),
               str(ROOT / "training" / "pretrain.py"), "--config", config, "--corpus", corpus,
               "--output_dir", str(out), "--per_device_batch_size", str(batch // processes),
               "--max_steps", str(steps), "--eval_every", "0", "--checkpoint_every", "0", "--log_every", "5",
               "--log_with", "null", "--progress_bar", "false", "--mixed_precision", "bf16", *extra]
    print("+", shlex.join(command), flush=True)
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "ACCELERATE_USE_CPU": "true"}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=environment, cwd=ROOT)
    seconds = time.perf_counter() - start
    with open(out / "metrics.jsonl") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [row for row in rows if "pairs_per_second" in row], seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, help="Folder written by `isoclr build-corpus`.")
    parser.add_argument("--config", default=str(ROOT / "training" / "configs" / "isoclr_s_release.yaml"))
    parser.add_argument("--batch", type=int, default=64, help="Global pairs per optimizer step.")
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--skip", type=int, default=2, help="First logs (of 5 steps each) left out of the rate.")
    parser.add_argument("--only", action="append", choices=sorted(CASES), help="Run only these cases.")
    parser.add_argument("--extra", default="", help="More pretrain.py options for every case, one string.")
    options = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, (processes, threads) in CASES.items():
            if options.only and name not in options.only:
                continue
            logs, seconds = launch(options.config, options.corpus, Path(scratch) / name.replace(" ", "_"),
                                   processes=processes, threads=threads, batch=options.batch,
                                   steps=options.steps, extra=shlex.split(options.extra))
            timed = logs[options.skip:] or logs
            rate = sum(row["pairs_per_second"] for row in timed) / len(timed)
            nucleotides = sum(row["nucleotides_per_second"] for row in timed) / len(timed)
            rows.append({"case": name, "processes": processes, "threads_per_process": threads,
                         "pairs_per_second": round(rate, 2), "nucleotides_per_second": round(nucleotides),
                         "final_loss": logs[-1]["loss"], "wall_seconds": round(seconds, 1)})
            print(rows[-1], flush=True)
    reference = next((row["pairs_per_second"] for row in rows if row["case"] == "1 process x 1 thread"), None)
    for row in rows:
        row["speed_up_vs_one_thread"] = round(row["pairs_per_second"] / reference, 2) if reference else None
    machine = cpu_description()
    record = {"machine": machine, "config": options.config, "batch": options.batch, "steps": options.steps,
              "rows": rows}
    lines = ["# Pretraining on both cores: processes vs threads", "",
             f"Machine: {machine}. Command: `python benchmarks/pretraining_parallelism.py "
             f"--corpus {options.corpus} --steps {options.steps}` (config `{Path(options.config).name}`, "
             f"{options.batch} pairs a step in every case, bf16 autocast). Rates: mean logged pairs/s after "
             f"the first {options.skip * 5} steps; wall time includes start-up and imports.", "",
             "| case | pairs/s | nucleotides/s | speed-up vs 1 thread | wall s (incl. start-up) | final loss |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['case']} | {row['pairs_per_second']:.1f} | {row['nucleotides_per_second']:,} | "
                     f"{row['speed_up_vs_one_thread']}x | {row['wall_seconds']} | {row['final_loss']:.3f} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json_atomically(RESULTS / "pretraining_parallelism.json", record)
    atomic_write(RESULTS / "pretraining_parallelism.md", lambda path: path.write_text("\n".join(lines) + "\n"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
