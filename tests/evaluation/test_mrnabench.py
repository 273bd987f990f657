"""mRNABench: our EmbeddingModel adapter, the table layout, and mRNABench's own linear probe on our embeddings.

mRNABench runs in a venv of its own (``.venv-compat/mrnabench``, ``make mrnabench``; it pins numpy<2,
pandas<=2.2.2 and pyarrow==20.0.0). Where that venv is missing the cross-venv test is skipped with the
reason, unless ``ISOCLR_MRNABENCH_VENV`` names it (``make test`` sets it, so CI does): then it fails.
Offline, mRNABench's ``load_dataset``/``LinearProbeBuilder(dataset_name=...)`` cannot run (they download
from Hugging Face or Zenodo); its ``LinearProbe``, splitter and evaluator, used here, need no network.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from isoclr_hf.annotations.records import TranscriptRecord
from isoclr_hf.evaluation.mrnabench_adapter import (
    IsoCLREmbeddingModel,
    cds_track,
    record_from_tracks,
    register_with_mrnabench,
    splice_track,
    task_to_mrnabench_frame,
)
from isoclr_hf.evaluation.tasks.loaders import load_mrnabench_task
from isoclr_hf.inference import embed_records
from isoclr_hf.loading import load_encoder, load_tokenizer

REPOSITORY = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("ISOCLR_MRNABENCH_VENV", "")
VENV = REPOSITORY / (REQUIRED or ".venv-compat/mrnabench")
PROBE_SCRIPT = Path(__file__).with_name("mrnabench_probe.py")


@pytest.fixture(scope="module")
def adapter(tiny_model_dir: Path) -> IsoCLREmbeddingModel:
    return IsoCLREmbeddingModel(str(tiny_model_dir))


@pytest.fixture(scope="module")
def halflife_frame(bundled_tasks: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    task = bundled_tasks["saluki_halflife_human"]  # 256 real SQANTI3 isoforms with exons and CDS
    path = tmp_path_factory.mktemp("mrnabench") / "halflife.parquet"
    task_to_mrnabench_frame(task).to_parquet(path)
    return task, path


def test_the_adapter_embeds_six_track_inputs_like_the_package(
    adapter: IsoCLREmbeddingModel, halflife_frame: tuple, tiny_model_dir: Path
) -> None:
    task, path = halflife_frame
    frame = __import__("pandas").read_parquet(path)
    record = task.records[0]
    one = adapter.embed_sequence_sixtrack(frame["sequence"][0], frame["cds"][0].astype(np.int32),
                                          frame["splice"][0].astype(np.int32))
    expected = embed_records(load_encoder(tiny_model_dir), load_tokenizer(tiny_model_dir), [record], progress=False)
    assert isinstance(one, torch.Tensor) and one.shape == (1, adapter.model.config.hidden_size)
    np.testing.assert_allclose(one.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(adapter.embed_frame(frame.iloc[:5], progress=False)[0], expected[0], rtol=1e-5,
                               atol=1e-6)
    assert adapter.is_sixtrack and "_" not in adapter.short_name
    assert adapter.embed_sequence("ACGU" * 30).shape == (1, adapter.model.config.hidden_size)
    with pytest.raises(NotImplementedError, match="mean over the valid positions"):
        adapter.embed_sequence("ACGT" * 30, agg_fn=torch.max)
    assert torch.is_grad_enabled()  # unlike mRNABench's models, it leaves autograd alone


def test_the_mrnabench_table_layout_round_trips(halflife_frame: tuple) -> None:
    task, path = halflife_frame
    back = load_mrnabench_task(path)
    assert [r.sequence for r in back.records] == [r.sequence for r in task.records]
    assert [r.exon_ends for r in back.records] == [r.exon_ends for r in task.records]
    assert [r.cds for r in back.records] == [r.cds for r in task.records]
    np.testing.assert_allclose(back.labels, task.labels)
    assert register_with_mrnabench() is False  # mrna_bench is not in the project's venv, and is never needed


def mrnabench_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        message = f"no mRNABench venv at {VENV} (run `make mrnabench`)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return python


def test_mrnabenchs_own_linear_probe_runs_on_our_embeddings_offline(
    adapter: IsoCLREmbeddingModel, halflife_frame: tuple, tmp_path: Path
) -> None:
    python = mrnabench_python()
    _, path = halflife_frame
    embeddings = adapter.embed_frame(__import__("pandas").read_parquet(path), progress=False)
    np.savez_compressed(tmp_path / f"halflife_{adapter.short_name}.npz", embedding=embeddings)  # their file layout
    out = tmp_path / "probe.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    subprocess.run([str(python), str(PROBE_SCRIPT), str(path), str(tmp_path / f"halflife_{adapter.short_name}.npz"),
                    "regression", str(out)], check=True, env=env, capture_output=True, text=True, timeout=300)
    result = json.loads(out.read_text())
    assert result["versions"]["numpy"].startswith("1.") and result["versions"]["pandas"] == "2.2.2"
    assert sorted(result["metrics"]) == ["0", "1", "2", "3", "4"]
    for values in result["metrics"].values():
        assert {"train_mse", "val_r", "test_r", "test_p"} <= set(values)
        assert all(np.isfinite(v) for v in values.values())
    # Our adapter has every abstract method of their EmbeddingModel, with the same parameters.
    for name, parameters in result["abstract_methods"].items():
        ours = list(inspect.signature(getattr(IsoCLREmbeddingModel, name)).parameters)
        assert ours == parameters, name


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_six_track_arrays_round_trip_to_the_same_record(data: st.DataObject) -> None:
    length = data.draw(st.integers(3, 300), label="length")
    sequence = data.draw(st.text("ACGTN", min_size=length, max_size=length), label="sequence")
    ends = [*sorted(data.draw(st.sets(st.integers(1, length - 1), max_size=6), label="inner exon ends")), length]
    coding = data.draw(st.booleans(), label="coding")
    start, end = -1, -1
    if coding:
        start = data.draw(st.integers(0, length - 3), label="cds start")
        end = start + 3 * data.draw(st.integers(1, (length - start) // 3), label="codons")
    record = TranscriptRecord("t", "g", "", "", sequence, ends, start, end)
    back = record_from_tracks(sequence, cds_track(record), splice_track(record))
    assert back.exon_ends == ends and back.cds == record.cds
