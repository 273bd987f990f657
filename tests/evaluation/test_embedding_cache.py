"""The embedding cache: a second run does not call the model; stale or corrupt files are recomputed."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isoclr_hf.cli import main
from isoclr_hf.cli.evaluate import add_arguments, settings_from_args
from isoclr_hf.evaluation import embedding_cache
from isoclr_hf.evaluation.embedding_cache import cache_key, cache_path, cached_embeddings, read_cached
from isoclr_hf.evaluation.tasks.registry import load_task
from isoclr_hf.loading import load_encoder, load_tokenizer
from tests.tiny_tasks import save_tiny_encoder, write_mrnabench_parquet


@pytest.fixture(scope="module")
def records() -> list:
    return load_task("saluki_halflife_human").records[:12]


def _embed(model_dir: Path, records: list, cache_dir: Path | None, **options: object) -> np.ndarray:
    return cached_embeddings(load_encoder(model_dir), load_tokenizer(model_dir), records, model_path=model_dir,
                             role="pretrained", task_name="t", cache_dir=cache_dir, batch_size=4, progress=False,
                             **options)


def test_a_second_run_reads_the_cache_without_calling_the_model(
    tiny_model_dir: Path, records: list, tmp_path: Path
) -> None:
    first = _embed(tiny_model_dir, records, tmp_path)
    assert len(list(tmp_path.glob("t-pretrained-*.npz"))) == 1
    heard: list[str] = []
    with mock.patch.object(embedding_cache, "embed_records", side_effect=AssertionError("the model ran")):
        second = _embed(tiny_model_dir, records, tmp_path, announce=heard.append)
    np.testing.assert_array_equal(first, second)
    assert second.dtype == np.float32 and "from the cache" in heard[0]


def test_the_key_changes_with_the_weights_the_sequences_the_role_and_the_tokenizer(
    tiny_model_dir: Path, records: list, tmp_path: Path
) -> None:
    tokenizer = load_tokenizer(tiny_model_dir)
    key = cache_key(tiny_model_dir, "pretrained", 0, "t", records, tokenizer)
    assert key == cache_key(tiny_model_dir, "pretrained", 0, "t", list(records), tokenizer)
    other_weights = save_tiny_encoder(tmp_path / "other", seed=7)
    assert key != cache_key(other_weights, "pretrained", 0, "t", records, tokenizer)
    assert key != cache_key(tiny_model_dir, "pretrained", 0, "t", records[:-1], tokenizer)
    assert key != cache_key(tiny_model_dir, "random_init", 0, "t", records, tokenizer)
    assert key != cache_key(tiny_model_dir, "pretrained", 0, "other_task", records, tokenizer)
    shorter = load_tokenizer(tiny_model_dir)
    shorter.model_max_length = 1000
    assert key != cache_key(tiny_model_dir, "pretrained", 0, "t", records, shorter)
    assert cache_key(tiny_model_dir, "random_init", 0, "t", records, tokenizer) != cache_key(
        tiny_model_dir, "random_init", 1, "t", records, tokenizer)


def test_a_corrupt_or_stale_file_is_ignored_with_a_warning_and_recomputed(
    tiny_model_dir: Path, records: list, tmp_path: Path
) -> None:
    expected = _embed(tiny_model_dir, records, None)
    path = next(iter(tmp_path.glob("*.npz")), None) or cache_path(
        tmp_path, "t", "pretrained", cache_key(tiny_model_dir, "pretrained", 0, "t", records,
                                               load_tokenizer(tiny_model_dir)))
    path.write_bytes(b"not an npz file")
    with pytest.warns(UserWarning, match="unreadable embedding cache"):
        np.testing.assert_allclose(_embed(tiny_model_dir, records, tmp_path), expected, rtol=1e-6)
    np.savez(path.open("wb"), key=np.asarray("another key"), embeddings=expected)
    with pytest.warns(UserWarning, match="stale embedding cache"):
        np.testing.assert_allclose(_embed(tiny_model_dir, records, tmp_path), expected, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rewritten by the run above: a clean hit now
        np.testing.assert_allclose(_embed(tiny_model_dir, records, tmp_path), expected, rtol=1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300))
def test_any_bytes_in_a_cache_file_give_none_or_the_stored_array(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "t-pretrained-x.npz"
    path.write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read_cached(path, "key", (3, 4)) is None


def test_evaluate_writes_into_the_cache_dir(tiny_model_dir: Path, tmp_path: Path) -> None:
    task = write_mrnabench_parquet(tmp_path / "task.parquet", genes=90, per_gene=3)
    argv = ["evaluate", "--model", str(tiny_model_dir), "--task", str(task), "--fractions", "1", "--seeds", "0",
            "--batch-size", "16", "--quiet", "--no-head", "--out", str(tmp_path / "a"), "--cache-dir",
            str(tmp_path / "c")]
    assert main(argv) == 0
    assert sorted(p.name.split("-")[1] for p in (tmp_path / "c").glob("task-*.npz")) == ["pretrained", "random_init"]


def test_the_cache_is_on_by_default_under_the_user_cache_and_off_with_no_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--model", "m", "--task", "t", "--out", "o"]
    assert settings_from_args(parser.parse_args(base)).cache_dir == tmp_path / "isoclr_hf" / "embeddings"
    assert settings_from_args(parser.parse_args([*base, "--cache-dir", "x"])).cache_dir == Path("x")
    assert settings_from_args(parser.parse_args([*base, "--cache-dir", "x", "--no-cache"])).cache_dir is None


def test_the_progress_bar_names_the_task_and_the_encoder(tiny_model_dir: Path, records: list,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    for role in ("pretrained", "random_init"):
        cached_embeddings(load_encoder(tiny_model_dir), load_tokenizer(tiny_model_dir), records,
                          model_path=tiny_model_dir, role=role, task_name="halflife", cache_dir=None, batch_size=4,
                          progress=True)
    bars = capsys.readouterr().err
    assert "embedding halflife (pretrained)" in bars and "embedding halflife (random_init)" in bars
