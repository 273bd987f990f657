"""`make pretrain-demo` passes accelerate what the config says, and the run prints what it actually uses."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.pretraining.tiny_corpus import tiny_run_arguments

REPOSITORY = Path(__file__).resolve().parents[2]


def _pretrain_demo_launch() -> list[str]:
    """The `accelerate launch ...` command of `make pretrain-demo`, its $(...) evaluated by the shell."""
    dry_run = subprocess.run(["make", "-n", "pretrain-demo", f"VENV={Path(sys.executable).parents[1]}"],
                             cwd=REPOSITORY, capture_output=True, text=True, check=True).stdout
    command = next(line for line in dry_run.replace("\\\n", " ").splitlines() if "accelerate launch" in line)
    expanded = subprocess.run(["bash", "-c", f"printf '%s\\n' {command}"], cwd=REPOSITORY, capture_output=True,
                              text=True, check=True).stdout.split("\n")
    return [word for word in expanded if word]


def test_the_makefile_passes_the_configs_precision_and_one_process() -> None:
    launch = _pretrain_demo_launch()
    assert launch[launch.index("--mixed_precision") + 1] == "bf16"  # training/configs/demo_cpu.yaml
    assert launch[launch.index("--num_processes") + 1] == "1"
    assert int(launch[launch.index("--num_cpu_threads_per_process") + 1]) >= 1
    assert "--num_machines" in launch and "--dynamo_backend" in launch


def test_the_demo_launch_reports_no_defaults_and_the_run_says_what_it_uses(tiny_corpus_path: Path,
                                                                         tmp_path: Path) -> None:
    launch = _pretrain_demo_launch()
    script = launch.index("training/pretrain.py")
    assert launch[:2] == [str(Path(sys.executable).parent / "accelerate"), "launch"]
    # accelerate's module rather than its script, whose #! line may name another copy of the venv
    command = [sys.executable, "-m", "accelerate.commands.launch", *launch[2:script],
               str(REPOSITORY / "training" / "pretrain.py"), "--config",
               str(REPOSITORY / "training" / "configs" / "demo_cpu.yaml"),
               *tiny_run_arguments(tiny_corpus_path, tmp_path / "run", max_steps=1)]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "were not passed to `accelerate launch`" not in output, output
    assert not re.search(r"num_processes.{0,20}value of .?0", output), output
    assert "Pretraining on 1 process(es), device cpu, mixed precision bf16" in output, shlex.join(command) + output
