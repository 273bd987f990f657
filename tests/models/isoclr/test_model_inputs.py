"""Model inputs: every malformed input gets a clear ValueError naming the row; valid variants
(float or bool masks, left padding) give the same result as the tokenizer's own layout; nothing
non-finite reaches the batch-norm running statistics. (Left = right padding, bad label values, rows over
the maximum length and the annotation tracks' own rules are checked for every family by the shared
contract, tests/models/model_contract.py.)"""

from __future__ import annotations

import os
import re
import tempfile

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from isoclr_hf import (
    DecoupledContrastiveLoss,
    IsoCLRForContrastivePretraining,
    IsoCLRForSequenceClassification,
    IsoCLRModel,
    IsoCLRTokenizer,
)
from isoclr_hf.models.isoclr.track_inputs import VOCABULARY_SIZE, validate_inputs
from tests.tiny_models import tiny_config

BASES = np.array(list("ACGT"))
LENGTHS = (70, 133, 41)


@pytest.fixture
def tokenizer() -> IsoCLRTokenizer:
    return IsoCLRTokenizer()


def randomise_batch_norms(model: torch.nn.Module) -> torch.nn.Module:
    """Non-trivial running statistics and affine parameters, so that padding mistakes would show."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.bias.uniform_(-0.5, 0.5)
    return model


@pytest.fixture
def model() -> IsoCLRModel:
    return randomise_batch_norms(IsoCLRModel(tiny_config())).eval()


@pytest.fixture
def batch(tokenizer) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(7)
    sequences = ["".join(rng.choice(BASES, size=n)) for n in LENGTHS]
    exons = [[n // 2, n] for n in LENGTHS]
    cds = [(3, 3 + 3 * ((n - 6) // 3)) for n in LENGTHS]
    return dict(tokenizer(sequences, exon_ends=exons, cds=cds, return_tensors="pt"))


def left_pad(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The same batch with each row's valid positions moved to the end (a left-padding tokenizer)."""
    lengths = batch["attention_mask"].sum(1).tolist()
    width = batch["input_ids"].shape[1]
    out = {}
    for name, values in batch.items():
        shifted = torch.zeros_like(values)
        for row, n in enumerate(lengths):
            shifted[row, width - n :] = values[row, :n]
        out[name] = shifted
    return out


def running_stats(model: torch.nn.Module) -> list[torch.Tensor]:
    return [
        buffer.clone()
        for module in model.modules()
        if isinstance(module, torch.nn.BatchNorm1d)
        for buffer in (module.running_mean, module.running_var)
    ]


def raises_naming_rows(rows: str, *patterns: str):
    """``pytest.raises(ValueError)`` whose message names ``rows`` (e.g. ``"row 1"``) and matches ``patterns``."""
    return pytest.raises(ValueError, match="".join(f"(?=[\\s\\S]*{p})" for p in (*patterns, rf"{rows}\b")))


# --- attention masks ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bool, torch.long, torch.int32])
def test_any_numeric_mask_dtype_gives_the_same_embedding(model, batch, dtype) -> None:
    reference = model(**batch)
    out = model(**{**batch, "attention_mask": batch["attention_mask"].to(dtype)})
    torch.testing.assert_close(out.pooler_output, reference.pooler_output, atol=0, rtol=0)
    torch.testing.assert_close(out.last_hidden_state, reference.last_hidden_state, atol=0, rtol=0)


