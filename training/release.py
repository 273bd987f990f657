"""Write the released model folder (Hub layout) from a finished pretraining run and its measurements.

    python training/release.py --run runs/isoclr_s_release --corpus runs/all_real_corpus \
        --overlap reports/release/overlap.json --report reports/release/halflife/report.json ... \
        --out released/isoclr-s

The folder gets safetensors weights, config.json with auto_map, the tokenizer, the remote code and a
card whose model-index holds the figures of the given ``isoclr evaluate`` reports, whose training
section states the corpus (sources, licenses, counts, leakage), the recipe, the exact command and
its time, read from the run's own files. Nothing in the card is typed in by hand.

After a change to the package's remote code (file names, the shared head), refresh a released folder
without its run: the weights and the card stay, the remote code, config and tokenizer files are written
anew by the current package, and the folder is replaced only if its embeddings of fixed transcripts are
unchanged within 1e-6:

    python training/release.py --refresh isoclr_hf/released/isoclr-s
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from isoclr_hf.corpus.sources import HCOP_ORTHOLOGY, ORTHOLOGY_ORIGINS, all_real_sources
from isoclr_hf.evaluation.overlap import format_overlap
from isoclr_hf.hub.cards import CardDetails
from isoclr_hf.hub.package import prepare_model_folder
from isoclr_hf.loading import load_encoder, load_tokenizer
from isoclr_hf.machine import cpu_description


def corpus_markdown(corpus: Path, overlap: list[dict[str, Any]]) -> str:
    summary = json.loads((corpus / "build_summary.json").read_text())
    sources = "\n".join(
        ["| source | species | origin | license |", "|---|---|---|---|"]
        + [f"| {s['name']} | {s['species']} | {s['origin']} | {s['license']} |" for s in all_real_sources()]
        + [f"| orthology: HCOP | 19 species | {ORTHOLOGY_ORIGINS[Path(HCOP_ORTHOLOGY).name]} | mit |"]
    )
    return "\n".join([
        "Every real transcript bundled with isoclr-hf (`isoclr build-corpus --all-real`): "
        f"{summary['sets']:,} gene sets, {summary['transcripts']:,} transcripts, "
        f"{summary['isoforms_per_set']['sets_with_2_or_more']:,} sets with 2 or more members, "
        f"{summary['nucleotides']:,} nucleotides; species "
        + ", ".join(f"{name} {count:,}" for name, count in summary["transcripts_per_species"].items())
        + ". Transcripts of one gene from different sources form one set through HGNC's HCOP (symbol, Entrez and "
        "Ensembl ids of a human gene; mouse orthologs). Transcripts without exon structure (the RefSeq mRNAs of "
        "DM3Loc, the CPAT non-coding RNAs) mark only their last nucleotide in the splice track, as downstream "
        "tasks built from the same files do. Pretraining used the train split only.",
        "",
        sources,
        "",
        "**Licenses.** The sources' licenses are listed above (GPL-2.0/GPL-3.0 and MIT); the card's license is "
        "`other` because the weights derive from all of them: check their terms before redistributing.",
        "",
        "**Leakage.** Pretraining reads sequences, never a downstream label. Downstream examples whose sequence "
        "is also a pretraining transcript (counted over the examples that can be test examples):",
        "",
        format_overlap(overlap),
    ])


def procedure_markdown(
    run: Path, config_file: Path, command: str, peak_memory_gb: float | None, wall_minutes: float | None, note: str
) -> str:
    summary = json.loads((run / "summary.json").read_text())
    config = yaml.safe_load(config_file.read_text())
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    speeds = [entry for entry in logged if "pairs_per_second" in entry]
    pairs = sum(e["pairs_per_second"] for e in speeds) / max(len(speeds), 1)
    nts = sum(e["nucleotides_per_second"] for e in speeds) / max(len(speeds), 1)
    recipe = ", ".join(f"{key} {value}" for key, value in config.items() if key not in ("corpus", "output_dir"))
    return "\n".join([
        f"`{command}`",
        "",
        f"{summary['steps']:,} optimizer steps in {summary['train_seconds'] / 60:.1f} minutes of training"
        + (f" ({wall_minutes:.0f} minutes from launch to the saved model)" if wall_minutes else "")
        + f" on {cpu_description()}, one thread, shared with other jobs (mean of the logged rates: "
        f"{pairs:.1f} pairs/s, {nts:,.0f} nt/s"
        + (f"; peak resident memory {peak_memory_gb:.1f} GB" if peak_memory_gb else "")
        + "); held-out partner retrieval top-1 on the corpus's validation split "
        f"{summary.get('retrieval_start', float('nan')):.3f} -> {summary.get('retrieval_end', float('nan')):.3f} "
        f"(chance {summary.get('retrieval_chance', float('nan')):.3f}). Recipe chosen by short pilot runs judged on "
        "validation data only (benchmarks/results/pretraining_pilots.md).",
        "",
        f"Settings: {recipe}.",
        *(["", note] if note else []),
    ])


# Fixed transcripts whose embeddings must not change when a released folder is refreshed: coding with
# exon ends, non-coding, IUPAC codes, lengths that exercise the padding and length groups.
REFRESH_CHECK = (
    ("AUGGCCAAGUUUGGCUAA" * 40, [200, 450, 720], (0, 720)),
    ("GGCAUUCGAUCGAUUACGNNRY" * 15, None, None),
    ("ACGU" * 700, [1000, 2800], (30, 2799)),
)


def refresh_embeddings(folder: Path) -> np.ndarray:
    """Embeddings of :data:`REFRESH_CHECK` by the folder's encoder, batched. Shape: (3, hidden_size)."""
    model, tokenizer = load_encoder(folder), load_tokenizer(folder)
    sequences, exon_ends, cds = zip(*REFRESH_CHECK)
    batch = tokenizer(list(sequences), exon_ends=list(exon_ends), cds=list(cds), return_tensors="pt")
    with torch.no_grad():
        return model(**batch).pooler_output.numpy()


