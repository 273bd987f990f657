"""The test contract every model family runs (transformers' ``ModelTester`` + ``ModelTesterMixin`` pattern).

A family's test module defines a :class:`ModelTester` (its tiny config, its classes, how to perturb the
initial weights so that a forgotten bias or padding leak would show) and a test class::

    class TestIsoCLRContract(ModelContract):
        tester = IsoCLRTester()

which runs every ``test_*`` method below with that family: save/load round trips, padding invariance,
left padding equal to right padding, heads (regression in original units, single- and multi-label
classification), bad labels refused, bf16 autocast close to float32, meta-device initialisation,
hand-built inputs refused, and the saved folder's remote code in a Python without this package under
every declared transformers version. Adding a family = its config, its encoder, its tester and class.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from accelerate import init_empty_weights

from isoclr_hf import IsoCLRTokenizer
from tests.hub.isolated_python import run_without_package
from tests.models.isoclr.test_supported_transformers import VERSIONS, compat_python

BASES = np.array(list("ACGT"))
LENGTHS = (70, 133, 41)  # a batch of three, the middle one longest


def random_sequence(length: int, rng: np.random.Generator) -> str:
    return "".join(rng.choice(BASES, size=length))


def annotations(length: int) -> tuple[list[int], tuple[int, int]]:
    """Two exons and a CDS from nucleotide 3, for a transcript of ``length``: exon ends and (start, end)."""
    return [length // 2, length], (3, 3 + 3 * ((length - 6) // 3))


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


def labelled(message: str, row: int) -> str:
    """A regex for a ``ValueError`` message that says ``message`` and names ``row``."""
    return rf"(?=[\s\S]*{message})(?=[\s\S]*\brow {row}\b)"


class ModelTester:
    """What a family gives the contract. Subclass it and set the class attributes; override as needed."""

    config_class: ClassVar[type]
    encoder_class: ClassVar[type]  # the AutoModel class
    head_class: ClassVar[type]  # the AutoModelForSequenceClassification class
    output_class: ClassVar[type]  # the head's output class
    # Configs whose padding invariance is checked (e.g. each pooling): overrides of config().
    padding_variants: ClassVar[tuple[dict[str, Any], ...]] = ({},)
    # The family reads cds_track/splice_track (the six-track families): their own invariants are checked.
    annotation_tracks: ClassVar[bool] = True
    # A head's encoder state-dict keys start with this (``base_model_prefix``; fixed by old checkpoints).
    base_model_prefix: ClassVar[str]

    def config(self, **overrides: Any) -> Any:
        """A tiny config (hidden sizes of 8 to 20), with ``overrides``."""
        raise NotImplementedError

    def perturb(self, model: torch.nn.Module) -> torch.nn.Module:
        """Give normalisation layers and biases non-trivial values, so padding leaks show; returns ``model``."""
        return model

    def encode(self, sequences: list[str], **options: Any) -> dict[str, torch.Tensor]:
        """Model inputs for ``sequences`` (right-padded, with ``attention_mask``), annotated by :func:`annotations`."""
        exon_ends, cds = zip(*(annotations(len(s)) for s in sequences))
        return dict(IsoCLRTokenizer()(sequences, exon_ends=list(exon_ends), cds=list(cds), return_tensors="pt",
                                      **options))  # fmt: skip

    def save_tokenizer(self, folder: Path) -> None:
        """Save the family's tokenizer next to a model (its remote code comes along)."""
        IsoCLRTokenizer().save_pretrained(folder)

    def batch(self, seed: int = 0, lengths: tuple[int, ...] = LENGTHS) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(seed)
        return self.encode([random_sequence(n, rng) for n in lengths])

    def encoder(self, **overrides: Any) -> torch.nn.Module:
        torch.manual_seed(0)
        return self.perturb(self.encoder_class(self.config(**overrides))).eval()

    def head(self, **overrides: Any) -> torch.nn.Module:
        torch.manual_seed(0)
        return self.perturb(self.head_class(self.config(**overrides))).eval()


