"""Crops anywhere on the transcript: tracks cut with the sequence, starts reproducible, lengths as planned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.pretraining.batching import ContrastivePairCollator
from isoclr_hf.pretraining.config import parse_pretraining_config
from isoclr_hf.pretraining.cropping import CropPolicy, crop_starts, crop_transcript, crop_views
from isoclr_hf.pretraining.data import PairCorpus, load_corpus_splits, plan_epoch, process_dataloader
from isoclr_hf.pretraining.pairs import stream_pairs
from tests.pretraining.tiny_corpus import pretrain, tiny_run_arguments

TOKENIZER = IsoCLRTokenizer()


def transcript(length: int = 100, exon_ends: tuple[int, ...] = (30, 61, 100), cds: tuple[int, int] = (10, 85)) -> dict:
    rng = np.random.default_rng(length)
    return {"transcript_id": f"T{length}", "sequence": "".join(rng.choice(list("ACGT"), size=length)),
            "exon_ends": list(exon_ends), "cds_start": cds[0], "cds_end": cds[1], "flags": []}


def tracks(row: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, cds, splice) of one transcript, unpadded. Shape: (length,) each."""
    batch = crop_views(TOKENIZER, [row], max_length=len(row["sequence"]), pad_to_multiple_of=1)
    return batch["input_ids"][0], batch["cds_track"][0], batch["splice_track"][0]


@pytest.mark.parametrize("start", range(0, 61))
def test_a_window_keeps_exactly_the_tracks_of_the_transcript_inside_it(start: int) -> None:
    full = transcript()
    ids, cds, splice = tracks(full)
    window = crop_transcript(full, start, 40)
    w_ids, w_cds, w_splice = tracks(window)
    assert torch.equal(w_ids, ids[start : start + 40])
    # Codon starts: exactly those of the transcript inside the window (frame kept; a partial codon unmarked).
    assert torch.equal(w_cds, cds[start : start + 40])
    # Exon ends inside the window, and the window's last nucleotide.
    expected_splice = splice[start : start + 40].clone()
    expected_splice[-1] = 1
    assert torch.equal(w_splice, expected_splice)
    if window["cds_start"] >= 0:
        assert ("cds_start_NF" in window["flags"]) == (start > 10)
        assert ("cds_end_NF" in window["flags"]) == (start + 40 < 85)
    else:
        assert start + 40 <= 10 or start > 82  # a window in a UTR, or past the last codon start


def test_a_5_prime_window_is_what_truncation_gives() -> None:
    rows = [transcript(100), transcript(300, (100, 300), (5, 290))]
    truncated = crop_views(TOKENIZER, rows, max_length=64, pad_to_multiple_of=32)
    cropped = crop_views(TOKENIZER, rows, max_length=64, pad_to_multiple_of=32, starts=[0, 0])
    assert truncated.keys() == cropped.keys()
    for key in truncated:
        assert torch.equal(truncated[key], cropped[key]), key


def test_a_start_outside_the_transcript_is_refused() -> None:
    with pytest.raises(ValueError, match="crop start 61 is outside \\[0, 60\\]"):
        crop_transcript(transcript(), 61, 40)


def test_starts_are_uniform_independent_and_reproducible() -> None:
    lengths = np.tile([[1000, 3000]], (4000, 1))  # (n_pairs, 2)
    policy = CropPolicy("anywhere")
    starts = crop_starts(lengths, 1000, policy, np.random.default_rng([0, 0]))
    assert np.array_equal(starts, crop_starts(lengths, 1000, policy, np.random.default_rng([0, 0])))
    assert (starts[:, 0] == 0).all()  # a transcript that fits is not moved
    assert starts[:, 1].min() >= 0 and starts[:, 1].max() <= 2000
    assert abs(starts[:, 1].mean() - 1000) < 50  # uniform over [0, 2000]
    both = crop_starts(np.tile([[3000, 3000]], (4000, 1)), 1000, policy, np.random.default_rng(1))
    assert np.mean(both[:, 0] == both[:, 1]) < 0.01  # the two views are cut independently
    assert not crop_starts(lengths, 1000, CropPolicy(), np.random.default_rng(0)).any()  # five_prime


@pytest.mark.parametrize("fraction", [0.0, 0.5, 1.0])
def test_three_prime_fraction_puts_one_view_on_the_3_prime_end(fraction: float) -> None:
    lengths = np.tile([[5000, 4000]], (4000, 1))
    starts = crop_starts(lengths, 1000, CropPolicy("anywhere", fraction), np.random.default_rng(3))
    at_end = (starts == lengths - 1000).any(axis=1)  # (n_pairs,)
    assert abs(at_end.mean() - fraction) < 0.03


