"""The pretraining loop, shared by both objectives: a corpus of gene sets -> a model in Hugging Face format.

``training/pretrain.py`` is the launcher (its docstring has the launch commands);
:func:`run_pretraining` is the whole procedure. The ``model`` preset chooses the objective
(``PretrainingConfig.objective``): contrastive for IsoCLR and Orthrus (:mod:`.contrastive`: pairs of
transcripts, the DCL loss, partner retrieval), masked LM for RNA-FM and RiNALMo (:mod:`.masked_lm`: one
transcript an example, 15% masking, held-out masked-LM loss and accuracy). Everything else is this
module's and the same for both: the accelerator, AdamW with warmup and cosine decay, gradient
accumulation and clipping, mixed precision, logging, evaluations, checkpoints, exact resume, the lock.

Outputs in ``config.output_dir``: ``checkpoints/step_N`` (``save_state`` plus the run's progress as JSON),
``metrics.jsonl`` and tracker logs (TensorBoard by default), ``final/`` (contrastive: the encoder +
tokenizer, load with ``AutoModel.from_pretrained(path, trust_remote_code=True)``; masked LM: the
``ForMaskedLM`` model + tokenizer, which ``AutoModelForMaskedLM`` and ``AutoModel`` load) and
``summary.json``. A resumed run cuts ``metrics.jsonl`` back to the checkpoint before logging on (a run
that starts from step 0 starts it anew), and its summary covers the whole run (first evaluation,
training time summed over the segments). The main process holds ``.lock`` in the folder while it
runs: a second run on the same folder stops at once, naming the holder's pid.

``per_device_batch_size`` is per process; the contrastive loss takes its negatives from the
global batch of all processes (``gather_with_gradients`` inside the model); DDP averages the masked-LM
gradients of the processes. ``streaming`` (contrastive only) reads the corpus as a stream split by
process (for corpora larger than the disk, or from the Hub); it needs ``max_steps``. Unset,
``max_length`` (the training crop) is the model config's ``max_sequence_length`` (contrastive) or one
window of positions (masked LM); Eq. 3's ``c`` is always the model config's ``gene_set_weight_constant``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import broadcast, broadcast_object_list, set_seed
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

from ..atomic_files import write_json_atomically
from .checkpoints import (
    TrainingProgress,
    load_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
    save_final_model,
)
from .config import PretrainingConfig
from .contrastive import ContrastiveObjective, build_contrastive_model
from .data import EPOCH_END
from .masked_lm import MaskedLMObjective, build_masked_lm_model
from .metric_logging import MetricLogger, epoch_mean_loss
from .process import OutputFolderLockedError, OutputLock, exit_promptly_on_error


def build_accelerator(config: PretrainingConfig) -> Accelerator:
    """Devices and processes come from ``accelerate launch``/``torchrun``; CPU where there is no GPU."""
    launched_processes = int(os.environ.get("WORLD_SIZE", "1"))
    use_cpu = config.cpu or (launched_processes > 1 and not torch.cuda.is_available())
    return Accelerator(
        cpu=use_cpu,
        mixed_precision=config.mixed_precision,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        log_with=config.log_with,
        project_dir=config.output_dir,
        step_scheduler_with_optimizer=False,  # we step it once per optimizer step ourselves
    )


def build_model(config: PretrainingConfig) -> Any:
    """The model the ``model`` preset names, randomly initialised: ``IsoCLRForContrastivePretraining``
    (IsoCLR, Orthrus) or the family's ``ForMaskedLM`` (RNA-FM, RiNALMo)."""
    if config.objective == "masked_lm":
        return build_masked_lm_model(config)
    return build_contrastive_model(config)


def build_objective(config: PretrainingConfig, model: Any) -> ContrastiveObjective | MaskedLMObjective:
    """What differs between the objectives: data, batches, step metrics, evaluation, what ``final/`` holds."""
    if config.objective == "masked_lm":
        return MaskedLMObjective(config, model)
    return ContrastiveObjective(config, model)


