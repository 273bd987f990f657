"""How long the fine-tuning runs will take: step times measured per model and length bucket.

A step's time grows with the longest transcript of its batch (the padded width), so one timed step on
one random batch is a poor guide when lengths vary: the first estimate of ``isoclr evaluate`` (one step)
said 10 minutes for runs that took 20. Here:

1. Plan (:func:`plan_fine_tuning`): the batches of every run are drawn as the training loader draws
   them (a shuffled order each epoch, ``batch_size`` examples a step, no short last batch), so the
   longest transcript of every training step is known; the validation pass after each epoch and the
   test pass at the end are forward-only batches in length order (:func:`~isoclr_hf.inference.length_sorted_batches`).
2. Buckets (:func:`length_buckets`): the steps' longest lengths are cut at their quantiles into a few
   length buckets.
3. Timing (:func:`time_buckets`): for each model and bucket, one training step (forward, backward,
   optimiser step) and one forward-only pass are timed on a real batch of training examples whose
   longest transcript is the bucket's median, after a warm-up step.
4. Estimate (:func:`estimate_fine_tuning_time`): every planned step costs its bucket's step time, every
   forward-only batch its bucket's forward time, each scaled by its padded size against the timed batch's
   (:class:`BucketTiming`; validation and test transcripts longer than any training step included); plus
   building each model once a run and each training's slower first step, also timed (:class:`ModelSetup`).

The time the runs took is printed against the estimate when they end (:meth:`FineTuningEstimate.against`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ...inference import length_sorted_batches

# Length buckets of the training steps (fewer when the steps' longest lengths take fewer values).
DEFAULT_BUCKETS = 3


@dataclass(frozen=True)
class BucketTiming:
    """Measured seconds of one model on a batch whose longest transcript fills one length bucket.

    Attributes:
        upper: The bucket's upper edge: its steps' longest transcripts are at most this long (nt).
        step_seconds: One training step (forward, backward, optimiser step) of ``batch_size`` examples.
        forward_seconds: One forward-only pass (eval mode, no gradients) of the same batch.
        batch_size: Examples in the timed batch.
        width: The timed batch's longest transcript (its padded width, nt); 0 means ``upper``. A batch of
            another width costs in proportion: a step ``step_seconds x longest / width``, a forward pass
            ``forward_seconds x (examples x longest) / (batch_size x width)``.
    """

    upper: int
    step_seconds: float
    forward_seconds: float
    batch_size: int
    width: int = 0

    def step(self, longest: int) -> float:
        """Seconds of a training step of ``batch_size`` examples whose longest transcript is ``longest``."""
        return self.step_seconds * longest / (self.width or self.upper)

    def forward(self, examples: int, longest: int) -> float:
        """Seconds of a forward-only pass of ``examples`` transcripts, the longest ``longest`` nt."""
        return self.forward_seconds * examples * longest / (self.batch_size * (self.width or self.upper))


@dataclass
class FineTuningPlan:
    """The work of the fine-tuning runs, batch by batch, before any of it runs.

    Attributes:
        steps: Model name -> the longest transcript (nt, after truncation) of each training step.
        forward_batches: Model name -> ``(examples, longest transcript)`` of each forward-only batch
            (validation after each epoch, test at the end).
        trainings: Number of trainings (one per learning rate, model, seed and fraction).
        runs: Number of runs (seed and fraction); each builds every model once and trains it at every rate.
        rates: Encoder learning rates of each run.
    """

    steps: dict[str, list[int]] = field(default_factory=dict)
    forward_batches: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    trainings: int = 0
    runs: int = 0
    rates: int = 1


@dataclass
class FineTuningEstimate:
    """The estimated time of the fine-tuning runs and what it was made of.

    Attributes:
        seconds: The estimate.
        steps: Training steps of all runs.
        forward_batches: Forward-only batches of all runs.
        trainings: Number of trainings.
        timings: Model name -> its measured :class:`BucketTiming` per length bucket.
        steps_per_bucket: Upper edge of each bucket -> training steps in it (all models).
        setup_seconds: Of ``seconds``, what is not steps or forward passes: building each model once a run
            and the extra time of the first step of each training (see :class:`ModelSetup`).
    """

    seconds: float
    steps: int
    forward_batches: int
    trainings: int
    timings: dict[str, list[BucketTiming]]
    steps_per_bucket: dict[int, int]
    setup_seconds: float = 0.0

    def message(self) -> str:
        """One line for the user before the runs start: the estimate and the step time of each bucket."""
        measured = {id(timing): name for name, timing in reversed(self.timings.items())}
        parts = []
        for name, timing in self.timings.items():
            if measured[id(timing)] != name:  # this model reuses another's timings (same architecture)
                parts.append(f"{name}: as {measured[id(timing)]}")
                continue
            buckets = ", ".join(f"<= {t.upper:,} nt {t.step_seconds:.2f} s" for t in timing)
            parts.append(f"{name}: {buckets}")
        counts = ", ".join(f"<= {edge:,} nt {count:,}" for edge, count in sorted(self.steps_per_bucket.items()))
        setup = f", {_duration(self.setup_seconds)} of it building models and first steps" if self.setup_seconds else ""
        return (f"Fine-tuning estimate: {self.trainings} trainings, {self.steps:,} steps (by the longest transcript "
                f"of their batch: {counts}) plus {self.forward_batches:,} validation and test batches, at the step "
                f"times timed on this machine per length bucket ({'; '.join(parts)}): about "
                f"{_duration(self.seconds)}{setup}.")

    def against(self, actual_seconds: float) -> str:
        """The estimate next to the time the runs took, printed when they end."""
        return (f"Fine-tuning took {_duration(actual_seconds)}; the estimate was {_duration(self.seconds)} "
                f"(actual/estimate {actual_seconds / self.seconds:.2f}).")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def training_batches(count: int, batch_size: int, epochs: int, seed: int,
                     max_steps: int | None = None) -> list[np.ndarray]:
    """Indices (into ``count`` examples) of every training step of one run, as the shuffled loader draws them.

    Each epoch is a fresh permutation; a last batch shorter than ``batch_size`` is dropped when there are
    more than ``batch_size`` examples (the loader's ``drop_last``); ``max_steps`` stops the run early.
    """
    rng = np.random.default_rng(seed)
    drop_last = count > batch_size
    batches: list[np.ndarray] = []
    for _ in range(epochs):
        order = rng.permutation(count)
        stop = count - count % batch_size if drop_last else count
        batches.extend(order[start:start + batch_size] for start in range(0, stop, batch_size))
        if max_steps is not None and len(batches) >= max_steps:
            return batches[:max_steps]
    return batches


def plan_fine_tuning(
    runs: Sequence[tuple[Sequence[int], Sequence[int], Sequence[int]]], *, models: Sequence[str], rates: int,
    batch_size: int, epochs: int, max_steps: int | None, max_length: int, test_batch_size: int, seed: int = 0,
) -> FineTuningPlan:
    """Every batch of the fine-tuning runs.

    Args:
        runs: Per run, the lengths (nt) of its training, validation and test examples.
        models: The models each run fine-tunes (``pretrained``, ``random_init``).
        rates: Encoder learning rates; each is a full run with the same shuffling.
        batch_size, epochs, max_steps: The fine-tuning settings.
        max_length: Longest input the model reads; longer transcripts are cut to it.
        test_batch_size: Batch size of the test predictions.
        seed: Seed of the simulated shuffling.
    """
    plan = FineTuningPlan()
    for name in models:
        plan.steps[name], plan.forward_batches[name] = [], []
    for train, validation, test in runs:
        train_lengths = np.minimum(np.asarray(train, dtype=np.int64), max_length)
        batches = training_batches(len(train_lengths), batch_size, epochs, seed, max_steps)
        longest = [int(train_lengths[batch].max()) for batch in batches]
        per_epoch = max(1, len(train_lengths) // batch_size) if len(train_lengths) > batch_size else 1
        validations = math.ceil(len(batches) / per_epoch)  # one validation pass after each epoch run
        # Each learning rate is a full run with its own validation passes; the test pass comes once, after them.
        forward = (_forward_batches(validation, 2 * batch_size, max_length) * (validations * rates)
                   + _forward_batches(test, test_batch_size, max_length))
        for name in models:
            plan.steps[name] += longest * rates
            plan.forward_batches[name] += forward
        plan.trainings += rates * len(models)
        plan.runs += 1
    plan.rates = rates
    return plan


def _forward_batches(lengths: Sequence[int], batch_size: int, max_length: int) -> list[tuple[int, int]]:
    """``(examples, longest)`` of the length-sorted forward-only batches over ``lengths``."""
    capped = [min(int(n), max_length) for n in lengths]
    return [(len(indices), max(capped[i] for i in indices))
            for indices in length_sorted_batches(capped, batch_size=batch_size)]


def length_buckets(longest: Sequence[int], count: int = DEFAULT_BUCKETS) -> list[int]:
    """Upper edges of up to ``count`` length buckets: quantiles of the steps' longest lengths (the last is the max)."""
    if not len(longest):
        raise ValueError("No training steps to put into length buckets.")
    values = np.asarray(longest)
    edges = {int(np.quantile(values, k / count, method="higher")) for k in range(1, count + 1)}
    return sorted(edges)


def bucket_of(length: int, edges: Sequence[int]) -> int:
    """The upper edge of the bucket ``length`` falls in (the last bucket for anything longer)."""
    for edge in edges:
        if length <= edge:
            return edge
    return edges[-1]


@dataclass(frozen=True)
class ModelSetup:
    """Measured fixed costs of one model, besides its steps and forward passes.

    Attributes:
        build_seconds: Building the model (loading its weights), once per run.
        first_step_extra: How much longer the first step of a training takes than a later one on the same
            batch (fresh optimiser state, first allocations), once per training.
    """

    build_seconds: float = 0.0
    first_step_extra: float = 0.0


def estimate_fine_tuning_time(plan: FineTuningPlan, timings: dict[str, list[BucketTiming]],
                              setups: dict[str, ModelSetup] | None = None) -> FineTuningEstimate:
    """The time of ``plan`` from measured step and forward times per model and length bucket.

    ``setups`` adds each model's fixed costs (:class:`ModelSetup`): its build once a run, its first-step
    extra once a training (a run trains at every learning rate).

    Raises:
        ValueError: A model of the plan has no timings.
    """
    setups = setups or {}
    setup_seconds = sum(setups[name].build_seconds * plan.runs + setups[name].first_step_extra * plan.runs * plan.rates
                        for name in plan.steps if name in setups)
    seconds = setup_seconds
    steps_per_bucket: dict[int, int] = {}
    for name, longest in plan.steps.items():
        if not timings.get(name):
            raise ValueError(f"No step timings for model {name!r}; time it with time_buckets first.")
        by_edge = {t.upper: t for t in timings[name]}
        edges = sorted(by_edge)
        for length in longest:
            edge = bucket_of(length, edges)
            seconds += by_edge[edge].step(length)
            steps_per_bucket[edge] = steps_per_bucket.get(edge, 0) + 1
        for examples, length in plan.forward_batches[name]:
            seconds += by_edge[bucket_of(length, edges)].forward(examples, length)
    return FineTuningEstimate(
        seconds=seconds, steps=sum(len(v) for v in plan.steps.values()),
        forward_batches=sum(len(v) for v in plan.forward_batches.values()), trainings=plan.trainings,
        timings=timings, steps_per_bucket=steps_per_bucket, setup_seconds=setup_seconds)


def time_buckets(model: torch.nn.Module, batches: dict[int, dict[str, torch.Tensor]],
                 clock: Callable[[], float] = time.perf_counter) -> tuple[list[BucketTiming], float]:
    """Time one training step and one forward-only pass of ``model`` on each bucket's batch.

    The first step (on the shortest bucket's batch) is a warm-up; it is timed too, and its excess over the
    timed step of the same batch is the first step's extra time, which every training pays once.

    Args:
        model: A head whose forward returns a ``loss`` when the batch has ``labels``; its weights change
            (a step at learning rate 1e-6), so pass a copy that is not trained afterwards.
        batches: Upper edge of each bucket -> a labelled batch whose longest transcript fills it.
        clock: Seconds (a stand-in in tests).

    Returns:
        One :class:`BucketTiming` per bucket, in the order of ``batches``' edges; and the first step's extra
        seconds (0 when it was not slower).
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)

    def step(batch: dict[str, torch.Tensor]) -> float:
        model.train()
        start = clock()
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return clock() - start

    def forward(batch: dict[str, torch.Tensor]) -> float:
        model.eval()
        start = clock()
        with torch.no_grad():
            model(**{key: value for key, value in batch.items() if key != "labels"})
        return clock() - start

    shortest = batches[min(batches)]
    first = step(shortest)  # warm-up: the first step and the first eval pass pay one-off costs
    forward(shortest)
    timings = [BucketTiming(edge, step(batch), forward(batch), int(batch["input_ids"].shape[0]),
                            int(batch["input_ids"].shape[1]))  # padded to the batch's longest transcript
               for edge, batch in sorted(batches.items())]
    return timings, max(0.0, first - timings[0].step_seconds)


__all__ = ["DEFAULT_BUCKETS", "BucketTiming", "FineTuningEstimate", "FineTuningPlan", "ModelSetup", "bucket_of",
           "estimate_fine_tuning_time", "length_buckets", "plan_fine_tuning", "time_buckets", "training_batches"]
