"""Pretraining on a corpus read as a stream (corpora larger than memory or disk)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from isoclr_hf import IsoCLRConfig, IsoCLRTokenizer
from isoclr_hf.pretraining.batching import ContrastivePairCollator
from isoclr_hf.pretraining.data import StreamingCorpus, streaming_micro_batches
from tests.pretraining.tiny_corpus import pretrain, tiny_run_arguments


def test_streaming_run_trains_and_saves(tiny_corpus_path: Path, tmp_path: Path) -> None:
    summary = pretrain(tiny_run_arguments(tiny_corpus_path, tmp_path, streaming="true", max_steps=3,
                                               shuffle_buffer=16, mega_batch_batches=2))
    assert summary["steps"] == 3 and "retrieval_end" in summary
    assert (tmp_path / "final" / "model.safetensors").exists()
    losses = [json.loads(line)["loss"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
              if '"loss"' in line]
    assert len(losses) == 3


def test_streamed_batches_resume_exactly_after_skipping(tiny_corpus_path: Path) -> None:
    # 48 gene sets in batches of 8: 6 a pass, so 8 batches cross into the second epoch.
    constant = IsoCLRConfig().gene_set_weight_constant
    corpus = StreamingCorpus.open(str(tiny_corpus_path), "train", rank=0, world_size=1, weight_constant=constant)
    collator = ContrastivePairCollator(IsoCLRTokenizer(), max_length=512, pad_to_multiple_of=32)

    def batches(skip: int, count: int) -> list[dict]:
        stream = streaming_micro_batches(corpus, collator, seed=0, batch_size=8, max_length=512,
                                         mega_batch_batches=2, shuffle_buffer=16, skip_batches=skip)
        return [next(stream) for _ in range(count)]

    straight = batches(0, 8)
    resumed = batches(5, 3)
    for expected, actual in zip(straight[5:], resumed):
        assert expected.keys() == actual.keys()
        for name in expected:
            torch.testing.assert_close(actual[name], expected[name])
    assert not torch.equal(straight[0]["weights"], straight[1]["weights"]) or not torch.equal(
        straight[0]["input_ids"][:, :8], straight[1]["input_ids"][:, :8])
