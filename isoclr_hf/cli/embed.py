"""Embed transcripts (GTF/GFF3 + genome, transcript FASTA, SQANTI3 or mRNABench parquet) with an IsoCLR model.

Writes one pooled embedding per transcript: as one Parquet file (ids, gene, species, length, truncated
and the embedding as a list column), as .npy (a float32 matrix, with the ids in a .ids.tsv next to
it), or, for --out without a suffix, as a resumable folder of Parquet parts (one per --shard-size
records) with a .manifest.json. A single file holds every record in memory and checks all of them
before the first forward pass; a folder streams the input, one shard in memory at a time, and checks
each shard's records before that shard's first forward pass. Computes in float32 by default, as the
Python API does; --dtype bfloat16 is faster. An existing file --out is kept unless --overwrite is
given; an existing folder made with the same model, inputs and options is resumed (its written parts
are skipped), and one made with others is refused.

Examples::

    isoclr embed --model isoclr-s --gtf genes.gtf --genome genome.fa --out embeddings.parquet
    isoclr embed --model ./isoclr-s --fasta transcripts.fa --gtf genes.gtf --out embeddings.npy
    isoclr embed --model isoclr-s --fasta gencode.fa --out gencode_embeddings      # a folder
    accelerate launch --num_processes 4 -m isoclr_hf.cli embed --model isoclr-s --fasta gencode.fa --out DIR
    isoclr embed --engine ray --num-workers 4 --model isoclr-s --fasta gencode.fa --out DIR
"""

from __future__ import annotations

import argparse
import itertools
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DTYPES = ("bfloat16", "float16", "float32")
# The Python API (the model called directly, ``embed_records`` with ``dtype=None``) computes in float32;
# the command gives the same numbers unless asked for bfloat16/float16 (faster, about 3 significant digits).
DEFAULT_DTYPE = "float32"
OUTPUT_SUFFIXES = (".parquet", ".npy")
SOURCE_OPTIONS = ("gtf", "genome", "fasta", "sqanti_classification", "parquet")


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
    parser.add_argument("--out", type=Path, required=True,
                        help="Output: a .parquet or .npy file, or a folder (no suffix) of parquet parts.")
    parser.add_argument("--overwrite", action="store_true", help="Replace a file --out if it exists.")
    parser.add_argument("--batch-size", type=int, default=16, help="Most transcripts per forward pass.")
    parser.add_argument("--max-nucleotides-per-batch", type=int, default=200_000, help="Bounds memory per batch.")
    parser.add_argument("--dtype", choices=DTYPES, default=DEFAULT_DTYPE,
                        help="Compute precision. float32 gives the model's own output, as the Python API does; "
                             "bfloat16 is about 3x faster on a CPU and keeps 2-3 significant digits.")
    parser.add_argument("--device", help="Torch device (default: cuda where there is one, else cpu; under "
                                         "accelerate launch/torchrun each process takes cuda:LOCAL_RANK).")
    parser.add_argument("--truncate", action="store_true",
                        help="Embed the 5' end of transcripts longer than the model's maximum (marked in the "
                             "'truncated' column) instead of refusing them.")
    parser.add_argument("--skip-bad-records", action="store_true",
                        help="Skip and count bad records (unreadable, over-long without --truncate, refused by the "
                             "tokenizer) instead of stopping.")
    parser.add_argument("--limit", type=int, help="Embed only the first N transcripts.")
    parser.add_argument("--quiet", action="store_true", help="No progress bar.")
    scale = parser.add_argument_group("folder output (--out DIR)")
    scale.add_argument("--shard-size", type=int, default=1024,
                       help="Records per part file: the unit of work of a process or actor, and what a killed "
                            "one loses.")
    scale.add_argument("--engine", choices=("local", "ray"), default="local",
                       help="local: this process (or each process of accelerate launch/torchrun) embeds its "
                            "share of the shards; ray: Ray Data actors do (needs isoclr-hf[ray]).")
    scale.add_argument("--num-workers", type=int, default=1,
                       help="Ray actors (--engine ray), one model each, one CPU each or one GPU with --device cuda.")


