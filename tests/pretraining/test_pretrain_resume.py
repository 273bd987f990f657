"""A run stopped and resumed from its checkpoint ends as an uninterrupted run: weights, metrics, summary."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from isoclr_hf.pretraining.checkpoints import restore_rng_states, rng_fingerprint
from isoclr_hf.pretraining.config import parse_pretraining_config
from isoclr_hf.pretraining.loop import build_model
from tests.pretraining.tiny_corpus import pretrain, tiny_run_arguments


def metric_records(run: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def comparable(records: list[dict[str, float]]) -> list[tuple[Any, ...]]:
    """Each record's step, names and values, less the wall-clock throughputs."""
    timed = {"pairs_per_second", "nucleotides_per_second"}
    return [tuple(sorted((k, round(v, 5)) for k, v in record.items() if k not in timed)) for record in records]


@pytest.mark.slow
def test_resumed_run_matches_an_uninterrupted_run(tiny_corpus_path: Path, tmp_path: Path) -> None:
    # 48 gene sets / 8 pairs = 6 micro-batches = 3 optimizer steps an epoch with accumulation 2.
    # The interrupted run checkpoints at step 2 (mid-epoch), trains on past the end of epoch 0 and
    # stops at step 4; its step-4 checkpoint is deleted, as if it had been killed before writing it.
    # The resume from step 2 redoes steps 3-4 and the epoch end, and goes on to step 5 (epoch 1).
    # Masking and dropout are on, so the RNG states must be restored too.
    settings = {"max_steps": 5, "gradient_accumulation_steps": 2, "eval_every": 2, "checkpoint_every": 2}
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    expected_summary = pretrain(tiny_run_arguments(tiny_corpus_path, straight, **settings))
    partial = pretrain(tiny_run_arguments(tiny_corpus_path, interrupted, stop_after_steps=4, **settings))
    assert partial["steps"] == 4 and not (interrupted / "final").exists()
    shutil.rmtree(interrupted / "checkpoints" / "step_000004")
    checkpoint = interrupted / "checkpoints" / "step_000002"
    # The progress is JSON, one file per process; nothing registered for pickling.
    assert (checkpoint / "training_progress_0.json").exists()
    assert not list(checkpoint.glob("custom_checkpoint_*"))
    segment_one = json.loads((checkpoint / "training_progress_0.json").read_text())["train_seconds"]
    assert [r["step"] for r in metric_records(interrupted) if "loss" in r] == [1, 2, 3, 4]  # 3-4 to be redone

    resumed = pretrain(tiny_run_arguments(tiny_corpus_path, interrupted, resume_from_checkpoint="latest",
                                               **settings))
    assert resumed["steps"] == 5

    expected = load_file(straight / "final" / "model.safetensors")
    actual = load_file(interrupted / "final" / "model.safetensors")
    assert expected.keys() == actual.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], atol=1e-6, rtol=1e-5, msg=name)
    # Not trivially equal: training moved the weights.
    initial = build_model(parse_pretraining_config(tiny_run_arguments(tiny_corpus_path, tmp_path)))
    moved = initial.isoclr.state_dict()["encoder.stem_conv.weight"]
    assert not torch.allclose(moved, expected["encoder.stem_conv.weight"])

    # metrics.jsonl: cut back to the checkpoint, then logged on: no step twice, as if never stopped.
    records = metric_records(interrupted)
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3, 4, 5]
    assert comparable(records) == comparable(metric_records(straight))
    # The summary covers the whole run: the untrained model's retrieval, the time of both segments.
    summary = json.loads((interrupted / "summary.json").read_text())
    assert summary == {**resumed, "final_model": summary["final_model"]}
    for name in ("retrieval_start", "retrieval_end", "first_epoch_loss", "last_epoch_loss", "steps"):
        assert summary[name] == pytest.approx(expected_summary[name], abs=1e-6), name
    assert summary["retrieval_start"] == metric_records(straight)[0]["retrieval_top1"]
    assert summary["segments"] == 2 and expected_summary["segments"] == 1
    assert summary["train_seconds"] == pytest.approx(segment_one + summary["segment_train_seconds"])
    assert summary["train_seconds"] > summary["segment_train_seconds"] > 0


def small_checkpoint(corpus: Path, out: Path) -> Path:
    pretrain(tiny_run_arguments(corpus, out, max_steps=2, stop_after_steps=1))
    return out / "checkpoints" / "step_000001"


