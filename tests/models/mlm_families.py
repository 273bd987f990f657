"""What the RNA-FM and RiNALMo tests share: the contract's tester, the golden references, original-layout checkpoints.

The golden references are ``tests/fixtures/mlm/{rnafm,rinalmo}`` (multimolecule 0.2.2 folders and their
outputs; see the README there). :func:`original_checkpoint` rebuilds the same weights in the authors' own
checkpoint layouts (RNA-FM's fairseq ``.pth`` with ``args``, RiNALMo's ``.pt`` state dict), so that the
conversion of the original files is checked on the same outputs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from isoclr_hf.models.rinalmo.conversion_rinalmo import ORIGINAL_VOCABULARY as RINALMO_VOCABULARY
from isoclr_hf.models.rnafm.conversion_rnafm import ORIGINAL_VOCABULARY as RNAFM_VOCABULARY
from isoclr_hf.models.rnafm.tokenization_nucleotide import VOCABULARY, NucleotideTokenizer
from tests.models.model_contract import ModelTester

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mlm"


def perturbed(model: torch.nn.Module) -> torch.nn.Module:
    """Non-trivial LayerNorms, biases and Swish beta: a forgotten bias or padding leak would show."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith(("layer_norm.weight", ".bias", ".swish_scale")) and not name.startswith("classifier."):
                parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


class NucleotideTester(ModelTester):
    """The contract's tester for a masked-LM family; a subclass sets the classes."""

    annotation_tracks = False
    masked_lm_class: ClassVar[type]

    def config(self, **overrides: Any) -> Any:
        settings = {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 24,
                    "projection_hidden_size": 32, "projection_dim": 8, "hidden_dropout": 0.0,
                    "attention_dropout": 0.0}  # fmt: skip
        settings.update(overrides)
        return self.config_class(**settings)

    def perturb(self, model: torch.nn.Module) -> torch.nn.Module:
        return perturbed(model)

    def encode(self, sequences: list[str], **options: Any) -> dict[str, torch.Tensor]:
        return dict(NucleotideTokenizer()(sequences, return_tensors="pt", padding=True, **options))

    def save_tokenizer(self, folder: Path) -> None:
        NucleotideTokenizer().save_pretrained(folder)


def golden(family: str) -> tuple[list[str], dict[str, torch.Tensor]]:
    """The reference's sequences and outputs."""
    sequences = json.loads((FIXTURES / family / "golden.json").read_text())["sequences"]
    return sequences, load_file(FIXTURES / family / "golden_outputs.safetensors")


def original_checkpoint(family: str, path: Path) -> Path:
    """The reference weights saved in the authors' own layout: RNA-FM ``.pth`` or RiNALMo ``.pt``."""
    state = load_file(FIXTURES / family / "model.safetensors")
    config = json.loads((FIXTURES / family / "config.json").read_text())
    if family == "rnafm":
        args = argparse.Namespace(arch="roberta_large", encoder_attention_heads=config["num_attention_heads"])
        torch.save({"args": args,
                    "model": rnafm_original_state(state)}, path)  # fmt: skip
    else:
        torch.save(rinalmo_original_state(state), path)
    return path


def _unordered(rows: torch.Tensor, original: tuple[str, ...]) -> torch.Tensor:
    """28-token rows -> the original vocabulary's order (tokens it lacks get random rows, never read)."""
    out = torch.randn((len(original), *rows.shape[1:]), generator=torch.Generator().manual_seed(0))
    for index, token in enumerate(original):
        out[index] = rows[VOCABULARY.index(token)]
    return out


def rnafm_original_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """multimolecule RNA-FM names -> fairseq/ESM-1b names under ``encoder.sentence_encoder.`` (RNA-FM's .pth)."""
    renames = {"attention.self.query": "self_attn.q_proj", "attention.self.key": "self_attn.k_proj",
               "attention.self.value": "self_attn.v_proj", "attention.output.dense": "self_attn.out_proj",
               "attention.layer_norm": "self_attn_layer_norm", "intermediate.dense": "fc1",
               "output.dense": "fc2", "layer_norm": "final_layer_norm"}  # fmt: skip
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith("model.encoder.layer."):
            _, _, _, layer, rest = key.split(".", 4)
            module, parameter = rest.rsplit(".", 1)
            out[f"encoder.sentence_encoder.layers.{layer}.{renames[module]}.{parameter}"] = value
        elif key.startswith("model.encoder.layer_norm."):
            out["encoder.sentence_encoder.emb_layer_norm_after." + key.rsplit(".", 1)[1]] = value
        elif key.startswith("model.embeddings."):
            name = {"word_embeddings": "embed_tokens", "position_embeddings": "embed_positions",
                    "layer_norm": "emb_layer_norm_before"}[key.split(".")[2]]  # fmt: skip
            if name == "embed_tokens":
                value = _unordered(value, RNAFM_VOCABULARY)
            out[f"encoder.sentence_encoder.{name}.{key.rsplit('.', 1)[1]}"] = value
        elif key == "lm_head.bias":
            out["encoder.lm_head.bias"] = _unordered(value, RNAFM_VOCABULARY)
        else:  # lm_head.transform.{dense,layer_norm}.*
            out["encoder.lm_head." + key.removeprefix("lm_head.transform.")] = value
    out["encoder.lm_head.weight"] = out["encoder.sentence_encoder.embed_tokens.weight"]
    out["encoder.sentence_encoder.version"] = torch.tensor([2.0])  # fairseq's version marker
    return out


