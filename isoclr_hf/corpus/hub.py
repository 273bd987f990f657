"""Publishing a corpus folder as a Hub dataset repository.

What goes up is the folder's Parquet export (``data/{split}-00000-of-00001.parquet``) and its card
(``README.md``, whose ``configs`` block maps the files to the splits), in one commit through
``huggingface_hub.HfApi.create_commit``. ``load_dataset(repo_id)`` then reads it with its splits.
On the command line: ``isoclr push --corpus DIR --repo-id ORG/NAME``.
"""

from __future__ import annotations

import os
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi


def is_corpus_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a corpus written by ``isoclr build-corpus`` (Parquet splits and a card)."""
    folder = Path(path)
    return (folder / "README.md").is_file() and any(folder.glob("data/*.parquet"))


def push_corpus_to_hub(
    corpus_dir: str | os.PathLike[str],
    repo_id: str,
    *,
    token: str | None = None,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    api: HfApi | None = None,
) -> str:
    """Upload a corpus folder written by ``isoclr build-corpus`` to the dataset repo ``repo_id``.

    Args:
        corpus_dir: Folder with ``data/*.parquet`` and ``README.md``.
        repo_id: ``user/name`` of the dataset repository (created if needed).
        token: Hub token (default: the logged-in one).
        private: Create the repository as private.
        revision: Branch to commit to (created from main if missing); ``None`` for main.
        commit_message: Title of the commit (default: "Upload IsoCLR gene-set corpus").
        api: An ``HfApi`` to use (default: a new one with ``token``).

    Returns:
        The URL of the commit.

    Raises:
        FileNotFoundError: The folder has no Parquet export or no card.
        ValueError: ``repo_id`` is not ``ORG/NAME``.
    """
    corpus_dir = Path(corpus_dir)
    if not is_corpus_folder(corpus_dir):
        raise FileNotFoundError(
            f"{corpus_dir} has no data/*.parquet or README.md: push a folder written by isoclr build-corpus"
        )
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"--repo-id must look like ORG/NAME, got {repo_id!r}.")
    files = sorted(corpus_dir.glob("data/*.parquet"))
    operations = [
        CommitOperationAdd(path_in_repo=path.relative_to(corpus_dir).as_posix(), path_or_fileobj=str(path))
        for path in [corpus_dir / "README.md", *files]
    ]
    api = api or HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if revision is not None and revision != "main":
        api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type="dataset")
    commit = api.create_commit(
        repo_id=repo_id,
        repo_type="dataset",
        operations=operations,
        revision=revision,
        commit_message=commit_message or "Upload IsoCLR gene-set corpus",
    )
    return str(getattr(commit, "commit_url", commit))


__all__ = ["is_corpus_folder", "push_corpus_to_hub"]
