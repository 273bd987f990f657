"""Checkpoints of a pretraining run: ``accelerator.save_state`` folders, written atomically.

Layout under the run's output folder::

    checkpoints/step_000200/   model, optimizer, scheduler, RNG states of every process, progress
    checkpoints/step_000400/
    final/                     the encoder + tokenizer (save_pretrained), for AutoModel.from_pretrained

A checkpoint is written to ``checkpoints/.step_N.tmp`` and renamed when complete, so a run killed
while saving leaves no half-written ``step_N`` that ``--resume_from_checkpoint latest`` would pick.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from accelerate import Accelerator

CHECKPOINT_PATTERN = re.compile(r"^step_(\d+)$")


class TrainingProgress:
    """Where the run is: optimizer steps done, current epoch, micro-batches done in it and their loss.

    Registered with ``accelerator.register_for_checkpointing`` so ``save_state``/``load_state``
    carry it with the model, optimizer, scheduler and RNG states.
    """

    def __init__(self) -> None:
        self.step = 0
        self.epoch = 0
        self.batches_in_epoch = 0
        self.epoch_loss_sum: float | Any = 0.0  # this process's summed micro-batch losses (a tensor while training)
        self.batches_total = 0  # this process's micro-batches since the start (resumes a streamed corpus)

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "batches_in_epoch": self.batches_in_epoch,
                "epoch_loss_sum": float(self.epoch_loss_sum), "batches_total": self.batches_total}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.epoch = int(state["epoch"])
        self.batches_in_epoch = int(state["batches_in_epoch"])
        self.epoch_loss_sum = float(state.get("epoch_loss_sum", 0.0))
        self.batches_total = int(state.get("batches_total", 0))

    def count_micro_batch(self, loss: Any) -> None:
        self.batches_in_epoch += 1
        self.batches_total += 1
        self.epoch_loss_sum = self.epoch_loss_sum + loss.detach().float()  # no device sync per step

    def start_next_epoch(self) -> None:
        self.epoch += 1
        self.batches_in_epoch = 0
        self.epoch_loss_sum = 0.0


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


def save_checkpoint(accelerator: Accelerator, output_dir: str | Path, step: int, keep: int) -> Path:
    """``save_state`` into ``checkpoints/step_N`` atomically; keep only the newest ``keep`` checkpoints."""
    root = Path(output_dir) / "checkpoints"
    final = root / f"step_{step:06d}"
    temporary = root / f".step_{step:06d}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(temporary))  # every process writes its RNG state here
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(final, ignore_errors=True)
        os.replace(temporary, final)
        for old in checkpoint_folders(output_dir)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def save_final_model(accelerator: Accelerator, model: Any, tokenizer: Any, output_dir: str | Path) -> Path:
    """Write the encoder (not the contrastive wrapper) and the tokenizer with ``save_pretrained``."""
    final = Path(output_dir) / "final"
    temporary = Path(output_dir) / ".final.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(temporary, ignore_errors=True)
    accelerator.wait_for_everyone()
    encoder = accelerator.unwrap_model(model).isoclr
    encoder.save_pretrained(temporary, is_main_process=accelerator.is_main_process, save_function=accelerator.save)
    if accelerator.is_main_process:
        tokenizer.save_pretrained(temporary)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(temporary, final)
    accelerator.wait_for_everyone()
    return final


__all__ = ["TrainingProgress", "checkpoint_folders", "resolve_checkpoint", "save_checkpoint", "save_final_model"]
