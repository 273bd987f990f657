"""Windows over transcripts longer than the positions (``nucleotide_transformer.py``, both masked-LM families).

Each nucleotide's state must be the one-window result of the window where it is most central (checked against
that window run alone, chosen here by a plain loop), a row that fits must not change, ``pooler_output`` is the
mean over the nucleotides, and batching or left padding never changes a windowed row.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import torch

from isoclr_hf.models.rinalmo import RiNALMoConfig, RiNALMoForMaskedLM, RiNALMoModel
from isoclr_hf.models.rnafm import NucleotideTokenizer, RnaFmConfig, RnaFmForMaskedLM, RnaFmModel
from isoclr_hf.models.rnafm.nucleotide_transformer import window_starts
from tests.models.mlm_families import perturbed
from tests.models.model_contract import left_pad, random_sequence

WINDOW, OVERLAP = 30, 10
FAMILIES = {
    "rnafm": (RnaFmConfig, RnaFmModel, RnaFmForMaskedLM, WINDOW + 4),  # positions: offset 2, <cls>, <eos>
    "rinalmo": (RiNALMoConfig, RiNALMoModel, RiNALMoForMaskedLM, WINDOW + 2),
}


def small(family: str, positions: int | None = None) -> torch.nn.Module:
    config_class, model_class, _, window_positions = FAMILIES[family]
    config = config_class(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24,
                          max_position_embeddings=positions or window_positions, window_overlap=OVERLAP,
                          hidden_dropout=0.0, attention_dropout=0.0)  # fmt: skip
    torch.manual_seed(0)
    return perturbed(model_class(config))


def encode(sequences: list[str]) -> dict[str, torch.Tensor]:
    return dict(NucleotideTokenizer()(sequences, return_tensors="pt"))


@pytest.mark.parametrize(("n", "window", "overlap"), [(30, 30, 10), (31, 30, 10), (100, 30, 10), (4000, 1022, 256),
                                                      (2045, 1022, 0), (57, 8, 7)])  # fmt: skip
def test_window_starts_cover_the_row_with_the_overlap(n: int, window: int, overlap: int) -> None:
    starts = window_starts(n, window, overlap)
    if n <= window:
        assert starts == [0]
        return
    assert starts[0] == 0 and starts[-1] == n - window and starts == sorted(set(starts))
    assert all(b - a <= window - overlap for a, b in pairwise(starts))  # neighbours overlap enough
    assert len(window_starts(n, window, overlap)) - 1 <= (n - window) / (window - overlap) + 1  # no spare window


@pytest.mark.parametrize("family", list(FAMILIES))
@torch.no_grad()
def test_each_nucleotide_comes_from_the_window_where_it_is_most_central(family: str) -> None:
    model = small(family).eval()
    assert model.config.window_nucleotides == WINDOW
    sequence = random_sequence(100, np.random.default_rng(0))
    out = model(**encode([sequence]))
    states = out.last_hidden_state[0]  # (102, hidden): <cls>, 100 nucleotides, <eos>
    starts = window_starts(100, WINDOW, OVERLAP)
    alone = [model(**encode([sequence[s : s + WINDOW]])).last_hidden_state[0] for s in starts]  # each window alone
    for position in range(100):
        margins = [min(position - s, s + WINDOW - 1 - position) if s <= position < s + WINDOW else -1 for s in starts]
        best = margins.index(max(margins))  # the 5' window on ties
        expected = alone[best][1 + position - starts[best]]
        torch.testing.assert_close(states[1 + position], expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(states[0], alone[0][0], atol=1e-5, rtol=1e-5)  # <cls> from the first window
    torch.testing.assert_close(states[-1], alone[-1][-1], atol=1e-5, rtol=1e-5)  # <eos> from the last
    torch.testing.assert_close(out.pooler_output[0], states[1:-1].mean(0), atol=1e-6, rtol=1e-5)  # nucleotides only


@pytest.mark.parametrize("family", list(FAMILIES))
@torch.no_grad()
def test_a_row_that_fits_is_not_changed_by_windowing(family: str) -> None:
    """The same weights with room for 200 tokens: a 30-nt row gives the same states; a 100-nt row does not."""
    short, wide = small(family).eval(), small(family, positions=204).eval()
    state = short.state_dict()
    if family == "rnafm":  # the wide table's first rows are the short one's
        table = wide.state_dict()["embeddings.position_embeddings.weight"].clone()
        table[: state["embeddings.position_embeddings.weight"].shape[0]] = state[
            "embeddings.position_embeddings.weight"
        ]
        state = {**state, "embeddings.position_embeddings.weight": table}
    wide.load_state_dict(state)
    rng = np.random.default_rng(1)
    fits, longer = random_sequence(WINDOW, rng), random_sequence(100, rng)
    torch.testing.assert_close(short(**encode([fits])).last_hidden_state, wide(**encode([fits])).last_hidden_state)
    if family == "rnafm":
        windowed, whole = short(**encode([longer])).pooler_output, wide(**encode([longer])).pooler_output
        assert not torch.allclose(windowed, whole, atol=1e-4)  # windows are used where the row does not fit


@pytest.mark.parametrize("family", list(FAMILIES))
@torch.no_grad()
def test_windowed_rows_do_not_depend_on_their_batch_or_padding_side(family: str) -> None:
    model = small(family).eval()
    rng = np.random.default_rng(2)
    sequences = [random_sequence(n, rng) for n in (12, 95, 40)]
    batch = encode(sequences)
    together = model(**batch)
    for row, sequence in enumerate(sequences):
        alone = model(**encode([sequence]))
        n = len(sequence) + 2
        torch.testing.assert_close(
            together.last_hidden_state[row, :n], alone.last_hidden_state[0], atol=1e-5, rtol=1e-5
        )
        torch.testing.assert_close(together.pooler_output[row], alone.pooler_output[0], atol=1e-5, rtol=1e-5)
    left = model(**left_pad(batch))
    torch.testing.assert_close(left.last_hidden_state, together.last_hidden_state, atol=1e-5, rtol=1e-5)
    _, _, masked_lm_class, _ = FAMILIES[family]
    masked_lm = masked_lm_class(model.config).eval()
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    out = masked_lm(**batch, labels=labels)
    assert out.logits.shape == (3, 97, 28) and torch.isfinite(out.loss)
