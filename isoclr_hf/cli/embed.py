"""Embed transcripts (GTF/GFF3 + genome, transcript FASTA, SQANTI3 or mRNABench parquet) with an IsoCLR model.

Writes one pooled embedding per transcript, as Parquet (ids, gene, species, length and the embedding
as a list column) or as .npy (a float32 matrix, with the ids in a .ids.tsv next to it).

Examples::

    isoclr embed --model org/isoclr-s --gtf genes.gtf --genome genome.fa --out embeddings.parquet
    isoclr embed --model ./isoclr-s --fasta transcripts.fa --gtf genes.gtf --out embeddings.npy
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from ..annotations.fasta import read_transcript_fasta
from ..annotations.gtf import read_annotation
from ..annotations.mrnabench import read_mrnabench_parquet
from ..annotations.records import TranscriptRecord
from ..annotations.sqanti import read_sqanti
from ..evaluation.embedding import embed_records
from ..modeling_isoclr import IsoCLRModel
from ..tokenization_isoclr import IsoCLRTokenizer

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="Model folder or Hub repo id (encoder or head checkpoint).")
    source = parser.add_argument_group("transcripts (one source)")
    source.add_argument("--gtf", type=Path, help="GTF/GFF3 annotation; with --genome, or with --fasta for exons.")
    source.add_argument("--genome", type=Path, help="Genome FASTA for --gtf (read through an index).")
    source.add_argument("--fasta", type=Path, help="Transcript FASTA (GENCODE headers give the CDS).")
    source.add_argument(
        "--sqanti-classification", type=Path, help="SQANTI3 classification table (with --fasta and --gtf)."
    )
    source.add_argument("--parquet", type=Path, help="mRNABench-layout parquet (sequence, cds, splice).")
    parser.add_argument("--species", default="homo_sapiens", help="Species of the transcripts (default homo_sapiens).")
    parser.add_argument("--out", type=Path, required=True, help="Output file: .parquet or .npy.")
    parser.add_argument("--batch-size", type=int, default=16, help="Most transcripts per forward pass.")
    parser.add_argument("--max-nucleotides-per-batch", type=int, default=200_000, help="Bounds memory per batch.")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="bfloat16", help="Compute precision.")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--truncate", action="store_true", help="Keep the 5' end of over-long transcripts.")
    parser.add_argument(
        "--skip-bad-records", action="store_true", help="Skip and count bad records instead of stopping."
    )
    parser.add_argument("--limit", type=int, help="Embed only the first N transcripts.")


def read_transcripts(args: argparse.Namespace, skipped: Counter[str]) -> Iterator[TranscriptRecord]:
    """The records of whichever source the arguments name."""
    on_error = "skip" if args.skip_bad_records else "raise"
    options = {"species": args.species, "on_error": on_error, "skipped": skipped}
    if args.parquet:
        return read_mrnabench_parquet(args.parquet, **options)
    if args.fasta and args.sqanti_classification:
        if not args.gtf:
            raise SystemExit("--sqanti-classification needs --fasta and --gtf.")
        return read_sqanti(args.fasta, args.gtf, args.sqanti_classification, **options)
    if args.fasta:
        return read_transcript_fasta(args.fasta, annotation_path=args.gtf, **options)
    if args.gtf and args.genome:
        return read_annotation(args.gtf, args.genome, **options)
    raise SystemExit("Name the transcripts: --gtf with --genome, --fasta [--gtf], or --parquet.")


def load_encoder(name: str, device: str) -> tuple[IsoCLRModel, IsoCLRTokenizer]:
    """The encoder of any IsoCLR checkpoint (encoder, head or contrastive) and its tokenizer."""
    model = IsoCLRModel.from_pretrained(name).to(device).eval()  # type: ignore[call-arg,arg-type]
    try:
        tokenizer = IsoCLRTokenizer.from_pretrained(name)
    except OSError:  # a checkpoint saved without tokenizer files
        tokenizer = IsoCLRTokenizer(model_max_length=model.config.max_sequence_length)
    return model, tokenizer


def write_embeddings(path: Path, records: list[TranscriptRecord], embeddings: np.ndarray) -> list[Path]:
    """Write atomically: a file appears whole or not at all. Returns the files written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    if path.suffix == ".npy":
        ids = "\n".join(f"{r.transcript_id}\t{r.gene_id}" for r in records) + "\n"
        sidecar = path.with_suffix(".ids.tsv")
        _atomic_write(sidecar, lambda handle: handle.write(("transcript_id\tgene_id\n" + ids).encode()))
        _atomic_write(path, lambda handle: np.save(handle, embeddings))
        written = [path, sidecar]
    elif path.suffix == ".parquet":
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
        _atomic_write(path, lambda handle: pq.write_table(table, handle))
        written = [path]
    else:
        raise SystemExit(f"--out must end in .parquet or .npy, got {path.name}.")
    return written


def _atomic_write(path: Path, write) -> None:  # type: ignore[no-untyped-def]
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)  # noqa: SIM115
    try:
        with handle:
            write(handle)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    if args.out.suffix not in (".parquet", ".npy"):
        raise SystemExit(f"--out must end in .parquet or .npy, got {args.out.name}.")
    skipped: Counter[str] = Counter()
    records = []
    for record in read_transcripts(args, skipped):
        records.append(record)
        if args.limit is not None and len(records) >= args.limit:
            break
    if not records:
        raise SystemExit("No transcripts to embed" + (f" (skipped: {dict(skipped)})." if skipped else "."))
    model, tokenizer = load_encoder(args.model, args.device)
    start = time.perf_counter()
    embeddings = embed_records(
        model,
        tokenizer,
        records,
        batch_size=args.batch_size,
        max_nucleotides_per_batch=args.max_nucleotides_per_batch,
        dtype=DTYPES[args.dtype],
        truncation=args.truncate,
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
