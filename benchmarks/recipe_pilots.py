"""Pilots of the crop recipe for the second isoclr-s release, judged on data free of pretraining leakage.

Every pilot pretrains isoclr-s with the release recipe (``--config``, by default
``training/configs/isoclr_s_release.yaml``: lr 0.01, 1,024-nt crops, 64 pairs a step, bf16) for ``--steps``
optimizer steps on 2 processes (cross-process negatives), on a corpus built with
``isoclr build-corpus --all-real --hold-out-genes 0.2``, changing only the crop rule:

* ``five_prime``: every view is the first 1,024 nt (the first release);
* ``anywhere``: each view its own random window (uniform start);
* ``anywhere + 3' end``: as ``anywhere``, with half of the pairs holding one view on the 3' end.

Validation (never the test data of the release evaluation where a task has its own test fold):

* half-life: the genes of Saluki's *training and validation* folds (``saluki_halflife_refseq``) that the
  pilot corpus never read (not the same sequence, not contained by their end 32-mers, not the same gene
  symbol: :func:`isoclr_hf.evaluation.overlap.seen_in_pretraining`); ridge probes over 5 folds (penalty
  chosen on an inner fifth), Pearson r per fold;
* 3'UTR stability (``siegel_3utr_jurkat``, no test fold of its own): up to ``--utr-examples`` fragments the
  pilot corpus never read, 5 grouped folds. This task's examples are also test examples of the release
  evaluation's random splits: a recipe chosen on it is chosen on data the release is later scored on.

Differences between recipes are paired over folds (the same fold for every encoder) with a t interval
over the 5 folds (folds share training data, so the interval is optimistic), next to the untrained
encoder and the k-mer ridge.

    python benchmarks/recipe_pilots.py --corpus runs/heldout_corpus --steps 600

Writes benchmarks/results/recipe_pilots.{md,json} after each pilot (``--only`` reruns one).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from pretraining_pilots import embed  # sibling benchmark script: bf16 embedding of records with a saved encoder
from scipy import stats
from sklearn.model_selection import GroupKFold

from isoclr_hf.atomic_files import atomic_write, write_json_atomically
from isoclr_hf.evaluation.overlap import seen_in_pretraining
from isoclr_hf.evaluation.probes.features import sequence_features
from isoclr_hf.evaluation.probes.ridge import fit_ridge_probe
from isoclr_hf.evaluation.tasks.registry import load_task
from isoclr_hf.machine import cpu_description
from isoclr_hf.models.isoclr import IsoCLRConfig, IsoCLRModel, IsoCLRTokenizer

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PILOTS: dict[str, dict[str, object]] = {
    "five_prime": {"crop_position": "five_prime", "crop_three_prime_fraction": 0.0},
    "anywhere": {"crop_position": "anywhere", "crop_three_prime_fraction": 0.0},
    "anywhere + 3' end": {"crop_position": "anywhere", "crop_three_prime_fraction": 0.5},
}
FOLDS = 5


def pretrain(name: str, overrides: dict[str, object], args: argparse.Namespace, seed: int) -> tuple[Path, dict]:
    """One pilot run on 2 processes; returns its final folder and summary."""
    out = args.work / f"{name.replace(' ', '_').replace(chr(39), '').replace('+', 'plus')}_seed{seed}"
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
               str(args.processes), "--num_machines", "1", "--dynamo_backend", "no", "--mixed_precision", "bf16",
               "--num_cpu_threads_per_process", "1",
               str(ROOT / "training" / "pretrain.py"), "--config", str(args.config), "--corpus", str(args.corpus),
               "--output_dir", str(out), "--max_steps", str(args.steps), "--eval_every", "0",
               "--checkpoint_every", "0", "--log_with", "null", "--progress_bar", "false", "--seed", str(seed),
               "--per_device_batch_size", str(args.batch // args.processes), "--mixed_precision", "bf16"]
    if args.processes == 1:
        command[3] = "--cpu"
    for key, value in overrides.items():
        command += [f"--{key}", str(value)]
    print("+", shlex.join(command), flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "ACCELERATE_USE_CPU": "true",
                                                          "OMP_NUM_THREADS": "1"})
    summary = json.loads((out / "summary.json").read_text())
    summary["wall_seconds"] = round(time.perf_counter() - started, 1)
    return out / "final", summary


def fold_scores(features: np.ndarray, labels: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    """Pearson r of a ridge probe on each fold's held-out part (penalty on an inner fifth of the rest)."""
    scores = []
    for number, (train, test) in enumerate(folds):
        order = np.random.default_rng(number).permutation(train)
        select, fit = order[: len(order) // 5], order[len(order) // 5:]
        probe = fit_ridge_probe(features[fit], labels[fit], features[select], labels[select])
        scores.append(float(stats.pearsonr(probe.predict(features[test]), labels[test])[0]))
    return scores


def validation_sets(corpus: Path, utr_examples: int) -> dict[str, dict]:
    """The two validation sets: records, labels, folds (only examples the pilot corpus never read)."""
    halflife, utr = load_task("saluki_halflife_refseq"), load_task("siegel_3utr_jurkat")
    candidates = np.flatnonzero(np.asarray(halflife.predefined_split) != "test")
    records = [halflife.records[i] for i in candidates] + list(utr.records)
    seen = seen_in_pretraining(records, [corpus])  # one k-mer index of the corpus for both tasks
    utr_free = np.flatnonzero(~seen[len(candidates):])
    sets = {
        "half-life (Saluki train+validation folds)": {"task": halflife, "index": candidates[~seen[: len(candidates)]]},
        "3'UTR stability (Siegel Jurkat)": {
            "task": utr, "index": np.sort(np.random.default_rng(0).permutation(utr_free)[:utr_examples])},
    }
    for entry in sets.values():
        task, index = entry["task"], entry["index"]
        groups = np.asarray(task.groups)[index] if task.groups is not None else index
        entry["records"] = [task.records[i] for i in index]
        entry["labels"] = np.asarray(task.labels, dtype=np.float64)[index]
        entry["folds"] = list(GroupKFold(n_splits=FOLDS).split(index, groups=groups))
    return sets


def paired(a: list[float], b: list[float]) -> str:
    difference = np.asarray(a) - np.asarray(b)
    half = stats.t.ppf(0.975, len(difference) - 1) * difference.std(ddof=1) / np.sqrt(len(difference))
    return f"{difference.mean():+.3f} [{difference.mean() - half:+.3f}, {difference.mean() + half:+.3f}]"


def write(rows: list[dict], settings: dict) -> None:
    names = list(settings["validation"])
    lines = ["# Crop-recipe pilots for the second isoclr-s release (validation free of pretraining leakage)", "",
             f"Machine: {settings['cpu']}. Command: `{settings['command']}`. Pilot corpus: `{settings['corpus']}` "
             f"({settings['corpus_note']}). Each pilot: isoclr-s, {settings['steps']} steps of {settings['batch']} "
             f"pairs on {settings['processes']} processes from `{Path(settings['config']).name}`, only the crop rule "
             "changed. Validation: " + "; ".join(f"{name}: {count:,} examples the pilot corpus never read"
                                                  for name, count in settings["validation"].items())
             + f". Ridge probe, {FOLDS} grouped folds, Pearson r (mean over folds); differences paired over folds "
             "with a t interval (optimistic: folds share training data).", "",
             "| encoder | seed | pretraining s | retrieval top-1 (chance) | " + " | ".join(names) + " |",
             "|---|---:|---:|---|" + "---:|" * len(names)]
    for row in rows:
        lines.append(f"| {row['name']} | {row.get('seed', '–')} | {row.get('train_seconds', '–')} | "
                     f"{row.get('retrieval', '–')} | "
                     + " | ".join(f"{np.mean(row['scores'][n]):.3f}" for n in names) + " |")
    pilots = [row for row in rows if row["name"] in PILOTS]
    references = [row for row in rows if row["name"] not in PILOTS]
    if pilots:
        lines += ["", "Paired differences (mean over folds [95% t interval]):", "",
                  "| comparison | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        pairs = [(a, b) for i, a in enumerate(pilots) for b in pilots[i + 1:]]
        pairs += [(a, b) for a in pilots for b in references]
        for a, b in pairs:
            label = f"{a['name']} (seed {a['seed']}) - {b['name']}" + (f" (seed {b['seed']})" if "seed" in b else "")
            lines.append(f"| {label} | " + " | ".join(paired(a["scores"][n], b["scores"][n]) for n in names) + " |")
    if settings.get("decision"):
        lines += ["", settings["decision"]]
    text = "\n".join(lines) + "\n"
    atomic_write(RESULTS / "recipe_pilots.md", lambda path: path.write_text(text))
    write_json_atomically(RESULTS / "recipe_pilots.json", {"settings": settings, "rows": rows})
    print(text, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="built with --all-real --hold-out-genes 0.2")
    parser.add_argument("--config", type=Path, default=ROOT / "training" / "configs" / "isoclr_s_release.yaml")
    parser.add_argument("--work", type=Path, default=Path("runs/recipe_pilots"))
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=64, help="global pairs per step")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seeds", default="0", help="pretraining seeds, comma-separated")
    parser.add_argument("--utr-examples", type=int, default=6000)
    parser.add_argument("--only", action="append", default=None, help="run only these pilots (repeatable)")
    parser.add_argument("--no-references", action="store_true", help="skip the untrained and k-mer rows")
    args = parser.parse_args()
    validation = validation_sets(args.corpus, args.utr_examples)
    summary_path = args.corpus / "build_summary.json"
    corpus_note = "see its card"
    if summary_path.is_file():
        built = json.loads(summary_path.read_text())
        corpus_note = f"{built['sets']:,} gene sets, {built['transcripts']:,} transcripts"
    settings = {"cpu": cpu_description(), "torch": torch.__version__, "steps": args.steps, "batch": args.batch,
                "processes": args.processes, "config": str(args.config), "corpus": str(args.corpus),
                "corpus_note": corpus_note,
                "command": "python benchmarks/recipe_pilots.py " + shlex.join(sys.argv[1:]),
                "validation": {name: len(entry["index"]) for name, entry in validation.items()}}
    saved = RESULTS / "recipe_pilots.json"
    rows = json.loads(saved.read_text())["rows"] if saved.is_file() and args.only else []

    def score(folder_or_features) -> dict[str, list[float]]:
        result = {}
        for name, entry in validation.items():
            features = (entry["features"] if isinstance(folder_or_features, str)
                        else embed(folder_or_features, entry["records"], os.cpu_count() or 1))
            result[name] = fold_scores(features, entry["labels"], entry["folds"])
        return result

    for seed in [int(s) for s in args.seeds.split(",")]:
        for name, overrides in PILOTS.items():
            if args.only and name not in args.only:
                continue
            folder, summary = pretrain(name, overrides, args, seed)
            row = {"name": name, "seed": seed, "overrides": overrides,
                   "train_seconds": round(summary.get("train_seconds", float("nan")), 1),
                   "retrieval": (f"{summary['retrieval_end']:.3f} ({summary['retrieval_chance']:.3f})"
                                 if "retrieval_end" in summary else "n/a"),
                   "scores": score(folder)}
            rows = [r for r in rows if (r["name"], r.get("seed")) != (name, seed)] + [row]
            write(rows, settings)
    if not args.no_references:
        config = IsoCLRConfig.from_preset("isoclr-s", projection_hidden_size=512, projection_dim=128)
        torch.manual_seed(0)
        folder = args.work / "untrained"
        IsoCLRModel(config).save_pretrained(folder)
        IsoCLRTokenizer.from_model_config(config).save_pretrained(folder)
        for entry in validation.values():
            entry["features"] = sequence_features(entry["records"])
        rows = [r for r in rows if r["name"] in PILOTS]
        rows.append({"name": "untrained isoclr-s (init seed 0)", "scores": score(folder)})
        rows.append({"name": "k-mer ridge (1-6-mers, length, GC, per region)", "scores": score("kmer")})
        write(rows, settings)


if __name__ == "__main__":
    main()