def test_left_padding_in_training_mode_matches_too(batch) -> None:
    """Batch-norm statistics and gradients see the same valid positions either way."""
    initial = IsoCLRModel(tiny_config()).state_dict()
    results = []
    for inputs in (batch, left_pad(batch)):
        model = IsoCLRModel(tiny_config()).train()
        model.load_state_dict(initial)
        out = model(**inputs)
        out.pooler_output.pow(2).sum().backward()
        results.append((out.pooler_output, model.encoder.stem_conv.weight.grad, running_stats(model)))
    torch.testing.assert_close(results[1][0], results[0][0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(results[1][1], results[0][1], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(results[1][2], results[0][2], atol=1e-6, rtol=1e-5)


def test_short_mask_is_refused(model, batch) -> None:
    with pytest.raises(ValueError, match=r"attention_mask has shape \(3, 132\) but input_ids has shape \(3, 133\)"):
        model(**{**batch, "attention_mask": batch["attention_mask"][:, :-1]})


def test_mask_value_two_is_refused(model, batch) -> None:
    mask = batch["attention_mask"].clone()
    mask[1, 5] = 2
    with raises_naming_rows("row 1", "attention_mask must be 0 .*or 1", "2 at position 5"):
        model(**{**batch, "attention_mask": mask})


def test_fractional_or_nan_mask_is_refused(model, batch) -> None:
    for bad in (0.5, float("nan")):
        mask = batch["attention_mask"].float()
        mask[2, 0] = bad
        with raises_naming_rows("row 2", "attention_mask must be 0"):
            model(**{**batch, "attention_mask": mask})


@pytest.mark.parametrize("name", ["attention_mask", "cds_track", "splice_track"])
def test_mismatched_batch_size_is_refused(model, batch, name) -> None:
    with pytest.raises(ValueError, match=rf"{name} has shape \(2, 133\) but input_ids has shape \(3, 133\)"):
        model(**{**batch, name: batch[name][:2]})


def test_mask_with_a_hole_is_refused(model, batch) -> None:
    mask = batch["attention_mask"].clone()
    mask[2, 10] = 0
    with raises_naming_rows("row 2", "holes", "contiguous"):
        model(**{**batch, "attention_mask": mask})


def test_all_ones_mask_over_padding_is_refused(model, batch) -> None:
    with raises_naming_rows("rows 0, 2", "padding id 0 where attention_mask is 1"):
        model(**{**batch, "attention_mask": torch.ones_like(batch["attention_mask"])})


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_all_padding_row_is_refused_before_batch_norm(batch, mode) -> None:
    model = IsoCLRModel(tiny_config()).train(mode == "train")
    before = running_stats(model)
    mask = batch["attention_mask"].clone()
    mask[1] = 0
    with raises_naming_rows("row 1", "no valid position"):
        model(**{**batch, "attention_mask": mask})
    ids = batch["input_ids"].clone()
    ids[0] = 0
    with raises_naming_rows("row 0", "all padding"):
        model(input_ids=ids)
    for old, new in zip(before, running_stats(model)):
        assert torch.equal(old, new)


# --- token ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", [VOCABULARY_SIZE, 200, -1])
def test_token_id_outside_the_vocabulary_is_refused(model, batch, bad_id) -> None:
    ids = batch["input_ids"].long()
    ids[2, 7] = bad_id
    with raises_naming_rows("row 2", r"token ids must lie in \[0, 16\)", f"{bad_id} at position 7"):
        model(**{**batch, "input_ids": ids})


def test_uint8_id_200_is_refused(model, batch) -> None:
    ids = batch["input_ids"].clone()  # the tokenizer's dtype
    ids[0, 3] = 200
    with raises_naming_rows("row 0", "token ids must lie"):
        model(**{**batch, "input_ids": ids})


def test_fractional_ids_are_refused(model, batch) -> None:
    with pytest.raises(ValueError, match=r"integer token ids; got dtype torch\.float32"):
        model(**{**batch, "input_ids": batch["input_ids"].float() + 0.7})


def test_one_dimensional_ids_are_refused_with_a_hint(model, batch) -> None:
    with pytest.raises(ValueError, match=r"shape \(133,\).*\(batch, length\).*input_ids\[None\]"):
        model(input_ids=batch["input_ids"][1])
    with pytest.raises(ValueError, match=r"tracks\[None\]"):
        model(tracks=torch.rand(20, 6))


def test_zero_length_rows_and_empty_batches_are_refused(model, batch) -> None:
    with pytest.raises(ValueError, match="zero-length rows"):
        model(input_ids=batch["input_ids"][:, :0])
    with pytest.raises(ValueError, match="empty batch"):
        model(input_ids=batch["input_ids"][:0])


def test_non_tensor_ids_are_refused(model) -> None:
    with pytest.raises(ValueError, match=r"must be a torch\.Tensor.*return_tensors='pt'"):
        model(input_ids=[[1, 2, 3]])


@pytest.mark.parametrize("name", ["cds_track", "splice_track"])
def test_annotation_tracks_must_be_zero_or_one(model, batch, name) -> None:
    values = batch[name].clone()
    values[1, 4] = 2
    with raises_naming_rows("row 1", f"{name} must be 0 or 1"):
        model(**{**batch, name: values})
    # Float and bool tracks holding 0/1 are fine.
    out = model(**{**batch, name: batch[name].bool()})
    torch.testing.assert_close(out.pooler_output, model(**batch).pooler_output, atol=0, rtol=0)


# --- precomputed tracks and NaN ----------------------------------------------------------------


def test_non_finite_tracks_are_refused_and_batch_norm_stays_finite() -> None:
    model = IsoCLRModel(tiny_config()).train()
    before = running_stats(model)
    tracks = torch.zeros(3, 50, 6)
    tracks[:, :, 0] = 1.0
    tracks[1, 20, 2] = float("nan")
    with raises_naming_rows("row 1", "tracks must be finite"):
        model(tracks=tracks)
    tracks[1, 20, 2] = float("inf")
    with raises_naming_rows("row 1", "tracks must be finite"):
        model(tracks=tracks)
    after = running_stats(model)
    assert all(torch.equal(old, new) for old, new in zip(before, after))
    tracks[1, 20, 2] = 0.0
    model(tracks=tracks)  # a clean train step still updates the statistics
    assert all(torch.isfinite(stat).all() for stat in running_stats(model))
    assert torch.isfinite(model.eval()(tracks=tracks).pooler_output).all()


def test_annotation_tracks_with_precomputed_tracks_are_refused(model, batch) -> None:
    with pytest.raises(ValueError, match="cds_track and splice_track go with input_ids"):
        model(tracks=torch.rand(3, 20, 6), cds_track=batch["cds_track"][:, :20])


def test_non_finite_features_do_not_poison_running_statistics(tokenizer, batch) -> None:
    """Activations that overflow (say under fp16 autocast) leave the running statistics as they were."""
    model = IsoCLRForContrastivePretraining(tiny_config()).train()
    before = running_stats(model)
    pairs = {**batch, **{f"partner_{k}": v for k, v in batch.items()}}
    with torch.no_grad():
        model.isoclr.encoder.stem_conv.bias[0] = float("inf")
    out = model(**pairs, return_loss=False)
    assert not torch.isfinite(out.projections).all()
    after = running_stats(model)
    assert len(after) > 2 and all(torch.equal(old, new) for old, new in zip(before, after))  # encoder and head
    with torch.no_grad():
        model.isoclr.encoder.stem_conv.bias[0] = 0.0
    model(**pairs, return_loss=False)
    assert not all(torch.equal(old, new) for old, new in zip(before, running_stats(model)))  # finite: updated
    assert all(torch.isfinite(stat).all() for stat in running_stats(model))
    assert torch.isfinite(model.eval()(**pairs, return_loss=False).projections).all()


# --- heads -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "labels", "expected"),
    [
        ({"target_names": ["a", "b"]}, torch.zeros(3), r"regression must have shape \(batch, num_labels\) = \(3, 2\)"),
        ({"target_names": ["a", "b"]}, torch.zeros(3, 3), r"= \(3, 2\); got \(3, 3\)"),
        ({"target_names": ["a"]}, torch.zeros(2), r"= \(3, 1\) or \(batch,\) = \(3,\); got \(2,\)"),
        ({"num_labels": 3}, torch.zeros(3, 2).long(), r"single_label_classification must have shape \(batch,\)"),
        ({"num_labels": 3, "problem_type": "single_label_classification"}, torch.zeros(3), "integer class indices"),
        ({"num_labels": 4, "problem_type": "multi_label_classification"}, torch.zeros(3, 3), r"\(3, 4\); got \(3, 3"),
    ],
)  # fmt: skip
def test_head_labels_of_the_wrong_shape_are_refused(batch, overrides, labels, expected) -> None:
    model = IsoCLRForSequenceClassification(tiny_config(**overrides)).train()
    before = running_stats(model)
    with pytest.raises(ValueError, match=expected):
        model(**batch, labels=labels)
    assert all(torch.equal(old, new) for old, new in zip(before, running_stats(model)))  # refused before encoding


def test_head_labels_of_the_right_shapes_work(batch) -> None:
    regression = IsoCLRForSequenceClassification(tiny_config(target_names=["y"], classifier_zero_init=False))
    flat = regression(**batch, labels=torch.tensor([1.0, float("nan"), 2.0]))
    column = regression(**batch, labels=torch.tensor([[1.0], [float("nan")], [2.0]]))
    assert torch.isfinite(flat.loss) and torch.isfinite(column.loss)
    multi = IsoCLRForSequenceClassification(tiny_config(num_labels=2, problem_type="multi_label_classification"))
    assert torch.isfinite(multi(**batch, labels=torch.tensor([[0, 1], [1, 1], [0, 0]])).loss)


def test_head_forwards_input_errors(batch) -> None:
    model = IsoCLRForSequenceClassification(tiny_config(target_names=["y"]))
    ids = batch["input_ids"].clone()
    ids[1, 0] = 99
    with raises_naming_rows("row 1", "token ids must lie"):
        model(**{**batch, "input_ids": ids}, labels=torch.zeros(3))


# --- contrastive -------------------------------------------------------------------------------


def pair_batch(batch: dict[str, torch.Tensor], partner: dict[str, torch.Tensor] | None = None) -> dict:
    partner = batch if partner is None else partner
    return {**batch, **{f"partner_{k}": v for k, v in partner.items()}}


def test_contrastive_batch_of_one_pair_is_refused(batch) -> None:
    model = IsoCLRForContrastivePretraining(tiny_config()).train()
    before = running_stats(model)
    one = {k: v[:1] for k, v in batch.items()}
    with pytest.raises(ValueError, match=r"at least 2 pairs in the global batch.*got 1"):
        model(**pair_batch(one))
    assert all(torch.equal(old, new) for old, new in zip(before, running_stats(model)))
    with pytest.raises(ValueError, match="at least 2 pairs"):
        DecoupledContrastiveLoss()(torch.randn(1, 4), torch.randn(1, 4))
    # Embedding a single pair without the loss is fine.
    out = model.eval()(**pair_batch(one), return_loss=False)
    assert out.loss is None and torch.isfinite(out.projections).all()


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        (torch.tensor([1.0, float("nan"), 1.0]), r"finite and non-negative; bad at pair 1 \(nan\)"),
        (torch.tensor([1.0, 1.0, float("inf")]), r"bad at pair 2 \(inf\)"),
        (torch.tensor([-0.5, 1.0, 1.0]), r"bad at pair 0 \(-0.5\)"),
        (torch.ones(2), r"weights must have shape \(batch,\) = \(3,\)"),
        (torch.ones(3, 1), r"weights must have shape \(batch,\) = \(3,\)"),
    ],
)
def test_bad_contrastive_weights_are_refused(batch, weights, expected) -> None:
    model = IsoCLRForContrastivePretraining(tiny_config()).train()
    with pytest.raises(ValueError, match=expected):
        model(**pair_batch(batch), weights=weights)
    with pytest.raises(ValueError, match=expected):
        DecoupledContrastiveLoss()(torch.randn(3, 4), torch.randn(3, 4), weights)