def rinalmo_original_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """multimolecule RiNALMo names -> RiNALMo's own module names (its .pt), query/key/value packed in Wqkv."""
    out: dict[str, torch.Tensor] = {}
    layers = sorted({int(key.split(".")[3]) for key in state if key.startswith("model.encoder.layer.")})
    for layer in layers:
        source, target = f"model.encoder.layer.{layer}.", f"transformer.blocks.{layer}."
        out[target + "mh_attn.Wqkv.weight"] = torch.cat([state[source + f"attention.self.{n}.weight"]
                                                         for n in ("query", "key", "value")])  # fmt: skip
        out[target + "mh_attn.out_proj.weight"] = state[source + "attention.output.dense.weight"]
        out[target + "mh_attn.rotary_emb.inv_freq"] = torch.ones(8)  # a buffer some versions save: dropped
        for parameter in ("weight", "bias"):
            out[target + f"attn_layer_norm.{parameter}"] = state[source + f"attention.layer_norm.{parameter}"]
            out[target + f"out_layer_norm.{parameter}"] = state[source + f"layer_norm.{parameter}"]
            out[target + f"transition.0.linear.{parameter}"] = state[source + f"intermediate.linear.{parameter}"]
            out[target + f"transition.0.linear_gate.{parameter}"] = state[
                source + f"intermediate.linear_gate.{parameter}"
            ]
            out[target + f"transition.2.{parameter}"] = state[source + f"output.dense.{parameter}"]
        out[target + "transition.0.beta"] = state[source + "intermediate.bias"]
    for parameter in ("weight", "bias"):
        out[f"transformer.final_layer_norm.{parameter}"] = state[f"model.encoder.layer_norm.{parameter}"]
        out[f"lm_mask_head.linear1.{parameter}"] = state[f"lm_head.transform.dense.{parameter}"]
        out[f"lm_mask_head.layer_norm.{parameter}"] = state[f"lm_head.transform.layer_norm.{parameter}"]
    out["embedding.weight"] = _unordered(state["model.embeddings.word_embeddings.weight"], RINALMO_VOCABULARY)
    out["lm_mask_head.linear2.weight"] = _unordered(state["lm_head.decoder.weight"], RINALMO_VOCABULARY)
    out["lm_mask_head.linear2.bias"] = _unordered(state["lm_head.bias"], RINALMO_VOCABULARY)
    return out


