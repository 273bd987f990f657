"""Orthology merges human and mouse gene sets: HomoloGene by symbol, the 1:1 list by Ensembl id."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from isoclr_hf.annotations import read_annotation
from isoclr_hf.corpus import OrthologyTable, build_corpus

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def mouse_mapt():
    folder = DATA / "pretraining" / "gencode_mouse_mapt"
    return list(
        read_annotation(folder / "MAPT.Mouse.genedb.gtf", folder / "MAPT.Mouse.reference.fasta", species="mus_musculus")
    )


@pytest.fixture(scope="module")
def human_mapt(mouse_mapt):
    """Stand-ins for human MAPT transcripts (human MAPT is not in the bundled data): real ids, mouse bases."""
    return [
        replace(record, transcript_id=f"HUMAN-{record.transcript_id}", gene_id="ENSG00000186868", gene_name="MAPT",
                species="homo_sapiens")
        for record in mouse_mapt[:3]
    ]  # fmt: skip


@pytest.fixture(scope="module")
def tables() -> dict[str, OrthologyTable]:
    names = ("homologene_b68.tsv.gz", "human_mouse_1to1_orthologs.tsv")
    return {name: OrthologyTable.load(DATA / "orthology" / name) for name in names}


def _sets(corpus):
    return {row["set_id"]: row for split in corpus.values() for row in split}


def test_without_orthology_each_species_gene_is_its_own_set(human_mapt, mouse_mapt):
    sets = _sets(build_corpus(human_mapt + mouse_mapt))
    assert set(sets) == {"ENSG00000186868", "ENSMUSG00000018411"}


@pytest.mark.parametrize(
    ("table_file", "strip_names"),
    [("homologene_b68.tsv.gz", False), ("human_mouse_1to1_orthologs.tsv", True)],
)
def test_orthology_table_merges_human_and_mouse_mapt(human_mapt, mouse_mapt, tables, table_file, strip_names):
    records = human_mapt + mouse_mapt
    if strip_names:  # the 1:1 list joins on Ensembl ids alone
        records = [replace(record, gene_name="") for record in records]
    table = tables[table_file]
    (only_set,) = _sets(build_corpus(records, orthology=table)).values()
    assert only_set["species"] == ["homo_sapiens", "mus_musculus"]
    assert only_set["set_size"] == len(records)
    assert {t["species"] for t in only_set["transcripts"]} == {"homo_sapiens", "mus_musculus"}


def test_homologene_cannot_join_on_ensembl_ids_alone(human_mapt, mouse_mapt, tables):
    records = [replace(record, gene_name="") for record in human_mapt + mouse_mapt]
    assert len(_sets(build_corpus(records, orthology=tables["homologene_b68.tsv.gz"]))) == 2


def test_unrecognised_table_is_refused(tmp_path):
    bad = tmp_path / "table.tsv"
    bad.write_text("a\tb\n")
    with pytest.raises(ValueError, match="HomoloGene"):
        OrthologyTable.load(bad)