def test_contrastive_views_are_checked_by_name(batch) -> None:
    model = IsoCLRForContrastivePretraining(tiny_config()).eval()
    partner = dict(batch)
    partner["input_ids"] = batch["input_ids"].clone()
    partner["input_ids"][2, 1] = 200
    with raises_naming_rows("row 2", "partner_input_ids: token ids must lie"):
        model(**pair_batch(batch, partner))
    with pytest.raises(ValueError, match="input_ids has 3 rows but partner_input_ids has 2"):
        model(**pair_batch(batch, {k: v[:2] for k, v in batch.items()}))
    mask = batch["attention_mask"].float()
    mask[0, 3] = 0.5
    with raises_naming_rows("row 0", "partner_attention_mask must be 0"):
        model(**pair_batch(batch, {**batch, "attention_mask": mask}))


def test_contrastive_annotation_tracks_for_one_view_only_are_refused(batch) -> None:
    model = IsoCLRForContrastivePretraining(tiny_config()).eval()
    with pytest.raises(ValueError, match=r"splice_track is given for one view only.*both views or for neither"):
        model(**pair_batch(batch, {**batch, "splice_track": None}))
    plain = {**batch, "cds_track": None, "splice_track": None}
    out = model(**pair_batch(plain), return_loss=False)  # neither view annotated: fine
    assert torch.isfinite(out.projections).all()


