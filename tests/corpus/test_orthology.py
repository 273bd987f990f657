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
    sets = _sets(build_corpus(human_mapt + mouse_mapt, deduplicate_sequences=False))
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
    (only_set,) = _sets(build_corpus(records, orthology=table, deduplicate_sequences=False)).values()
    assert only_set["species"] == ["homo_sapiens", "mus_musculus"]
    assert only_set["set_size"] == len(records)
    assert {t["species"] for t in only_set["transcripts"]} == {"homo_sapiens", "mus_musculus"}


def test_homologene_cannot_join_on_ensembl_ids_alone(human_mapt, mouse_mapt, tables):
    records = [replace(record, gene_name="") for record in human_mapt + mouse_mapt]
    homologene = tables["homologene_b68.tsv.gz"]
    assert len(_sets(build_corpus(records, orthology=homologene, deduplicate_sequences=False))) == 2


def test_unrecognised_table_is_refused(tmp_path):
    bad = tmp_path / "table.tsv"
    bad.write_text("a\tb\n")
    with pytest.raises(ValueError, match="HomoloGene"):
        OrthologyTable.load(bad)


HCOP_HEADER = "human_symbol\thuman_entrez\thuman_ensembl\ttaxon_id\tsymbol\tentrez\tensembl\tsupport\tsupport_n\n"


def test_hcop_joins_human_ids_of_one_gene_and_its_mouse_ortholog(human_mapt, mouse_mapt):
    hcop = OrthologyTable.load(DATA / "orthology" / "babelgene_hcop_human_to_19species.tsv.gz")
    # One human gene under its Ensembl id (SQANTI3-style), its Entrez id + symbol (RefSeq-style), and mouse Mapt.
    refseq_style = [replace(record, transcript_id=f"NM-{i}", gene_id="4137") for i, record in enumerate(human_mapt)]
    (only_set,) = _sets(build_corpus(human_mapt + refseq_style + mouse_mapt, orthology=hcop,
                                     deduplicate_sequences=False)).values()
    assert only_set["set_id"] == "hcop:4137"
    assert only_set["set_size"] == 2 * len(human_mapt) + len(mouse_mapt)


def test_hcop_leaves_out_orthologs_of_several_human_genes_and_weak_support(tmp_path):
    table = tmp_path / "hcop.tsv"
    table.write_text(
        HCOP_HEADER
        + "GENEA\t1\tENSG01\t10090\tGenea\t11\tENSMUSG01\tNCBI|OMA\t2\n"
        + "GENEB\t2\tENSG02\t10090\tShared\t22\tENSMUSG02\tNCBI\t1\n"  # one mouse gene, two human genes
        + "GENEC\t3\tENSG03\t10090\tShared\t22\tENSMUSG02\tNCBI\t1\n"
        + "GENED\t4\tENSG04\t10116\tGened\t44\tENSRNOG04\tOMA\t1\n"
    )
    hcop = OrthologyTable.load(table)
    assert hcop.groups_of("mus_musculus", "ENSMUSG01") == ["hcop:1"]
    assert hcop.groups_of("homo_sapiens", "", "GENEA") == hcop.groups_of("homo_sapiens", "ENSG01") == ["hcop:1"]
    assert hcop.groups_of("mus_musculus", "ENSMUSG02") == []  # would chain GENEB and GENEC
    assert hcop.groups_of("homo_sapiens", "2") == ["hcop:2"] and hcop.groups_of("homo_sapiens", "3") == ["hcop:3"]
    assert hcop.groups_of("rattus_norvegicus", "ENSRNOG04") == ["hcop:4"]
    strict = OrthologyTable.from_hcop(table, min_support=2)
    assert strict.groups_of("rattus_norvegicus", "ENSRNOG04") == []
    assert strict.groups_of("mus_musculus", "ENSMUSG01") == ["hcop:1"]
