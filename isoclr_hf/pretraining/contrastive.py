"""Contrastive pretraining (IsoCLR, Orthrus) as the shared loop (:mod:`.loop`) runs it.

An example is a positive pair of transcripts of one gene set (:mod:`.pairs`), in memory-mapped or streamed
form (:mod:`.data`); the loss is the weighted DCL loss inside ``IsoCLRForContrastivePretraining``; the
held-out evaluation is partner-isoform retrieval (:mod:`.contrastive_metrics`); ``final/`` holds the
encoder alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from accelerate import Accelerator

from ..models.isoclr import IsoCLRConfig, IsoCLRForContrastivePretraining, IsoCLRTokenizer
from ..models.orthrus import OrthrusConfig, OrthrusForContrastivePretraining
from .batching import ContrastivePairCollator
from .checkpoints import TrainingProgress
from .config import PretrainingConfig
from .data import (
    EpochEnd,
    EpochPlan,
    PairCorpus,
    StreamingCorpus,
    epoch_micro_batches,
    held_out_transcripts,
    load_corpus_splits,
    pair_dataset,
    plan_epoch,
    steps_per_epoch,
    streaming_micro_batches,
    training_split,
)
from .metric_logging import evaluate_retrieval, last_batch_metrics


def build_contrastive_model(config: PretrainingConfig) -> IsoCLRForContrastivePretraining:
    """The contrastive model of the ``model`` preset: IsoCLR (``isoclr-*``) or Orthrus (``orthrus*``).

    Both families share the tokenizer, the collator, the DCL loss and the masking; an Orthrus model is
    an :class:`IsoCLRForContrastivePretraining` with the Mamba encoder in place of the CNN.
    """
    if config.model.startswith("orthrus"):
        return OrthrusForContrastivePretraining(OrthrusConfig.from_preset(config.model, **config.model_overrides))
    model_config = IsoCLRConfig.from_preset(config.model, **config.model_overrides)
    return IsoCLRForContrastivePretraining(model_config)


class ContrastiveObjective:
    """Pairs of transcripts, the DCL loss, partner retrieval (see the module docstring)."""

    examples_name = "pairs"

    def __init__(self, config: PretrainingConfig, model: IsoCLRForContrastivePretraining) -> None:
        self.config, self.model = config, model
        # The saved tokenizer keeps the model's maximum; max_length only crops the training views.
        self.tokenizer = IsoCLRTokenizer.from_model_config(model.config)
        self.collator = ContrastivePairCollator(self.tokenizer, max_length=config.max_length,
                                                pad_to_multiple_of=model.config.downsampling)
        self.corpus: PairCorpus | StreamingCorpus | None = None
        self.held_out: tuple[list[dict[str, Any]], Any] = ([], None)

    def open_data(self, accelerator: Accelerator) -> None:
        """The training split (in memory-mapped or streamed form) and the held-out transcripts."""
        config, weight_constant = self.config, self.model.config.gene_set_weight_constant
        with accelerator.main_process_first():
            if config.streaming:
                self.corpus = StreamingCorpus.open(
                    config.corpus, config.train_split, rank=accelerator.process_index,
                    world_size=accelerator.num_processes, weight_constant=weight_constant)
                held_out_split = StreamingCorpus.open(config.corpus, config.eval_split, rank=0, world_size=1,
                                                      weight_constant=weight_constant).gene_sets
            else:
                splits = load_corpus_splits(config.corpus)
                self.corpus = PairCorpus.from_split(training_split(splits, config.corpus, config.train_split),
                                                    weight_constant)
                held_out_split = splits.get(config.eval_split)
            self.held_out = held_out_transcripts(held_out_split) if held_out_split is not None else ([], None)

    def epoch_plan(self, accelerator: Accelerator, epoch: int) -> EpochPlan:
        """The epoch's pairs and global batches (the same on every process)."""
        config = self.config
        assert isinstance(self.corpus, PairCorpus)
        return plan_epoch(
            self.corpus, epoch=epoch, seed=config.seed,
            global_batch_size=config.per_device_batch_size * accelerator.num_processes,
            max_length=config.max_length, bucketing=config.bucketing, mega_batch_batches=config.mega_batch_batches,
            max_nucleotides=config.max_nucleotides_per_batch, world_size=accelerator.num_processes,
            crop=config.crop_policy(),
        )  # fmt: skip

    def total_steps(self, accelerator: Accelerator) -> int:
        """Optimizer steps of the run: ``max_steps``, or ``epochs`` x steps in the first epoch."""
        config = self.config
        if config.max_steps is not None:
            return config.max_steps
        if isinstance(self.corpus, StreamingCorpus):
            raise ValueError("A streamed corpus has no known length: pass --max_steps with --streaming true.")
        assert isinstance(self.corpus, PairCorpus)
        per_epoch = steps_per_epoch(self.epoch_plan(accelerator, 0), config.gradient_accumulation_steps)
        if per_epoch == 0:
            raise ValueError(
                f"The corpus's {len(self.corpus.gene_sets)} training gene sets do not fill one step of "
                f"{config.per_device_batch_size} x {accelerator.num_processes} processes x "
                f"{config.gradient_accumulation_steps} accumulation steps; lower per_device_batch_size."
            )
        return config.epochs * per_epoch

    def micro_batches(self, accelerator: Accelerator,
                      progress: TrainingProgress) -> Iterator[dict[str, Any] | EpochEnd]:
        """This process's micro-batches from where ``progress`` says the run is."""
        config, corpus = self.config, self.corpus
        if isinstance(corpus, StreamingCorpus):
            return streaming_micro_batches(
                corpus, self.collator, seed=config.seed, batch_size=config.per_device_batch_size,
                max_length=config.max_length, mega_batch_batches=config.mega_batch_batches,
                shuffle_buffer=config.shuffle_buffer, skip_batches=progress.batches_total, crop=config.crop_policy())
        assert isinstance(corpus, PairCorpus)
        return epoch_micro_batches(
            lambda plan: pair_dataset(corpus, plan), self.collator, lambda epoch: self.epoch_plan(accelerator, epoch),
            gradient_accumulation_steps=config.gradient_accumulation_steps, rank=accelerator.process_index,
            world_size=accelerator.num_processes, start_epoch=progress.epoch, skip_batches=progress.batches_in_epoch,
            num_workers=config.num_workers)  # fmt: skip

    @staticmethod
    def count(batch: dict[str, Any]) -> tuple[int, int]:
        """Pairs and nucleotides (both views) of a micro-batch."""
        nucleotides = batch["attention_mask"].sum() + batch["partner_attention_mask"].sum()
        return int(batch["input_ids"].shape[0]), int(nucleotides)

    @staticmethod
    def step_metrics(accelerator: Accelerator, output: Any, batch: dict[str, Any]) -> dict[str, float]:
        """Similarity, alignment and uniformity over the global batch of the last micro-step."""
        return last_batch_metrics(accelerator, output)

    def evaluate(self, accelerator: Accelerator, model: Any) -> dict[str, float]:
        return evaluate_retrieval(accelerator, model, self.held_out, self.collator, self.config.eval_batch_size)

    @staticmethod
    def describe(step: int, results: dict[str, float]) -> str:
        return (f"step {step}: held-out partner retrieval top-1 {results['retrieval_top1']:.3f} "
                f"(chance {results['retrieval_chance']:.3f})")

    @staticmethod
    def summary_fields(evaluations: list[dict[str, float]]) -> dict[str, float]:
        if not evaluations:
            return {}
        first, last = evaluations[0], evaluations[-1]
        return {"retrieval_start": first["retrieval_top1"], "retrieval_end": last["retrieval_top1"],
                "retrieval_chance": last["retrieval_chance"], "retrieval_queries": last["retrieval_queries"]}

    @staticmethod
    def summary_lines(summary: dict[str, Any]) -> list[str]:
        if "retrieval_start" not in summary:
            return []
        return [f"  held-out partner retrieval top-1: {summary['retrieval_start']:.3f} -> "
                f"{summary['retrieval_end']:.3f} (chance {summary['retrieval_chance']:.3f}, "
                f"{int(summary['retrieval_queries'])} queries)"]

    @staticmethod
    def model_to_save(model: Any) -> Any:
        """The encoder alone (not the projection head): ``final/`` loads with AutoModel."""
        return model.base_model


__all__ = ["ContrastiveObjective", "build_contrastive_model"]
