"""Masked-LM pretraining of RNA-FM and RiNALMo through the shared launcher: masking, a short run, presets, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

from isoclr_hf.models.rinalmo import PRESETS as RINALMO_PRESETS
from isoclr_hf.models.rnafm import PRESETS as RNAFM_PRESETS
from isoclr_hf.models.rnafm import NucleotideTokenizer
from isoclr_hf.models.rnafm.tokenization_nucleotide import CLS_ID, EOS_ID, MASK_ID, PAD_ID, VOCABULARY
from isoclr_hf.pretraining.config import CONTRASTIVE_MODELS, MASKED_LM_MODELS, parse_pretraining_config
from isoclr_hf.pretraining.loop import build_model, with_model_defaults
from isoclr_hf.pretraining.masked_lm import MaskedLMCollator
from tests.pretraining.tiny_corpus import TRAINING_DIR, pretrain, tiny_run_arguments

TINY_MLM = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
NUCLEOTIDE_IDS = {VOCABULARY.index(base) for base in "ACGU"}


def mlm_arguments(corpus: Path, out: Path, model: str = "rnafm-cpu-small", **settings: object) -> list[str]:
    """A tiny masked-LM run on the tiny corpus (any setting overridable)."""
    values = {"model": model, "model_overrides": json.dumps(TINY_MLM), "max_length": 200, "learning_rate": 0.003,
              **settings}
    return tiny_run_arguments(corpus, out, **values)


def random_examples(count: int, length: int, seed: int = 0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    return [{"transcript": {"transcript_id": f"t{i}", "sequence": "".join(rng.choice(list("ACGTN"), size=length)),
                            "exon_ends": [length], "cds_start": -1, "cds_end": -1},
             "start": 0, "mask_seed": int(rng.integers(0, 2**62))} for i in range(count)]


def test_masking_takes_15_percent_of_nucleotides_80_10_10_and_never_special_tokens_or_padding() -> None:
    # Rows of different lengths, so that every batch is padded.
    examples = [e for n, length in enumerate([700, 300, 500, 120]) for e in random_examples(60, length, seed=n)]
    collator = MaskedLMCollator(NucleotideTokenizer(), max_length=1000, probability=0.15)
    batches = [collator(examples[i : i + 16]) for i in range(0, len(examples), 16)]
    original = [NucleotideTokenizer()([e["transcript"]["sequence"] for e in examples[i : i + 16]], return_tensors="pt")
                for i in range(0, len(examples), 16)]  # fmt: skip
    inputs = torch.cat([b["input_ids"].flatten() for b in batches])
    labels = torch.cat([b["labels"].flatten() for b in batches])
    unmasked = torch.cat([o["input_ids"].flatten() for o in original])
    valid = torch.cat([b["attention_mask"].flatten() for b in batches]).bool()
    special = (unmasked == CLS_ID) | (unmasked == EOS_ID) | ~valid
    chosen = labels != -100
    nucleotides = int((~special).sum())
    assert nucleotides == 60 * (700 + 300 + 500 + 120)
    assert abs(int(chosen.sum()) / nucleotides - 0.15) < 0.006  # sd 0.0014 over 97,200 draws
    assert not bool((chosen & special).any())  # <cls>, <eos> and padding are never targets
    assert torch.equal(inputs[special], unmasked[special])  # ... nor changed
    assert torch.equal(labels[chosen], unmasked[chosen])  # the target is the original token
    assert torch.equal(inputs[~chosen], unmasked[~chosen])  # only chosen tokens change
    masked = inputs[chosen] == MASK_ID
    other = ~masked & (inputs[chosen] != labels[chosen])
    kept = inputs[chosen] == labels[chosen]
    # 80% <mask>; 10% a random nucleotide, which is another one 3 times in 4 (N is replaced by one of ACGU
    # always); 10% kept, plus the random draws that hit the original.
    assert abs(float(masked.float().mean()) - 0.8) < 0.015
    n_share = float((labels[chosen] == VOCABULARY.index("N")).float().mean())  # N: 1 in 5 of these sequences
    assert abs(float(other.float().mean()) - 0.1 * (0.75 * (1 - n_share) + n_share)) < 0.01
    assert abs(float(kept.float().mean()) - (0.1 + 0.1 * 0.25 * (1 - n_share))) < 0.01
    assert set(inputs[chosen & (inputs != labels) & (inputs != MASK_ID)].tolist()) <= NUCLEOTIDE_IDS
    assert not bool((inputs[valid.flatten()] == PAD_ID).any())


def test_an_examples_masking_depends_on_its_seed_alone() -> None:
    """The same example masks alike in any batch (any padding, process or worker); another seed differs."""
    examples = random_examples(6, 150) + random_examples(2, 400, seed=1)
    collator = MaskedLMCollator(NucleotideTokenizer(), max_length=1000, probability=0.15)
    alone = collator(examples[:1])
    in_batch = collator(examples)  # padded to 402 tokens
    for name in ("input_ids", "labels"):
        assert torch.equal(in_batch[name][0, :152], alone[name][0])
    reseeded = collator([{**examples[0], "mask_seed": examples[0]["mask_seed"] + 1}])
    assert not torch.equal(reseeded["labels"], alone["labels"])
    # A very short transcript still gets a target.
    short = collator([{**examples[0], "transcript": {**examples[0]["transcript"], "sequence": "AC"}}])
    assert int((short["labels"] != -100).sum()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("model", ["rnafm-cpu-small", "rinalmo-cpu-small"])
def test_a_short_run_lowers_the_held_out_loss_and_saves_a_loadable_masked_lm(
    model: str, tiny_corpus_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    summary = pretrain(mlm_arguments(tiny_corpus_path, out, model, max_steps=12, eval_every=6, checkpoint_every=6))
    assert summary["steps"] == 12 and summary["processes"] == 1
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 13))
    assert set(steps[0]) >= {"loss", "masked_accuracy", "learning_rate", "transcripts_per_second",
                             "nucleotides_per_second"}
    evaluations = [r for r in records if "eval_loss" in r]
    assert [r["step"] for r in evaluations] == [0, 6, 12]
    # The held-out masking is fixed: the same targets at every evaluation.
    assert len({r["eval_masked_tokens"] for r in evaluations}) == 1 and evaluations[0]["eval_masked_tokens"] > 100
    # Untrained: about log(28) (uniform over the vocabulary); trained, it falls (four bases: log 4 = 1.39).
    assert evaluations[0]["eval_loss"] > 3.0
    assert summary["eval_loss_end"] < summary["eval_loss_start"] - 0.3
    assert summary["eval_accuracy_end"] > summary["eval_accuracy_start"]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000006", "step_000012"]

    final = out / "final"
    masked_lm = AutoModelForMaskedLM.from_pretrained(final, trust_remote_code=True).eval()
    encoder = AutoModel.from_pretrained(final, trust_remote_code=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(final, trust_remote_code=True)
    family = "RnaFm" if model.startswith("rnafm") else "RiNALMo"
    assert (type(masked_lm).__name__, type(encoder).__name__) == (f"{family}ForMaskedLM", f"{family}Model")
    assert masked_lm.config.hidden_size == TINY_MLM["hidden_size"]
    batch = tokenizer(["ACGUACGGAUUCGA", "GGCAUGCAUUAAGC" * 3], return_tensors="pt")
    with torch.no_grad():
        states = encoder(**batch).last_hidden_state
        output = masked_lm(**batch)
    assert output.logits.shape == (2, batch["input_ids"].shape[1], len(VOCABULARY))
    torch.testing.assert_close(output.last_hidden_state, states)  # AutoModel reads the encoder's weights


def test_the_presets_parse_and_state_their_parameter_counts() -> None:
    for name, model in (("rnafm_cpu_small.yaml", "RnaFmModel"), ("rinalmo_cpu_small.yaml", "RiNALMoModel")):
        preset = TRAINING_DIR / "configs" / name
        config = parse_pretraining_config(["--config", str(preset), "--corpus", "c"])
        assert config.objective == "masked_lm" and config.masking_probability == 0.15
        assert config.crop_policy().random
        network = build_model(config)
        encoder = sum(p.numel() for p in network.base_model.parameters())
        total = sum(p.numel() for p in network.parameters())
        assert type(network.base_model).__name__ == model
        text = preset.read_text()
        assert f"{encoder:,} encoder parameters" in text and f"{total:,} with" in text, (encoder, total)
        assert abs(encoder / 787_264 - 1) < 0.06  # near isoclr-s (matched compute, issue 22)
        unset = parse_pretraining_config(["--config", str(preset), "--corpus", "c", "--max_length", "null"])
        assert with_model_defaults(unset, network.config).max_length == 1022  # one window of positions


def test_the_model_names_are_the_families_presets() -> None:
    from isoclr_hf.models.isoclr.configuration_isoclr import PRESETS as ISOCLR_PRESETS
    from isoclr_hf.models.orthrus.configuration_orthrus import PRESET_ALIASES
    from isoclr_hf.models.orthrus.configuration_orthrus import PRESETS as ORTHRUS_PRESETS

    assert set(CONTRASTIVE_MODELS) == {*ISOCLR_PRESETS, *ORTHRUS_PRESETS, *PRESET_ALIASES}
    assert set(MASKED_LM_MODELS) == {*RNAFM_PRESETS, *RINALMO_PRESETS, "rinalmo"}
    assert build_model(parse_pretraining_config(["--corpus", "c", "--model", "rinalmo"])).config.hidden_size == 1280


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--model", "rnafm-large"], r"model='rnafm-large' is not a pretraining preset.*rnafm-cpu-small"),
        (["--model", "rnafm-cpu-small", "--crop_position", "anywhere", "--crop_three_prime_fraction", "0.5"],
         r"crop_three_prime_fraction is an option of contrastive pretraining.*--model rnafm-cpu-small"),
        (["--model", "rinalmo-cpu-small", "--streaming", "true", "--max_steps", "5"],
         r"streaming is an option of contrastive pretraining"),
        (["--model", "rnafm", "--max_nucleotides_per_batch", "100000"], r"max_nucleotides_per_batch is an option"),
        (["--model", "rnafm", "--model_overrides", "{mask_fraction: 0.2}"],
         r"model_overrides' mask_fraction is an option of contrastive.*--mlm_probability"),
        (["--model", "isoclr-s", "--mlm_probability", "0.2"], r"mlm_probability is an option of masked-LM"),
        (["--model", "rnafm", "--mlm_probability", "1.5"], r"mlm_probability must be in \(0, 1\)"),
    ],
)
def test_options_of_the_other_objective_are_named(options: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_pretraining_config(["--corpus", "c", *options])


def test_the_launcher_names_a_field_the_family_does_not_have(tiny_corpus_path: Path, tmp_path: Path, capsys) -> None:
    import runpy

    main = runpy.run_path(str(TRAINING_DIR / "pretrain.py"))["main"]
    arguments = mlm_arguments(tiny_corpus_path, tmp_path / "run", model_overrides="{stem_filters: 8}")
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert re.search(r"pretrain.py: error: model_overrides: RnaFmConfig \(rnafm-cpu-small\) has no field "
                     r"stem_filters", error), error