def as_numpy(outputs: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {name: value.numpy() for name, value in outputs.items()}


__all__ = ["FIXTURES", "NucleotideTester", "golden", "original_checkpoint", "perturbed"]


GOLDEN_CODE = """
import json
import numpy as np
import torch
import transformers
from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer
torch.set_grad_enabled(False)
folder, sequences = {folder!r}, {sequences!r}
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
encoder = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
masked_lm = AutoModelForMaskedLM.from_pretrained(folder, trust_remote_code=True).eval()
batch = tokenizer(sequences, return_tensors="pt", padding=True)
out = masked_lm(**batch)
arrays = {{"input_ids": batch["input_ids"].numpy(), "logits": out.logits.numpy(),
           "last_hidden_state": encoder(**batch).last_hidden_state.numpy(),
           "masked_lm_hidden_state": out.last_hidden_state.numpy()}}
for i, sequence in enumerate(sequences):
    alone = tokenizer([sequence], return_tensors="pt")
    arrays[f"alone_{{i}}_last_hidden_state"] = encoder(**alone).last_hidden_state[0].numpy()
np.savez({result!r}, **arrays)
print(json.dumps({{"version": transformers.__version__,
                   "modules": [type(m).__module__ for m in (encoder, masked_lm, tokenizer)]}}))
"""


def check_golden(family: str, folder: Path, workdir: Path, python: Path | None, *, logit_tokens: tuple[str, ...]
                 | None = None) -> dict[str, Any]:  # fmt: skip
    """Run the converted ``folder`` in a Python without the package; compare with the reference within 1e-5.

    ``logit_tokens``: compare the logits of these vocabulary tokens only (a conversion from an original
    checkpoint, whose vocabulary lacks some tokens of the 28). Returns what the child printed.
    """
    from tests.hub.isolated_python import run_without_package

    sequences, reference = golden(family)
    result = workdir / "outputs.npz"
    code = GOLDEN_CODE.format(folder=str(folder), sequences=sequences, result=str(result))
    printed = json.loads(run_without_package(code, workdir, python=python, timeout=300).stdout.strip().splitlines()[-1])
    assert not any("isoclr_hf" in module for module in printed["modules"]), printed["modules"]
    actual = dict(np.load(result))
    np.testing.assert_array_equal(actual["input_ids"], reference["input_ids"].numpy())  # the checkpoint's own ids
    valid = reference["attention_mask"].numpy().astype(bool)
    columns = [VOCABULARY.index(t) for t in logit_tokens] if logit_tokens is not None else list(range(len(VOCABULARY)))
    np.testing.assert_allclose(actual["logits"][valid][:, columns], reference["logits"].numpy()[valid][:, columns],
                               atol=1e-5, rtol=0)  # fmt: skip
    for name in ("last_hidden_state", "masked_lm_hidden_state"):
        np.testing.assert_allclose(
            actual[name][valid], reference["last_hidden_state"].numpy()[valid], atol=1e-5, rtol=0
        )
    for i in range(len(sequences)):
        key = f"alone_{i}_last_hidden_state"
        np.testing.assert_allclose(actual[key], reference[key].numpy(), atol=1e-5, rtol=0)
    return printed


def check_masked_lm_loss(tester: NucleotideTester) -> None:
    """The loss is cross-entropy over the labelled positions (-100 ignored), equal for left and right padding,
    and gradients reach the encoder; a training loop can use it as it is."""
    from tests.models.model_contract import left_pad

    torch.manual_seed(0)
    model = tester.perturb(tester.masked_lm_class(tester.config())).eval()
    batch = tester.batch()
    labels = torch.full_like(batch["input_ids"], -100)
    labels[0, 3], labels[1, 10], labels[1, 50], labels[2, 5] = 6, 7, 9, 8
    out = model(**batch, labels=labels)
    chosen = labels != -100
    expected = torch.nn.functional.cross_entropy(out.logits[chosen], labels[chosen])
    torch.testing.assert_close(out.loss, expected)
    left = left_pad({**batch, "labels": labels})
    torch.testing.assert_close(model(**left).loss, out.loss, atol=1e-5, rtol=1e-5)
    out.loss.backward()
    assert model.base_model.embeddings.word_embeddings.weight.grad.abs().sum() > 0
    bad = labels.clone()
    bad[2, 7] = 28
    with pytest.raises(ValueError, match=r"labels must be token ids in \[0, 28\) or -100[\s\S]*row 2"):
        model(**batch, labels=bad)


FILL_MASK_CODE = """
import json
from transformers import pipeline
fill = pipeline("fill-mask", model={folder!r}, trust_remote_code=True)
print(json.dumps([[r["token_str"], r["score"], type(fill.model).__module__] for r in fill("ACG<mask>UUAGC", top_k=3)]))
"""


def check_fill_mask(tester: NucleotideTester, tmp_path: Path) -> None:
    """``pipeline("fill-mask", model=folder, trust_remote_code=True)`` in a Python without the package gives the
    package model's top tokens and scores at the mask."""
    from tests.hub.isolated_python import run_without_package

    torch.manual_seed(0)
    model = tester.perturb(tester.masked_lm_class(tester.config()))
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    tester.save_tokenizer(folder)
    result = run_without_package(FILL_MASK_CODE.format(folder=str(folder)), tmp_path / "child", timeout=300)
    top = json.loads(result.stdout.strip().splitlines()[-1])
    batch = tester.encode(["ACG<mask>UUAGC"])
    assert batch["input_ids"][0, 4] == VOCABULARY.index("<mask>")
    with torch.no_grad():
        probabilities = model(**batch).logits[0, 4].softmax(-1)
    expected = probabilities.topk(3)
    assert [token for token, _, _ in top] == [VOCABULARY[i] for i in expected.indices.tolist()]
    np.testing.assert_allclose([score for _, score, _ in top], expected.values.numpy(), rtol=1e-4)
    assert not any("isoclr_hf" in module for _, _, module in top)
