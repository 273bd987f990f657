"""Two pretraining processes: a bad input that only one of them reads ends both, with the error, promptly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import datasets
import pytest

from tests.pretraining.tiny_corpus import TRAINING_DIR, make_corpus, tiny_run_arguments

REPOSITORY = TRAINING_DIR.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def corpus_with_one_bad_gene_set(path: Path) -> Path:
    """The tiny corpus with an 'X' in every transcript of training gene set 7 (in one process's batches)."""
    corpus = make_corpus({"train": 48, "validation": 12, "test": 12})
    rows = corpus["train"].to_list()
    for transcript in rows[7]["transcripts"]:
        transcript["sequence"] = transcript["sequence"][:5] + "X" + transcript["sequence"][6:]
    corpus["train"] = datasets.Dataset.from_list(rows, features=corpus["train"].features)
    corpus.save_to_disk(str(path))
    return path


@pytest.mark.slow
def test_a_bad_input_on_one_rank_ends_both_processes_with_the_error(tmp_path: Path) -> None:
    corpus = corpus_with_one_bad_gene_set(tmp_path / "corpus")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(free_port()), str(TRAINING_DIR / "pretrain.py"), *tiny_run_arguments(corpus, tmp_path / "run")]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=240)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "character 'X' at position 6 (1-based) is not a nucleotide" in output  # sequence[5], the 6th letter
    assert "failed: ValueError: sequence" in output  # the failing process names itself ("process R/2 failed")
    assert time.monotonic() - started < 240
    assert not (tmp_path / "run" / "final").exists()


def test_a_failed_process_that_something_keeps_alive_still_ends(tmp_path: Path) -> None:
    """A non-daemon thread would keep the failed process (and the launcher, and its peers) waiting forever."""
    script = textwrap.dedent("""
        import threading, time
        from isoclr_hf.pretraining.process import exit_promptly_on_error
        threading.Thread(target=time.sleep, args=(3600,)).start()  # not a daemon: Python waits for it
        with exit_promptly_on_error(rank=1, world_size=2, grace_seconds=1.0):
            raise ValueError("bad record in this process's share")
    """)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "process 1/2 failed: ValueError: bad record in this process's share" in result.stderr
    assert "is still alive 1 s after its error: ending it" in result.stderr
    assert time.monotonic() - started < 100


def test_a_single_process_is_left_to_raise() -> None:
    from isoclr_hf.pretraining.process import exit_promptly_on_error

    with pytest.raises(ValueError, match="only one process"), exit_promptly_on_error(0, 1, grace_seconds=0.0):
        raise ValueError("only one process")
