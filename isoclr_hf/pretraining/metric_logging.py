"""Metrics of a pretraining run: per-step logging to the trackers, and the contrastive objective's held-out
retrieval evaluation and batch similarity statistics."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import gather_object

from ..atomic_files import atomic_write
from .batching import ContrastivePairCollator
from .contrastive_metrics import embed_transcripts, partner_retrieval, similarity_metrics


class MetricLogger:
    """Metrics to the accelerate trackers, ``metrics.jsonl`` and the progress bar (main process).

    Counts examples (pairs, or transcripts for the masked LM: ``examples_name``), nucleotides and the loss
    of every micro-batch between two logs, so the logged loss is the mean over the interval and the
    throughput covers all processes.
    """

    def __init__(self, accelerator: Accelerator, output_dir: str, examples_name: str = "pairs") -> None:
        self.accelerator = accelerator
        self.path = Path(output_dir) / "metrics.jsonl"
        self.examples_name = examples_name
        self.reset_counters()

    def reset_counters(self) -> None:
        self.started = time.perf_counter()
        self.examples = 0
        self.nucleotides = 0
        self.loss_sum: float | torch.Tensor = 0.0
        self.micro_batches = 0

    def count(self, examples: int, nucleotides: int, loss: torch.Tensor) -> None:
        self.examples += examples
        self.nucleotides += nucleotides
        self.loss_sum = self.loss_sum + loss.detach().float()  # stays on the device: no sync per step
        self.micro_batches += 1

    def log(self, step: int, values: dict[str, float], bar: Any = None) -> None:
        if self.accelerator.is_main_process:
            self.accelerator.log(values, step=step)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"step": step, **values}) + "\n")
            if bar is not None and "loss" in values:
                bar.set_postfix(loss=f"{values['loss']:.3f}", lr=f"{values['learning_rate']:.2e}")

    def size(self) -> int:
        """Bytes in ``metrics.jsonl`` so far (main process; 0 elsewhere or before the first log)."""
        return self.path.stat().st_size if self.accelerator.is_main_process and self.path.exists() else 0

    def truncate(self, size: int) -> None:
        """Cut ``metrics.jsonl`` to its first ``size`` bytes (what a checkpoint saw), atomically.

        A resumed run logs again from its checkpoint; without this, the steps logged between the
        checkpoint and the interruption would appear twice. ``size`` < 0 (unknown) keeps the file.
        """
        if size < 0 or not self.path.exists() or self.path.stat().st_size <= size:
            return
        with open(self.path, "rb") as handle:
            kept = handle.read(size)
        atomic_write(self.path, lambda temporary: temporary.write_bytes(kept))

    def interval_metrics(self) -> dict[str, float]:
        """Mean loss, global examples/s (``pairs_per_second``, ...) and nucleotides/s since the last call."""
        counts = torch.tensor([self.examples, self.nucleotides, float(self.loss_sum), self.micro_batches],
                              dtype=torch.float64, device=self.accelerator.device)
        examples, nucleotides, loss_sum, micro_batches = self.accelerator.reduce(counts, reduction="sum").tolist()
        seconds = max(time.perf_counter() - self.started, 1e-9)
        self.reset_counters()
        return {"loss": loss_sum / max(micro_batches, 1), f"{self.examples_name}_per_second": examples / seconds,
                "nucleotides_per_second": nucleotides / seconds}


def last_batch_metrics(accelerator: Accelerator, output: Any) -> dict[str, float]:
    """Similarity statistics over the global batch of the last contrastive micro-step."""
    projections_a = accelerator.gather(output.projections.detach().float())
    projections_b = accelerator.gather(output.partner_projections.detach().float())
    return similarity_metrics(projections_a, projections_b)


def epoch_mean_loss(accelerator: Accelerator, loss_sum: float | torch.Tensor, micro_batches: int) -> float:
    """Mean micro-batch loss of an epoch over all processes."""
    totals = torch.tensor([float(loss_sum), micro_batches], dtype=torch.float64, device=accelerator.device)
    total_loss, total_batches = accelerator.reduce(totals, reduction="sum").tolist()
    return total_loss / max(total_batches, 1)


def evaluate_retrieval(
    accelerator: Accelerator,
    model: Any,
    held_out: tuple[list[dict[str, Any]], np.ndarray],
    collator: ContrastivePairCollator,
    batch_size: int,
) -> dict[str, float]:
    """Partner-isoform retrieval on the held-out gene sets; each process embeds a share."""
    transcripts, set_index = held_out
    if len(transcripts) < 2:
        return {}
    mine = np.arange(accelerator.process_index, len(transcripts), accelerator.num_processes)
    encoder = accelerator.unwrap_model(model).base_model
    with accelerator.autocast():
        local = embed_transcripts(
            encoder, [transcripts[i] for i in mine], collator, batch_size=batch_size, device=accelerator.device
        )
    embeddings = np.zeros((len(transcripts), encoder.config.hidden_size), dtype=np.float32)
    for indices, vectors in gather_object([(mine, local)]):
        if len(indices):
            embeddings[indices] = vectors
    return partner_retrieval(embeddings, set_index)


__all__ = ["MetricLogger", "epoch_mean_loss", "evaluate_retrieval", "last_batch_metrics"]
