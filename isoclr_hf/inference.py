"""Batched inference in input order: embeddings of transcript records, and any per-example output.

Items are sorted by length and cut into batches of similar length, so little compute goes into
padding; the results come back in the order the items were given. In eval mode the models are
padding invariant, so the batching never changes a result. Pretraining (held-out retrieval),
evaluation (embeddings, fine-tuned predictions) and ``isoclr embed`` all run through
:func:`run_in_input_order`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .annotations.records import TranscriptRecord, tokenize_records


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


def run_in_input_order(
    model: torch.nn.Module,
    lengths: Sequence[int],
    forward: Callable[[list[int]], torch.Tensor],
    *,
    shape: tuple[int, ...] = (),
    batch_size: int,
    max_nucleotides_per_batch: int | None = None,
    progress: bool = False,
    description: str = "inference",
) -> np.ndarray:
    """Call ``forward`` on length-sorted batches of indices, in eval mode without gradients.

    Args:
        model: The model ``forward`` runs: put in eval mode for the call, its training mode restored after.
        lengths: Length of each item (e.g. nucleotides of each transcript).
        forward: Indices of a batch -> the batch's results, one row per index. Shape: (len(indices), *shape).
        shape: Shape of one item's result: ``()`` for a scalar, ``(hidden_size,)`` for an embedding.
        batch_size, max_nucleotides_per_batch: As in :func:`length_sorted_batches`.
        progress: Show a tqdm bar counting items, titled ``description``.

    Returns:
        The results in input order, float64 for scalars and float32 otherwise. Shape: (len(lengths), *shape).
    """
    result = np.zeros((len(lengths), *shape), dtype=np.float64 if not shape else np.float32)
    if not len(lengths):
        return result
    was_training = model.training
    if was_training:  # only then: eval() also drops the IsoCLR encoder's cache of folded eval-mode weights
        model.eval()
    batches = list(length_sorted_batches(lengths, batch_size=batch_size,
                                         max_nucleotides_per_batch=max_nucleotides_per_batch))
    try:
        bar = tqdm(total=len(lengths), desc=description, unit="transcript", disable=not progress)
        with torch.no_grad(), bar:
            for indices in batches:
                result[indices] = forward(indices).float().cpu().numpy()
                bar.update(len(indices))
    finally:
        if was_training:
            model.train()
    return result


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
    description: str = "embedding",
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
        description: The progress bar's label (``isoclr evaluate`` names the task and the encoder).

    Returns:
        Embeddings. Shape: (len(records), hidden_size), float32.

    Raises:
        ValueError: from the tokenizer, naming the transcript, for a bad sequence or annotation.
    """
    encoder = model.base_model  # the bare encoder of any model class of a family
    hidden_size = int(model.config.hidden_size)
    if not records:
        return np.zeros((0, hidden_size), dtype=np.float32)
    device = next(model.parameters()).device
    autocast: contextlib.AbstractContextManager = contextlib.nullcontext()
    if dtype is not None and dtype != torch.float32:
        autocast = torch.autocast(device_type=device.type, dtype=dtype)

    def forward(indices: list[int]) -> torch.Tensor:
        batch = tokenize_records(tokenizer, [records[i] for i in indices], truncation=truncation,
                                 pad_to_multiple_of=model.config.downsampling)
        with autocast:
            return encoder(**{name: tensor.to(device) for name, tensor in batch.items()}).pooler_output  # (B, hidden)

    return run_in_input_order(model, [len(record.sequence) for record in records], forward, shape=(hidden_size,),
                              batch_size=batch_size, max_nucleotides_per_batch=max_nucleotides_per_batch,
                              progress=progress, description=description)


__all__ = ["embed_records", "length_sorted_batches", "run_in_input_order"]