def build_optimizer(model: torch.nn.Module, config: PretrainingConfig, total_steps: int) -> tuple[Any, Any]:
    """AdamW with linear warmup then cosine decay to zero (the paper's recipe)."""
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
        betas=(config.adam_beta1, config.adam_beta2),
    )
    warmup = round(config.warmup_fraction * total_steps)
    return optimizer, get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)


class PretrainingRun:
    """The training loop's state: prepared model/optimizer/scheduler, the objective, progress, metrics, evaluations."""

    def __init__(self, config: PretrainingConfig, accelerator: Accelerator, model: Any, optimizer: Any,
                 scheduler: Any, total_steps: int, objective: ContrastiveObjective | MaskedLMObjective) -> None:
        self.config, self.accelerator, self.objective = config, accelerator, objective
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.total_steps = total_steps
        self.stop_at = min(total_steps, config.stop_after_steps or total_steps)
        # Saved as JSON next to save_state's files (not register_for_checkpointing, which pickles it).
        self.progress = TrainingProgress()
        self.logger = MetricLogger(accelerator, config.output_dir, objective.examples_name)

    def resume_if_asked(self) -> None:
        """Load the checkpoint asked for, and cut ``metrics.jsonl`` back to it (or start it anew)."""
        checkpoint = None
        if self.config.resume_from_checkpoint:
            checkpoint = resolve_checkpoint(self.config.resume_from_checkpoint, self.config.output_dir)
        if checkpoint is not None:
            load_checkpoint(self.accelerator, checkpoint, self.progress)  # model, optimizer, scheduler, RNGs
            self.progress.segments += 1
            self.accelerator.print(f"Resumed from {checkpoint} at step {self.progress.step}.")
        if self.accelerator.is_main_process:
            self.logger.truncate(self.progress.metrics_bytes)  # 0 for a fresh run

    def checkpoint(self, segment_started: float) -> None:
        """Save a checkpoint with the training time and the length of ``metrics.jsonl`` up to here."""
        self.progress.train_seconds = self.previous_seconds + time.perf_counter() - segment_started
        self.progress.metrics_bytes = self.logger.size()
        save_checkpoint(self.accelerator, self.config.output_dir, self.progress, self.config.keep_checkpoints)

    def start_trackers(self) -> None:
        if self.accelerator.is_main_process:
            Path(self.config.output_dir).mkdir(parents=True, exist_ok=True)
        if self.config.log_with:
            values = {k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in vars(self.config).items()}
            # A resumed run redoes the steps after its checkpoint: TensorBoard hides the first segment's
            # events from that step on (SummaryWriter's purge_step), as metrics.jsonl is cut back to it.
            init_kwargs = {"tensorboard": {"purge_step": self.progress.step + 1}} if self.progress.step else {}
            self.accelerator.init_trackers("isoclr_pretraining", config=values, init_kwargs=init_kwargs)

    def evaluate(self) -> None:
        """The objective's held-out evaluation, logged and kept for the summary."""
        started = time.perf_counter()
        results = self.objective.evaluate(self.accelerator, self.model)
        self.logger.started += time.perf_counter() - started  # the logged throughputs count training time only
        if results:
            self.progress.evaluations.append({"step": self.progress.step, **results})
            self.logger.log(self.progress.step, results)
            self.accelerator.print(self.objective.describe(self.progress.step, results))

    def train(self, batches: Iterator[Any]) -> float:
        """Run micro-batches until ``stop_at`` optimizer steps; returns the seconds this segment took."""
        config, accelerator, progress = self.config, self.accelerator, self.progress
        self.previous_seconds = progress.train_seconds  # earlier segments, up to the checkpoint resumed
        if progress.step == 0:
            self.evaluate()
        bar = tqdm(total=self.total_steps, initial=progress.step, desc="pretraining",
                   disable=not (config.progress_bar and accelerator.is_local_main_process))
        self.model.train()
        started = time.perf_counter()
        for batch in batches:
            if batch is EPOCH_END:
                loss = epoch_mean_loss(accelerator, progress.epoch_loss_sum, progress.batches_in_epoch)
                progress.epoch_losses.append({"step": progress.step, "epoch": progress.epoch, "epoch_loss": loss})
                self.logger.log(progress.step, {"epoch": float(progress.epoch), "epoch_loss": loss})
                progress.start_next_epoch()
                continue
            if progress.step >= self.stop_at:
                break
            batch = {name: tensor.to(accelerator.device) for name, tensor in batch.items()}
            output = self.train_micro_batch(batch)
            if not accelerator.sync_gradients:
                continue
            progress.step += 1
            bar.update(1)
            if progress.step % config.log_every == 0 or progress.step == self.stop_at:
                metrics = {**self.logger.interval_metrics(), **self.objective.step_metrics(accelerator, output, batch),
                           "learning_rate": float(self.scheduler.get_last_lr()[0])}
                self.logger.log(progress.step, metrics, bar)
            if config.eval_every and progress.step % config.eval_every == 0 and progress.step < self.total_steps:
                self.evaluate()
            if config.stop_after_minutes is not None and self.out_of_time(started):
                self.stop_at = progress.step
            periodic = config.checkpoint_every and progress.step % config.checkpoint_every == 0
            if periodic or progress.step == self.stop_at:
                self.checkpoint(started)
        bar.close()
        seconds = time.perf_counter() - started
        progress.train_seconds = self.previous_seconds + seconds
        return seconds

    def out_of_time(self, segment_started: float) -> bool:
        """Whether ``stop_after_minutes`` have passed in this segment, as the main process's clock says
        (broadcast, so that every process stops after the same step)."""
        passed = time.perf_counter() - segment_started >= 60 * self.config.stop_after_minutes
        if self.accelerator.num_processes > 1:
            flag = torch.tensor([float(passed)], device=self.accelerator.device)
            passed = bool(broadcast(flag, from_process=0).item())
        return passed

    def train_micro_batch(self, batch: dict[str, torch.Tensor]) -> Any:
        """Forward, backward and (every ``gradient_accumulation_steps``) clip, step and schedule."""
        accelerator = self.accelerator
        with accelerator.accumulate(self.model):
            output = self.model(**batch)
            accelerator.backward(output.loss)
            if accelerator.sync_gradients and self.config.max_grad_norm is not None:
                accelerator.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
            self.optimizer.step()
            if accelerator.sync_gradients:
                self.scheduler.step()
            self.optimizer.zero_grad()
        self.logger.count(*self.objective.count(batch), output.loss)
        self.progress.count_micro_batch(output.loss)
        return output

    def summary(self, segment_seconds: float) -> dict[str, Any]:
        """Steps, time, first and last epoch loss, first and last evaluation, over all segments of the run.

        ``train_seconds`` sums the training time of every segment up to where each was resumed;
        ``segment_train_seconds`` is this segment's alone, ``segments`` 1 + the number of resumes.
        """
        result: dict[str, Any] = {"steps": self.progress.step, "total_steps": self.total_steps,
                                  "train_seconds": self.progress.train_seconds,
                                  "segment_train_seconds": segment_seconds, "segments": self.progress.segments,
                                  "processes": self.accelerator.num_processes}
        if self.progress.epoch_losses:
            first, last = self.progress.epoch_losses[0], self.progress.epoch_losses[-1]
            result.update(first_epoch=first["epoch"], first_epoch_loss=first["epoch_loss"],
                          last_epoch=last["epoch"], last_epoch_loss=last["epoch_loss"])
        return {**result, **self.objective.summary_fields(self.progress.evaluations)}