def check_arguments(args: argparse.Namespace, world_size: int) -> None:
    """Refuse a bad command line or an existing output before any heavy import or work."""
    out = args.out
    folder = out.suffix == ""
    if out.suffix and out.suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f"--out must end in .parquet or .npy, or have no suffix for a folder of parquet parts; "
                         f"got {out.name}")
    for name, value in (("--batch-size", args.batch_size), ("--shard-size", args.shard_size),
                        ("--num-workers", args.num_workers)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be at least 1, got {args.limit}")
    sources = {name: getattr(args, name) for name in SOURCE_OPTIONS}
    for name, path in sources.items():
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"--{name.replace('_', '-')} {path}: no such file")
    source_kind(args)
    if folder:
        if out.exists() and not out.is_dir():
            raise ValueError(f"{out} exists and is a file; --out without a suffix names a folder")
        if args.overwrite:
            raise ValueError(f"--overwrite is for a file --out; a folder is resumed, never overwritten: delete {out} "
                             "to start over")
        if out.is_dir() and not (out / ".manifest.json").exists() and any(
                not p.name.startswith((".", "_")) for p in out.iterdir()):
            raise ValueError(f"{out} exists and holds files but no .manifest.json: it is not an embedding folder of "
                             "`isoclr embed`; name a new or empty folder")
        return
    if args.engine == "ray":
        raise ValueError("--engine ray writes a folder: give --out a path without a suffix")
    if world_size > 1:
        raise ValueError(f"{world_size} processes write a folder: give --out a path without a suffix")
    if out.is_dir():
        raise ValueError(f"{out}: --out is a folder; name a .parquet or .npy file, or a path without a suffix")
    existing = [p for p in output_files(out) if p.exists()]
    if existing and not args.overwrite:
        raise FileExistsError(f"{existing[0]} exists; pass --overwrite to replace it")


def source_kind(args: argparse.Namespace) -> str:
    """Which reader the source options name."""
    if args.parquet:
        return "parquet"
    if args.fasta and args.sqanti_classification:
        if not args.gtf:
            raise ValueError("--sqanti-classification needs --fasta and --gtf")
        return "sqanti"
    if args.fasta:
        return "fasta"
    if args.gtf and args.genome:
        return "annotation"
    raise ValueError("name the transcripts: --gtf with --genome, --fasta [--gtf], or --parquet")


def read_transcripts(args: argparse.Namespace, skipped: Counter[str]) -> Iterator[Any]:
    """The records of whichever source the arguments name, streamed, at most ``--limit`` of them."""
    from ..annotations.fasta import read_transcript_fasta
    from ..annotations.gtf import read_annotation
    from ..annotations.mrnabench import read_mrnabench_parquet
    from ..annotations.sqanti import read_sqanti

    on_error = "skip" if args.skip_bad_records else "raise"
    options = {"species": args.species, "on_error": on_error, "skipped": skipped}
    kind = source_kind(args)
    if kind == "parquet":
        records = read_mrnabench_parquet(args.parquet, **options)
    elif kind == "sqanti":
        records = read_sqanti(args.fasta, args.gtf, args.sqanti_classification, **options)
    elif kind == "fasta":
        records = read_transcript_fasta(args.fasta, annotation_path=args.gtf, **options)
    else:
        records = read_annotation(args.gtf, args.genome, **options)
    return itertools.islice(records, args.limit)


def output_files(path: Path) -> list[Path]:
    """The files ``--out`` names: the file, and for .npy the .ids.tsv next to it."""
    return [path, path.with_suffix(".ids.tsv")] if path.suffix == ".npy" else [path]


def launcher_rank() -> tuple[int, int]:
    """``(RANK, WORLD_SIZE)`` set by ``accelerate launch``/``torchrun``, or ``(0, 1)``."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def run(args: argparse.Namespace) -> int:
    rank, world_size = launcher_rank()
    check_arguments(args, world_size)  # before torch, transformers and the model are loaded
    from ..embedding import command

    if args.out.suffix == "":
        return command.run_folder(args, read_transcripts, rank, world_size)
    return command.run_in_memory(args, read_transcripts)
