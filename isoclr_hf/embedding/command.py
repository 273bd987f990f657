"""The work of ``isoclr embed`` once its arguments are checked: load the model, embed, write, report.

Kept apart from :mod:`isoclr_hf.cli.embed` so that ``isoclr embed --help`` and a refused command line
import neither torch nor transformers.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import torch

from .. import loading
from ..annotations.records import TranscriptRecord
from ..atomic_files import atomic_write
from .checks import check_records, embedded_length
from .folder import EmbeddingFolder
from .settings import input_fingerprints, model_fingerprint, package_versions
from .shards import EmbeddingJob, embed_into_folder

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
Reader = Callable[[argparse.Namespace, Counter[str]], Iterator[TranscriptRecord]]


def resolve_device(requested: str | None, world_size: int) -> str:
    """``--device``, or cuda (``cuda:LOCAL_RANK`` under a launcher) where there is a GPU, else cpu."""
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if requested is None:
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and world_size > 1:
        return f"cuda:{local}"
    return requested


def load_job(args: argparse.Namespace, device: str) -> tuple[EmbeddingJob, Path]:
    """The model on ``device`` and the options of the run; and the model's folder."""
    model_path = loading.resolve_model_path(args.model, announce=print)
    model = loading.load_encoder(model_path, trust_remote_code=args.trust_remote_code).to(device).eval()
    tokenizer = loading.load_tokenizer(model_path, trust_remote_code=args.trust_remote_code)
    job = EmbeddingJob(model, tokenizer, dtype=DTYPES[args.dtype], truncate=args.truncate,
                       skip_bad_records=args.skip_bad_records, batch_size=args.batch_size,
                       max_nucleotides_per_batch=args.max_nucleotides_per_batch)
    return job, model_path


def run_in_memory(args: argparse.Namespace, read: Reader) -> int:
    """A .parquet or .npy --out: every record read and checked, then embedded, then one file written."""
    device = resolve_device(args.device, 1)
    job, model_path = load_job(args, device)
    skipped: Counter[str] = Counter()
    records = list(read(args, skipped))
    records = check_records(job.tokenizer, records, truncate=args.truncate, skip_bad_records=args.skip_bad_records,
                            skipped=skipped)
    if not records:
        raise ValueError("no transcripts to embed" + (f" ({format_skipped(skipped)})" if skipped else ""))
    print(f"embedding {len(records):,} transcripts with {model_path} in {args.dtype} on {device}", flush=True)
    start = time.perf_counter()
    table, _, nucleotides = job.embed_shard(records, progress=not args.quiet, checked=True)
    seconds = time.perf_counter() - start
    written = write_file(args.out, table)
    truncated = sum(embedded_length(r, job.max_length) < len(r.sequence) for r in records)
    dimensions = table.schema.field("embedding").type.list_size
    print(f"embedded {len(records):,} transcripts ({nucleotides:,} nt) into {dimensions} dimensions "
          f"in {seconds:.1f} s ({nucleotides / max(seconds, 1e-9):,.0f} nt/s, {args.dtype} on {device})"
          + (f"; {truncated:,} truncated to their 5' {job.max_length:,} nt" if truncated else ""))
    if skipped:
        print(format_skipped(skipped))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def write_file(path: Path, table: Any) -> list[Path]:
    """Write atomically: a file appears whole or not at all. Returns the files written (mode 0644)."""
    if path.suffix == ".npy":
        embeddings = np.asarray(table.column("embedding").combine_chunks().flatten(), dtype=np.float32).reshape(
            table.num_rows, -1)
        rows = zip(*(table.column(name).to_pylist() for name in ("transcript_id", "gene_id", "length", "truncated")),
                   strict=True)
        lines = "".join(f"{t}\t{g}\t{n}\t{str(c).lower()}\n" for t, g, n, c in rows)
        sidecar = path.with_suffix(".ids.tsv")
        atomic_write(sidecar, lambda p: p.write_text("transcript_id\tgene_id\tlength\ttruncated\n" + lines,
                                                     encoding="utf-8"))
        atomic_write(path, lambda p: np.save(p, embeddings))
        return [path, sidecar]
    atomic_write(path, lambda p: pq.write_table(table, p))
    return [path]


def folder_settings(args: argparse.Namespace, model_path: Path) -> dict[str, Any]:
    """What a resumed folder must share with the run that started it (versions are only recorded)."""
    inputs = input_fingerprints({name: getattr(args, name) for name in
                                 ("gtf", "genome", "fasta", "sqanti_classification", "parquet")})
    return {
        "model": str(args.model), "model_fingerprint": model_fingerprint(model_path), "dtype": args.dtype,
        "truncate": args.truncate, "skip_bad_records": args.skip_bad_records, "species": args.species,
        "limit": args.limit, "shard_size": args.shard_size, "inputs": inputs, "versions": package_versions(),
    }


