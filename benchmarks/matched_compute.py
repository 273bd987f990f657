"""The seeds' comparison at matched compute: isoclr-s vs an RNA-FM-style and a RiNALMo-style masked-LM model.

Issue 22 item 6. Each model (isoclr-s, ``rnafm_cpu_small.yaml``, ``rinalmo_cpu_small.yaml``: 787k, 824k and
795k encoder parameters) is pretrained on the same corpus for the same wall-clock time on one core (one
process, one thread, bf16 autocast), two runs side by side; then ``isoclr evaluate`` probes each on the tasks
against its own random initialisation and the k-mer ridge (5 split seeds), with ``--pretraining-corpus`` so
that every report also has the leakage-free test.

Stages, each skipped when its output exists (the whole job spans more than one session on 2 cores):

1. calibrate: ``--calibration-steps`` steps of each model, side by side as in stage 2, give seconds a step;
   the run's ``max_steps`` is then what fits ``--minutes`` (times ``--margin``), so that its learning-rate
   schedule ends where its time does;
2. pretrain: the three runs, two at a time (``runs/<model>/final``), with the recorded training minutes,
   steps, nucleotides and FLOPs (counted forward FLOPs per nucleotide at 1,024 nt, times 3 for the
   backward, times the nucleotides the run trained on);
3. evaluate: ``isoclr evaluate --max-examples N`` per model and task, two at a time;
4. report: ``benchmarks/results/matched_compute.{md,json}`` (tables by ``benchmarks/release_table.py``).

    python benchmarks/matched_compute.py --corpus runs/heldout_corpus --minutes 45 --work runs/matched
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from release_table import table  # noqa: E402  (sibling benchmark script)

from isoclr_hf.atomic_files import atomic_write, write_json_atomically  # noqa: E402
from isoclr_hf.machine import cpu_description  # noqa: E402

CONFIGS = {
    "isoclr-s": ROOT / "training" / "configs" / "isoclr_s_release_v2.yaml",
    "rnafm-small": ROOT / "training" / "configs" / "rnafm_cpu_small.yaml",
    "rinalmo-small": ROOT / "training" / "configs" / "rinalmo_cpu_small.yaml",
}
#: Per model: options for one process (isoclr-s's release config is written for 2 processes of 32 pairs).
ONE_PROCESS = {"isoclr-s": ["--per_device_batch_size", "64", "--crop_three_prime_fraction", "0.0"]}
TASKS = ("saluki_halflife_refseq", "dm3loc_localisation", "icodon_decay", "te_5utr_hek293", "siegel_3utr_jurkat")
#: Which runs share the 2 cores: the first two side by side, then the third (its neighbour: evaluations).
WAVES = (("isoclr-s", "rnafm-small"), ("rinalmo-small",))


def launch(model: str, out: Path, corpus: Path, extra: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1",
               "--num_machines", "1", "--dynamo_backend", "no", "--num_cpu_threads_per_process", "1",
               "--mixed_precision", "bf16", str(ROOT / "training" / "pretrain.py"), "--config", str(CONFIGS[model]),
               "--corpus", str(corpus), "--output_dir", str(out), "--mixed_precision", "bf16",
               "--progress_bar", "false", "--log_with", "tensorboard", *ONE_PROCESS.get(model, []), *extra]
    print("+", shlex.join(command), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    log = open(out.parent / f"{out.name}.log", "a")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def wait(processes: dict[str, subprocess.Popen]) -> None:
    for name, process in processes.items():
        if process.wait() != 0:
            raise SystemExit(f"{name}: pretraining failed (exit {process.returncode}); see its log")


def seconds_per_step(run: Path) -> float:
    """Training seconds an optimizer step of a finished (calibration) run."""
    summary = json.loads((run / "summary.json").read_text())
    return summary["train_seconds"] / max(summary["steps"], 1)


def calibrate(args: argparse.Namespace) -> dict[str, float]:
    path = args.work / "calibration.json"
    if path.is_file():
        return json.loads(path.read_text())
    result = {}
    for wave in WAVES:
        runs = {m: launch(m, args.work / "calibration" / m, args.corpus,
                          ["--max_steps", str(args.calibration_steps), "--eval_every", "0", "--checkpoint_every", "0",
                           "--log_every", "5", "--log_with", "null"]) for m in wave}
        wait(runs)
        result.update({m: seconds_per_step(args.work / "calibration" / m) for m in wave})
    write_json_atomically(path, result)
    return result


def forward_flops_per_nucleotide(model: str, folder: Path) -> float:
    """Forward FLOPs per nucleotide of the trained encoder on one 1,024-nt transcript (torch's flop counter)."""
    from torch.utils.flop_counter import FlopCounterMode

    from isoclr_hf.loading import load_encoder, load_tokenizer

    encoder, tokenizer = load_encoder(folder), load_tokenizer(folder)
    sequence = "".join("ACGT"[(i * 7 + i // 3) % 4] for i in range(1022 if model != "isoclr-s" else 1024))
    inputs = tokenizer([sequence], return_tensors="pt")
    # Grad enabled (no backward is run): in inference mode IsoCLR's convolutions take a fused path the counter
    # does not see (as in benchmarks/mlm_embedding.py).
    with FlopCounterMode(display=False) as counter:
        encoder(**inputs)
    return counter.get_total_flops() / len(sequence)


def pretrain(args: argparse.Namespace, step_seconds: dict[str, float]) -> dict[str, dict]:
    runs_dir = args.work / "runs"
    for wave in WAVES:
        pending = {m: step_seconds[m] for m in wave if not (runs_dir / m / "final" / "config.json").is_file()}
        processes = {}
        for model, seconds in pending.items():
            steps = max(1, math.floor(args.minutes * 60 * args.margin / seconds))
            resume = ["--resume_from_checkpoint", "latest"] if (runs_dir / model / "checkpoints").is_dir() else []
            processes[model] = launch(model, runs_dir / model, args.corpus,
                                      ["--max_steps", str(steps), "--checkpoint_every", "200", "--eval_every", "500",
                                       *resume])
        wait(processes)
    record = {}
    for model in CONFIGS:
        summary = json.loads((runs_dir / model / "summary.json").read_text())
        logs = [json.loads(line) for line in (runs_dir / model / "metrics.jsonl").read_text().splitlines()]
        # Each log's rate times its interval's training seconds (steps x the run's mean seconds a step; the
        # logged rates leave evaluations out) is the interval's nucleotides.
        step_time = summary["train_seconds"] / max(summary["steps"], 1)
        nucleotides, previous = 0.0, 0
        for row in logs:
            if "nucleotides_per_second" in row:
                nucleotides += row["nucleotides_per_second"] * step_time * (row["step"] - previous)
                previous = row["step"]
        per_nt = forward_flops_per_nucleotide(model, runs_dir / model / "final")
        record[model] = {"train_minutes": round(summary["train_seconds"] / 60, 1), "steps": summary["steps"],
                         "nucleotides_estimated": round(nucleotides), "forward_flops_per_nt": round(per_nt),
                         "training_flops_estimated": 3 * per_nt * nucleotides}
    return record


def evaluate(args: argparse.Namespace) -> list[Path]:
    runs_dir, out_dir = args.work / "runs", args.work / "evaluation"
    jobs = [(m, t) for m in CONFIGS for t in args.tasks
            if not (out_dir / f"{m}_{t}" / "report.json").is_file()]
    running: list[tuple[str, subprocess.Popen]] = []
    for model, task in jobs:
        while len(running) >= args.parallel:
            name, process = running.pop(0)
            if process.wait() != 0:
                raise SystemExit(f"evaluate {name} failed")
        command = [sys.executable, "-m", "isoclr_hf.cli", "evaluate", "--model", str(runs_dir / model / "final"),
                   "--task", task, "--max-examples", str(args.max_examples), "--fractions", "0.01,0.1,1",
                   "--no-head", "--quiet", "--pretraining-corpus", str(args.corpus), "--trust-remote-code",
                   "--out", str(out_dir / f"{model}_{task}"), "--overwrite"]
        print("+", shlex.join(command), flush=True)
        log = open(out_dir.parent / f"evaluate_{model}_{task}.log", "w")  # noqa: SIM115
        running.append((f"{model}/{task}", subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                                            env={**os.environ, "OMP_NUM_THREADS": "1"})))
    for name, process in running:
        if process.wait() != 0:
            raise SystemExit(f"evaluate {name} failed")
    return sorted(out_dir.glob("*/report.json"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("runs/matched"))
    parser.add_argument("--minutes", type=float, default=45.0, help="pretraining wall-clock minutes of each model")
    parser.add_argument("--margin", type=float, default=0.95, help="share of the minutes the step count plans for")
    parser.add_argument("--calibration-steps", type=int, default=20)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--max-examples", type=int, default=1500)
    parser.add_argument("--parallel", type=int, default=2, help="evaluations at a time")
    parser.add_argument("--stage", choices=("all", "pretrain", "evaluate"), default="all")
    args = parser.parse_args(argv)
    started = time.time()
    step_seconds = calibrate(args)
    training = pretrain(args, step_seconds)
    write_json_atomically(args.work / "training.json", training)
    if args.stage == "pretrain":
        return
    reports = evaluate(args)
    loaded = {path.parent.name: json.loads(path.read_text()) for path in reports}
    lines = ["# Matched compute: isoclr-s vs RNA-FM-style vs RiNALMo-style (issue 22 item 6)", "",
             f"Machine: {cpu_description()}. Command: `python benchmarks/matched_compute.py "
             f"{shlex.join(sys.argv[1:] if argv is None else argv)}`. Each model pretrained for {args.minutes:g} "
             "minutes on one core (one process, one thread, bf16 autocast), two at a time, on the same corpus "
             f"(`{args.corpus}`); evaluated with `isoclr evaluate --max-examples {args.max_examples}` (5 split seeds, "
             "probes at 1%, 10%, 100% of the training labels) against its own random initialisation and the k-mer "
             "ridge.", "", "| model | training minutes | steps | nucleotides (est.) | forward FLOPs/nt | training "
             "FLOPs (est.) |", "|---|---:|---:|---:|---:|---:|"]
    for model, row in training.items():
        lines.append(f"| {model} | {row['train_minutes']} | {row['steps']:,} | {row['nucleotides_estimated']:,} | "
                     f"{row['forward_flops_per_nt']:,} | {row['training_flops_estimated']:.3g} |")
    for model in CONFIGS:
        chosen = [report for name, report in sorted(loaded.items()) if name.startswith(model + "_")]
        if chosen:
            lines += ["", f"## {model}", "", table(chosen), "", "Test examples no pretraining corpus read:", "",
                      table(chosen, pretraining_free=True)]
    lines.append(f"\nWall time of this invocation: {(time.time() - started) / 60:.0f} min.")
    text = "\n".join(lines) + "\n"
    atomic_write(RESULTS / "matched_compute.md", lambda path: path.write_text(text))
    write_json_atomically(RESULTS / "matched_compute.json", {"training": training, "reports": sorted(loaded)})
    print(text)


if __name__ == "__main__":
    main()
