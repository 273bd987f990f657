"""`accelerate launch training/pretrain.py`: the trainer dies with its launcher and locks its folder."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from isoclr_hf.pretraining.process import OutputFolderLockedError, OutputLock
from tests.pretraining.tiny_corpus import TRAINING_DIR, pretrain, tiny_run_arguments

REPOSITORY = TRAINING_DIR.parent


def process_gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie waiting to be reaped counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:  # pragma: no cover - not Linux
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    # A dead thread-group leader shows Z while other threads still run (and hold its files open).
    with contextlib.suppress(FileNotFoundError):
        if len(os.listdir(f"/proc/{pid}/task")) > 1:
            return False
    return status.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def lock_is_free(out: Path) -> bool:
    try:
        OutputLock(out).acquire().release()
    except OutputFolderLockedError:
        return False
    return True


def wait_for(condition, seconds: float, what: str, launcher: subprocess.Popen) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if launcher.poll() is not None and launcher.returncode != -signal.SIGKILL:
            output = launcher.stdout.read() if launcher.stdout else ""
            raise AssertionError(f"The launcher ended ({launcher.returncode}) before {what}:\n{output[-5000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"No {what} after {seconds} s.")
        time.sleep(0.2)


def training_has_started(out: Path) -> bool:
    metrics = out / "metrics.jsonl"
    return metrics.exists() and any('"loss"' in line for line in metrics.read_text().splitlines())


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_accelerate_launch_stops_the_trainer(tiny_corpus_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    arguments = tiny_run_arguments(tiny_corpus_path, out, max_steps=100000)
    command = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", "--cpu", "--num_processes", "1",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               str(TRAINING_DIR / "pretrain.py"), *arguments]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen(command, cwd=REPOSITORY, env=environment, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    trainer = None
    try:
        wait_for(lambda: training_has_started(out), 180, "training step logged", launcher)
        trainer = int((out / ".lock").read_text())  # the lock holds the trainer's pid
        assert trainer != launcher.pid and not process_gone(trainer)

        # A second run on the same folder stops at once, naming the folder and the holder.
        with pytest.raises(OutputFolderLockedError, match=rf"{out}.*pid {trainer}"):
            pretrain(tiny_run_arguments(tiny_corpus_path, out, max_steps=1))

        launcher.kill()  # SIGKILL: the launcher cannot pass anything on
        launcher.wait(timeout=30)
        wait_for(lambda: process_gone(trainer), 30, "end of the trainer after its launcher was killed", launcher)
        # The lock went with the trainer.
        wait_for(lambda: lock_is_free(out), 10, "release of the lock by the dead trainer", launcher)
        assert pretrain(tiny_run_arguments(tiny_corpus_path, out, max_steps=1))["steps"] == 1
        assert json.loads((out / "summary.json").read_text())["steps"] == 1
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait(timeout=30)
        if trainer is not None and not process_gone(trainer):
            os.kill(trainer, signal.SIGKILL)
        if launcher.stdout:
            launcher.stdout.close()
