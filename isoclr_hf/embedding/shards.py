"""Streamed records -> numbered shards -> parts of an embedding folder, one process's share of them.

The input is cut into shards of ``shard_size`` consecutive records (shard ``k`` holds records
``k * shard_size`` .. ``(k + 1) * shard_size - 1``); only one shard is in memory at a time. Under
``accelerate launch`` or ``torchrun`` (``RANK``/``WORLD_SIZE`` in the environment) process ``r`` of
``n`` embeds the shards ``k`` with ``k % n == r``: every process reads the whole input (reading is
cheap next to embedding) and embeds only its own shards, with no collective operation, so no
process ever waits for another. A process that fails exits with its error and the launcher stops
the others; a rerun skips the parts already written.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..annotations.records import TranscriptRecord
from ..inference import embed_records
from .checks import check_records, embedded_length
from .folder import EmbeddingFolder, embedding_table, records_fingerprint


@dataclass
class EmbeddingJob:
    """A loaded model and how to embed with it.

    Attributes:
        model: Any IsoCLR-family model, on its device, in eval mode.
        tokenizer: Its tokenizer (``model_max_length`` is the longest sequence embedded whole).
        dtype: ``None``/``torch.float32`` for the model's own numbers, ``torch.bfloat16`` for autocast.
        truncate: Embed the 5' end of over-long records instead of refusing them.
        skip_bad_records: Skip and count records the model cannot embed instead of stopping.
        batch_size, max_nucleotides_per_batch: As in :func:`isoclr_hf.inference.embed_records`.
    """

    model: Any
    tokenizer: Any
    dtype: Any = None
    truncate: bool = False
    skip_bad_records: bool = False
    batch_size: int = 16
    max_nucleotides_per_batch: int | None = 200_000

    @property
    def max_length(self) -> int:
        return int(self.tokenizer.model_max_length)

    def embed_shard(
        self, records: list[TranscriptRecord], *, first_position: int = 1, progress: bool = False,
        checked: bool = False,
    ) -> tuple[pa.Table, Counter[str], int]:
        """Check every record (unless ``checked``: :func:`check_records` passed them), then embed the good ones.

        Returns:
            The shard's table (see :func:`embedding_table`), the skipped records by reason, and the
            nucleotides embedded (truncated records count their embedded 5' end).
        """
        skipped: Counter[str] = Counter()
        kept = records if checked else check_records(
            self.tokenizer, records, truncate=self.truncate, skip_bad_records=self.skip_bad_records,
            skipped=skipped, first_position=first_position)
        embeddings = embed_records(self.model, self.tokenizer, kept, batch_size=self.batch_size,
                                   max_nucleotides_per_batch=self.max_nucleotides_per_batch, dtype=self.dtype,
                                   truncation=self.truncate, progress=progress)
        nucleotides = sum(embedded_length(record, self.max_length) for record in kept)
        return embedding_table(kept, embeddings, max_length=self.max_length), skipped, nucleotides


def process_rank() -> tuple[int, int]:
    """``(rank, world_size)`` set by ``accelerate launch``/``torchrun``, or ``(0, 1)``."""
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    if not 0 <= rank < world:
        raise ValueError(f"RANK={rank} is outside WORLD_SIZE={world}")
    return rank, world


def numbered_shards(
    records: Iterable[TranscriptRecord], shard_size: int
) -> Iterator[tuple[int, list[TranscriptRecord]]]:
    """``(k, records k*shard_size .. (k+1)*shard_size - 1)``; holds one shard at a time."""
    if shard_size < 1:
        raise ValueError(f"--shard-size must be at least 1, got {shard_size}")
    shard: list[TranscriptRecord] = []
    index = 0
    for record in records:
        shard.append(record)
        if len(shard) == shard_size:
            yield index, shard
            index, shard = index + 1, []
    if shard:
        yield index, shard


@dataclass
class ShardRunSummary:
    """What one process did: shards (and their records) embedded, found done, nucleotides, seconds."""

    shards_total: int = 0
    shards_embedded: int = 0
    shards_found_done: int = 0
    transcripts: int = 0
    nucleotides: int = 0
    seconds: float = 0.0
    manifest: dict[str, Any] | None = None


def embed_into_folder(
    job: EmbeddingJob,
    folder: EmbeddingFolder,
    records: Iterable[TranscriptRecord],
    *,
    shard_size: int,
    rank: int = 0,
    world_size: int = 1,
    reader_skipped: Counter[str] | None = None,
    log: Any = print,
) -> ShardRunSummary:
    """Embed this process's shards of ``records`` that are not written yet into ``folder``.

    ``folder.prepare`` must have been called. Each shard's records are all checked before its first
    forward pass; a bad record stops the process (after the earlier shards are written) unless
    ``job.skip_bad_records``. Returns the summary; its ``manifest`` is set by the process that found
    every part written (the run's totals).

    Raises:
        BadRecordError: a record the model cannot embed, naming its 1-based input position.
        EmbeddingFolderError: a written part holds other records than this input's shard.
    """
    summary = ShardRunSummary()
    started = time.perf_counter()
    for index, shard in numbered_shards(records, shard_size):
        summary.shards_total = index + 1
        if index % world_size != rank:
            continue
        fingerprint = records_fingerprint(shard)
        if folder.done_shard(index, fingerprint):
            summary.shards_found_done += 1
            continue
        shard_started = time.perf_counter()
        table, skipped, nucleotides = job.embed_shard(shard, first_position=index * shard_size + 1)
        path = folder.write_part(index, table, fingerprint=fingerprint, skipped=skipped)
        seconds = time.perf_counter() - shard_started
        summary.shards_embedded += 1
        summary.transcripts += table.num_rows
        summary.nucleotides += nucleotides
        log(f"process {rank}/{world_size}: {path.name}: {table.num_rows:,} transcripts ({nucleotides:,} nt) in "
            f"{seconds:.2f} s" + (f", skipped {dict(skipped)}" if skipped else ""))
    summary.seconds = time.perf_counter() - started
    summary.manifest = folder.finish(summary.shards_total, reader_skipped) if summary.shards_total else None
    return summary


__all__ = ["EmbeddingJob", "ShardRunSummary", "embed_into_folder", "numbered_shards", "process_rank"]
