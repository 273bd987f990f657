"""A run stopped and resumed from its checkpoint ends with the weights of an uninterrupted run."""

from __future__ import annotations

from pathlib import Path

import pretrain
import pytest
import torch
from safetensors.torch import load_file

from tests.training.tiny_corpus import tiny_run_arguments


@pytest.mark.slow
def test_resumed_run_matches_an_uninterrupted_run(tiny_corpus_path: Path, tmp_path: Path) -> None:
    # 48 gene sets / 8 pairs = 6 micro-batches = 3 optimizer steps an epoch with accumulation 2:
    # stopping after step 2 resumes mid-epoch, and step 5 is in the second epoch. Masking and
    # dropout are on, so the RNG states must be restored too.
    settings = {"max_steps": 5, "gradient_accumulation_steps": 2}
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    pretrain.main(tiny_run_arguments(tiny_corpus_path, straight, **settings))
    partial = pretrain.main(tiny_run_arguments(tiny_corpus_path, interrupted, stop_after_steps=2, **settings))
    assert partial["steps"] == 2 and not (interrupted / "final").exists()
    resumed = pretrain.main(tiny_run_arguments(tiny_corpus_path, interrupted, resume_from_checkpoint="latest",
                                               **settings))
    assert resumed["steps"] == 5

    expected = load_file(straight / "final" / "model.safetensors")
    actual = load_file(interrupted / "final" / "model.safetensors")
    assert expected.keys() == actual.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], atol=1e-6, rtol=1e-5, msg=name)
    # Not trivially equal: training moved the weights.
    initial = pretrain.build_model(pretrain.parse_args(tiny_run_arguments(tiny_corpus_path, tmp_path)))
    moved = initial.isoclr.state_dict()["encoder.stem_conv.weight"]
    assert not torch.allclose(moved, expected["encoder.stem_conv.weight"])


def test_resume_from_a_missing_folder_is_an_error(tiny_corpus_path: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        pretrain.main(tiny_run_arguments(tiny_corpus_path, tmp_path, resume_from_checkpoint=str(tmp_path / "nope")))
