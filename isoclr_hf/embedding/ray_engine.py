"""Embedding on Ray Data: a callable class for ``Dataset.map_batches`` whose actors hold the model.

Needs the ``ray`` extra (``pip install "isoclr-hf[ray]"``). In your own pipeline::

    import ray
    from isoclr_hf.embedding.ray_engine import RecordEmbedder

    ds = ray.data.read_parquet("transcripts.parquet")  # columns of TranscriptRecord: transcript_id,
    # gene_id, gene_name, species, sequence, exon_ends, cds_start, cds_end
    ds = ds.map_batches(RecordEmbedder, fn_constructor_kwargs={"model": "isoclr-s"},
                        batch_size=256, concurrency=4, num_cpus=1)  # or num_gpus=1 per actor
    ds.write_parquet("embeddings/")

``isoclr embed --engine ray --num-workers N ... --out DIR`` streams any source the command reads into
hidden per-shard files (``DIR/.staging/``, on disk, one shard in memory at a time) and has
:class:`ShardEmbedder` actors embed the shards not yet written, each writing its own part of the
folder (see :mod:`isoclr_hf.embedding.folder`). Ray restarts a killed actor and retries its shard; a
rerun skips the parts already written. On a cluster (``RAY_ADDRESS``) ``DIR`` must be on storage every
node sees.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..annotations.records import TranscriptRecord
from .checks import check_records
from .folder import EmbeddingFolder, records_fingerprint
from .shards import EmbeddingJob, numbered_shards

RECORD_COLUMNS = ("transcript_id", "gene_id", "gene_name", "species", "sequence", "exon_ends", "cds_start", "cds_end")
STAGING = ".staging"


def records_from_columns(batch: dict[str, Any]) -> list[TranscriptRecord]:
    """A Ray batch (``{column: array}``) of record columns -> records.

    Raises:
        ValueError: naming the record columns the batch lacks.
    """
    missing = [name for name in ("transcript_id", "sequence") if name not in batch]
    if missing:
        raise ValueError(f"batch lacks the column(s) {missing}; RecordEmbedder reads {list(RECORD_COLUMNS)}")
    count = len(batch["sequence"])

    def column(name: str, default: Any) -> list[Any]:
        return list(batch[name]) if name in batch else [default] * count

    return [
        TranscriptRecord(transcript_id=str(t), gene_id=str(g), gene_name=str(n), species=str(s), sequence=str(q),
                         exon_ends=[int(e) for e in (ends if ends is not None else [len(q)])],
                         cds_start=int(cs), cds_end=int(ce))
        for t, g, n, s, q, ends, cs, ce in zip(
            column("transcript_id", ""), column("gene_id", ""), column("gene_name", ""), column("species", ""),
            column("sequence", ""), column("exon_ends", None), column("cds_start", -1), column("cds_end", -1),
            strict=True)
    ]


class RecordEmbedder:
    """``map_batches`` callable class: record columns in, the same columns plus ``embedding`` out.

    Args:
        model: A model folder, run folder, released short name or Hub id (as ``isoclr embed --model``).
        device: Torch device of this actor (default: ``cuda`` where Ray gave the actor a GPU, else ``cpu``).
        dtype: ``"float32"`` (the model's own numbers), ``"bfloat16"`` or ``"float16"``.
        truncate: Embed the 5' end of records longer than the model's maximum instead of refusing them.
        batch_size, max_nucleotides_per_batch: Forward passes within one Ray batch.
        threads: Torch threads of this actor (default: ``OMP_NUM_THREADS``, which Ray sets to the actor's CPUs).
        trust_remote_code: As in ``isoclr embed``.
        skip_bad_records: For :class:`ShardEmbedder` (a part leaves bad records out and counts them); this
            class refuses a batch with a bad record, naming it, as a Ray batch has no place for the count.
    """

    def __init__(self, model: str, *, device: str | None = None, dtype: str = "float32", truncate: bool = False,
                 batch_size: int = 16, max_nucleotides_per_batch: int | None = 200_000, threads: int | None = None,
                 trust_remote_code: bool = False, skip_bad_records: bool = False) -> None:
        import torch

        from .. import loading

        torch.set_num_threads(threads or int(os.environ.get("OMP_NUM_THREADS", "1")))
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        path = loading.resolve_model_path(model)
        encoder = loading.load_encoder(path, trust_remote_code=trust_remote_code).to(device).eval()
        tokenizer = loading.load_tokenizer(path, trust_remote_code=trust_remote_code)
        dtypes = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
        if dtype not in dtypes:
            raise ValueError(f"dtype={dtype!r}; use one of {sorted(dtypes)}")
        self.job = EmbeddingJob(encoder, tokenizer, dtype=dtypes[dtype], truncate=truncate,
                                skip_bad_records=skip_bad_records, batch_size=batch_size,
                                max_nucleotides_per_batch=max_nucleotides_per_batch)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Shape of ``embedding``: (rows, hidden_size), float32; every record is checked first."""
        from ..inference import embed_records

        records = records_from_columns(batch)
        check_records(self.job.tokenizer, records, truncate=self.job.truncate, skip_bad_records=False,
                      skipped=Counter())
        embeddings = embed_records(self.job.model, self.job.tokenizer, records, batch_size=self.job.batch_size,
                                   max_nucleotides_per_batch=self.job.max_nucleotides_per_batch, dtype=self.job.dtype,
                                   truncation=self.job.truncate, progress=False)
        truncated = np.array([len(r.sequence) > self.job.max_length for r in records])
        return {**batch, "truncated": truncated, "embedding": embeddings}


class ShardEmbedder(RecordEmbedder):
    """``map_batches`` callable class of ``isoclr embed --engine ray``: staged shards in, parts written.

    Each input row names one staged shard (``shard``, ``path``, ``fingerprint``, ``first_position``);
    the actor embeds it, writes ``part-NNNNN.parquet`` into ``folder`` and returns the shard's counts.
    """

    def __init__(self, model: str, *, folder: str, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.folder = EmbeddingFolder(folder)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        rows, nucleotides, started, finished = [], [], [], []
        for shard, path, fingerprint, first in zip(batch["shard"], batch["path"], batch["fingerprint"],
                                                    batch["first_position"], strict=True):
            started.append(time.time())
            records = [TranscriptRecord.from_dict(row) for row in pq.read_table(str(path)).to_pylist()]
            table, skipped, embedded = self.job.embed_shard(records, first_position=int(first))
            self.folder.write_part(int(shard), table, fingerprint=str(fingerprint), skipped=skipped)
            Path(str(path)).unlink(missing_ok=True)
            rows.append(table.num_rows)
            nucleotides.append(embedded)
            finished.append(time.time())
        return {"shard": np.asarray(batch["shard"]), "rows": np.array(rows), "nucleotides": np.array(nucleotides),
                "started": np.array(started), "finished": np.array(finished)}


def stage_shards(
    folder: EmbeddingFolder, records: Iterable[TranscriptRecord], shard_size: int
) -> tuple[list[dict[str, Any]], int]:
    """Write each shard not yet embedded to ``folder/.staging/shard-NNNNN.parquet``.

    Returns:
        One row per staged shard (``shard``, ``path``, ``fingerprint``, ``first_position``), and the
        number of shards of the input.
    """
    staging = folder.path / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    todo, count = [], 0
    for index, shard in numbered_shards(records, shard_size):
        count = index + 1
        fingerprint = records_fingerprint(shard)
        if folder.done_shard(index, fingerprint):
            continue
        path = staging / f"shard-{index:05d}.parquet"
        pq.write_table(pa.Table.from_pylist([record.to_dict() for record in shard]), path)
        todo.append({"shard": index, "path": str(path), "fingerprint": fingerprint,
                     "first_position": index * shard_size + 1})
    return todo, count


def embed_with_ray(
    folder: EmbeddingFolder,
    records: Iterable[TranscriptRecord],
    *,
    shard_size: int,
    num_workers: int,
    embedder_options: dict[str, Any],
    gpus_per_worker: float = 0.0,
    reader_skipped: Counter[str] | None = None,
    log: Any = print,
) -> tuple[dict[str, Any] | None, int, int, float]:
    """Embed the shards of ``records`` not yet in ``folder`` with ``num_workers`` Ray actors.

    Starts a local Ray with ``num_workers`` CPUs unless Ray is running or ``RAY_ADDRESS`` names a
    cluster. Returns the manifest with the run's totals; and the transcripts and nucleotides this
    run embedded, and the seconds from the first shard an actor started to the last one it finished.

    Raises:
        ValueError: a bad record (the actor's error message), or another failure of the Ray job.
    """
    import ray

    logging.getLogger("ray").setLevel(logging.WARNING)  # progress is logged here, one line per part
    ray.data.DataContext.get_current().enable_progress_bars = False
    todo, shard_count = stage_shards(folder, records, shard_size)
    transcripts = nucleotides = 0
    first_start, last_finish = float("inf"), float("-inf")
    if todo:
        if not ray.is_initialized():
            if os.environ.get("RAY_ADDRESS"):
                ray.init(log_to_driver=False, logging_level=logging.WARNING)
            else:
                ray.init(num_cpus=num_workers, num_gpus=int(gpus_per_worker * num_workers) or None,
                         include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        resources = {"num_gpus": gpus_per_worker} if gpus_per_worker else {"num_cpus": 1}
        # One block per shard, so that every actor gets shards (one block would feed one actor).
        dataset = ray.data.from_items(todo, override_num_blocks=len(todo)).map_batches(
            ShardEmbedder, fn_constructor_kwargs={"folder": str(folder.path), **embedder_options},
            batch_size=1, concurrency=num_workers, **resources)
        try:
            for row in dataset.iter_rows():
                transcripts += int(row["rows"])
                nucleotides += int(row["nucleotides"])
                first_start = min(first_start, float(row["started"]))
                last_finish = max(last_finish, float(row["finished"]))
                log(f"ray: part-{int(row['shard']):05d}.parquet: {int(row['rows']):,} transcripts "
                    f"({int(row['nucleotides']):,} nt)")
        except Exception as error:  # Ray wraps the actor's error; give the user its own message
            cause = error
            while cause.__cause__ is not None:
                cause = cause.__cause__
            raise ValueError(str(cause).strip().splitlines()[-1] if str(cause).strip() else repr(error)) from error
    manifest = folder.finish(shard_count, reader_skipped) if shard_count else None
    if manifest is not None:
        shutil.rmtree(folder.path / STAGING, ignore_errors=True)
    return manifest, transcripts, nucleotides, max(last_finish - first_start, 0.0)


__all__ = ["RecordEmbedder", "ShardEmbedder", "embed_with_ray", "records_from_columns", "stage_shards"]
