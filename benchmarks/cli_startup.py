"""Start-up time of the command line: `isoclr --help`, each subcommand's help and argument errors, pretrain.py.

Each command runs in a fresh Python (the current tree, and a baseline git ref extracted with ``git archive``
into a temporary folder and put first on ``PYTHONPATH``), the two sides taking turns round after round so
that load from other processes hits both; each row gives the median of ``--rounds`` runs. The CPU model and
the load average before and after are recorded, since the figures depend on both.

    python benchmarks/cli_startup.py                      # baseline a1ca256 (before the lazy imports)
    python benchmarks/cli_startup.py --baseline HEAD~3 --rounds 7

Results go to benchmarks/results/cli_startup.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = REPOSITORY / "benchmarks" / "results"

# (label, argv after the interpreter); {root} is the tree under test. The `isoclr` cases run the console
# script's entry point (isoclr_hf.cli.main) as the installed `isoclr` does.
_CLI = "import sys; from isoclr_hf.cli import main; sys.exit(main())"
COMMANDS = [
    ("isoclr --help", ["-c", _CLI, "--help"]),
    ("isoclr evaluate --help", ["-c", _CLI, "evaluate", "--help"]),
    ("isoclr build-corpus --help", ["-c", _CLI, "build-corpus", "--help"]),
    ("isoclr push --help", ["-c", _CLI, "push", "--help"]),
    ("isoclr convert-orthrus --help", ["-c", _CLI, "convert-orthrus", "--help"]),
    ("isoclr embed --help", ["-c", _CLI, "embed", "--help"]),
    ("isoclr evaluate (missing --task, --out)", ["-c", _CLI, "evaluate", "--model", "isoclr-s"]),
    ("isoclr evaluate --out EXISTING", ["-c", _CLI, "evaluate", "--model", "isoclr-s", "--task", "te_5utr_hek293",
                                        "--out", "{existing}"]),
    ("isoclr build-corpus --out EXISTING", ["-c", _CLI, "build-corpus", "--bundled", "--out", "{existing}"]),
    ("python training/pretrain.py --help", ["{root}/training/pretrain.py", "--help"]),
]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_command(argv: list[str], root: Path, existing: Path) -> float:
    """Seconds of one run of ``python ARGV`` with ``root`` first on the import path."""
    arguments = [a.format(root=root, existing=existing) for a in argv]
    environment = {**os.environ, "PYTHONPATH": str(root)}
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=root, env=environment, capture_output=True, timeout=600)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="a1ca256", help="git ref to compare with ('none': current tree only)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each command on each side (median kept)")
    parser.add_argument("--skip", action="append", default=[], help="leave out commands whose label contains this")
    args = parser.parse_args(argv)
    commands = [(label, command) for label, command in COMMANDS if not any(s in label for s in args.skip)]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cli_startup_") as scratch:
        existing = Path(scratch) / "existing"
        existing.mkdir()
        (existing / "report.json").write_text("{}")
        sides = {"current": REPOSITORY}
        if args.baseline != "none":
            baseline = Path(scratch) / "baseline"
            baseline.mkdir()
            archive = subprocess.run(["git", "-C", str(REPOSITORY), "archive", args.baseline], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
            sides = {"baseline": baseline, **sides}
        times: dict[str, dict[str, list[float]]] = {label: {side: [] for side in sides} for label, _ in commands}
        for round_number in range(args.rounds):
            for label, command in commands:
                for side, root in sides.items():
                    times[label][side].append(time_command(command, root, existing))
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    load_after = os.getloadavg()
    rows = [{"command": label, **{f"{side}_median_s": round(statistics.median(t), 2) for side, t in by_side.items()},
             **{f"{side}_runs_s": [round(x, 2) for x in t] for side, t in by_side.items()}}
            for label, by_side in times.items()]
    machine = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
               "load_average_before": [round(x, 2) for x in load_before],
               "load_average_after": [round(x, 2) for x in load_after], "rounds": args.rounds,
               "baseline": args.baseline}
    header = "| command | " + " | ".join(f"{side} (median s)" for side in sides) + " |"
    lines = [
        "# Command-line start-up",
        "",
        f"`python benchmarks/cli_startup.py --baseline {args.baseline} --rounds {args.rounds}`: median of "
        f"{args.rounds} runs per command and side, each a fresh Python; baseline = `{args.baseline}`.",
        "",
        f"CPU: {machine['cpu']} ({machine['cores']} cores), Python {machine['python']}; load average (1, 5, 15 min) "
        f"{machine['load_average_before']} before, {machine['load_average_after']} after.",
        "",
        header,
        "|---|" + "---:|" * len(sides),
        *("| " + row["command"] + " | " + " | ".join(f"{row[f'{side}_median_s']:.2f}" for side in sides) + " |"
          for row in rows),
        "",
        "`isoclr embed --help` imports its own module's dependencies (isoclr_hf/cli/embed.py, outside this change).",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cli_startup.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / "cli_startup.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n",
                                              encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
