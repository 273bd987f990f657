"""Push a saved model to the Hugging Face Hub: weights, config, remote code, tokenizer, pipelines and card.

Uploads one commit to ORG/NAME holding safetensors weights, config.json (auto_map, custom_pipelines),
the remote-code files, the tokenizer and a README.md model card rendered from the model's own outputs
and, with --evaluation-report, the figures `isoclr evaluate` measured.

Example:
    isoclr push --model runs/half-life/best --repo-id my-lab/isoclr-s-half-life \\
        --evaluation-report reports/half-life/report.json --base-model my-lab/isoclr-s
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..evaluation.loading import read_config_dict, resolve_model_path
from ..hub.cards import CardDetails
from ..hub.push import push_model_folder


def _markdown(path: Path | None) -> str | None:
    return None if path is None else path.read_text(encoding="utf-8")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, type=Path,
                        help="Folder written by save_pretrained or `isoclr evaluate` (DIR/head); a training run "
                             "folder means its final/.")
    parser.add_argument("--repo-id", required=True, help="Hub repository, ORG/NAME (created if missing).")
    parser.add_argument("--private", action="store_true", help="Create the repository as private.")
    parser.add_argument("--revision", default=None, help="Branch to commit to (main when not given).")
    parser.add_argument("--evaluation-report", type=Path, default=None,
                        help="report.json of `isoclr evaluate`, for the card's model-index.")
    parser.add_argument("--license", default="mit", help="License id for the card.")
    parser.add_argument("--dataset", action="append", default=[], help="Hub dataset id trained on (repeatable).")
    parser.add_argument("--base-model", default=None, help="Hub id of the encoder a head was fine-tuned from.")
    parser.add_argument("--training-data", type=Path, default=None, help="Markdown file describing the data.")
    parser.add_argument("--training-procedure", type=Path, default=None,
                        help="Markdown file describing the training procedure.")
    parser.add_argument("--commit-message", default=None, help="Commit title.")
    parser.add_argument("--token", default=None, help="Hub token (the logged-in one when not given).")


def run(args: argparse.Namespace) -> int:
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
