"""Build the pretraining corpus (gene sets of transcripts) from annotation files.

Each source starts with the option that names its main file; the options after it (--genome,
--annotation, --classification, --species, --license) belong to it. Several sources, of any
species, go into one build:

  isoclr build-corpus --gtf gencode.v44.gtf.gz --genome GRCh38.fa \\
                      --gtf gencode.vM33.gtf.gz --genome GRCm39.fa --species mus_musculus \\
                      --orthology human_mouse_1to1_orthologs.tsv --out corpus/

  isoclr build-corpus --transcripts sample.fasta --annotation sample.gtf --classification sample_classification.txt \\
                      --out corpus/                      (SQANTI3 output)

  isoclr build-corpus --bundled --out demo_corpus/       (the demo corpus from the repository's data/)

The folder gets the DatasetDict (isoclr_hf.corpus.load_corpus), a Parquet export, a dataset card and
build_summary.json; it appears only when the build succeeds. --out is checked before any input is
read. A bad record stops the build with an error naming the file, line and transcript; with
--on-error skip its whole transcript is left out and counted, and the summary lists the first ids.
A source that gives no transcripts is an error.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..annotations import SkipLog, TranscriptRecord
    from ..corpus.card import CorpusSource

# The readers and the corpus (pandas, datasets, torch) are imported in run(): `isoclr build-corpus --help`,
# a bad command line and an existing --out are answered without them. The defaults the help shows are
# held equal to their sources by tests/cli/test_startup.py.
DEMO_ORTHOLOGY = "orthology/human_mouse_1to1_orthologs.tsv"  # isoclr_hf.corpus.sources.DEMO_ORTHOLOGY
HCOP_ORTHOLOGY = "orthology/babelgene_hcop_human_to_19species.tsv.gz"  # isoclr_hf.corpus.sources.HCOP_ORTHOLOGY
DEFAULT_MAX_LENGTH = 12_288  # IsoCLRConfig().max_sequence_length

SOURCE_KINDS = {"--gtf": "gtf", "--transcripts": "transcripts", "--mrnabench": "mrnabench"}
SOURCE_OPTIONS = {
    "--genome": "genome",
    "--annotation": "annotation",
    "--classification": "classification",
    "--species": "species",
    "--license": "license",
}


SKIPPED_EXAMPLES = 5  # transcript ids shown per skip reason


class _StartSource(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any, option: Any = None
    ) -> None:
        sources = getattr(namespace, "sources", None) or []
        sources.append(
            {"kind": SOURCE_KINDS[str(option)], "path": value, "species": "homo_sapiens", "license": "unknown"}
        )
        namespace.sources = sources


class _SourceOption(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any, option: Any = None
    ) -> None:
        sources = getattr(namespace, "sources", None)
        if not sources:
            parser.error(f"{option} must follow the source it belongs to (--gtf, --transcripts or --mrnabench)")
        sources[-1][SOURCE_OPTIONS[str(option)]] = value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    inputs = parser.add_argument_group("sources (repeat for several; each option after a source belongs to it)")
    inputs.add_argument("--gtf", action=_StartSource, metavar="GTF_OR_GFF3", help="GTF/GFF3 annotation; needs --genome")
    inputs.add_argument(
        "--transcripts",
        action=_StartSource,
        metavar="FASTA",
        help="transcript FASTA (GENCODE headers give the CDS); optional --annotation, --classification",
    )
    inputs.add_argument("--mrnabench", action=_StartSource, metavar="PARQUET", help="parquet in the mRNABench layout")
    inputs.add_argument("--genome", action=_SourceOption, metavar="FASTA", help="genome FASTA of the --gtf before it")
    inputs.add_argument(
        "--annotation",
        action=_SourceOption,
        metavar="GTF",
        help="exon structure (GTF/GFF3) of the --transcripts before it",
    )
    inputs.add_argument(
        "--classification",
        action=_SourceOption,
        metavar="TSV",
        help="SQANTI3 classification table of the --transcripts before it (needs --annotation)",
    )
    inputs.add_argument(
        "--species", action=_SourceOption, help="species of the source before it (default homo_sapiens)"
    )
    inputs.add_argument("--license", action=_SourceOption, help="license of the source before it, for the card")
    inputs.add_argument(
        "--bundled",
        action="store_true",
        help="add the repository's demo data (human chr22 SQANTI3, human chr9 Ensembl, mouse Mapt) "
        f"and, unless --orthology is given, {DEMO_ORTHOLOGY}",
    )
    inputs.add_argument(
        "--all-real",
        action="store_true",
        help="add every real transcript in data/ (the --bundled three, 17,306 RefSeq mRNAs of DM3Loc, CPAT's "
        "4,000 BED12 mRNAs and 4,000 non-coding RNAs, IsoformSwitchAnalyzeR's 1,092 isoforms, TranscriptOrthology's "
        "coding transcripts of 256 gene families in 5 species, TransDecoder's 3,501 StringTie chrX transcripts) and, "
        f"unless --orthology is given, HCOP orthology ({HCOP_ORTHOLOGY}) and TranscriptOrthology's ortholog tables",
    )
    parser.add_argument(
        "--orthology",
        action="append",
        default=[],
        metavar="TABLE",
        help="orthology table merging gene sets (HomoloGene TSV or ENSG<TAB>ENSMUSG pairs); repeatable",
    )
    parser.add_argument("--out", required=True, type=Path, help="corpus folder to create")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--max-length", type=int, default=DEFAULT_MAX_LENGTH,
                        help="leave out longer transcripts; the default is the model's max_sequence_length")
    parser.add_argument(
        "--biotype", action="append", default=None, help="keep only this transcript biotype; repeatable"
    )
    parser.add_argument("--min-isoforms", type=int, default=1, help="leave out sets with fewer transcripts")
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--test-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0, help="changes which sets go to which split")
    parser.add_argument(
        "--hold-out-genes", type=float, default=0.0, metavar="FRACTION",
        help="keep this fraction of gene symbols (a fixed hash of the symbol, any species) out of the corpus, with "
        "their whole gene sets, so that downstream examples of those genes are free of pretraining leakage "
        "(`isoclr evaluate --pretraining-corpus`); default 0",
    )
    parser.add_argument(
        "--on-error",
        choices=("raise", "skip"),
        default="raise",
        help="a bad record stops the build (raise, default) or is left out and counted (skip)",
    )
    parser.set_defaults(sources=None)


_SOURCE_FILE_OPTIONS = {
    "path": None,
    "genome": "--genome",
    "annotation": "--annotation",
    "classification": "--classification",
    "sequences": "sequences",
    "gene_names": "gene names",
}


def _check_source(source: dict[str, Any]) -> None:
    """Refuse a source whose options do not fit together or whose files are missing, before reading any."""
    label = f"{'--' + source['kind']} {source['path']}"
    if source["kind"] == "gtf" and "genome" not in source:
        raise ValueError(f"{label} needs --genome GENOME_FASTA after it")
    if "classification" in source and "annotation" not in source:
        raise ValueError(f"{label} has --classification but no --annotation (the SQANTI3 GTF)")
    if "genome" in source and source["kind"] != "gtf":
        raise ValueError(f"--genome belongs after --gtf, not after {label}")
    for key, option in _SOURCE_FILE_OPTIONS.items():
        if key in source and not Path(source[key]).is_file():
            what = "--" + source["kind"] if option is None else f"{option} of {label}"
            problem = "is a folder, not a file" if Path(source[key]).is_dir() else "does not exist"
            raise FileNotFoundError(f"{what} {source[key]}: {problem}")


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse an ``--out`` that the build could not or should not replace, before any input is read.

    Raises:
        FileExistsError: ``out`` exists and ``overwrite`` is not given; or it is a file, or a
            non-empty folder that is not a corpus (``--overwrite`` replaces only those two).
        PermissionError: The folder that would hold ``out`` cannot be written.
    """
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise FileExistsError(f"--out {out} already exists; choose another --out or pass --overwrite")
        if not out.is_dir():
            raise FileExistsError(
                f"--out {out} is a file, not a corpus folder; --overwrite replaces only a corpus folder"
            )
        if any(out.iterdir()) and not (out / "dataset_dict.json").is_file():
            raise FileExistsError(
                f"--out {out} is a folder that is not a corpus (no dataset_dict.json); --overwrite replaces only a "
                "corpus folder or an empty folder"
            )
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"--out {out}: cannot write in {parent}")


