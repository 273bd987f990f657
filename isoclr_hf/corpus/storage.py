"""Writing and reading a corpus folder, atomically.

Layout of a corpus folder::

    DIR/dataset_dict.json, DIR/{train,validation,test}/   DatasetDict.save_to_disk (load_corpus reads it)
    DIR/data/{split}-00000-of-00001.parquet              the same rows as Parquet (what the Hub serves)
    DIR/README.md                                        the dataset card
    DIR/build_summary.json                               counts and skip reasons of the build

Everything is written into a temporary folder beside ``DIR`` and renamed into place at the end, so a
build that fails or is interrupted leaves no partial corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import datasets
from huggingface_hub import DatasetCard

from .splits import SPLIT_NAMES


def parquet_path(split: str) -> str:
    """Path of a split's Parquet file inside a corpus folder (the Hub's ``data/{split}-*`` pattern)."""
    return f"data/{split}-00000-of-00001.parquet"


def save_corpus(
    corpus: datasets.DatasetDict,
    out_dir: str | os.PathLike[str],
    *,
    card: DatasetCard | None = None,
    summary: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``corpus`` to ``out_dir`` (save_to_disk + Parquet + card + summary), atomically.

    Raises:
        FileExistsError: ``out_dir`` exists and ``overwrite`` is False.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} already exists; choose another --out or pass --overwrite")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the corpus folder should not be
    try:
        # An empty split (a small corpus) gets one empty shard: datasets writes none by default, and
        # load_from_disk then fails on the folder.
        corpus.save_to_disk(str(staging), num_shards={name: 1 for name, split in corpus.items() if len(split) == 0})
        for split, dataset in corpus.items():
            (staging / parquet_path(split)).parent.mkdir(exist_ok=True)
            dataset.to_parquet(str(staging / parquet_path(split)))
        if card is not None:
            card.save(str(staging / "README.md"))
        if summary is not None:
            (staging / "build_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        if out_dir.exists():
            previous = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".replaced", dir=out_dir.parent))
            out_dir.replace(previous)
            os.replace(staging, out_dir)
            shutil.rmtree(previous)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


class CorpusError(ValueError):
    """A corpus folder with a missing or damaged file, or without a needed split; the message names which."""


def check_corpus_files(path: Path) -> None:
    """Refuse a corpus folder with a missing ``state.json``/``dataset_info.json``, or a missing or damaged shard.

    Every Arrow shard listed in a split's ``state.json`` is opened and read through a memory map (no copy),
    so a truncated file is named here instead of failing inside ``datasets`` with a raw pyarrow error; so
    is a split that lists no shard at all (``datasets.load_from_disk`` fails on it with an IndexError).

    Raises:
        CorpusError: naming the file and the problem.
    """
    import pyarrow as pa

    rebuild = f"rebuild the corpus with `isoclr build-corpus` (the corpus at {path} is damaged)"
    try:
        splits = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8"))["splits"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CorpusError(f"{path / 'dataset_dict.json'}: not readable ({error}); {rebuild}") from None
    for split in splits:
        folder = path / str(split)
        for name in ("state.json", "dataset_info.json"):
            if not (folder / name).is_file():
                raise CorpusError(f"{folder / name}: missing (split {split!r}); {rebuild}")
        try:
            shards = [entry["filename"] for entry in json.loads((folder / "state.json").read_text())["_data_files"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CorpusError(f"{folder / 'state.json'}: not readable ({error}); {rebuild}") from None
        for shard in shards:
            file = folder / shard
            if not file.is_file():
                raise CorpusError(f"{file}: missing Arrow shard of split {split!r} (listed in state.json); {rebuild}")
            try:
                with pa.memory_map(str(file)) as source:
                    pa.ipc.open_stream(source).read_all()
            except (pa.ArrowInvalid, OSError) as error:
                raise CorpusError(f"{file}: damaged Arrow shard of split {split!r} ({error}); {rebuild}") from None
        if not shards:  # an empty split written without a shard: datasets cannot open it (save_corpus writes one)
            raise CorpusError(f"{folder / 'state.json'}: split {split!r} lists no Arrow shard; {rebuild}")


def load_corpus(path: str | os.PathLike[str]) -> datasets.DatasetDict:
    """Load a corpus folder written by :func:`save_corpus` (``isoclr build-corpus``).

    Returns:
        ``DatasetDict`` with ``train``, ``validation`` and ``test``; one row per gene set.

    Raises:
        FileNotFoundError: not a corpus folder (no ``dataset_dict.json``).
        CorpusError: a missing or damaged file (named), or a missing split.
    """
    path = Path(path)
    if not (path / "dataset_dict.json").is_file():
        raise FileNotFoundError(
            f"{path} is not a corpus folder (no dataset_dict.json); build one with isoclr build-corpus"
        )
    check_corpus_files(path)
    corpus = datasets.load_from_disk(str(path))
    missing = [name for name in SPLIT_NAMES if name not in corpus]
    if not isinstance(corpus, datasets.DatasetDict) or missing:
        raise CorpusError(f"{path}: corpus lacks the split(s) {', '.join(missing)}")
    return corpus
