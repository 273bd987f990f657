"""Checkpoints of a pretraining run: ``accelerator.save_state`` folders, written atomically.

Layout under the run's output folder::

    checkpoints/step_000200/   model, optimizer, scheduler, RNG states of every process (accelerate's
                               save_state) and training_progress_<process>.json (ours)
    checkpoints/step_000400/
    final/                     the model + tokenizer (save_pretrained), for AutoModel.from_pretrained

A checkpoint is written to ``checkpoints/.step_N.tmp`` and renamed when complete, so a run killed
while saving leaves no half-written ``step_N`` that ``--resume_from_checkpoint latest`` would pick.

Nothing here is unpickled with ``weights_only=False``: the run's progress is JSON (it is not
registered with ``register_for_checkpointing``, whose ``custom_checkpoint_N.pkl`` accelerate loads
with ``weights_only=False``), and accelerate loads its own files (optimizer, scheduler,
``random_states_N.pkl``) with ``torch.load(weights_only=True)`` and an allowlist of numpy types.
accelerate skips RNG states it cannot load without an error, so the progress file records a
fingerprint of the RNG states and :func:`load_checkpoint` checks that they came back.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator

from ..atomic_files import write_json_atomically

CHECKPOINT_PATTERN = re.compile(r"^step_(\d+)$")
PROGRESS_FILE = "training_progress_{}.json"
PROGRESS_FORMAT = 1
LEGACY_PROGRESS_FILE = "custom_checkpoint_0.pkl"  # written by register_for_checkpointing before the JSON


class TrainingProgress:
    """Where the run is, saved as JSON in every checkpoint (one file per process).

    ``step``, ``epoch``, ``batches_in_epoch``: optimizer steps done, current epoch, micro-batches done
    in it. ``epoch_loss_sum``, ``batches_total``: this process's summed micro-batch losses in the
    epoch and its micro-batches since the start (resumes a streamed corpus). ``train_seconds``:
    training time up to the checkpoint, summed over the run's segments. ``metrics_bytes``: length of
    ``metrics.jsonl`` at the checkpoint (a resume cuts what was logged after it). ``evaluations``,
    ``epoch_losses``: the retrieval evaluations and epoch losses so far (for the summary).
    """

    def __init__(self) -> None:
        self.step = 0
        self.epoch = 0
        self.batches_in_epoch = 0
        self.epoch_loss_sum: float | Any = 0.0  # a tensor while training
        self.batches_total = 0
        self.train_seconds = 0.0
        self.segments = 1  # this run's starts: 1 + resumes
        self.metrics_bytes = 0
        self.evaluations: list[dict[str, float]] = []
        self.epoch_losses: list[dict[str, float]] = []

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "batches_in_epoch": self.batches_in_epoch,
                "epoch_loss_sum": float(self.epoch_loss_sum), "batches_total": self.batches_total,
                "train_seconds": float(self.train_seconds), "segments": self.segments,
                "metrics_bytes": self.metrics_bytes, "evaluations": self.evaluations,
                "epoch_losses": self.epoch_losses}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.epoch = int(state["epoch"])
        self.batches_in_epoch = int(state["batches_in_epoch"])
        self.epoch_loss_sum = float(state.get("epoch_loss_sum", 0.0))
        self.batches_total = int(state.get("batches_total", 0))
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.segments = int(state.get("segments", 1))
        self.metrics_bytes = int(state.get("metrics_bytes", -1))  # -1: unknown (leave metrics.jsonl as it is)
        self.evaluations = [dict(e) for e in state.get("evaluations", [])]
        self.epoch_losses = [dict(e) for e in state.get("epoch_losses", [])]

    def count_micro_batch(self, loss: Any) -> None:
        self.batches_in_epoch += 1
        self.batches_total += 1
        self.epoch_loss_sum = self.epoch_loss_sum + loss.detach().float()  # no device sync per step

    def start_next_epoch(self) -> None:
        self.epoch += 1
        self.batches_in_epoch = 0
        self.epoch_loss_sum = 0.0


def rng_fingerprint() -> str:
    """A digest of this process's Python, numpy and torch CPU RNG states (the ones save_state keeps)."""
    digest = hashlib.sha256(repr(random.getstate()).encode())
    name, keys, position, has_gauss, cached = np.random.get_state()
    digest.update(np.ascontiguousarray(keys).tobytes())
    digest.update(repr((name, int(position), int(has_gauss), float(cached))).encode())
    digest.update(torch.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


def checkpoint_folders(output_dir: str | Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first."""
    root = Path(output_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := CHECKPOINT_PATTERN.match(p.name)) and p.is_dir()]
    return [path for _, path in sorted(found)]


def resolve_checkpoint(spec: str, output_dir: str | Path) -> Path | None:
    """``"latest"`` -> the newest checkpoint of ``output_dir`` (None if there is none); else the folder."""
    if spec == "latest":
        folders = checkpoint_folders(output_dir)
        return folders[-1] if folders else None
    path = Path(spec)
    if not path.is_dir():
        raise FileNotFoundError(
            f"Checkpoint folder {path} does not exist; pass 'latest' or a checkpoints/step_N folder."
        )
    return path


def save_checkpoint(accelerator: Accelerator, output_dir: str | Path, progress: TrainingProgress, keep: int) -> Path:
    """``save_state`` and the progress JSON into ``checkpoints/step_N`` atomically; keep the newest ``keep``."""
    root = Path(output_dir) / "checkpoints"
    final = root / f"step_{progress.step:06d}"
    temporary = root / f".step_{progress.step:06d}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir(parents=True)
    accelerator.wait_for_everyone()
    state = {"format": PROGRESS_FORMAT, **progress.state_dict(), "rng_fingerprint": rng_fingerprint(),
             "processes": accelerator.num_processes}
    (temporary / PROGRESS_FILE.format(accelerator.process_index)).write_text(json.dumps(state, indent=1))
    accelerator.save_state(str(temporary))  # every process writes its RNG state here
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(final, ignore_errors=True)
        os.replace(temporary, final)
        for old in checkpoint_folders(output_dir)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def migrate_legacy_progress(checkpoint: Path) -> None:
    """A checkpoint from before the JSON progress: its pickled progress -> ``training_progress_0.json``.

    The old file holds only ints and floats, so ``weights_only=True`` reads it; it is renamed
    afterwards (accelerate's load_state refuses a ``custom_checkpoint_N.pkl`` nobody registered).
    """
    legacy = checkpoint / LEGACY_PROGRESS_FILE
    if not legacy.exists() or (checkpoint / PROGRESS_FILE.format(0)).exists():
        return
    state = torch.load(legacy, map_location="cpu", weights_only=True)
    write_json_atomically(checkpoint / PROGRESS_FILE.format(0), {"format": PROGRESS_FORMAT, **state})
    os.replace(legacy, checkpoint / f"{LEGACY_PROGRESS_FILE}.migrated")


def restore_rng_states(path: Path) -> None:
    """Set the Python, numpy and torch RNGs from accelerate's ``random_states_N.pkl`` (``weights_only``).

    For accelerate versions whose ``load_state`` does not allow the numpy types of the RNG states and
    skips them; only numpy's array reconstruction and dtypes are allowed, nothing that runs code.
    """
    import codecs

    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    allowed = [_reconstruct, np.ndarray, np.dtype, codecs.encode]
    allowed += [np.dtypes.UInt32DType] if hasattr(np, "dtypes") else []
    if not path.exists() or not hasattr(torch.serialization, "safe_globals"):
        return
    try:
        with torch.serialization.safe_globals(allowed):
            states = torch.load(path, map_location="cpu", weights_only=True)
        random.setstate(states["random_state"])
        np.random.set_state(states["numpy_random_seed"])
        torch.set_rng_state(states["torch_manual_seed"])
        if torch.cuda.is_available() and "torch_cuda_manual_seed" in states:
            torch.cuda.set_rng_state_all(states["torch_cuda_manual_seed"])
    except Exception:
        return


def load_checkpoint(accelerator: Accelerator, checkpoint: Path, progress: TrainingProgress) -> None:
    """``load_state`` (model, optimizer, scheduler, RNG states) and this process's progress JSON."""
    if accelerator.is_main_process:
        migrate_legacy_progress(checkpoint)
    accelerator.wait_for_everyone()
    own = checkpoint / PROGRESS_FILE.format(accelerator.process_index)
    path = own if own.exists() else checkpoint / PROGRESS_FILE.format(0)
    if not path.exists():
        raise FileNotFoundError(f"{checkpoint} has no {PROGRESS_FILE.format(0)}: not a pretraining checkpoint.")
    state = json.loads(path.read_text(encoding="utf-8"))
    accelerator.load_state(str(checkpoint), load_kwargs={"weights_only": True})
    progress.load_state_dict(state)
    if path != own:
        warnings.warn(f"{checkpoint} was written by {state.get('processes', 'another number of')} processes, "
                      f"this run has {accelerator.num_processes}: the resume is not exact.", stacklevel=2)
        return
    if state.get("rng_fingerprint", rng_fingerprint()) == rng_fingerprint():
        return
    restore_rng_states(checkpoint / f"random_states_{accelerator.process_index}.pkl")  # accelerate skipped them
    if state["rng_fingerprint"] != rng_fingerprint():
        raise RuntimeError(f"The RNG states of process {accelerator.process_index} in {checkpoint} were not "
                           "restored (accelerate's load_state skips a random_states file it cannot read).")


def save_final_model(accelerator: Accelerator, model: Any, tokenizer: Any, output_dir: str | Path) -> Path:
    """Write ``model`` (unwrapped: the contrastive run's encoder, the masked-LM run's ``ForMaskedLM``) and the
    tokenizer with ``save_pretrained`` into ``final/``, atomically."""
    final = Path(output_dir) / "final"
    temporary = Path(output_dir) / ".final.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(temporary, ignore_errors=True)
    accelerator.wait_for_everyone()
    model.save_pretrained(temporary, is_main_process=accelerator.is_main_process, save_function=accelerator.save)
    if accelerator.is_main_process:
        tokenizer.save_pretrained(temporary)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(temporary, final)
    accelerator.wait_for_everyone()
    return final


__all__ = [
    "TrainingProgress",
    "checkpoint_folders",
    "load_checkpoint",
    "resolve_checkpoint",
    "restore_rng_states",
    "rng_fingerprint",
    "save_checkpoint",
    "save_final_model",
]
