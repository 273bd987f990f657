"""`accelerate launch --num_processes 2 -m isoclr_hf.cli embed ... --out DIR` on two CPU processes.

The same result as one process; a killed run finishes when rerun; a bad record on one rank stops both.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from isoclr_hf.cli import main
from tests.embedding.helpers import REPOSITORY, assert_same_embeddings, save_tiny_model, sqanti_arguments

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_command(*embed_arguments: str) -> list[str]:
    return [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", "--multi_gpu", "--num_processes",
            "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port",
            str(free_port()), "-m", "isoclr_hf.cli", "embed", *embed_arguments]


def environment() -> dict[str, str]:
    # CPU processes (gloo); one thread each on the 2-core test machine.
    return {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("model"))


def test_two_processes_give_the_single_process_result_and_a_killed_run_finishes_when_rerun(
    model_dir: Path, tmp_path: Path
) -> None:
    arguments = ["--model", str(model_dir), *sqanti_arguments(40), "--quiet"]
    single = tmp_path / "single.parquet"
    assert main(["embed", *arguments, "--out", str(single)]) == 0

    whole = tmp_path / "two_processes"
    result = subprocess.run(launch_command(*arguments, "--shard-size", "6", "--out", str(whole)), cwd=REPOSITORY,
                            env=environment(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "process 0/2" in result.stdout and "process 1/2" in result.stdout
    assert_same_embeddings(whole, single)
    assert len(list(whole.glob("part-*.parquet"))) == 7

    # Kill the whole launch (launcher and both ranks) once the first parts are on disk.
    killed = tmp_path / "killed"
    launcher = subprocess.Popen(launch_command(*arguments, "--shard-size", "2", "--out", str(killed)),
                                cwd=REPOSITORY, env=environment(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while len(list(killed.glob("part-*.parquet"))) < 2:
            assert launcher.poll() is None, "the launch ended before it could be killed"
            assert time.monotonic() < deadline, "no part written within 240 s"
            time.sleep(0.02)
    finally:
        os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait(timeout=60)
    survivors = {p.name: p.stat().st_mtime_ns for p in killed.glob("part-*.parquet")}
    assert len(survivors) < 20, "the run finished before the kill"
    assert "complete" not in json.loads((killed / ".manifest.json").read_text())

    rerun = subprocess.run(launch_command(*arguments, "--shard-size", "2", "--out", str(killed)), cwd=REPOSITORY,
                           env=environment(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "complete: 40 transcripts in 20 part(s)" in rerun.stdout
    assert_same_embeddings(killed, single)
    for name, written in survivors.items():  # the parts written before the kill were kept, not redone
        assert (killed / name).stat().st_mtime_ns == written
    assert not [p for p in killed.iterdir() if p.name.startswith(".part")]


def test_a_bad_record_on_one_rank_stops_every_rank(model_dir: Path, tmp_path: Path) -> None:
    """Record 2 (shard 1: rank 1) is bad; rank 0 has 1,000 shards to embed (tens of seconds): it is stopped."""
    generator = np.random.default_rng(0)
    fasta = tmp_path / "records.fa"
    with fasta.open("w") as handle:
        for index in range(2_000):
            sequence = "".join(generator.choice(list("ACGT"), 1_500))
            if index == 1:
                sequence = sequence[:10] + "X" + sequence[11:]
            handle.write(f">t{index}\n{sequence}\n")
    out = tmp_path / "emb"
    started = time.monotonic()
    result = subprocess.run(launch_command("--model", str(model_dir), "--fasta", str(fasta), "--shard-size", "1",
                                           "--batch-size", "1", "--out", str(out)),
                            cwd=REPOSITORY, env=environment(), capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - started
    assert result.returncode != 0
    assert "record 2 ('t1'): character 'X' at position" in result.stdout + result.stderr
    assert "complete" not in json.loads((out / ".manifest.json").read_text())
    assert len(list(out.glob("part-*.parquet"))) < 1_000, "rank 0 ran to its end instead of being stopped"
    assert seconds < 240