def run_folder(args: argparse.Namespace, read: Reader, rank: int, world_size: int) -> int:
    """A folder --out: this process's shards (local engine) or every shard through Ray actors."""
    if args.engine == "ray":
        return run_folder_with_ray(args, read)
    from ..pretraining.process import exit_with_launcher, launched_by_a_launcher

    if launched_by_a_launcher():
        exit_with_launcher()  # a killed `accelerate launch`/torchrun takes this process with it
    device = resolve_device(args.device, world_size)
    job, model_path = load_job(args, device)
    folder = EmbeddingFolder(args.out)
    folder.prepare(folder_settings(args, model_path))
    written = len(folder.parts())
    print(f"process {rank}/{world_size}: embedding shards of {args.shard_size:,} records with {model_path} in "
          f"{args.dtype} on {device} into {args.out}" + (f" ({written} part(s) already written)" if written else ""),
          flush=True)
    skipped: Counter[str] = Counter()
    summary = embed_into_folder(job, folder, read(args, skipped), shard_size=args.shard_size, rank=rank,
                                world_size=world_size, reader_skipped=skipped,
                                log=(lambda line: None) if args.quiet else print)
    if summary.shards_total == 0:
        raise ValueError("no transcripts to embed" + (f" ({format_skipped(skipped)})" if skipped else ""))
    print(f"process {rank}/{world_size}: embedded {summary.shards_embedded} shard(s), {summary.transcripts:,} "
          f"transcripts ({summary.nucleotides:,} nt) in {summary.seconds:.2f} s "
          f"({summary.nucleotides / max(summary.seconds, 1e-9):,.0f} nt/s); {summary.shards_found_done} found done")
    report_manifest(summary.manifest, args.out)
    return 0


def run_folder_with_ray(args: argparse.Namespace, read: Reader) -> int:
    try:
        from .ray_engine import embed_with_ray
    except ImportError as error:
        raise ValueError(f"--engine ray needs Ray: pip install 'isoclr-hf[ray]' ({error})") from error
    model_path = loading.resolve_model_path(args.model, announce=print)
    folder = EmbeddingFolder(args.out)
    folder.prepare(folder_settings(args, model_path))
    written = len(folder.parts())
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"ray: {args.num_workers} actor(s) embedding shards of {args.shard_size:,} records with {model_path} in "
          f"{args.dtype} on {device} into {args.out}" + (f" ({written} part(s) already written)" if written else ""),
          flush=True)
    options = {"model": str(model_path), "device": device, "dtype": args.dtype, "truncate": args.truncate,
               "skip_bad_records": args.skip_bad_records, "batch_size": args.batch_size,
               "max_nucleotides_per_batch": args.max_nucleotides_per_batch,
               "trust_remote_code": args.trust_remote_code}
    skipped: Counter[str] = Counter()
    start = time.perf_counter()
    manifest, transcripts, nucleotides, seconds = embed_with_ray(
        folder, read(args, skipped), shard_size=args.shard_size, num_workers=args.num_workers,
        embedder_options=options, gpus_per_worker=1.0 if device.startswith("cuda") else 0.0,
        reader_skipped=skipped, log=(lambda line: None) if args.quiet else print)
    wall = time.perf_counter() - start
    if manifest is None:
        raise ValueError("no transcripts to embed" + (f" ({format_skipped(skipped)})" if skipped else ""))
    print(f"ray: embedded {transcripts:,} transcripts ({nucleotides:,} nt) in {seconds:.2f} s "
          f"({nucleotides / max(seconds, 1e-9):,.0f} nt/s; {wall:.1f} s with Ray's and the actors' start-up)")
    report_manifest(manifest, args.out)
    return 0


def report_manifest(manifest: dict[str, Any] | None, out: Path) -> None:
    if manifest is None:
        return  # another process writes the totals when it finds every part written
    print(f"complete: {manifest['transcripts']:,} transcripts in {len(manifest['shards'])} part(s) in {out}")
    if manifest.get("skipped"):
        print(format_skipped(Counter(manifest["skipped"])))


def format_skipped(skipped: Counter[str]) -> str:
    return "skipped: " + ", ".join(f"{reason} {count}" for reason, count in skipped.most_common())


__all__ = ["run_folder", "run_in_memory"]