def read_source(source: dict[str, Any], on_error: str, skipped: Counter[str]) -> Iterator[TranscriptRecord]:
    """The records of one source, by the reader its options call for."""
    from ..annotations import read_annotation, read_mrnabench_parquet, read_sqanti, read_transcript_fasta
    from ..corpus.sources import KINDS, read_bundled_source

    kind, path, species = source["kind"], source["path"], source["species"]
    if kind == "gtf":
        return read_annotation(path, source["genome"], species=species, on_error=on_error, skipped=skipped)
    if kind in KINDS:
        return read_bundled_source(source, on_error, skipped)
    if kind == "mrnabench":
        return read_mrnabench_parquet(path, species=species, on_error=on_error, skipped=skipped)
    if "classification" in source:
        return read_sqanti(
            path, source["annotation"], source["classification"], species=species, on_error=on_error, skipped=skipped
        )
    return read_transcript_fasta(
        path, species=species, annotation_path=source.get("annotation"), on_error=on_error, skipped=skipped
    )


def _card_source(source: dict[str, Any]) -> CorpusSource:
    from ..corpus.card import CorpusSource

    files = [
        source[key] for key in ("path", "genome", "annotation", "classification", "sequences") if key in source
    ]
    kind = "sqanti" if "classification" in source else source["kind"]
    return CorpusSource(
        name=source.get("name", Path(source["path"]).name),
        kind=kind,
        files=files,
        species=source["species"],
        license=source["license"],
        origin=source.get("origin", ""),
    )