def lock_output_folder(config: PretrainingConfig, accelerator: Accelerator) -> OutputLock | None:
    """The main process locks ``output_dir``; every process raises if another run holds it."""
    lock, error = None, None
    if accelerator.is_main_process:
        try:
            lock = OutputLock(config.output_dir).acquire()
        except OutputFolderLockedError as locked:
            error = str(locked)
    if accelerator.num_processes > 1:
        message = [error]
        broadcast_object_list(message, from_process=0)
        error = message[0]
    if error is not None:
        raise OutputFolderLockedError(error)
    return lock


def describe_processes(accelerator: Accelerator) -> str:
    """The line a run prints first: what it actually uses, whatever the launcher's defaults said."""
    return (f"Pretraining on {accelerator.num_processes} process(es), device {accelerator.device.type}, "
            f"mixed precision {accelerator.mixed_precision} ({accelerator.distributed_type.value.lower()})")


def run_pretraining(config: PretrainingConfig) -> dict[str, Any]:
    """Run pretraining; returns the summary (also written to ``output_dir/summary.json``)."""
    accelerator = build_accelerator(config)
    accelerator.print(describe_processes(accelerator))
    # A process that fails (a bad input in its share of the corpus) ends within seconds, so that the launcher
    # stops the processes waiting for it in a collective instead of leaving them waiting.
    with exit_promptly_on_error(accelerator.process_index, accelerator.num_processes):
        lock = lock_output_folder(config, accelerator)
        try:
            return train(config, accelerator)
        finally:
            if lock is not None:
                lock.release()


