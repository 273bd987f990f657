"""Push an IsoCLR model folder to the Hugging Face Hub in one commit."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from huggingface_hub import CommitInfo, HfApi

from ..models.isoclr.configuration_isoclr import IsoCLRConfig
from ..models.isoclr.modeling_isoclr import IsoCLRForSequenceClassification, IsoCLRModel
from ..models.isoclr.tokenization_isoclr import IsoCLRTokenizer
from .cards import CardDetails
from .package import prepare_model_folder


def load_saved_model(path: str | Path) -> tuple[IsoCLRModel | IsoCLRForSequenceClassification, IsoCLRTokenizer]:
    """Load a model saved with ``save_pretrained`` (encoder, head or contrastive checkpoint) and its tokenizer.

    A head (``IsoCLRForSequenceClassification`` in ``architectures``) loads as a head; anything else as the
    encoder. Without tokenizer files the default tokenizer for the config's ``max_sequence_length`` is used.
    """
    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} has no config.json; pass a folder written by save_pretrained.")
    config = IsoCLRConfig.from_pretrained(folder)
    architectures = config.architectures or []
    model_class = IsoCLRForSequenceClassification if "IsoCLRForSequenceClassification" in architectures else IsoCLRModel
    model = model_class.from_pretrained(folder).eval()
    if (folder / "tokenizer_config.json").is_file():
        tokenizer = IsoCLRTokenizer.from_pretrained(folder)
    else:
        tokenizer = IsoCLRTokenizer.from_model_config(config)
    return model, tokenizer


def push_model_folder(
    model_path: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    card: CardDetails | None = None,
    evaluation_report: str | Path | dict[str, Any] | None = None,
    commit_message: str | None = None,
    token: str | None = None,
    api: HfApi | None = None,
) -> CommitInfo:
    """Prepare a publishable folder from a saved model and upload it to ``repo_id`` as one commit.

    The commit holds the safetensors weights, ``config.json`` (with ``auto_map`` and ``custom_pipelines``),
    the remote code, the tokenizer files and the README.md card.

    Args:
        model_path: Folder written by ``save_pretrained`` (encoder, head or contrastive checkpoint).
        repo_id: ``ORG/NAME`` on the Hub; created if it does not exist.
        private: Create the repository as private.
        revision: Branch to commit to (created from main if missing); ``None`` for main.
        card: Card details; the repo id is filled in when left at the placeholder.
        evaluation_report: ``isoclr evaluate``'s report.json for the card's model-index.
        commit_message: Commit title; a default names the model class.
        token: Hub token (defaults to the logged-in one).
        api: An ``HfApi`` to use (tests pass one with their own endpoint).

    Returns:
        The ``CommitInfo`` of the one commit.
    """
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"--repo-id must look like ORG/NAME, got {repo_id!r}.")
    model, tokenizer = load_saved_model(model_path)
    card = card or CardDetails()
    if card.repo_id == CardDetails.repo_id:
        card.repo_id = repo_id
    api = api or HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="isoclr-push-") as staging:
        folder = prepare_model_folder(model, tokenizer, staging, card=card, evaluation_report=evaluation_report)
        api.create_repo(repo_id, private=private or None, exist_ok=True, repo_type="model")
        if revision is not None and revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type="model")
        architecture = json.loads((folder / "config.json").read_text(encoding="utf-8"))["architectures"][0]
        return api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            revision=revision,
            repo_type="model",
            commit_message=commit_message or f"Upload {architecture} with isoclr push",
        )


__all__ = ["load_saved_model", "push_model_folder"]
