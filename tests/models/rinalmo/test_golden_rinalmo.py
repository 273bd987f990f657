"""RiNALMo conversion: the reference converted by ``isoclr convert`` reproduces multimolecule's outputs within 1e-5.

The multimolecule folder (tests/fixtures/mlm/rinalmo) and the same weights in the authors' ``.pt`` layout are
converted, then loaded through AutoTokenizer/AutoModel/AutoModelForMaskedLM with ``trust_remote_code=True`` in a
Python that cannot import this package (this venv's transformers and each compatibility venv's). Nothing of the
reference is read but its files, so the sizes come from them: the check holds for any size.
"""

from __future__ import annotations

import argparse
from pathlib import Path, PurePosixPath

import pytest
import torch
from safetensors.torch import load_file, save_file

from isoclr_hf.cli.convert import convert
from isoclr_hf.models.rinalmo.conversion_rinalmo import ORIGINAL_VOCABULARY, MaskedLMConversionError
from tests.models.isoclr.test_supported_transformers import VERSIONS, compat_python
from tests.models.mlm_families import FIXTURES, check_golden, original_checkpoint

FAMILY = "rinalmo"


@pytest.mark.slow
@pytest.mark.parametrize("version", ["this venv", *VERSIONS])
def test_converted_multimolecule_folder_reproduces_the_reference(version: str, tmp_path: Path) -> None:
    python = None if version == "this venv" else compat_python(version)
    family, folder = convert(FIXTURES / FAMILY, tmp_path / "converted")
    assert family == FAMILY
    printed = check_golden(FAMILY, folder, tmp_path / "child", python)
    if version != "this venv":
        assert printed["version"] == version


@pytest.mark.slow
def test_converted_original_checkpoint_reproduces_the_reference(tmp_path: Path) -> None:
    """The authors' layout (query/key/value packed in Wqkv, 20 heads unless told): hidden states within 1e-5;
    logits of the tokens RiNALMo's vocabulary has (tokens it lacks read as its ``<unk>``)."""
    path = original_checkpoint(FAMILY, tmp_path / "rinalmo_micro_pretrained.pt")
    with pytest.raises(
        MaskedLMConversionError, match=r"hidden_size \(64\) must be a multiple of num_attention_heads \(20\)"
    ):
        convert(path, tmp_path / "twenty_heads")  # the reference has 4 heads, which the file does not say
    family, folder = convert(path, tmp_path / "converted", num_attention_heads=4)
    assert family == FAMILY and "lm_head.decoder.weight" in load_file(folder / "model.safetensors")
    check_golden(FAMILY, folder, tmp_path / "child", None, logit_tokens=tuple(sorted(set(ORIGINAL_VOCABULARY))))


def test_wrong_family_missing_extra_and_misshapen_keys_are_named(tmp_path: Path) -> None:
    source = tmp_path / "mm"
    source.mkdir()
    for name in ("config.json", "vocab.txt", "tokenizer_config.json"):
        (source / name).write_bytes((FIXTURES / FAMILY / name).read_bytes())
    state = load_file(FIXTURES / FAMILY / "model.safetensors")

    def attempt(weights: dict[str, torch.Tensor], pattern: str, out: str) -> None:
        save_file(weights, source / "model.safetensors")
        with pytest.raises(MaskedLMConversionError, match=pattern):
            convert(source, tmp_path / out)

    missing = {k: v for k, v in state.items() if k != "model.encoder.layer.1.output.dense.bias"}
    attempt(missing, r"1 weights missing for hidden_size=64, num_hidden_layers=2.*rinalmo\.encoder\.layer\.1\.output"
                     r"\.dense\.bias", "a")  # fmt: skip
    attempt(
        {**state, "model.encoder.layer.2.output.dense.bias": torch.zeros(64)},
        r"1 unexpected weights .*rinalmo\.encoder\.layer\.2\.output\.dense\.bias",
        "b",
    )
    attempt({**state, "model.encoder.layer.0.intermediate.linear.weight": torch.zeros(100, 64)},
            r"rinalmo\.encoder\.layer\.0\.intermediate\.linear\.weight has shape \(100, 64\) but "
            r".*intermediate_size=128.* "
            r"needs \(128, 64\)", "c")  # fmt: skip
    save_file(state, source / "model.safetensors")
    (source / "config.json").write_text(
        (FIXTURES / "rinalmo" / "config.json").read_text().replace('"rinalmo"', '"bert"')
    )
    with pytest.raises(MaskedLMConversionError, match=r"model_type 'bert' is not one this command converts"):
        convert(source, tmp_path / "d")
    (source / "config.json").write_text(
        (FIXTURES / FAMILY / "config.json").read_text().replace('"vocab_size": 28', '"vocab_size": 25')
    )
    with pytest.raises(MaskedLMConversionError, match=r"config\.json: vocab_size is 25; a RiNALMo checkpoint"):
        convert(source, tmp_path / "e")
    with pytest.raises(FileExistsError, match="already exists and is not empty"):
        convert(FIXTURES / FAMILY, FIXTURES / FAMILY)


def test_original_checkpoint_errors_are_named(tmp_path: Path) -> None:
    path = original_checkpoint(FAMILY, tmp_path / "rinalmo.pt")
    checkpoint = torch.load(path, weights_only=True)
    del checkpoint["transformer.blocks.1.transition.2.weight"]
    torch.save(checkpoint, tmp_path / "broken.pth")
    with pytest.raises(
        MaskedLMConversionError, match=r"weights missing .*rinalmo\.encoder\.layer\.1\.output\.dense\.weight"
    ):
        convert(tmp_path / "broken.pth", tmp_path / "a", num_attention_heads=4)
    torch.save({"args": argparse.Namespace(), "model": {"something.weight": torch.zeros(2)}}, tmp_path / "other.pth")
    with pytest.raises(MaskedLMConversionError, match="not a checkpoint this command knows"):
        convert(tmp_path / "other.pth", tmp_path / "b")
    torch.save({"args": PurePosixPath("code")}, tmp_path / "code.pth")  # a class weights_only does not allow
    with pytest.raises(
        MaskedLMConversionError, match=r"cannot be read as tensors with torch.load\(weights_only=True\)"
    ):
        convert(tmp_path / "code.pth", tmp_path / "c")
