"""Push a saved model or a pretraining corpus to the Hugging Face Hub, in one commit.

--model: a model repository holding safetensors weights, config.json (auto_map, custom_pipelines),
the remote-code files, the tokenizer and a README.md model card rendered from the model's own
outputs and, with --evaluation-report, the figures `isoclr evaluate` measured.

--corpus: a dataset repository holding the Parquet splits and the card of a folder written by
`isoclr build-corpus`; `datasets.load_dataset("ORG/NAME")` reads it back with its splits.

Examples:
    isoclr push --model runs/half-life/best --repo-id my-lab/isoclr-s-half-life \\
        --evaluation-report reports/half-life/report.json --base-model my-lab/isoclr-s
    isoclr push --corpus corpora/human-mouse --repo-id my-lab/isoclr-gene-sets
"""

from __future__ import annotations

import argparse
from pathlib import Path

# The Hub and model modules (torch, transformers, datasets) are imported in run(): `isoclr push --help` and a
# bad command line are answered without them.


def _markdown(path: Path | None) -> str | None:
    return None if path is None else path.read_text(encoding="utf-8")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--model", type=Path,
                        help="Folder written by save_pretrained or `isoclr evaluate` (DIR/head); a training run "
                             "folder means its final/.")
    target.add_argument("--corpus", type=Path,
                        help="Folder written by `isoclr build-corpus` (data/*.parquet and README.md), pushed as a "
                             "dataset repository.")
    parser.add_argument("--repo-id", required=True, help="Hub repository, ORG/NAME (created if missing).")
    parser.add_argument("--private", action="store_true", help="Create the repository as private.")
    parser.add_argument("--revision", default=None, help="Branch to commit to (main when not given).")
    parser.add_argument("--evaluation-report", type=Path, default=None,
                        help="report.json of `isoclr evaluate`, for the card's model-index.")
    parser.add_argument("--license", default="mit", help="License id for the model card (a corpus card keeps the "
                                                          "licenses of its sources).")
    parser.add_argument("--dataset", action="append", default=[], help="Hub dataset id trained on (repeatable).")
    parser.add_argument("--base-model", default=None, help="Hub id of the encoder a head was fine-tuned from.")
    parser.add_argument("--training-data", type=Path, default=None, help="Markdown file describing the data.")
    parser.add_argument("--training-procedure", type=Path, default=None,
                        help="Markdown file describing the training procedure.")
    parser.add_argument("--commit-message", default=None, help="Commit title.")
    parser.add_argument("--token", default=None, help="Hub token (the logged-in one when not given).")


# Options that describe a model card; a corpus folder brings its own card.
MODEL_CARD_OPTIONS = ("evaluation_report", "dataset", "base_model", "training_data", "training_procedure")


def run(args: argparse.Namespace) -> int:
    from ..corpus.hub import is_corpus_folder
    from ..hub.cards import CardDetails
    from ..hub.push import push_model_folder
    from ..loading import read_config_dict, resolve_model_path

    if args.corpus is not None:
        return push_corpus(args)
    if is_corpus_folder(args.model) and not (args.model / "config.json").is_file():
        raise ValueError(f"{args.model} is a corpus folder (data/*.parquet, README.md), not a model: "
                         "push it with --corpus.")
    model = resolve_model_path(args.model, announce=print)  # a local folder: a Path is never a Hub id
    read_config_dict(model)  # a folder without config.json is named before anything is uploaded
    defaults = CardDetails()
    card = CardDetails(
        repo_id=args.repo_id,
        license=args.license,
        datasets=list(args.dataset),
        base_model=args.base_model,
        training_data=_markdown(args.training_data) or defaults.training_data,
        training_procedure=_markdown(args.training_procedure) or defaults.training_procedure,
    )
    commit = push_model_folder(
        model,
        args.repo_id,
        private=args.private,
        revision=args.revision,
        card=card,
        evaluation_report=args.evaluation_report,
        commit_message=args.commit_message,
        token=args.token,
    )
    print(f"Pushed {model} to {args.repo_id} ({args.revision or 'main'}): {commit.commit_url}")
    return 0


def push_corpus(args: argparse.Namespace) -> int:
    """Push a ``build-corpus`` folder as a dataset repository; model-card options are refused."""
    from ..corpus.hub import push_corpus_to_hub

    given = [f"--{name.replace('_', '-')}" for name in MODEL_CARD_OPTIONS if getattr(args, name)]
    if given:
        raise ValueError(f"{', '.join(given)} describe a model card; a corpus folder brings its own card "
                         f"({args.corpus / 'README.md'}).")
    commit_url = push_corpus_to_hub(
        args.corpus,
        args.repo_id,
        token=args.token,
        private=args.private,
        revision=args.revision,
        commit_message=args.commit_message,
    )
    print(f"Pushed corpus {args.corpus} to dataset {args.repo_id} ({args.revision or 'main'}): {commit_url}")
    return 0
