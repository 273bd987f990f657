"""Benchmark: corpus build throughput and peak memory, on the bundled data and synthetic annotations.

Each case runs `isoclr build-corpus` end to end (read annotations + genome through the index, group,
split, card, save_to_disk + Parquet) in a fresh process, timed, with its peak resident memory taken
from the kernel (wait4). Synthetic cases replicate the Ensembl chr9 GTF (105 transcripts) with
renamed ids onto a synthetic genome of 20 chromosomes, each a copy of the bundled 1 Mb chr9 piece,
copy k on chromosome k mod 20: a real GTF's shape (grouped by chromosome, a few thousand
transcripts per chromosome at 100k), so the cost per transcript and how memory grows are what a
GENCODE-sized build sees.

    python benchmarks/corpus_build.py                 # bundled + 1k, 10k, 100k transcripts (about 2-3 minutes)
    python benchmarks/corpus_build.py --sizes 1000    # quicker

Writes benchmarks/results/corpus_build.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHR9 = REPO / "data" / "pretraining" / "ensembl91_chr9_1mb"
CHR9_GTF = CHR9 / "Homo_sapiens.GRCh38.91_chr9_1_1000000.gtf"
CHR9_GENOME = CHR9 / "Homo_sapiens.GRCh38.dna_sm.primary_assembly_chr9_1_1000000.fa"
RESULTS = REPO / "benchmarks" / "results"
SYNTHETIC_CHROMOSOMES = 20


def write_synthetic(folder: Path, copies: int) -> tuple[Path, Path]:
    """A genome of 20 copies of the chr9 piece and a GTF with ``copies`` renamed copies of the chr9 GTF."""
    bases = "".join(CHR9_GENOME.read_text().splitlines()[1:])
    genome = folder / "synthetic_genome.fa"
    with open(genome, "w") as handle:
        for chromosome in range(SYNTHETIC_CHROMOSOMES):
            handle.write(f">syn{chromosome}\n")
            handle.writelines(bases[i : i + 60] + "\n" for i in range(0, len(bases), 60))
    rows = [line.split("\t", 1)[1] for line in CHR9_GTF.read_text().splitlines() if not line.startswith("#")]
    gtf = folder / "synthetic.gtf"
    with open(gtf, "w") as handle:
        for chromosome in range(SYNTHETIC_CHROMOSOMES):  # grouped by chromosome, like a real GTF
            for copy in range(chromosome, copies, SYNTHETIC_CHROMOSOMES):
                suffix = f"_c{copy}"
                for row in rows:
                    renamed = row.replace('gene_id "ENSG', f'gene_id "SYNG{suffix}').replace(
                        'transcript_id "ENST', f'transcript_id "SYNT{suffix}'
                    )
                    handle.write(f"syn{chromosome}\t{renamed}\n")
    return gtf, genome


def run_case(name: str, argv: list[str], out: Path) -> dict[str, object]:
    """Run build-corpus in a fresh process; wall time, peak RSS and the build summary."""
    code = (  # the build is timed inside the process too, to separate it from the imports (torch, datasets)
        "import argparse, json, sys, time\n"
        "from isoclr_hf.cli import build_corpus as c\n"
        "p = argparse.ArgumentParser(); c.add_arguments(p); args = p.parse_args(sys.argv[1:])\n"
        "t = time.perf_counter(); code = c.run(args)\n"
        "(args.out / 'timing.json').write_text(json.dumps({'build_seconds': time.perf_counter() - t}))\n"
        "sys.exit(code)\n"
    )
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code, *argv, "--out", str(out)], stdout=subprocess.DEVNULL,
                               env={**os.environ, "TQDM_DISABLE": "1"})  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"case {name} failed")
    summary = json.loads((out / "build_summary.json").read_text())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    build_seconds = json.loads((out / "timing.json").read_text())["build_seconds"]
    return {
        "case": name,
        "transcripts": summary["transcripts"],
        "sets": summary["sets"],
        "process_seconds": round(seconds, 2),
        "build_seconds": round(build_seconds, 2),
        "transcripts_per_second": round(summary["transcripts"] / build_seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "corpus_mb": round(size / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000],
                        help="synthetic annotation sizes, in transcripts")  # fmt: skip
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(scratch)
        rows.append(run_case("bundled (chr22 SQANTI3 + chr9 + mouse Mapt)", ["--bundled"], scratch_dir / "bundled"))
        for size in args.sizes:
            copies = max(1, round(size / 105))
            folder = scratch_dir / f"synthetic_{size}"
            folder.mkdir()
            gtf, genome = write_synthetic(folder, copies)
            rows.append(
                run_case(f"synthetic {size:,}", ["--gtf", str(gtf), "--genome", str(genome)], folder / "corpus")
            )
    base = rows[1] if len(rows) > 1 else rows[0]
    for row in rows:
        row["build_time_vs_smallest_synthetic"] = round(row["build_seconds"] / base["build_seconds"], 2)
        row["transcripts_vs_smallest_synthetic"] = round(row["transcripts"] / base["transcripts"], 2)
    header = ["case", "transcripts", "sets", "process_seconds", "build_seconds", "transcripts_per_second",
              "peak_rss_mb", "corpus_mb", "transcripts_vs_smallest_synthetic",
              "build_time_vs_smallest_synthetic"]  # fmt: skip
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table += ["| " + " | ".join(str(row[column]) for column in header) + " |" for row in rows]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    text = "\n".join(table)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "corpus_build.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")
    notes = (
        f"`python benchmarks/corpus_build.py` on {machine}. Each case is `isoclr build-corpus` end to end in a fresh "
        "process (reading, grouping, card, save_to_disk + Parquet). process_seconds includes Python start-up and "
        "imports (torch, transformers, datasets: several seconds on this shared machine); build_seconds and "
        "transcripts_per_second time the `run()` call alone. Peak RSS (wait4) includes the imported libraries "
        "(about 0.5 GB before any data). Synthetic cases: the Ensembl chr9 GTF copied with renamed ids onto 20 "
        "synthetic chromosomes."
    )
    (RESULTS / "corpus_build.md").write_text(f"# Corpus build: throughput and peak memory\n\n{notes}\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