def train(config: PretrainingConfig, accelerator: Accelerator) -> dict[str, Any]:
    """Build, train (or resume), evaluate and save; the output folder is already locked."""
    set_seed(config.seed)
    model = build_model(config)
    config = with_model_defaults(config, model.config)
    objective = build_objective(config, model)
    objective.open_data(accelerator)
    total_steps = objective.total_steps(accelerator)
    optimizer, scheduler = build_optimizer(model, config, total_steps)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)

    run = PretrainingRun(config, accelerator, model, optimizer, scheduler, total_steps, objective)
    run.resume_if_asked()
    run.start_trackers()
    train_seconds = run.train(objective.micro_batches(accelerator, run.progress))

    summary = run.summary(train_seconds)
    if run.progress.step >= total_steps:
        run.evaluate()
        final = objective.model_to_save(accelerator.unwrap_model(model))
        summary = {**run.summary(train_seconds), "final_model": str(
            save_final_model(accelerator, final, objective.tokenizer, config.output_dir))}
    if accelerator.is_main_process:
        write_json_atomically(Path(config.output_dir) / "summary.json", summary)
        accelerator.print(format_summary(summary, objective))
    accelerator.end_training()
    return summary


def with_model_defaults(config: PretrainingConfig, model_config: Any) -> PretrainingConfig:
    """``max_length`` unset: the model's ``max_sequence_length`` (IsoCLR, Orthrus: the paper's 12,288 nt), or for
    the masked-LM families one window of positions (``window_nucleotides``, 1,022 nt: as they were trained)."""
    if config.max_length is not None:
        return config
    window = getattr(model_config, "window_nucleotides", None)
    return dataclasses.replace(config, max_length=window if config.objective == "masked_lm" else
                               model_config.max_sequence_length)


def format_summary(summary: dict[str, Any], objective: ContrastiveObjective | MaskedLMObjective) -> str:
    lines = [f"Pretraining: {summary['steps']}/{summary['total_steps']} steps on {summary['processes']} process(es) "
             f"in {summary['train_seconds']:.0f} s"
             + (f" ({summary['segments']} segments)" if summary.get("segments", 1) > 1 else "")]
    if "first_epoch_loss" in summary:
        lines.append(f"  loss (epoch mean): {summary['first_epoch_loss']:.3f} (epoch {summary['first_epoch']}) -> "
                     f"{summary['last_epoch_loss']:.3f} (epoch {summary['last_epoch']})")
    lines += objective.summary_lines(summary)
    if "final_model" in summary:
        lines.append(f"  {'encoder' if isinstance(objective, ContrastiveObjective) else 'masked-LM model'} + "
                     f"tokenizer: {summary['final_model']}")
    return "\n".join(lines)


__all__ = [
    "PretrainingRun",
    "build_accelerator",
    "build_model",
    "build_objective",
    "build_optimizer",
    "format_summary",
    "lock_output_folder",
    "run_pretraining",
    "with_model_defaults",
]