def test_contrastive_left_padding_and_float_masks(batch) -> None:
    model = randomise_batch_norms(IsoCLRForContrastivePretraining(tiny_config())).eval()
    reference = model(**pair_batch(batch))
    left = left_pad(batch)
    left["attention_mask"] = left["attention_mask"].float()
    out = model(**pair_batch(left, batch))
    torch.testing.assert_close(out.embeddings, reference.embeddings, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.loss, reference.loss, atol=1e-5, rtol=1e-5)


def _one_pair_per_process(rank: int, world: int, init_file: str, results: dict) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)
        a, b = torch.randn(2, 4), torch.randn(2, 4)
        loss = DecoupledContrastiveLoss()(a[rank : rank + 1], b[rank : rank + 1])  # 1 pair here, 2 globally
        outcome: dict[str, object] = {"loss": loss.item()}
        rows = slice(0, 1) if rank == 0 else slice(0, 0)  # 1 pair here and 0 there: 1 globally
        try:
            DecoupledContrastiveLoss()(a[rows], b[rows])
        except ValueError as error:
            outcome["error"] = str(error)
        results[rank] = outcome
    finally:
        dist.destroy_process_group()


def test_pair_count_is_checked_on_the_gathered_batch() -> None:
    with tempfile.TemporaryDirectory() as folder:
        init_file = os.path.join(folder, "rendezvous")
        results = mp.get_context("spawn").Manager().dict()
        mp.start_processes(
            _one_pair_per_process, args=(2, init_file, results), nprocs=2, start_method="spawn", join=True
        )
        results = dict(results)
    torch.manual_seed(0)
    a, b = torch.randn(2, 4), torch.randn(2, 4)
    whole = DecoupledContrastiveLoss()(a, b).item()
    assert (results[0]["loss"] + results[1]["loss"]) / 2 == pytest.approx(whole, rel=1e-5)
    for rank in (0, 1):  # both processes raise together: no process is left waiting in a collective
        assert re.search(r"at least 2 pairs in the global batch.*got 1 over 2 processes", results[rank]["error"])


# --- the validation function itself --------------------------------------------------------------


def test_validation_moves_left_padding_to_the_end(batch) -> None:
    left = left_pad(batch)
    checked = validate_inputs(
        left["input_ids"], left["attention_mask"].float(), left["cds_track"], left["splice_track"], n_tracks=6
    )
    assert checked.lengths == list(LENGTHS)
    assert checked.attention_mask.dtype == torch.uint8
    for name in ("input_ids", "cds_track", "splice_track", "attention_mask"):
        assert torch.equal(getattr(checked, name).long(), batch[name].long()), name


def test_error_messages_shorten_long_row_lists() -> None:
    ids = torch.full((9, 4), 200, dtype=torch.long)
    with pytest.raises(ValueError, match=r"rows 0, 1, 2, 3, 4 and 4 more"):
        validate_inputs(ids, n_tracks=6)
