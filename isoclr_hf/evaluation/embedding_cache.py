"""Embeddings cached on disk across runs: embed a task's sequences once per model, probe many times.

``isoclr evaluate`` embeds every example of a task with the pretrained encoder and with the
random-init control. The embeddings depend only on the model, the sequences and the tokenizer, so
they are kept in ``~/.cache/isoclr_hf/embeddings`` (``$XDG_CACHE_HOME/isoclr_hf/embeddings`` where
that is set; ``--cache-dir`` elsewhere, ``--no-cache`` for none) and a second run on the same model
and task does not run the model at all.

The key is a SHA-256 over everything an embedding depends on:

- the model: ``config.json`` and the bytes of the weight files (``pretrained``); for the
  random-init control ``config.json``, the initialisation seed and the versions of torch and this
  package (the initialisation code), since it has no weight file;
- the role (``pretrained`` / ``random_init``);
- the task: its name and a hash of every record's sequence, exon ends and CDS, in order (so a
  subsample, a changed file or a new reader gives a new key);
- the tokenizer: its class and init settings (``model_max_length``, ...) and the truncation rule;
- :data:`CACHE_FORMAT`, bumped when the embedding code changes what it returns.

A file is ``<task>-<role>-<key prefix>.npz`` holding the full key and the embeddings; it is written
atomically (:func:`isoclr_hf.atomic_files.atomic_write`). A file that cannot be read, or whose key,
shape or values do not fit (corrupt, truncated, from another model), is ignored with a warning and
recomputed.
"""

from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .. import __version__
from ..annotations.records import TranscriptRecord
from ..atomic_files import atomic_write
from ..inference import embed_records
from .defaults import default_cache_dir

CACHE_FORMAT = 1
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
_CHUNK = 1 << 20


def _update_with_file(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)


def model_fingerprint(model_path: Path, role: str, init_seed: int) -> str:
    """SHA-256 of what the ``role`` encoder's weights come from (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update((model_path / "config.json").read_bytes())
    if role == "pretrained":
        files = sorted(p for p in model_path.iterdir() if p.name in WEIGHT_FILES or
                       (p.suffix == ".safetensors" and p.name.startswith("model-")))
        for path in files:
            digest.update(path.name.encode())
            _update_with_file(digest, path)
    else:
        digest.update(f"{role} seed={init_seed} torch={torch.__version__} isoclr_hf={__version__}".encode())
    return digest.hexdigest()


def records_fingerprint(records: Sequence[TranscriptRecord]) -> str:
    """SHA-256 of every record's sequence, exon ends and CDS, in order."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(record.sequence.encode("ascii", "replace"))
        digest.update(f"|{record.exon_ends}|{record.cds_start}|{record.cds_end}\n".encode())
    return digest.hexdigest()


def tokenizer_fingerprint(tokenizer: PreTrainedTokenizerBase, *, truncation: bool) -> str:
    """The tokenizer's class and init settings, and the truncation rule, as text."""
    settings = {k: v for k, v in sorted(tokenizer.init_kwargs.items()) if not k.startswith("name_or_path")}
    return json.dumps({"class": type(tokenizer).__name__, "settings": settings,
                       "model_max_length": tokenizer.model_max_length, "truncation": truncation},
                      sort_keys=True, default=str)


def cache_key(model_path: Path, role: str, init_seed: int, task_name: str, records: Sequence[TranscriptRecord],
              tokenizer: PreTrainedTokenizerBase, *, truncation: bool = True) -> str:
    """The SHA-256 key of one embedding matrix (see the module docstring)."""
    parts = [f"format={CACHE_FORMAT}", model_fingerprint(model_path, role, init_seed), role, task_name,
             records_fingerprint(records), tokenizer_fingerprint(tokenizer, truncation=truncation)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def cache_path(cache_dir: Path, task_name: str, role: str, key: str) -> Path:
    """Where the embeddings of ``key`` live."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in task_name)
    return cache_dir / f"{safe}-{role}-{key[:20]}.npz"


def read_cached(path: Path, key: str, shape: tuple[int, int]) -> np.ndarray | None:
    """The cached embeddings at ``path`` if they fit ``key`` and ``shape``; ``None`` (and a warning) otherwise."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            stored_key, embeddings = str(stored["key"]), np.asarray(stored["embeddings"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        warnings.warn(f"{path}: unreadable embedding cache ({type(error).__name__}: {error}); recomputing.",
                      stacklevel=2)
        return None
    problem = None
    if stored_key != key:
        problem = "its key does not match this model, task and tokenizer"
    elif embeddings.shape != shape or embeddings.dtype != np.float32:
        problem = f"shape {embeddings.shape} {embeddings.dtype}, expected {shape} float32"
    elif not np.all(np.isfinite(embeddings)):
        problem = "it holds NaN or infinite values"
    if problem:
        warnings.warn(f"{path}: stale embedding cache ({problem}); recomputing.", stacklevel=2)
        return None
    return embeddings


def write_cached(path: Path, key: str, embeddings: np.ndarray) -> None:
    """Store ``embeddings`` under ``key``, atomically."""
    def write(temporary: Path) -> None:
        with temporary.open("wb") as handle:
            np.savez(handle, key=np.asarray(key), embeddings=embeddings.astype(np.float32))

    atomic_write(path, write)


def cached_embeddings(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: Sequence[TranscriptRecord],
    *,
    model_path: Path,
    role: str,
    task_name: str,
    init_seed: int = 0,
    cache_dir: Path | None = None,
    batch_size: int = 64,
    progress: bool = True,
    announce: Callable[[str], object] | None = None,
) -> np.ndarray:
    """Embeddings of ``records`` (5' end kept for long ones), from the cache when it holds them.

    Args:
        model: The encoder to run on a cache miss.
        tokenizer: Its tokenizer.
        records: The task's examples, in order.
        model_path: The model folder (its config and weights make the key).
        role: ``pretrained`` or ``random_init`` (``model`` is then the seeded fresh initialisation).
        task_name: The task's name (part of the key and the file name).
        init_seed: Seed of the random initialisation (part of the key for ``random_init``).
        cache_dir: The cache folder; ``None``: no cache (always embed, write nothing).
        batch_size: Most transcripts per forward pass.
        progress: Show a progress bar while embedding.
        announce: Called with a sentence on a cache hit.

    Returns:
        Shape: (len(records), hidden_size), float32.
    """
    def embed() -> np.ndarray:
        return embed_records(model, tokenizer, list(records), batch_size=batch_size, progress=progress,
                             truncation=True, description=f"embedding {task_name} ({role})")

    if cache_dir is None:
        return embed()
    key = cache_key(Path(model_path), role, init_seed, task_name, records, tokenizer)
    path = cache_path(Path(cache_dir), task_name, role, key)
    found = read_cached(path, key, (len(records), int(model.config.hidden_size)))
    if found is not None:
        if announce is not None:
            announce(f"{role} embeddings of {task_name} ({len(records)} examples) from the cache: {path}")
        return found
    embeddings = embed()
    try:
        write_cached(path, key, embeddings)
    except OSError as error:  # a read-only or full disk costs the next run time, not this one its result
        warnings.warn(f"{path}: could not write the embedding cache ({error}).", stacklevel=2)
    return embeddings


__all__ = ["CACHE_FORMAT", "cache_key", "cache_path", "cached_embeddings", "default_cache_dir", "model_fingerprint",
           "read_cached", "records_fingerprint", "tokenizer_fingerprint", "write_cached"]
