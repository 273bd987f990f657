"""Masked-LM pretraining of the RNA-FM and RiNALMo families: the masking rule, the collator, the evaluation.

The rule (BERT, Devlin et al. 2019, Sec. 3.1; RNA-FM and RiNALMo train with it): of each transcript's
nucleotide tokens, each is chosen with probability ``p`` (0.15); a chosen token is the loss's target and
its input becomes ``<mask>`` with probability 0.8, a random nucleotide (A, C, G or U, uniform) with 0.1,
and stays as it is with 0.1. Special tokens (``<cls>``, ``<eos>``, ``<pad>``, and ``<unk>``, ``<mask>``,
``<null>`` should a sequence hold them) are never chosen, nor is padding; a transcript of which no token
was chosen gets one (uniform over its nucleotides), so no row is without a target.

transformers' ``DataCollatorForLanguageModeling`` is not used, for two reasons checked against it
(transformers 5.24): its random replacement draws from the whole vocabulary (``randint(len(tokenizer))``),
so a valid position can become ``<pad>`` (id 0), which the model refuses at a valid position, or
``<cls>``/``<eos>``; and its draws come from one generator for the whole padded batch, so the masking of
a transcript would change with its batch, its process and with DataLoader workers. Its selection side
works with :class:`NucleotideTokenizer` (``get_special_tokens_mask`` marks ``<cls>``, ``<eos>`` and
``<pad>``). Here each transcript is masked on its own from its own seed (:func:`mask_tokens`), drawn when
the epoch is planned (:mod:`.masked_lm_data`): the masking is the same whatever the batching, the number
of processes, the workers, or a resume.

:class:`MaskedLMObjective` is what the shared loop (:mod:`.loop`) asks of an objective: the model, the
data, the batches from where a run is, the step metrics and the held-out evaluation (masked-LM loss and
accuracy over every held-out transcript, with a masking fixed by the seed).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from accelerate import Accelerator

from ..inference import length_sorted_batches
from ..models.rinalmo import RiNALMoConfig, RiNALMoForMaskedLM
from ..models.rnafm import NucleotideTokenizer, RnaFmConfig, RnaFmForMaskedLM
from ..models.rnafm.tokenization_nucleotide import MASK_ID, PAD_ID, SPECIAL_TOKENS, VOCABULARY
from .checkpoints import TrainingProgress
from .config import PretrainingConfig, PretrainingSettingError
from .cropping import crop_transcript
from .data import EpochEnd, epoch_micro_batches, held_out_transcripts, load_corpus_splits, training_split
from .masked_lm_data import (
    TranscriptCorpus,
    TranscriptDataset,
    TranscriptEpochPlan,
    held_out_examples,
    plan_transcript_epoch,
)

FIRST_NUCLEOTIDE_ID = len(SPECIAL_TOKENS)  # ids below it: <pad> <cls> <eos> <unk> <mask> <null>, never chosen
RANDOM_NUCLEOTIDE_IDS = torch.tensor([VOCABULARY.index(base) for base in "ACGU"])
MASK_SHARE, RANDOM_SHARE = 0.8, 0.1  # of the chosen tokens; the rest stay as they are
IGNORED = -100  # label of positions outside the loss
MODEL_ALIASES = {"rinalmo": "rinalmo-giga"}  # `--model rinalmo`: the published RiNALMo


def mask_tokens(ids: torch.Tensor, probability: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask one tokenized transcript by the 15% / 80-10-10 rule (see the module docstring).

    Args:
        ids: Token ids of one transcript, ``<cls>`` and ``<eos>`` included, no padding. Shape: (length,).
        probability: Chance of each nucleotide token to be chosen.
        generator: The transcript's own generator (seeded from its mask seed).

    Returns:
        ``(inputs, labels)``: the ids with the chosen tokens replaced, and the original id at chosen
        positions, -100 elsewhere. Shapes: (length,), (length,).
    """
    maskable = ids >= FIRST_NUCLEOTIDE_ID  # (L,)
    chosen = (torch.rand(ids.shape, generator=generator) < probability) & maskable
    fallback = torch.randint(max(int(maskable.sum()), 1), (1,), generator=generator)  # drawn always: fixed stream
    if not bool(chosen.any()) and bool(maskable.any()):
        chosen[maskable.nonzero().flatten()[fallback]] = True
    action = torch.rand(ids.shape, generator=generator)  # (L,) < 0.8: <mask>; < 0.9: random nucleotide; else kept
    random_ids = RANDOM_NUCLEOTIDE_IDS[torch.randint(len(RANDOM_NUCLEOTIDE_IDS), ids.shape, generator=generator)]
    inputs = ids.clone()
    inputs[chosen & (action < MASK_SHARE)] = MASK_ID
    replaced = chosen & (action >= MASK_SHARE) & (action < MASK_SHARE + RANDOM_SHARE)
    inputs[replaced] = random_ids[replaced]
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORED))
    return inputs, labels


