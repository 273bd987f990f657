"""Pretraining on a damaged corpus: one line naming the file or split, exit code 2 (issue 21, item 6)."""

from __future__ import annotations

import runpy
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from isoclr_hf.corpus.storage import save_corpus
from tests.pretraining.tiny_corpus import make_corpus, tiny_run_arguments

REPOSITORY = Path(__file__).resolve().parents[2]


def _pretrain_main() -> Callable[[list[str]], int]:
    return runpy.run_path(str(REPOSITORY / "training" / "pretrain.py"))["main"]


def _corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str], empty_train: bool = False) -> Path:
    path = tmp_path / "corpus"
    corpus = make_corpus({"train": 6, "validation": 2, "test": 2})
    if empty_train:  # as `isoclr build-corpus` writes it (save_corpus): the columns, no rows
        corpus["train"] = corpus["train"].select([])
        save_corpus(corpus, path)
    else:
        corpus.save_to_disk(str(path))
    capsys.readouterr()  # the save's progress bars
    return path


def _truncate(file: Path) -> None:
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])


DAMAGES = {
    "missing shard": (lambda c: (c / "train" / "data-00000-of-00001.arrow").unlink(),
                      "train/data-00000-of-00001.arrow: missing Arrow shard of split 'train'"),
    "missing state.json": (lambda c: (c / "validation" / "state.json").unlink(),
                           "validation/state.json: missing (split 'validation')"),
    "truncated shard": (lambda c: _truncate(c / "train" / "data-00000-of-00001.arrow"),
                        "train/data-00000-of-00001.arrow: damaged Arrow shard of split 'train'"),
    "no corpus": (lambda c: shutil.rmtree(c), "No corpus at"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_corpus_is_named_in_one_line_with_exit_code_2(damage: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _corpus(tmp_path, capsys)
    harm, expected = DAMAGES[damage]
    harm(corpus)
    code = _pretrain_main()(tiny_run_arguments(corpus, tmp_path / "run"))
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(error) == 1 and error[0].startswith("pretrain.py: error: ")
    assert expected in error[0] and str(corpus) in error[0]


@pytest.mark.parametrize("streaming", ["false", "true"])
def test_an_empty_train_split_is_named(streaming: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _corpus(tmp_path, capsys, empty_train=True)
    code = _pretrain_main()(tiny_run_arguments(corpus, tmp_path / "run", streaming=streaming))
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(error) == 1
    assert error[0].startswith(f"pretrain.py: error: {corpus}: the 'train' split has no gene sets, so there is "
                               "nothing to pretrain on")


def test_a_bad_setting_is_one_line_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _pretrain_main()(["--corpus", str(tmp_path), "--warmup_fraction", "1.5"])
    assert code == 2
    assert capsys.readouterr().err.strip() == "pretrain.py: error: warmup_fraction must be in [0, 1), got 1.5."
