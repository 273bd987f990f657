"""Embed transcripts (GTF/GFF3 + genome, transcript FASTA, SQANTI3 or mRNABench parquet) with an IsoCLR model.

Writes one pooled embedding per transcript, as Parquet (ids, gene, species, length and the embedding
as a list column) or as .npy (a float32 matrix, with the ids in a .ids.tsv next to it). Computes in
float32 by default, as the Python API does; --dtype bfloat16 is faster. An existing --out is kept
unless --overwrite is given.

Examples::

    isoclr embed --model isoclr-s --gtf genes.gtf --genome genome.fa --out embeddings.parquet
    isoclr embed --model ./isoclr-s --fasta transcripts.fa --gtf genes.gtf --out embeddings.npy
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from .. import loading
from ..annotations.fasta import read_transcript_fasta
from ..annotations.gtf import read_annotation
from ..annotations.mrnabench import read_mrnabench_parquet
from ..annotations.records import TranscriptRecord
from ..annotations.sqanti import read_sqanti
from ..atomic_files import atomic_write
from ..inference import embed_records
from ..models.isoclr.modeling_isoclr import IsoCLRModel

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# The Python API (the model called directly, ``embed_records`` with ``dtype=None``) computes in float32;
# the command gives the same numbers unless asked for bfloat16/float16 (faster, about 3 significant digits).
DEFAULT_DTYPE = "float32"
OUTPUT_SUFFIXES = (".parquet", ".npy")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="Model folder (encoder or head checkpoint; a training run folder means its final/), "
                             "a released model's short name (isoclr-s) or Hub repo id.")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="Allow a model that is not an IsoCLR model, running the code in its folder. "
                             "IsoCLR folders always load with this package's classes.")
    source = parser.add_argument_group("transcripts (one source)")
    source.add_argument("--gtf", type=Path, help="GTF/GFF3 annotation; with --genome, or with --fasta for exons.")
    source.add_argument("--genome", type=Path, help="Genome FASTA for --gtf (read through an index).")
    source.add_argument("--fasta", type=Path, help="Transcript FASTA (GENCODE headers give the CDS).")
    source.add_argument(
        "--sqanti-classification", type=Path, help="SQANTI3 classification table (with --fasta and --gtf)."
    )
    source.add_argument("--parquet", type=Path, help="mRNABench-layout parquet (sequence, cds, splice).")
    parser.add_argument("--species", default="homo_sapiens", help="Species of the transcripts.")
    parser.add_argument("--out", type=Path, required=True, help="Output file: .parquet or .npy.")
    parser.add_argument("--overwrite", action="store_true", help="Replace --out if it exists.")
    parser.add_argument("--batch-size", type=int, default=16, help="Most transcripts per forward pass.")
    parser.add_argument("--max-nucleotides-per-batch", type=int, default=200_000, help="Bounds memory per batch.")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default=DEFAULT_DTYPE,
                        help="Compute precision. float32 gives the model's own output, as the Python API does; "
                             "bfloat16 is about 3x faster on a CPU and keeps 2-3 significant digits.")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="Torch device.")
    parser.add_argument("--truncate", action="store_true", help="Keep the 5' end of over-long transcripts.")
    parser.add_argument(
        "--skip-bad-records", action="store_true", help="Skip and count bad records instead of stopping."
    )
    parser.add_argument("--limit", type=int, help="Embed only the first N transcripts.")
    parser.add_argument("--quiet", action="store_true", help="No progress bar.")


def read_transcripts(args: argparse.Namespace, skipped: Counter[str]) -> Iterator[TranscriptRecord]:
    """The records of whichever source the arguments name."""
    on_error = "skip" if args.skip_bad_records else "raise"
    options = {"species": args.species, "on_error": on_error, "skipped": skipped}
    if args.parquet:
        return read_mrnabench_parquet(args.parquet, **options)
    if args.fasta and args.sqanti_classification:
        if not args.gtf:
            raise ValueError("--sqanti-classification needs --fasta and --gtf")
        return read_sqanti(args.fasta, args.gtf, args.sqanti_classification, **options)
    if args.fasta:
        return read_transcript_fasta(args.fasta, annotation_path=args.gtf, **options)
    if args.gtf and args.genome:
        return read_annotation(args.gtf, args.genome, **options)
    raise ValueError("name the transcripts: --gtf with --genome, --fasta [--gtf], or --parquet")


def load_encoder(name: str | Path, device: str, *, trust_remote_code: bool = False) -> tuple[IsoCLRModel, Any]:
    """The encoder of any IsoCLR checkpoint (encoder, head or contrastive) and its tokenizer, strictly loaded.

    Raises:
        ModelLoadingError: naming the folder or file (see :mod:`isoclr_hf.loading`).
    """
    model = loading.load_encoder(name, trust_remote_code=trust_remote_code).to(device).eval()  # type: ignore[arg-type]
    tokenizer = loading.load_tokenizer(name, trust_remote_code=trust_remote_code)
    return model, tokenizer  # type: ignore[return-value]


def output_files(path: Path) -> list[Path]:
    """The files ``--out`` names: the file, and for .npy the .ids.tsv next to it."""
    return [path, path.with_suffix(".ids.tsv")] if path.suffix == ".npy" else [path]


def check_output(path: Path, overwrite: bool) -> None:
    """Refuse an unknown format, or an existing output without ``overwrite``, before any work."""
    if path.suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f"--out must end in .parquet or .npy, got {path.name}")
    if path.is_dir():
        raise ValueError(f"{path}: --out is a folder; name a .parquet or .npy file")
    existing = [p for p in output_files(path) if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} exists; pass --overwrite to replace it")


def write_embeddings(path: Path, records: list[TranscriptRecord], embeddings: np.ndarray) -> list[Path]:
    """Write atomically: a file appears whole or not at all. Returns the files written (mode 0644)."""
    if path.suffix == ".npy":
        ids = "\n".join(f"{r.transcript_id}\t{r.gene_id}" for r in records) + "\n"
        sidecar = path.with_suffix(".ids.tsv")
        atomic_write(sidecar, lambda p: p.write_text("transcript_id\tgene_id\n" + ids, encoding="utf-8"))
        atomic_write(path, lambda p: np.save(p, embeddings))
        return [path, sidecar]
    if path.suffix == ".parquet":
        table = pa.table(
            {
                "transcript_id": [r.transcript_id for r in records],
                "gene_id": [r.gene_id for r in records],
                "gene_name": [r.gene_name for r in records],
                "species": [r.species for r in records],
                "length": [len(r.sequence) for r in records],
                "embedding": pa.FixedSizeListArray.from_arrays(
                    pa.array(embeddings.reshape(-1), type=pa.float32()), embeddings.shape[1]
                ),
            }
        )
        atomic_write(path, lambda p: pq.write_table(table, p))
        return [path]
    raise ValueError(f"--out must end in .parquet or .npy, got {path.name}")


def run(args: argparse.Namespace) -> int:
    check_output(args.out, args.overwrite)
    model_path = loading.resolve_model_path(args.model, announce=print)
    model, tokenizer = load_encoder(model_path, args.device, trust_remote_code=args.trust_remote_code)
    skipped: Counter[str] = Counter()
    records = []
    for record in read_transcripts(args, skipped):
        records.append(record)
        if args.limit is not None and len(records) >= args.limit:
            break
    if not records:
        raise ValueError("no transcripts to embed" + (f" (skipped: {dict(skipped)})" if skipped else ""))
    print(f"embedding {len(records):,} transcripts with {model_path} in {args.dtype} on {args.device}",
          flush=True)
    start = time.perf_counter()
    embeddings = embed_records(
        model,
        tokenizer,
        records,
        batch_size=args.batch_size,
        max_nucleotides_per_batch=args.max_nucleotides_per_batch,
        dtype=DTYPES[args.dtype],
        truncation=args.truncate,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - start
    written = write_embeddings(args.out, records, embeddings)
    nucleotides = sum(len(r.sequence) for r in records)
    print(
        f"embedded {len(records):,} transcripts ({nucleotides:,} nt) into {embeddings.shape[1]} dimensions "
        f"in {seconds:.1f} s ({nucleotides / max(seconds, 1e-9):,.0f} nt/s, {args.dtype} on {args.device})"
    )
    if skipped:
        print("skipped: " + ", ".join(f"{reason} {count}" for reason, count in skipped.most_common()))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
