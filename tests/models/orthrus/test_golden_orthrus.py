"""The converted reference reproduces Orthrus's own outputs (tests/fixtures/orthrus/outputs.npz) within 1e-5.

Every representation and every valid per-position state, alone and batched, the 2,918-nt transcript and
the per-layer traces; from the Orthrus Hub folder and from a Lightning checkpoint of the same weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModel

from isoclr_hf.models.orthrus import OrthrusModel
from isoclr_hf.models.orthrus.conversion_orthrus import convert_orthrus
from tests.models.orthrus.reference_files import GOLDEN, golden_arrays

TOLERANCE = 1e-5


def valid_states(model: OrthrusModel, x: torch.Tensor, lengths: torch.Tensor) -> np.ndarray:
    """Per-position states of each row's valid positions, concatenated (outputs.npz's layout)."""
    mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).long()
    states = model(tracks=x, attention_mask=mask).last_hidden_state
    return np.concatenate([states[i, : int(n)].numpy() for i, n in enumerate(lengths)])


def assert_close(actual: np.ndarray, expected: np.ndarray, name: str) -> None:
    assert actual.shape == expected.shape, name
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE, err_msg=name)


@torch.no_grad()
def check_against_golden(model: OrthrusModel) -> None:
    inputs, outputs = golden_arrays()
    x, lengths = torch.from_numpy(inputs["x_padded"]), torch.from_numpy(inputs["lengths"])
    assert_close(model.representation(x, lengths, channel_last=True).numpy(), outputs["repr_batch"], "repr_batch")
    assert_close(valid_states(model, x, lengths), outputs["hidden_batch_valid"], "hidden_batch_valid")
    alone_repr, alone_states = [], []
    for row, n in enumerate(lengths.tolist()):
        single = x[row : row + 1, :n]  # no padding at all
        alone_repr.append(model.representation(single.transpose(1, 2), [n]).numpy())  # Orthrus's channels-first
        alone_states.append(valid_states(model, single, lengths[row : row + 1]))
    assert_close(np.concatenate(alone_repr), outputs["repr_alone"], "repr_alone")
    assert_close(np.concatenate(alone_states), outputs["hidden_alone"], "hidden_alone")
    long_x = torch.from_numpy(inputs["long_x"])[None]  # (1, 2918, 6)
    assert_close(model.representation(long_x, [long_x.shape[1]], channel_last=True)[0].numpy(), outputs["long_repr"],
                 "long_repr")  # fmt: skip
    long_states = model(tracks=long_x).last_hidden_state[0, torch.from_numpy(outputs["long_positions"])]
    assert_close(long_states.numpy(), outputs["long_hidden_strided"], "long_hidden_strided")


@torch.no_grad()
def test_converted_hub_folder_reproduces_orthrus(converted_reference: Path) -> None:
    model = AutoModel.from_pretrained(converted_reference).eval()
    assert isinstance(model, OrthrusModel)
    check_against_golden(model)


@torch.no_grad()
def test_per_layer_traces_match(converted_reference: Path) -> None:
    # Each block's residual stream (embedding output, then hidden + residual after each layer).
    model = AutoModel.from_pretrained(converted_reference).eval()
    inputs, outputs = golden_arrays()
    for trace, row in (("trace_204", 0), ("trace_short", 16)):
        n = int(inputs["lengths"][row])
        out = model(tracks=torch.from_numpy(inputs["x_padded"][row : row + 1, :n]), output_hidden_states=True)
        assert_close(out.hidden_states[0][0].numpy(), outputs[f"{trace}_embedding_out"], f"{trace} embedding")
        for layer in range(model.config.num_hidden_layers):
            block = f"{trace}_layer{layer}_block_out"
            stream = outputs[f"{block}_hidden"] + outputs[f"{block}_residual"]
            assert_close(out.hidden_states[layer + 1][0].numpy(), stream, f"{trace} layer {layer}")
        assert_close(out.last_hidden_state[0].numpy(), outputs[f"{trace}_final"], f"{trace} final")


@pytest.mark.slow
def test_converted_lightning_checkpoint_reproduces_orthrus(tmp_path: Path) -> None:
    # A Lightning checkpoint of the same weights: encoder under "model.", a projection head beside it.
    encoder = load_file(GOLDEN / "weights_orthrus_hf.safetensors")
    state = {f"model.{key}": value for key, value in encoder.items()}
    state["contrastive_projection_head.layers.0.weight"] = torch.zeros(4, 64)
    torch.save({"state_dict": state, "epoch": 3, "global_step": 100}, tmp_path / "last.ckpt")
    folder = convert_orthrus(tmp_path / "last.ckpt", tmp_path / "converted")
    model = AutoModel.from_pretrained(folder).eval()
    assert model.config.hidden_size == 64 and model.config.num_hidden_layers == 2 and model.config.n_tracks == 6
    check_against_golden(model)
