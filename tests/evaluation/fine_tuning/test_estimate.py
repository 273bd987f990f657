"""The fine-tuning time estimate: every batch planned, step times per model and length bucket (issue 26, item 5).

Fake timings in, the estimate out, against a sum worked out by hand from the plan; the timing itself with
a stand-in clock that a stand-in model advances by its batch's width.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isoclr_hf.evaluation.fine_tuning.estimate import (
    BucketTiming,
    ModelSetup,
    bucket_of,
    estimate_fine_tuning_time,
    length_buckets,
    plan_fine_tuning,
    time_buckets,
    training_batches,
)
from isoclr_hf.evaluation.fine_tuning.runs import timing_examples


def test_training_batches_are_drawn_as_the_shuffled_loader_draws_them() -> None:
    batches = training_batches(10, batch_size=4, epochs=2, seed=0)
    assert [len(b) for b in batches] == [4, 4, 4, 4]  # the short last batch of each epoch is dropped
    for epoch in (batches[:2], batches[2:]):
        assert len(set(np.concatenate(epoch).tolist())) == 8  # no example twice within an epoch
    assert len(training_batches(10, batch_size=4, epochs=5, seed=0, max_steps=3)) == 3
    assert [len(b) for b in training_batches(3, batch_size=4, epochs=2, seed=0)] == [3, 3]  # one short batch kept


def test_length_buckets_cut_at_quantiles() -> None:
    assert length_buckets([100] * 5 + [4096] * 3) == [100, 4096]
    assert length_buckets(list(range(1, 13)), count=3) == [5, 9, 12]
    assert [bucket_of(n, [100, 4096]) for n in (1, 100, 101, 4096, 9999)] == [100, 100, 4096, 4096, 4096]
    with pytest.raises(ValueError, match="No training steps"):
        length_buckets([])


def test_estimate_from_fake_timings_per_model_and_bucket() -> None:
    # Run A: 8 training examples of 100 nt (2 steps an epoch); run B: 4 of 5,000 nt cut to 4,096 (1 step an epoch).
    runs = [([100] * 8, [100] * 10, [100] * 5), ([5000] * 4, [5000] * 3, [300])]
    plan = plan_fine_tuning(runs, models=("pretrained", "random_init"), rates=2, batch_size=4, epochs=3,
                            max_steps=None, max_length=4096, test_batch_size=16)
    assert sorted(set(plan.steps["pretrained"])) == [100, 4096]
    assert plan.steps["pretrained"].count(100) == 12 and plan.steps["pretrained"].count(4096) == 6
    fast = [BucketTiming(100, step_seconds=1.0, forward_seconds=0.2, batch_size=4),
            BucketTiming(4096, step_seconds=10.0, forward_seconds=3.0, batch_size=4)]
    slow = [BucketTiming(t.upper, 2 * t.step_seconds, 2 * t.forward_seconds, t.batch_size) for t in fast]
    estimate = estimate_fine_tuning_time(plan, {"pretrained": fast, "random_init": slow})
    # By hand, for the fast model: steps 12 x 1 s + 6 x 10 s = 72 s. Forward-only batches: run A's validation
    # (10 examples in batches of 8 and 2, after each of 3 epochs, for 2 rates) 6 x (8/4 + 2/4) x 0.2 = 3 s and
    # its test (5 examples) 5/4 x 0.2 = 0.25 s; run B's validation (3 x 4,096 nt) 6 x 3/4 x 3 = 13.5 s and its
    # test (one of 300 nt: longer than 100, so the 4,096 bucket, at its width) 1/4 x 300/4,096 x 3 s. The slow model
    # twice that.
    fast_total = 72 + 3 + 0.25 + 13.5 + 3 * 300 / (4 * 4096)
    assert estimate.seconds == pytest.approx(3 * fast_total)
    assert (estimate.steps, estimate.forward_batches, estimate.trainings) == (36, 40, 8)
    assert estimate.steps_per_bucket == {100: 24, 4096: 12}
    message = estimate.message()
    assert message.startswith("Fine-tuning estimate: 8 trainings, 36 steps") and "about 4.4 min" in message
    assert "pretrained: <= 100 nt 1.00 s, <= 4,096 nt 10.00 s" in message
    assert "random_init: <= 100 nt 2.00 s" in message
    assert estimate.against(2 * estimate.seconds) == (
        "Fine-tuning took 8.9 min; the estimate was 4.4 min (actual/estimate 2.00).")
    shared = estimate_fine_tuning_time(plan, dict.fromkeys(("pretrained", "random_init"), fast))
    assert shared.seconds == pytest.approx(2 * fast_total) and "random_init: as pretrained" in shared.message()
    with pytest.raises(ValueError, match="No step timings for model 'random_init'"):
        estimate_fine_tuning_time(plan, {"pretrained": fast})
    # Fixed costs: each model is built once a run (2 runs), each training (2 rates a run) has a slower first step.
    setup = ModelSetup(build_seconds=5.0, first_step_extra=0.5)
    with_setup = estimate_fine_tuning_time(plan, {"pretrained": fast, "random_init": slow},
                                           {"pretrained": setup, "random_init": setup})
    assert with_setup.setup_seconds == pytest.approx(2 * (5.0 * 2 + 0.5 * 2 * 2))
    assert with_setup.seconds == pytest.approx(estimate.seconds + 24.0)
    assert "24 s of it building models and first steps" in with_setup.message()


def test_a_batch_costs_in_proportion_to_its_padded_size_against_the_timed_one() -> None:
    timing = BucketTiming(upper=1000, step_seconds=4.0, forward_seconds=1.0, batch_size=8, width=800)
    assert timing.step(800) == 4.0 and timing.step(400) == 2.0 and timing.step(1000) == pytest.approx(5.0)
    assert timing.forward(8, 800) == 1.0 and timing.forward(16, 1600) == pytest.approx(4.0)
    assert BucketTiming(1000, 4.0, 1.0, 8).step(500) == 2.0  # width unset: the bucket's upper edge


def test_max_steps_caps_the_plan() -> None:
    plan = plan_fine_tuning([([100] * 40, [100] * 4, [100] * 4)], models=("pretrained",), rates=1, batch_size=4,
                            epochs=3, max_steps=5, max_length=4096, test_batch_size=4)
    assert len(plan.steps["pretrained"]) == 5
    assert len(plan.forward_batches["pretrained"]) == 1 + 1  # one validation pass (the first epoch) and the test


class ClockedHead(torch.nn.Module):
    """Stands in for a head: each forward advances ``clock`` by the batch's width (3x when training)."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))
        self.clock = clock
        self.calls: list[tuple[bool, int]] = []

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None) -> object:
        width = int(input_ids.shape[1])
        self.calls.append((self.training, width))
        self.clock[0] += width * (3 if self.training else 1)
        return type("Output", (), {"loss": (self.weight * input_ids.float().mean()).sum()})()