def test_bad_crop_settings_are_refused_by_the_config(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="choose one of five_prime, anywhere"):
        parse_pretraining_config(["--corpus", "x", "--crop_position", "middle"])
    with pytest.raises(ValueError, match="needs crop_position: anywhere"):
        parse_pretraining_config(["--corpus", "x", "--crop_three_prime_fraction", "0.5"])
    config = parse_pretraining_config(["--corpus", "x", "--crop_position", "anywhere",
                                       "--crop_three_prime_fraction", "0.5"])
    assert config.crop_policy() == CropPolicy("anywhere", 0.5)
    release = Path(__file__).resolve().parents[2] / "training" / "configs" / "isoclr_s_release.yaml"
    assert parse_pretraining_config(["--config", str(release), "--corpus", "x"]).crop_policy() == CropPolicy()


def test_planned_lengths_are_the_collated_lengths_and_plans_repeat(tiny_corpus_path: Path) -> None:
    corpus = PairCorpus.from_split(load_corpus_splits(str(tiny_corpus_path))["train"], 0.4)
    settings = dict(seed=0, global_batch_size=8, max_length=128, bucketing=True, mega_batch_batches=4,
                    max_nucleotides=None, world_size=1, crop=CropPolicy("anywhere", 0.5))
    plan = plan_epoch(corpus, epoch=1, **settings)
    assert plan.crop_starts is not None and plan.crop_starts.any()
    assert np.array_equal(plan.crop_starts, plan_epoch(corpus, epoch=1, **settings).crop_starts)
    assert not np.array_equal(plan.crop_starts, plan_epoch(corpus, epoch=2, **settings).crop_starts)
    collator = ContrastivePairCollator(TOKENIZER, max_length=128, pad_to_multiple_of=32)
    loader = process_dataloader(corpus, plan, collator, rank=0, world_size=1, n_batches=len(plan.global_batches))
    for batch_indices, batch in zip(plan.global_batches, loader, strict=True):
        lengths = plan.view_lengths[batch_indices]  # (B, 2)
        assert batch["attention_mask"].sum(1).tolist() == lengths[:, 0].tolist()
        assert batch["partner_attention_mask"].sum(1).tolist() == lengths[:, 1].tolist()
    assert plan_epoch(corpus, epoch=1, **{**settings, "crop": CropPolicy()}).crop_starts is None


def test_streamed_pairs_draw_the_same_crops_again(tiny_corpus_path: Path) -> None:
    rows = list(load_corpus_splits(str(tiny_corpus_path))["train"])
    kwargs = dict(seed=0, epoch=0, normaliser=1.0, constant=0.4, crop=CropPolicy("anywhere"), max_length=64)
    first = [example["starts"] for example in stream_pairs(rows, **kwargs)]
    assert first == [example["starts"] for example in stream_pairs(rows, **kwargs)]
    assert any(start > 0 for pair in first for start in pair)
    assert "starts" not in next(iter(stream_pairs(rows, **{**kwargs, "crop": CropPolicy()})))


@pytest.mark.slow
def test_a_resumed_run_with_random_crops_ends_as_an_uninterrupted_one(tiny_corpus_path: Path, tmp_path: Path) -> None:
    settings = {"max_steps": 5, "max_length": 128, "crop_position": "anywhere", "crop_three_prime_fraction": 0.5,
                "checkpoint_every": 2}
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    pretrain(tiny_run_arguments(tiny_corpus_path, straight, **settings))
    pretrain(tiny_run_arguments(tiny_corpus_path, interrupted, stop_after_steps=3, **settings))
    pretrain(tiny_run_arguments(tiny_corpus_path, interrupted, resume_from_checkpoint="latest", **settings))
    expected = load_file(straight / "final" / "model.safetensors")
    actual = load_file(interrupted / "final" / "model.safetensors")
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], atol=1e-6, rtol=1e-5, msg=name)
    five_prime = tmp_path / "five_prime"
    pretrain(tiny_run_arguments(tiny_corpus_path, five_prime, **{**settings, "crop_position": "five_prime",
                                                                  "crop_three_prime_fraction": 0.0}))
    other = load_file(five_prime / "final" / "model.safetensors")["encoder.stem_conv.weight"]
    assert not torch.allclose(other, expected["encoder.stem_conv.weight"])  # the crops changed training