def _source_records(source: dict[str, Any], on_error: str, skipped: SkipLog) -> Iterator[TranscriptRecord]:
    """The records of a source, with an error if it gives none (an empty file, or everything skipped)."""
    before = Counter(skipped)
    count = 0
    for record in read_source(source, on_error, skipped):
        count += 1
        yield record
    if not count:
        left_out = Counter(skipped)
        left_out.subtract(before)
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(left_out.items()) if n > 0)
        raise ValueError(
            f"--{source['kind']} {source['path']}: no transcripts were read from it"
            + (f" (skipped: {reasons})" if reasons else "")
        )


def run(args: argparse.Namespace) -> int:
    """Build the corpus; every bad input raises ``ValueError``/``OSError`` naming it, before the output appears."""
    check_out(args.out, args.overwrite)  # before reading anything
    from tqdm.auto import tqdm

    from ..annotations import SkipLog
    from ..corpus import OrthologyTable, build_corpus, save_corpus, summarize_corpus
    from ..corpus.card import render_corpus_card
    from ..corpus.sources import DATA_DIR, ORTHOLOGY_ORIGINS, all_real_orthology, all_real_sources
    from ..corpus.sources import demo_sources as bundled_sources
    from ..corpus.splits import check_fractions

    check_fractions(args.validation_fraction, args.test_fraction)
    if args.min_isoforms < 1 or args.max_length < 1:
        raise ValueError(f"--min-isoforms ({args.min_isoforms}) and --max-length ({args.max_length}) must be >= 1")
    if not 0 <= args.hold_out_genes < 1:
        raise ValueError(f"--hold-out-genes must be a fraction in [0, 1), got {args.hold_out_genes}")
    sources = list(args.sources or [])
    orthology_paths = list(args.orthology)
    if args.bundled or args.all_real:
        option = "--all-real" if args.all_real else "--bundled"
        if not (DATA_DIR / "pretraining").is_dir():
            raise FileNotFoundError(
                f"{option} reads the repository's data/ folder, not found at {DATA_DIR}; run from a clone of the "
                "repository"
            )
        sources = (all_real_sources() if args.all_real else bundled_sources()) + sources
        orthology_paths = orthology_paths or (
            [str(path) for path in all_real_orthology()] if args.all_real else [str(DATA_DIR / DEMO_ORTHOLOGY)])
    if not sources:
        raise ValueError("no sources: give --gtf/--transcripts/--mrnabench files, --bundled or --all-real")
    for source in sources:
        _check_source(source)
    started = time.perf_counter()
    skipped = SkipLog()
    tables = [OrthologyTable.load(path) for path in orthology_paths]
    records = itertools.chain.from_iterable(
        tqdm(
            _source_records(source, args.on_error, skipped),
            desc=source.get("name", Path(source["path"]).name),
            unit=" transcripts",
            leave=False,
        )
        for source in sources
    )
    corpus = build_corpus(
        records,
        orthology=tables,
        max_length=args.max_length,
        biotypes=args.biotype,
        min_isoforms=args.min_isoforms,
        validation_fraction=args.validation_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
        skipped=skipped,
        hold_out_genes=args.hold_out_genes,
    )
    summary = summarize_corpus(corpus)
    summary["skipped"] = dict(sorted(skipped.items()))
    summary["skipped_examples"] = skipped.examples(SKIPPED_EXAMPLES)
    settings = {
        "max_length": args.max_length,
        "biotypes": args.biotype or "all",
        "min_isoforms": args.min_isoforms,
        "validation_fraction": args.validation_fraction,
        "test_fraction": args.test_fraction,
        "seed": args.seed,
        "hold_out_genes": args.hold_out_genes,
        "on_error": args.on_error,
    }
    card = render_corpus_card(
        summary,
        [_card_source(source) for source in sources],
        settings=settings,
        skipped=summary["skipped"],
        orthology=[
            f"`{Path(p).name}` ({ORTHOLOGY_ORIGINS.get(Path(p).name, 'user-supplied')})" for p in orthology_paths
        ],
    )
    summary["seconds"] = round(time.perf_counter() - started, 2)
    save_corpus(corpus, args.out, card=card, summary=summary, overwrite=args.overwrite)  # atomic: all or nothing
    print(format_summary(summary, args.out))
    return 0