def test_time_buckets_times_a_step_and_a_forward_pass_per_bucket_after_a_warm_up() -> None:
    clock = [0.0]
    model = ClockedHead(clock)
    batches = {4096: {"input_ids": torch.ones(2, 4096, dtype=torch.long), "labels": torch.zeros(2)},
               100: {"input_ids": torch.ones(4, 100, dtype=torch.long), "labels": torch.zeros(4)}}
    timings, first_step_extra = time_buckets(model, batches, clock=lambda: clock[0])
    assert timings == [BucketTiming(100, 300.0, 100.0, 4, 100), BucketTiming(4096, 3 * 4096.0, 4096.0, 2, 4096)]
    assert first_step_extra == 0.0  # the stand-in's first step is no slower than its later ones
    assert model.calls[:2] == [(True, 100), (False, 100)]  # the warm-up, on the shortest batch
    assert model.weight.grad is None or float(model.weight.grad.abs().sum()) == 0.0  # gradients cleared


def test_timing_batches_look_like_the_bucket_steps() -> None:
    lengths = np.array([50, 60, 70, 80, 900, 1000, 1100, 5000, 6000])
    candidates = np.arange(len(lengths))
    steps = [80] * 4 + [1000] * 3 + [6000] * 2
    picked = timing_examples(lengths, candidates, [80, 1000, 6000], steps, batch_size=3, seed=0)
    assert sorted(picked) == [80, 1000, 6000]
    for edge, indices in picked.items():
        assert len(indices) == 3 and len(set(indices.tolist())) == 3
        assert lengths[indices[0]] == edge == lengths[indices].max()  # the longest is the bucket's median step
    assert timing_examples(lengths, candidates, [80, 500], [80], batch_size=3, seed=0).keys() == {80}


def test_the_first_step_extra_is_the_warm_up_over_a_later_step_of_the_same_batch() -> None:
    clock = [0.0]
    model = ClockedHead(clock)
    original = model.forward

    def slow_first(*args: object, **kwargs: object) -> object:
        if not model.calls:
            clock[0] += 50.0  # the first step of a training: fresh optimiser state, first allocations
        return original(*args, **kwargs)

    model.forward = slow_first  # type: ignore[method-assign]
    batches = {100: {"input_ids": torch.ones(4, 100, dtype=torch.long), "labels": torch.zeros(4)}}
    timings, first_step_extra = time_buckets(model, batches, clock=lambda: clock[0])
    assert timings == [BucketTiming(100, 300.0, 100.0, 4, 100)] and first_step_extra == 50.0
