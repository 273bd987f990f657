"""Batched embedding of transcript records with an IsoCLR encoder.

Records are sorted by length and cut into batches of similar length, so little compute goes into
padding; the embeddings come back in the order the records were given. In eval mode the model is
padding invariant, so the batching never changes an embedding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ..annotations.records import TranscriptRecord, tokenize_records


def length_sorted_batches(
    lengths: Sequence[int], *, batch_size: int, max_nucleotides_per_batch: int | None = None
) -> Iterator[list[int]]:
    """Cut indices into batches of similar length, longest first.

    Args:
        lengths: Length of each item.
        batch_size: Most items in a batch.
        max_nucleotides_per_batch: Most padded positions in a batch (``items x longest``); a single
            item longer than this still gets a batch of its own.

    Yields:
        Lists of indices into ``lengths``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batch: list[int] = []
    for index in order:
        # Sorted longest first, so the batch's first item sets its padded width.
        width = lengths[batch[0]] if batch else lengths[index]
        too_many = len(batch) >= batch_size
        too_wide = max_nucleotides_per_batch is not None and (len(batch) + 1) * width > max_nucleotides_per_batch
        if batch and (too_many or too_wide):
            yield batch
            batch = []
        batch.append(index)
    if batch:
        yield batch


def _encoder(model: PreTrainedModel) -> torch.nn.Module:
    """The bare encoder (``IsoCLRModel``) of any IsoCLR model class."""
    return getattr(model, model.base_model_prefix, model)


def embed_records(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: Sequence[TranscriptRecord],
    *,
    batch_size: int = 32,
    max_nucleotides_per_batch: int | None = None,
    dtype: torch.dtype | None = None,
    progress: bool = True,
    truncation: bool = False,
) -> np.ndarray:
    """Pooled embeddings of transcript records, in input order.

    Args:
        model: Any IsoCLR model (``IsoCLRModel``, ``IsoCLRForSequenceClassification``,
            ``IsoCLRForContrastivePretraining``); its encoder's ``pooler_output`` is returned. The
            model runs on the device it is on, in eval mode (its training mode is restored after).
        tokenizer: The model's ``IsoCLRTokenizer``.
        records: Transcripts to embed.
        batch_size: Most transcripts per forward pass.
        max_nucleotides_per_batch: Most padded nucleotides per forward pass; bounds memory when
            lengths vary (e.g. 200,000 for a few GB on a CPU with isoclr-m).
        dtype: ``torch.bfloat16`` or ``torch.float16`` to run under autocast; ``None`` for the
            model's own dtype. The result is always float32.
        progress: Show a tqdm bar.
        truncation: Keep the 5' end of transcripts longer than the tokenizer's maximum instead
            of raising.

    Returns:
        Embeddings. Shape: (len(records), hidden_size), float32.

    Raises:
        ValueError: from the tokenizer, naming the transcript, for a bad sequence or annotation.
    """
    encoder = _encoder(model)
    hidden_size = int(model.config.hidden_size)
    result = np.zeros((len(records), hidden_size), dtype=np.float32)
    if not records:
        return result
    device = next(model.parameters()).device
    autocast: contextlib.AbstractContextManager = contextlib.nullcontext()
    if dtype is not None and dtype != torch.float32:
        autocast = torch.autocast(device_type=device.type, dtype=dtype)
    was_training = model.training
    if was_training:  # only then: eval() also drops the encoder's cache of folded eval-mode weights
        model.eval()
    lengths = [len(record.sequence) for record in records]
    batches = list(length_sorted_batches(lengths, batch_size=batch_size,
                                         max_nucleotides_per_batch=max_nucleotides_per_batch))
    try:
        with torch.no_grad(), tqdm(total=len(records), desc="embedding", unit="transcript",
                                   disable=not progress) as bar:
            for indices in batches:
                chosen = [records[i] for i in indices]
                batch = tokenize_records(tokenizer, chosen, truncation=truncation,
                                         pad_to_multiple_of=model.config.downsampling)
                batch = {name: tensor.to(device) for name, tensor in batch.items()}
                with autocast:
                    pooled = encoder(**batch).pooler_output  # (B, hidden_size)
                result[indices] = pooled.float().cpu().numpy()
                bar.update(len(indices))
    finally:
        if was_training:
            model.train()
    return result


__all__ = ["embed_records", "length_sorted_batches"]
