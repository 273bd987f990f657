"""RNA-FM and RiNALMo micro vs isoclr-m on this CPU, side by side in one run: embedding throughput.

Nucleotides/s of each encoder's forward (``torch.inference_mode``, random weights, random transcripts) at
each length, in fp32 and in bf16 (``torch.autocast``, what ``isoclr embed --dtype bfloat16`` uses), with
the FLOPs per nucleotide (``torch.utils.flop_counter`` on one forward: matmuls, convolutions and
``scaled_dot_product_attention``). RNA-FM (99.5M parameters with its masked-LM head) and RiNALMo micro
(33.5M) see 1,022 nucleotides a window: 1,024 nt is just over one, so it runs as 2 windows (about 2x the
tokens), and 4,096 nt as 6 windows with at least 256 nt of overlap (1.5x the tokens). isoclr-m (4.9M)
reads the whole transcript at once. The models take turns on each case, round after round, so a busy
moment hits all of them.

    python benchmarks/mlm_embedding.py              # 1k and 4k nt, fp32 and bf16: 20+ minutes on 2 busy cores
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/mlm_embedding.py --threads 1   # one core

Writes benchmarks/results/mlm_embedding.{md,json}. Timings on a shared machine vary; the ratios within one
run are the figures to read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from isoclr_hf import IsoCLRConfig, IsoCLRModel, IsoCLRTokenizer
from isoclr_hf.machine import cpu_description
from isoclr_hf.models.rinalmo import RiNALMoConfig, RiNALMoModel
from isoclr_hf.models.rnafm import NucleotideTokenizer, RnaFmConfig, RnaFmModel

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = ("isoclr-m", "rnafm", "rinalmo-micro")


def encoders() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {"isoclr-m": IsoCLRModel(IsoCLRConfig.from_preset("isoclr-m")).eval(),
            "rnafm": RnaFmModel(RnaFmConfig.from_preset("rnafm")).eval(),
            "rinalmo-micro": RiNALMoModel(RiNALMoConfig.from_preset("rinalmo-micro")).eval()}  # fmt: skip


def transcripts(name: str, length: int, count: int) -> dict[str, torch.Tensor]:
    """``count`` random transcripts of ``length`` nt, tokenised for ``name`` (IsoCLR: two exons and a CDS)."""
    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(count)]
    if name == "isoclr-m":
        exons, cds = [length // 3, 2 * length // 3, length], (100, 100 + 3 * ((length - 200) // 3))
        return dict(IsoCLRTokenizer()(sequences, exon_ends=[exons] * count, cds=[cds] * count, return_tensors="pt"))
    return dict(NucleotideTokenizer()(sequences, return_tensors="pt"))


def nucleotides(batch: dict[str, torch.Tensor], name: str) -> int:
    """Nucleotides in a batch (the masked-LM tokenizer adds <cls> and <eos> to each row)."""
    tokens = int(batch["attention_mask"].sum())
    return tokens if name == "isoclr-m" else tokens - 2 * batch["input_ids"].shape[0]


def flops_per_nucleotide(model: torch.nn.Module, batch: dict[str, torch.Tensor], name: str) -> float:
    with FlopCounterMode(display=False) as counter:  # grad enabled: IsoCLR's plain convolutions, as orthrus.py
        model(**batch)
    return counter.get_total_flops() / nucleotides(batch, name)


def timed(function: Any, seconds: float) -> float:
    """Best seconds per call over about ``seconds`` of repeated calls (at least one), after one warm-up call."""
    function()
    best, spent = float("inf"), 0.0
    while spent < seconds or best == float("inf"):
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return best


def embedding_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    models, rows = encoders(), []
    for length in args.lengths:
        # isoclr-m: a batch of about --nucleotides-per-batch nt, as `isoclr embed` runs it; the transformers:
        # one transcript (its windows already make a batch at 4 kb).
        counts = {name: max(1, args.nucleotides_per_batch // length) if name == "isoclr-m" else 1 for name in MODELS}
        batches = {name: transcripts(name, length, counts[name]) for name in MODELS}
        flops = {name: flops_per_nucleotide(models[name], transcripts(name, length, 1), name) for name in MODELS}
        best: dict[tuple[str, str], float] = {}
        for _ in range(args.rounds):
            for precision in args.precisions:
                for name in MODELS:

                    def forward(model: torch.nn.Module = models[name], batch: dict = batches[name],
                                low: bool = precision == "bf16") -> None:  # fmt: skip
                        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=low):
                            model(**batch)

                    seconds = timed(forward, args.seconds)
                    best[precision, name] = min(seconds, best.get((precision, name), float("inf")))
                    rate = nucleotides(batches[name], name) / seconds
                    print(f"embed {name} {length} nt {precision}: {rate:,.0f} nt/s", flush=True)
        for (precision, name), seconds in best.items():
            count = nucleotides(batches[name], name)
            rows.append({"model": name, "length": length, "precision": precision, "batch": counts[name],
                         "nt_per_s": count / seconds, "flops_per_nt": flops[name],
                         "gflops": flops[name] * count / seconds / 1e9,
                         "parameters": sum(p.numel() for p in models[name].parameters())})  # fmt: skip
    return rows


def render(rows: list[dict], info: dict[str, Any], args: argparse.Namespace) -> str:
    lines = ["# RNA-FM and RiNALMo micro vs isoclr-m: embedding throughput on CPU", "",
             f"CPU: {info['cpu']}; {info['torch_threads']} torch threads; torch {info['torch']}, transformers "
             f"{info['transformers']}. Load average (1 min) before/after: {info['load_before']:.2f}/"
             f"{info['load_after']:.2f}: other engineers' jobs share the 2 cores, so read the ratios between rows "
             f"of this run, not the absolute figures. Each case is the best call of {args.rounds} alternating "
             f"rounds of at least one timed call (and about {args.seconds:g} s) after a warm-up call.", "",
             "| model | encoder params | length | precision | batch | nt/s | FLOPs/nt (counted) | GFLOP/s "
             "| isoclr-m nt/s / this |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in rows:
        reference = next(r for r in rows if r["length"] == row["length"] and r["precision"] == row["precision"]
                         and r["model"] == "isoclr-m")  # fmt: skip
        ratio = "" if row["model"] == "isoclr-m" else f"{reference['nt_per_s'] / row['nt_per_s']:,.0f}x"
        lines.append(f"| {row['model']} | {row['parameters']:,} | {row['length']:,} | {row['precision']} | "
                     f"{row['batch']} | {row['nt_per_s']:,.0f} | {row['flops_per_nt'] / 1e6:,.1f} M | "
                     f"{row['gflops']:.1f} | {ratio} |")  # fmt: skip
    lines += [
        "",
        "Notes: FLOPs/nt are what `torch.utils.flop_counter` counts in one forward of one transcript "
        "(for RNA-FM and RiNALMo all windows, <cls>/<eos> included, divided by the transcript's nucleotides). "
        "bf16 is `torch.autocast` on a CPU with AVX-512 BF16 and no AMX. The masked-LM families' windows "
        "(1,022 nt, at least 256 nt of overlap) are what `isoclr embed` runs for an mRNA longer than one.",
    ]
    environment = "".join(f"{name}={os.environ[name]} " for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
                          if name in os.environ)  # fmt: skip
    lines += ["", f"Command: `{environment}{' '.join(['python benchmarks/mlm_embedding.py', *args.argv])}`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", nargs="+", type=int, default=[1024, 4096])
    parser.add_argument("--precisions", nargs="+", choices=["fp32", "bf16"], default=["fp32", "bf16"])
    parser.add_argument("--nucleotides-per-batch", type=int, default=16_384, help="isoclr-m batch size in nt")
    parser.add_argument(
        "--seconds",
        type=float,
        default=2.0,
        help="measuring time per case (best call counts; at least one call after the warm-up)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best round counts")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--out", type=Path, default=RESULTS / "mlm_embedding")
    args = parser.parse_args(argv)
    args.argv = argv if argv is not None else sys.argv[1:]

    import transformers

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    info = {"cpu": cpu_description(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "transformers": transformers.__version__, "load_before": os.getloadavg()[0]}  # fmt: skip
    rows = embedding_rows(args)
    info["load_after"] = os.getloadavg()[0]
    text = render(rows, info, args)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps({"machine": info, "embedding": rows}, indent=1) + "\n",
                                             encoding="utf-8")  # fmt: skip


if __name__ == "__main__":
    main()