def refresh(folder: Path) -> None:
    """Rewrite a released folder's code, config and tokenizer with the current package; keep weights and card."""
    before = refresh_embeddings(folder)
    temporary = folder.with_name(f".{folder.name}.refresh")
    shutil.rmtree(temporary, ignore_errors=True)
    prepare_model_folder(load_encoder(folder), load_tokenizer(folder), temporary)
    shutil.copyfile(folder / "README.md", temporary / "README.md")  # the card's figures were measured: kept
    after = refresh_embeddings(temporary)
    difference = float(np.abs(after - before).max())
    if difference > 1e-6:
        shutil.rmtree(temporary)
        raise SystemExit(f"{folder}: refreshed embeddings differ by {difference:.2e} (> 1e-6); folder kept as it was")
    previous = folder.with_name(f".{folder.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    os.replace(folder, previous)
    os.replace(temporary, folder)
    shutil.rmtree(previous)
    print(f"Refreshed {folder}: embeddings unchanged (max difference {difference:.1e})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refresh", type=Path, default=None,
                        help="a released folder to rewrite with the current remote code (nothing else is needed)")
    if parser.parse_known_args()[0].refresh is not None:
        refresh(parser.parse_known_args()[0].refresh)
        return
    parser.add_argument("--run", type=Path, required=True, help="output_dir of the pretraining run")
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--overlap", type=Path, required=True, help="JSON of python -m isoclr_hf.evaluation.overlap")
    parser.add_argument("--report", type=Path, action="append", default=[], help="report.json; repeatable")
    parser.add_argument("--config", type=Path, required=True, help="the pretraining YAML")
    parser.add_argument("--command", required=True, help="the pretraining command, for the card")
    parser.add_argument("--peak-memory-gb", type=float, default=None, help="peak RSS of the run, measured outside it")
    parser.add_argument("--wall-minutes", type=float, default=None, help="launch to final model, measured outside")
    parser.add_argument("--note", default="", help="a paragraph for the procedure section (how it was evaluated)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repo-id", default="isoclr-hf/isoclr-s")
    args = parser.parse_args()
    overlap = json.loads(args.overlap.read_text())
    details = CardDetails(
        repo_id=args.repo_id,
        license="other",
        training_data=corpus_markdown(args.corpus, overlap),
        training_procedure=procedure_markdown(args.run, args.config, args.command, args.peak_memory_gb,
                                              args.wall_minutes, args.note),
    )
    final = args.run / "final"
    prepare_model_folder(load_encoder(final), load_tokenizer(final), args.out, card=details,
                         evaluation_report=[str(path) for path in args.report])
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
