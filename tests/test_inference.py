"""embed_records: input order, batch invariance, any IsoCLR model class, bounded batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isoclr_hf import IsoCLRConfig, IsoCLRForSequenceClassification, IsoCLRModel, IsoCLRTokenizer
from isoclr_hf.annotations.records import TranscriptRecord
from isoclr_hf.inference import embed_records, length_sorted_batches
from tests.tiny_models import tiny_config


def _records(count: int, seed: int = 0) -> list[TranscriptRecord]:
    rng = np.random.default_rng(seed)
    records = []
    for i in range(count):
        length = int(rng.integers(40, 300))
        sequence = "".join(rng.choice(list("ACGT"), size=length))
        cds = (3, 3 + 3 * ((length - 10) // 3)) if i % 2 else (-1, -1)
        records.append(TranscriptRecord(f"t{i}", f"g{i}", "", "homo_sapiens", sequence, [length // 2, length], *cds))
    return records


@pytest.fixture
def model(config: IsoCLRConfig) -> IsoCLRModel:
    return IsoCLRModel(config).eval()


def test_embeddings_follow_input_order_and_do_not_depend_on_batching(model: IsoCLRModel) -> None:
    records = _records(13)
    tokenizer = IsoCLRTokenizer()
    batched = embed_records(model, tokenizer, records, batch_size=5, progress=False)
    assert batched.shape == (13, model.config.hidden_size)
    assert batched.dtype == np.float32
    for i in (0, 6, 12):
        alone = embed_records(model, tokenizer, [records[i]], progress=False)[0]
        np.testing.assert_allclose(batched[i], alone, atol=1e-5)


def test_head_model_gives_its_encoder_embedding(config: IsoCLRConfig) -> None:
    head = IsoCLRForSequenceClassification(config)
    encoder = IsoCLRModel(config)
    encoder.load_state_dict(head.isoclr.state_dict())
    records = _records(4)
    tokenizer = IsoCLRTokenizer()
    np.testing.assert_allclose(
        embed_records(head, tokenizer, records, progress=False),
        embed_records(encoder, tokenizer, records, progress=False),
        atol=1e-6,
    )


def test_training_mode_is_restored_and_bf16_runs(model: IsoCLRModel) -> None:
    model.train()
    result = embed_records(model, IsoCLRTokenizer(), _records(3), dtype=torch.bfloat16, progress=False)
    assert model.training
    assert result.dtype == np.float32 and np.isfinite(result).all()


def test_bad_record_is_named() -> None:
    record = TranscriptRecord("bad_one", "g", "", "homo_sapiens", "ACGTXACGT", [9])
    with pytest.raises(ValueError, match="bad_one"):
        embed_records(IsoCLRModel(tiny_config()), IsoCLRTokenizer(), [record], progress=False)


def test_length_sorted_batches_cover_every_index_once_within_limits() -> None:
    lengths = [50, 400, 120, 120, 30, 800, 60, 61]
    batches = list(length_sorted_batches(lengths, batch_size=3, max_nucleotides_per_batch=500))
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 500
