"""build_corpus(hold_out_genes=...): a fixed fraction of gene symbols kept out of pretraining, whole sets at a time."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isoclr_hf.annotations import SkipLog, TranscriptRecord
from isoclr_hf.corpus import build_corpus, summarize_corpus
from isoclr_hf.corpus.orthology import OrthologyTable
from isoclr_hf.corpus.splits import held_out_gene

SYMBOLS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)


@given(SYMBOLS, st.floats(0.0, 0.99))
def test_the_rule_reads_only_the_symbol_in_any_case(symbol, fraction):
    assert held_out_gene(symbol, fraction) == held_out_gene(symbol.lower(), fraction)
    assert held_out_gene(symbol, 0.0) is False and held_out_gene("", fraction) is False
    if held_out_gene(symbol, fraction):  # a gene held out at one fraction is held out at every larger one
        assert held_out_gene(symbol, min(fraction + 0.01, 0.999))


def test_about_the_fraction_asked_for_is_held_out():
    symbols = [f"GENE{i}" for i in range(20_000)]
    for fraction in (0.1, 0.2, 0.5):
        share = sum(held_out_gene(s, fraction) for s in symbols) / len(symbols)
        assert abs(share - fraction) < 0.015, (fraction, share)


def _record(transcript: str, gene: str, symbol: str, species: str = "homo_sapiens", seed: int = 0) -> TranscriptRecord:
    sequence = "".join("ACGT"[(seed * 7 + i * i + len(transcript)) % 4] for i in range(60 + seed))
    return TranscriptRecord(transcript, gene, symbol, species, sequence, [30, 60 + seed])


def test_every_set_with_a_held_out_gene_is_left_out_whole_and_counted():
    symbols = [f"SYM{i}" for i in range(200)]
    held = {s for s in symbols if held_out_gene(s, 0.3)}
    assert 0 < len(held) < len(symbols)
    records = [_record(f"T{i}.{k}", f"G{i}", s, seed=2 * i + k) for i, s in enumerate(symbols) for k in range(2)]
    # The mouse ortholog of each gene, merged with it by a table: a held-out human gene takes its ortholog along,
    # even though the mouse symbol (lower case here) is the same gene.
    records += [_record(f"M{i}", f"MG{i}", s.lower(), "mus_musculus", seed=1000 + i) for i, s in enumerate(symbols)]
    table = OrthologyTable("toy")
    for i in range(len(symbols)):
        table.add_group(f"G{i}", [("homo_sapiens", f"G{i}"), ("mus_musculus", f"MG{i}")])
    skipped = SkipLog()
    corpus = build_corpus(records, orthology=table, hold_out_genes=0.3, skipped=skipped)
    kept = {t["gene_name"].upper() for split in corpus.values() for row in split for t in row["transcripts"]}
    assert kept == set(symbols) - held
    assert skipped["held_out_gene_set"] == 3 * len(held)  # two isoforms and the ortholog of each held-out gene
    assert summarize_corpus(corpus)["transcripts"] == 3 * (len(symbols) - len(held))
    baseline = build_corpus(records, orthology=table)
    assert summarize_corpus(baseline)["transcripts"] == len(records)


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_a_fraction_outside_0_1_is_refused(fraction):
    with pytest.raises(ValueError, match="hold_out_genes"):
        build_corpus([_record("T1", "G1", "A")], hold_out_genes=fraction, skipped=Counter())