HEAD_CASES = {
    "regression": {"target_names": ["half_life", "mrl"], "target_mean": [5.0, -1.0], "target_std": [2.0, 0.5]},
    "single_label_classification": {"num_labels": 3},
    "multi_label_classification": {"num_labels": 4, "problem_type": "multi_label_classification"},
}
# Per problem type: labels of the wrong shape, labels with a bad value in one row, and what the messages say.
BAD_LABELS = {
    "regression": (torch.zeros(3), r"regression must have shape \(batch, num_labels\) = \(3, 2\)",
                   torch.tensor([[1.0, 2.0], [float("inf"), 0.0], [0.0, 0.0]]), "regression targets must be finite", 1),
    "single_label_classification": (torch.zeros(3, 2).long(), r"single_label_classification must have shape \(batch,\)",
                                    torch.tensor([0, 2, 3]), r"class indices must lie in \[0, 3\)", 2),
    "multi_label_classification": (torch.zeros(3, 3), r"\(batch, num_labels\) = \(3, 4\); got \(3, 3\)",
                                   torch.tensor([[0.0, 1, 0, 0], [2.0, 0, 0, 0], [1.0, 1, 1, 1]]),
                                   r"multi-label targets must lie in \[0, 1\]", 1),
}  # fmt: skip


class ModelContract:
    """The tests every family runs; a subclass named ``Test<Family>Contract`` sets ``tester``."""

    tester: ClassVar[ModelTester]

    # --- save / load -------------------------------------------------------------------------------

    def test_save_load_round_trip(self, tmp_path: Path) -> None:
        """Weights, config fields and outputs survive save/load; the encoder loads from the head's folder."""
        head = self.tester.head(classifier_zero_init=False, **HEAD_CASES["regression"])
        batch = self.tester.batch()
        head.save_pretrained(tmp_path)
        loaded = self.tester.head_class.from_pretrained(tmp_path).eval()
        for (name, a), (_, b) in zip(head.state_dict().items(), loaded.state_dict().items(), strict=True):
            assert torch.equal(a, b), f"{name} was re-initialised on load"
        assert loaded.config.to_diff_dict() == head.config.to_diff_dict()
        with torch.no_grad():
            expected = head(**batch)
            torch.testing.assert_close(loaded(**batch).predictions, expected.predictions, atol=0, rtol=0)
            encoder = self.tester.encoder_class.from_pretrained(tmp_path).eval()  # base_model_prefix
            torch.testing.assert_close(encoder(**batch).pooler_output, expected.embeddings, atol=0, rtol=0)

    def test_checkpoint_keys_are_those_of_old_checkpoints(self) -> None:
        """The encoder under ``base_model_prefix``, the head's layers under ``classifier.`` (old folders load)."""
        prefix = self.tester.base_model_prefix
        head = self.tester.head(classifier_hidden_size=6, **HEAD_CASES["regression"])
        assert head.base_model_prefix == prefix and head.base_model is getattr(head, prefix)
        encoder_keys = {f"{prefix}.{key}" for key in self.tester.encoder().state_dict()}
        head_keys = {f"classifier.{layer}.{p}" for layer in ("hidden", "out_proj") for p in ("weight", "bias")}
        assert set(head.state_dict()) == encoder_keys | head_keys

    def test_shared_config_fields_round_trip_and_are_checked(self, tmp_path: Path) -> None:
        shared = {"projection_hidden_size": 24, "projection_dim": 6, "projection_layers": 2, "loss_temperature": 0.2,
                  "gene_set_weight_constant": 1.5, "mask_fraction": 0.3, "mask_value": 0.5, "classifier_dropout": 0.1,
                  "classifier_hidden_size": 7, "classifier_zero_init": False, "target_names": ["a", "b"],
                  "target_mean": [1.0, 2.0], "target_std": [3.0, 4.0]}  # fmt: skip
        config = self.tester.config(**shared)
        config.save_pretrained(tmp_path)
        saved = json.loads((tmp_path / "config.json").read_text())
        assert {name: saved[name] for name in shared} == shared
        assert self.tester.config_class.from_pretrained(tmp_path).to_dict() == config.to_dict()
        for overrides, message in (
            ({"gene_set_weight_constant": -0.1}, "gene_set_weight_constant must be >= 0"),
            ({"loss_temperature": 0.0}, "loss_temperature must be positive"),
            ({"classifier_dropout": 1.0}, r"classifier_dropout must be in \[0, 1\)"),
            ({"projection_dim": 0}, "projection_dim must be a positive integer"),
            ({"target_names": ["a", "b"], "target_mean": [0.0]}, "target_mean has 1 values"),
            ({"target_names": ["a"], "target_std": [0.0]}, "target_std must be positive"),
            ({"target_names": ["a"], "target_mean": [float("nan")]}, "target_mean must be finite"),
        ):
            with pytest.raises(ValueError, match=message):
                self.tester.config(**overrides)

    # --- padding -----------------------------------------------------------------------------------

    @torch.no_grad()
    def test_padding_invariance(self) -> None:
        """An embedding is the same alone, next to longer neighbours and next to shorter ones."""
        rng = np.random.default_rng(1)
        for variant in self.tester.padding_variants:
            model = self.tester.encoder(**variant)
            for length in (37, 200):
                sequence = random_sequence(length, rng)
                alone = model(**self.tester.encode([sequence]))
                longer = [random_sequence(3 * length, rng) for _ in range(2)]
                shorter = [random_sequence(max(1, length // 4), rng) for _ in range(2)]
                for neighbours in (longer, shorter):
                    batched = model(**self.tester.encode([neighbours[0], sequence, neighbours[1]],
                                                         pad_to_multiple_of=32))  # fmt: skip
                    torch.testing.assert_close(batched.pooler_output[1], alone.pooler_output[0], atol=1e-5, rtol=1e-5)
                    valid = int(alone.output_mask.sum())
                    torch.testing.assert_close(batched.last_hidden_state[1, :valid], alone.last_hidden_state[0, :valid],
                                               atol=1e-5, rtol=1e-5)  # fmt: skip

    @pytest.mark.parametrize("with_mask", [True, False])
    @torch.no_grad()
    def test_left_padding_equals_right_padding(self, with_mask: bool) -> None:
        model, right = self.tester.encoder(), self.tester.batch()
        left = left_pad(right)
        assert left["attention_mask"][:, 0].tolist() == [0, 1, 0]  # rows 0 and 2 are left-padded
        if not with_mask:  # the mask is then derived from input_ids != 0
            right = {k: v for k, v in right.items() if k != "attention_mask"}
            left = {k: v for k, v in left.items() if k != "attention_mask"}
        expected, actual = model(**right), model(**left)
        torch.testing.assert_close(actual.pooler_output, expected.pooler_output, atol=1e-5, rtol=1e-5)
        assert torch.equal(actual.output_mask, expected.output_mask)  # outputs come back right-padded
        valid = expected.output_mask.bool()
        torch.testing.assert_close(actual.last_hidden_state[valid], expected.last_hidden_state[valid], atol=1e-5,
                                   rtol=1e-5)  # fmt: skip

    # --- heads -------------------------------------------------------------------------------------

    def test_regression_head_in_original_units(self) -> None:
        head = self.tester.head(classifier_zero_init=False, **HEAD_CASES["regression"])
        labels = torch.tensor([[6.0, float("nan")], [4.0, -1.5], [5.0, -1.0]])
        out = head(**self.tester.batch(), labels=labels)
        assert isinstance(out, self.tester.output_class)
        assert out.logits.shape == (3, 2) and out.embeddings.shape == (3, head.config.hidden_size)
        mean, std = torch.tensor([5.0, -1.0]), torch.tensor([2.0, 0.5])
        torch.testing.assert_close(out.predictions, out.logits * std + mean)
        normalised = (labels - mean) / std
        measured = ~torch.isnan(normalised)  # the NaN label is left out of the loss
        torch.testing.assert_close(out.loss, torch.nn.functional.mse_loss(out.logits[measured], normalised[measured]))
        out.loss.backward()
        assert all(p.grad is not None for p in head.classifier.parameters())
        flat = self.tester.head(classifier_zero_init=False, target_names=["y"])(
            **self.tester.batch(), labels=torch.tensor([1.0, float("nan"), 2.0])
        )  # (batch,) labels for one target
        assert torch.isfinite(flat.loss)

    def test_zero_initialised_head_predicts_the_target_mean(self) -> None:
        head = self.tester.head(target_names=["y"], target_mean=[3.0], target_std=[2.0])
        with torch.no_grad():
            assert head(**self.tester.batch()).predictions.tolist() == [[3.0]] * 3

    @pytest.mark.parametrize("problem", ["single_label_classification", "multi_label_classification"])
    def test_classification_heads(self, problem: str) -> None:
        head = self.tester.head(classifier_zero_init=False, **HEAD_CASES[problem])
        if problem == "single_label_classification":
            labels = torch.tensor([0, 2, -100])  # -100: cross-entropy's ignore index
            expected = lambda logits: torch.nn.functional.cross_entropy(logits, labels)  # noqa: E731
        else:
            labels = torch.tensor([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]], dtype=torch.float32)
            expected = lambda logits: torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)  # noqa: E731
        out = head(**self.tester.batch(), labels=labels)
        assert out.logits.shape == (3, head.config.num_labels) and out.predictions is None
        torch.testing.assert_close(out.loss, expected(out.logits))
        out.loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in head.base_model.parameters())

    @pytest.mark.parametrize("problem", list(BAD_LABELS))
    def test_bad_labels_are_refused(self, problem: str) -> None:
        head = self.tester.head(**HEAD_CASES[problem]).train()
        wrong_shape, shape_message, bad_values, value_message, row = BAD_LABELS[problem]
        batch = self.tester.batch()
        with pytest.raises(ValueError, match=shape_message):
            head(**batch, labels=wrong_shape)
        with pytest.raises(ValueError, match=labelled(value_message, row)):
            head(**batch, labels=bad_values)
        if problem == "single_label_classification":
            with pytest.raises(ValueError, match="integer class indices"):  # float labels read as multi-label
                head(**batch, labels=torch.zeros(3))

    # --- dtypes and devices --------------------------------------------------------------------------

    @torch.no_grad()
    def test_bf16_is_close_to_float32(self) -> None:
        model, batch = self.tester.encoder(), self.tester.batch(seed=3)
        reference = model(**batch).pooler_output
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(**batch).pooler_output
        assert torch.isfinite(low).all()
        torch.testing.assert_close(low.float(), reference, atol=0.05, rtol=0.05)
        cast = model.to(torch.bfloat16)(**batch).pooler_output  # bf16 weights
        assert cast.dtype == torch.bfloat16
        torch.testing.assert_close(cast.float(), reference, atol=0.1, rtol=0.05)

    @torch.no_grad()
    def test_meta_device_initialisation(self, tmp_path: Path) -> None:
        """Weights built on the meta device load to the same model; a forward before that says why it cannot run."""
        reference, batch = self.tester.encoder(), self.tester.batch()
        expected = reference(**batch).pooler_output
        reference.save_pretrained(tmp_path)
        with init_empty_weights():
            empty = self.tester.encoder_class(self.tester.config())
        assert all(p.is_meta for p in empty.parameters())
        with pytest.raises(RuntimeError, match=rf"{type(empty).__name__}'s weights are on the meta device"):
            empty.eval()(**batch)
        empty.load_state_dict(reference.state_dict(), assign=True)
        torch.testing.assert_close(empty(**batch).pooler_output, expected, atol=0, rtol=0)
        for options in ({"device_map": "cpu"}, {"low_cpu_mem_usage": True}):
            loaded = self.tester.encoder_class.from_pretrained(tmp_path, **options).eval()
            assert not any(t.is_meta for t in [*loaded.parameters(), *loaded.buffers()]), options
            torch.testing.assert_close(loaded(**batch).pooler_output, expected, atol=0, rtol=0)
        with pytest.raises(RuntimeError, match="weights are on the meta device"):
            self.tester.head(target_names=["y"]).to("meta")(**batch)
        with pytest.raises(ValueError, match="input_ids is on the meta device"):
            reference(**{name: values.to("meta") for name, values in batch.items()})

    # --- hand-built inputs ---------------------------------------------------------------------------

    def test_rows_over_max_sequence_length_are_refused(self) -> None:
        model, batch = self.tester.encoder(max_sequence_length=100), self.tester.batch()  # rows of 70, 133, 41
        with pytest.raises(ValueError, match=labelled("longer than the model's max_sequence_length of 100", 1)):
            model(**batch)
        with pytest.raises(ValueError, match="row 1: 133 valid positions"):
            model(**batch)
        model(**{name: values[[0, 2]] for name, values in batch.items()})  # the others are fine

    def test_splice_track_needs_a_mark_at_each_rows_end(self) -> None:
        if not self.tester.annotation_tracks:
            pytest.skip("this family takes no splice track")
        model, batch = self.tester.encoder(), self.tester.batch()
        splice = batch["splice_track"].clone()
        splice[2, LENGTHS[2] - 1] = 0
        with pytest.raises(ValueError, match=labelled("splice_track has no mark at the row's last valid position", 2)):
            model(**{**batch, "splice_track": splice})
        left = left_pad({**batch, "splice_track": splice})  # the rule follows the row's valid run
        with pytest.raises(ValueError, match=labelled("splice_track has no mark", 2)):
            model(**left)

    def test_cds_track_marks_codon_starts(self) -> None:
        if not self.tester.annotation_tracks:
            pytest.skip("this family takes no CDS track")
        model, batch = self.tester.encoder(), self.tester.batch()
        every = batch["cds_track"].clone()
        every[0, : LENGTHS[0]] = 1  # every nucleotide marked: what issue 21 fed
        with pytest.raises(ValueError, match=labelled("cds_track marks the first nucleotide of each codon", 0)):
            model(**{**batch, "cds_track": every})
        two_apart = torch.zeros_like(batch["cds_track"])
        two_apart[1, [10, 12]] = 1
        with pytest.raises(ValueError, match=r"at least 3 apart[\s\S]*1 at position 12 of row 1"):
            model(**{**batch, "cds_track": two_apart})
        wide = torch.zeros_like(batch["cds_track"])
        wide[1, [10, 13, 17, 20]] = 1  # gaps of 3 and 4 (an annotated +1 frameshift): accepted
        model(**{**batch, "cds_track": wide})

    # --- remote code ---------------------------------------------------------------------------------

    @pytest.mark.slow
    @pytest.mark.parametrize("version", ["this venv", *VERSIONS])
    def test_saved_folder_loads_without_the_package(self, version: str, tmp_path: Path) -> None:
        """``AutoTokenizer``, then ``AutoModel`` and ``AutoModelForSequenceClassification`` from the saved folder, in
        a Python without ``isoclr_hf`` (this venv's transformers, and each compatibility venv's), give the
        package's outputs."""
        python = None if version == "this venv" else compat_python(version)
        head = self.tester.head(classifier_zero_init=False, target_names=["y"], target_mean=[4.0], target_std=[2.0])
        folder = tmp_path / "head"
        head.save_pretrained(folder)
        self.tester.save_tokenizer(folder)
        batch = self.tester.batch()
        sequences = ["ACGTTGCAAGGCTAGCTAGG", "GGCAUGCCC"]
        np.savez(tmp_path / "batch.npz", **{name: values.numpy() for name, values in batch.items()})
        with torch.no_grad():
            expected = head(**batch)
        code = f"""
            import json
            import numpy as np
            import torch
            import transformers
            from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer
            torch.set_grad_enabled(False)
            batch = {{name: torch.from_numpy(values) for name, values in np.load({str(tmp_path / "batch.npz")!r}).items()}}
            tokenizer = AutoTokenizer.from_pretrained({str(folder)!r}, trust_remote_code=True)  # tokenizer first
            encoder = AutoModel.from_pretrained({str(folder)!r}, trust_remote_code=True).eval()
            head = AutoModelForSequenceClassification.from_pretrained({str(folder)!r}, trust_remote_code=True).eval()
            print(json.dumps({{"version": transformers.__version__,
                               "modules": [type(encoder).__module__, type(head).__module__, type(tokenizer).__module__],
                               "input_ids": tokenizer({sequences!r}, return_tensors="pt")["input_ids"].tolist(),
                               "embedding": encoder(**batch).pooler_output.tolist(),
                               "predictions": head(**batch).predictions.tolist()}}))
            """  # noqa: E501
        result = run_without_package(code, tmp_path / "child", python=python, timeout=300)
        output = json.loads(result.stdout.strip().splitlines()[-1])
        if version != "this venv":
            assert output["version"] == version
        assert not any("isoclr_hf" in module for module in output["modules"]), output["modules"]
        np.testing.assert_allclose(output["embedding"], expected.embeddings.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(output["predictions"], expected.predictions.numpy(), rtol=1e-5, atol=1e-6)
        assert output["input_ids"] == self.tester.encode(sequences)["input_ids"].tolist()