class MaskedLMCollator:
    """Crops, tokenizes and masks single-transcript examples into the inputs of a ``ForMaskedLM`` model.

    Examples are ``{"transcript": dict (corpus layout), "start": int, "mask_seed": int}``
    (:mod:`.masked_lm_data`). Returns ``input_ids``, ``attention_mask`` and ``labels`` (-100 outside the
    loss and at padding), right-padded with ``<pad>``. Shapes: (batch, longest window + 2).

    Args:
        tokenizer: A :class:`NucleotideTokenizer`.
        max_length: Longest window in nucleotides (:func:`~.cropping.crop_transcript` cuts it).
        probability: The masked-LM rate.
    """

    def __init__(self, tokenizer: NucleotideTokenizer, max_length: int, probability: float) -> None:
        self.tokenizer, self.max_length, self.probability = tokenizer, max_length, probability

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        sequences = [crop_transcript(e["transcript"], e["start"], self.max_length)["sequence"] for e in examples]
        rows = self.tokenizer(sequences, padding=False)["input_ids"]
        width = max(len(row) for row in rows)
        input_ids = torch.full((len(rows), width), PAD_ID, dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORED, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for index, (row, example) in enumerate(zip(rows, examples, strict=True)):
            generator = torch.Generator().manual_seed(int(example["mask_seed"]))
            inputs, targets = mask_tokens(torch.tensor(row, dtype=torch.long), self.probability, generator)
            input_ids[index, : len(row)], labels[index, : len(row)] = inputs, targets
            attention_mask[index, : len(row)] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def masked_lm_sums(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy, correct predictions and targets over the positions with a label.

    Shapes: logits (B, T, V), labels (B, T) (right-padded, as the model returns logits) -> (3,) float64.
    """
    chosen = labels != IGNORED  # (B, T)
    scores, targets = logits[chosen].float(), labels[chosen]  # (n, V), (n,)
    loss = F.cross_entropy(scores, targets, reduction="sum")
    correct = (scores.argmax(-1) == targets).sum()
    return torch.stack([loss.double(), correct.double(), torch.tensor(float(len(targets)), dtype=torch.float64,
                                                                       device=logits.device)])


def build_masked_lm_model(config: PretrainingConfig) -> RnaFmForMaskedLM | RiNALMoForMaskedLM:
    """The ``ForMaskedLM`` model of the preset (``rnafm*``: RNA-FM, ``rinalmo*``: RiNALMo), randomly initialised.

    Raises:
        PretrainingSettingError: a ``model_overrides`` field the family's config does not have.
    """
    name = MODEL_ALIASES.get(config.model, config.model)
    config_class, model_class = ((RnaFmConfig, RnaFmForMaskedLM) if name.startswith("rnafm")
                                 else (RiNALMoConfig, RiNALMoForMaskedLM))  # fmt: skip
    overrides = dict(config.model_overrides or {})
    unknown = sorted(set(overrides) - set(vars(config_class.from_preset(name))))
    if unknown:
        raise PretrainingSettingError(
            f"model_overrides: {config_class.__name__} ({name}) has no field {', '.join(unknown)}; its encoder's "
            "fields are hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, hidden_dropout, "
            "attention_dropout, max_position_embeddings, ... (see its configuration file)."
        )
    return model_class(config_class.from_preset(name, **overrides))


class MaskedLMObjective:
    """Masked-LM pretraining as the shared loop runs it (one transcript an example; see the module docstring)."""

    examples_name = "transcripts"

    def __init__(self, config: PretrainingConfig, model: RnaFmForMaskedLM | RiNALMoForMaskedLM) -> None:
        self.config, self.model = config, model
        self.tokenizer = NucleotideTokenizer()
        self.collator = MaskedLMCollator(self.tokenizer, config.max_length, config.masking_probability)
        self.corpus: TranscriptCorpus | None = None
        self.held_out: list[dict[str, Any]] = []

    def open_data(self, accelerator: Accelerator) -> None:
        """The training split's transcripts and the held-out examples (fixed windows and masking)."""
        with accelerator.main_process_first():
            splits = load_corpus_splits(self.config.corpus)
            self.corpus = TranscriptCorpus.from_split(training_split(splits, self.config.corpus,
                                                                     self.config.train_split))
            held_out_split = splits.get(self.config.eval_split)
        transcripts = held_out_transcripts(held_out_split)[0] if held_out_split is not None else []
        self.held_out = held_out_examples(transcripts, seed=self.config.seed, max_length=self.config.max_length,
                                          crop=self.config.crop_policy())

    def epoch_plan(self, accelerator: Accelerator, epoch: int) -> TranscriptEpochPlan:
        assert self.corpus is not None, "open_data first"
        return plan_transcript_epoch(
            self.corpus, epoch=epoch, seed=self.config.seed,
            global_batch_size=self.config.per_device_batch_size * accelerator.num_processes,
            max_length=self.config.max_length, bucketing=self.config.bucketing,
            mega_batch_batches=self.config.mega_batch_batches, crop=self.config.crop_policy())  # fmt: skip

    def total_steps(self, accelerator: Accelerator) -> int:
        """Optimizer steps of the run: ``max_steps``, or ``epochs`` x steps in the first epoch."""
        if self.config.max_steps is not None:
            return self.config.max_steps
        batches = len(self.epoch_plan(accelerator, 0).global_batches)
        per_epoch = batches // self.config.gradient_accumulation_steps
        if per_epoch == 0:
            raise ValueError(
                f"The corpus's {len(self.corpus or [])} training transcripts do not fill one step of "
                f"{self.config.per_device_batch_size} x {accelerator.num_processes} processes x "
                f"{self.config.gradient_accumulation_steps} accumulation steps; lower per_device_batch_size."
            )
        return self.config.epochs * per_epoch

    def micro_batches(self, accelerator: Accelerator,
                      progress: TrainingProgress) -> Iterator[dict[str, Any] | EpochEnd]:
        """This process's micro-batches from where ``progress`` says the run is."""
        corpus = self.corpus
        return epoch_micro_batches(
            lambda plan: TranscriptDataset(corpus, plan), self.collator,
            lambda epoch: self.epoch_plan(accelerator, epoch),
            gradient_accumulation_steps=self.config.gradient_accumulation_steps, rank=accelerator.process_index,
            world_size=accelerator.num_processes, start_epoch=progress.epoch, skip_batches=progress.batches_in_epoch,
            num_workers=self.config.num_workers)  # fmt: skip

    @staticmethod
    def count(batch: dict[str, torch.Tensor]) -> tuple[int, int]:
        """Transcripts and nucleotides (``<cls>``/``<eos>`` left out) of a micro-batch."""
        rows = int(batch["input_ids"].shape[0])
        return rows, int(batch["attention_mask"].sum()) - 2 * rows

    @staticmethod
    def step_metrics(accelerator: Accelerator, output: Any, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """Accuracy on the masked targets of the last micro-batch, over all processes."""
        with torch.no_grad():
            sums = accelerator.reduce(masked_lm_sums(output.logits.detach(), batch["labels"]), reduction="sum")
        return {"masked_accuracy": float(sums[1] / sums[2].clamp(min=1))}

    def evaluate(self, accelerator: Accelerator, model: Any) -> dict[str, float]:
        """Masked-LM loss (mean over targets) and accuracy on the held-out transcripts; each process takes a share."""
        if not self.held_out:
            return {}
        mine = self.held_out[accelerator.process_index :: accelerator.num_processes]
        network = accelerator.unwrap_model(model)
        was_training = network.training
        network.eval()
        sums = torch.zeros(3, dtype=torch.float64, device=accelerator.device)
        lengths = [min(len(e["transcript"]["sequence"]), self.config.max_length) for e in mine]
        with torch.no_grad(), accelerator.autocast():
            for indices in length_sorted_batches(lengths, batch_size=self.config.eval_batch_size):
                batch = {k: v.to(accelerator.device) for k, v in self.collator([mine[i] for i in indices]).items()}
                logits = network(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                sums += masked_lm_sums(logits, batch["labels"])
        network.train(was_training)
        loss, correct, targets = accelerator.reduce(sums, reduction="sum").tolist()
        return {"eval_loss": loss / max(targets, 1), "eval_accuracy": correct / max(targets, 1),
                "eval_masked_tokens": targets}

    @staticmethod
    def describe(step: int, results: dict[str, float]) -> str:
        return (f"step {step}: held-out masked-LM loss {results['eval_loss']:.3f}, accuracy "
                f"{results['eval_accuracy']:.3f} ({int(results['eval_masked_tokens'])} masked nucleotides)")

    @staticmethod
    def summary_fields(evaluations: list[dict[str, float]]) -> dict[str, float]:
        if not evaluations:
            return {}
        first, last = evaluations[0], evaluations[-1]
        return {"eval_loss_start": first["eval_loss"], "eval_loss_end": last["eval_loss"],
                "eval_accuracy_start": first["eval_accuracy"], "eval_accuracy_end": last["eval_accuracy"],
                "eval_masked_tokens": last["eval_masked_tokens"]}

    @staticmethod
    def summary_lines(summary: dict[str, Any]) -> list[str]:
        if "eval_loss_start" not in summary:
            return []
        return [f"  held-out masked-LM loss: {summary['eval_loss_start']:.3f} -> {summary['eval_loss_end']:.3f}, "
                f"accuracy {summary['eval_accuracy_start']:.3f} -> {summary['eval_accuracy_end']:.3f} "
                f"({int(summary['eval_masked_tokens'])} masked nucleotides)"]

    @staticmethod
    def model_to_save(model: Any) -> Any:
        """The whole ``ForMaskedLM`` model: ``final/`` loads with AutoModelForMaskedLM and with AutoModel."""
        return model


__all__ = [
    "MaskedLMCollator",
    "MaskedLMObjective",
    "build_masked_lm_model",
    "mask_tokens",
    "masked_lm_sums",
]