def test_unrestored_rng_states_are_an_error(tiny_corpus_path: Path, tmp_path: Path) -> None:
    # accelerate's load_state skips a random_states file it cannot read without saying so.
    checkpoint = small_checkpoint(tiny_corpus_path, tmp_path / "run")
    # Where accelerate's own allowlist falls short (older versions), the states are read here instead.
    saved = json.loads((checkpoint / "training_progress_0.json").read_text())["rng_fingerprint"]
    random.random(), np.random.rand(), torch.rand(1)
    assert rng_fingerprint() != saved
    restore_rng_states(checkpoint / "random_states_0.pkl")
    assert rng_fingerprint() == saved

    (checkpoint / "random_states_0.pkl").write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="RNG states of process 0"):
        pretrain(tiny_run_arguments(tiny_corpus_path, tmp_path / "run", max_steps=2,
                                         resume_from_checkpoint=str(checkpoint)))


def test_a_checkpoint_with_pickled_progress_is_migrated(tiny_corpus_path: Path, tmp_path: Path) -> None:
    # Checkpoints written before the JSON progress hold it as custom_checkpoint_0.pkl (plain numbers).
    checkpoint = small_checkpoint(tiny_corpus_path, tmp_path / "run")
    state = json.loads((checkpoint / "training_progress_0.json").read_text())
    legacy = {name: state[name] for name in ("step", "epoch", "batches_in_epoch", "epoch_loss_sum", "batches_total")}
    torch.save(legacy, checkpoint / "custom_checkpoint_0.pkl")
    (checkpoint / "training_progress_0.json").unlink()
    summary = pretrain(tiny_run_arguments(tiny_corpus_path, tmp_path / "run", max_steps=2,
                                               resume_from_checkpoint="latest"))
    assert summary["steps"] == 2 and summary["segments"] == 2
    assert (checkpoint / "training_progress_0.json").exists() and not (checkpoint / "custom_checkpoint_0.pkl").exists()


def test_resume_from_a_missing_folder_is_an_error(tiny_corpus_path: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        pretrain(tiny_run_arguments(tiny_corpus_path, tmp_path, resume_from_checkpoint=str(tmp_path / "nope")))


def tensorboard_steps(run: Path, tag: str) -> list[int]:
    """Steps of ``tag`` as TensorBoard shows them (events of a resumed run's purged steps hidden)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "isoclr_pretraining"))  # accelerate's folder (its hparams: a subfolder)
    events.Reload()
    return [event.step for event in events.Scalars(tag)]


@pytest.mark.slow
def test_a_resumed_run_shows_each_step_once_in_tensorboard(tiny_corpus_path: Path, tmp_path: Path) -> None:
    settings = {"max_steps": 5, "checkpoint_every": 2, "log_with": "tensorboard"}
    run = tmp_path / "run"
    pretrain(tiny_run_arguments(tiny_corpus_path, run, stop_after_steps=4, **settings))
    shutil.rmtree(run / "checkpoints" / "step_000004")  # killed before the step-4 checkpoint
    assert tensorboard_steps(run, "loss") == [1, 2, 3, 4]
    pretrain(tiny_run_arguments(tiny_corpus_path, run, resume_from_checkpoint="latest", **settings))
    assert tensorboard_steps(run, "loss") == [1, 2, 3, 4, 5]  # steps 3-4 logged twice, shown once


def test_a_time_limit_checkpoints_after_the_step_that_passes_it_and_the_run_resumes_to_the_same_end(
    tiny_corpus_path: Path, tmp_path: Path
) -> None:
    settings = {"max_steps": 3, "eval_every": 0, "checkpoint_every": 0}
    straight, limited = tmp_path / "straight", tmp_path / "limited"
    pretrain(tiny_run_arguments(tiny_corpus_path, straight, **settings))
    # A limit every step passes: the segment stops after its first step, with a checkpoint and no final model.
    first = pretrain(tiny_run_arguments(tiny_corpus_path, limited, stop_after_minutes=1e-9, **settings))
    assert first["steps"] == 1 and not (limited / "final").exists()
    assert [p.name for p in (limited / "checkpoints").iterdir()] == ["step_000001"]
    resumed = pretrain(tiny_run_arguments(tiny_corpus_path, limited, resume_from_checkpoint="latest", **settings))
    assert resumed["steps"] == 3
    expected = load_file(straight / "final" / "model.safetensors")
    actual = load_file(limited / "final" / "model.safetensors")
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], atol=1e-6, rtol=1e-5, msg=name)


def test_a_time_limit_must_be_positive(tiny_corpus_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stop_after_minutes must be > 0"):
        pretrain(tiny_run_arguments(tiny_corpus_path, tmp_path / "run", stop_after_minutes=0))