def format_summary(summary: dict[str, Any], out: Path) -> str:
    """The lines printed after a build."""
    isoforms = summary["isoforms_per_set"]
    lines = [
        f"Corpus written to {out} in {summary['seconds']} s",
        f"  gene sets: {summary['sets']:,}   transcripts: {summary['transcripts']:,}   "
        f"sets with 2 or more: {summary['isoforms_per_set']['sets_with_2_or_more']:,}   "
        f"nucleotides: {summary['nucleotides']:,}   multi-species sets: {summary['multi_species_sets']:,}",
        f"  isoforms per set: mean {isoforms['mean']}, median {isoforms['median']}, max {isoforms['max']}; "
        f"{isoforms['sets_with_2_or_more']:,} sets with 2 or more",
        "  splits: "
        + ", ".join(
            f"{name} {c['sets']:,} sets / {c['transcripts']:,} transcripts" for name, c in summary["splits"].items()
        ),
        "  species: " + ", ".join(f"{name} {count:,}" for name, count in summary["transcripts_per_species"].items()),
        "  skipped: " + (", ".join(f"{reason} {count:,}" for reason, count in summary["skipped"].items()) or "none"),
    ]
    for reason, ids in summary.get("skipped_examples", {}).items():
        more = summary["skipped"].get(reason, len(ids)) - len(ids)
        lines.append(f"    {reason}: {', '.join(ids)}" + (f" and {more:,} more" if more > 0 else ""))
    return "\n".join(lines)


__all__ = ["add_arguments", "format_summary", "run"]
