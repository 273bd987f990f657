"""The named tasks of issue 11: half-life on the full-length RefSeq mRNAs, and iCodon decay by species."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isoclr_hf.cli import main
from isoclr_hf.evaluation.tasks.loaders import ICODON_TASK_SPECIES, load_icodon_decay, ortholog_groups
from isoclr_hf.evaluation.tasks.registry import TASKS, RegressionTask, load_task
from isoclr_hf.evaluation.tasks.splits import MIN_TEST_EXAMPLES, check_no_group_leak, evaluation_splits, task_split
from tests.tiny_tasks import DATA_DIR, save_tiny_encoder

ICODON = DATA_DIR / "benchmarks/icodon_decay/icodon_testing.tsv.gz"


@pytest.fixture(scope="module")
def refseq_task() -> RegressionTask:
    return load_task("saluki_halflife_refseq", data_dir=DATA_DIR)


@pytest.fixture(scope="module")
def icodon_task() -> RegressionTask:
    return load_task("icodon_decay", data_dir=DATA_DIR)


def _saluki_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    folds = pd.read_csv(DATA_DIR / "benchmarks/saluki_halflife/human_folds.tsv", sep="\t")
    folds["GENEID"] = folds["GENEID"].str.split(".").str[0]
    pc1 = pd.read_csv(DATA_DIR / "benchmarks/saluki_halflife/human_PC1.tsv", sep="\t")
    return folds.set_index("GENEID"), pc1.set_index("ensembl_gene_id")


def test_refseq_halflife_has_one_mrna_per_gene_with_inferred_cds(refseq_task: RegressionTask) -> None:
    task = refseq_task
    assert len(task) == 13_102
    genes = [r.gene_id for r in task.records]
    assert len(set(genes)) == len(task) and all(g.startswith("ENSG") for g in genes)
    assert all(r.cds_inferred and r.is_coding for r in task.records)
    assert all(r.transcript_id.startswith("NM_") for r in task.records[:100])
    _, pc1 = _saluki_tables()
    assert [pc1.at[g, "external_gene_name"] for g in genes[:200]] == [r.gene_name for r in task.records[:200]]
    assert sum(len(r.sequence) > 12_288 for r in task.records) == 230  # kept, embedded 5' end first
    assert any("230 mRNAs are longer" in note for note in task.notes)


def test_refseq_halflife_labels_and_split_follow_the_saluki_folds(refseq_task: RegressionTask) -> None:
    task = refseq_task
    folds, pc1 = _saluki_tables()
    genes = np.asarray([r.gene_id for r in task.records])
    has_fold = np.isin(genes, folds.index)
    assert has_fold.sum() == 12_432
    np.testing.assert_allclose(task.labels[has_fold], folds.loc[genes[has_fold], "HALFLIFE"].to_numpy())
    # Genes without a fold: PC1 z-scored like HALFLIFE (mean and sd of PC1 over the folds' genes).
    reference = pc1.loc[pc1.index.isin(folds.index), "human_PC1"]
    expected = (pc1.loc[genes[~has_fold], "human_PC1"] - reference.mean()) / reference.std()
    np.testing.assert_allclose(task.labels[~has_fold], expected.to_numpy())
    bins = folds["BIN"].reindex(genes).to_numpy()
    split = task_split(task, min_test=MIN_TEST_EXAMPLES)
    assert set(bins[split["test"]]) == {1, 2} and set(bins[split["validation"]]) == {3}
    assert not np.isin(genes[~has_fold], genes[split["test"]]).any()
    check_no_group_leak(task.groups, split)


def test_icodon_averages_rows_per_gene_and_species(icodon_task: RegressionTask) -> None:
    table = pd.read_csv(ICODON, sep="\t")
    per_gene = table.groupby(["gene_id"])["decay_rate"].mean()
    assert len(icodon_task) == table.groupby(["specie", "gene_id"]).ngroups == 3_446
    np.testing.assert_allclose(icodon_task.labels, per_gene.loc[[r.gene_id for r in icodon_task.records]].to_numpy())
    counts = pd.Series(icodon_task.categories).value_counts().to_dict()
    assert counts == {"human": 1421, "zebrafish": 1309, "mouse": 589, "xenopus": 127}
    for record in icodon_task.records:
        assert record.cds == (0, len(record.sequence)) and len(record.sequence) % 3 == 0
        assert ("cds_start_NF" in record.flags) != record.sequence.upper().startswith("ATG")


def test_icodon_orthologs_share_a_group_that_never_straddles_splits(icodon_task: RegressionTask) -> None:
    by_group = pd.Series(icodon_task.categories).groupby(icodon_task.groups).nunique()
    assert (by_group > 1).sum() > 200  # genes of several species grouped through their human ortholog
    for seed in (0, 1, 2):
        check_no_group_leak(icodon_task.groups, task_split(icodon_task, seed=seed, min_test=MIN_TEST_EXAMPLES))
    # A fish gene and a mouse gene that map to the same human gene land in its group.
    orthology = pd.DataFrame({"human_ensembl": ["ENSG1", "ENSG1", "ENSG2"],
                              "ensembl": ["ENSDARG9", "ENSMUSG5", "ENSDARG7"]})
    groups = ortholog_groups(["ENSDARG9", "ENSMUSG5", "ENSG1", "ENSDARG7", "ENSXETG3"], orthology)
    assert groups == {"ENSDARG9": "ENSG1", "ENSMUSG5": "ENSG1", "ENSG1": "ENSG1", "ENSDARG7": "ENSG2",
                      "ENSXETG3": "ENSXETG3"}


@pytest.mark.parametrize("species", ICODON_TASK_SPECIES)
def test_each_large_enough_species_is_a_task(species: str) -> None:
    task = load_task(f"icodon_decay_{species}", data_dir=DATA_DIR)
    assert set(task.categories) == {species}
    task_split(task, min_test=MIN_TEST_EXAMPLES)


def test_xenopus_is_too_small_for_a_task_of_its_own() -> None:
    assert "icodon_decay_xenopus" not in TASKS
    task = load_icodon_decay(DATA_DIR, "xenopus")
    with pytest.raises(ValueError, match=r"has 1\d examples .*at least 20"):
        evaluation_splits(task, seeds=[0])


def _icodon_dir(tmp_path: Path, rows: list[str]) -> Path:
    folder = tmp_path / "benchmarks" / "icodon_decay"
    folder.mkdir(parents=True)
    with gzip.open(folder / "icodon_testing.tsv.gz", "wt") as handle:
        handle.write("gene_id\tspecie\tcell_type\tdatatype\tdecay_rate\tutrlenlog\tcoding\tcdslenlog\n")
        handle.writelines(row + "\n" for row in rows)
    (tmp_path / "orthology").mkdir()
    shutil.copy(DATA_DIR / "orthology/babelgene_hcop_human_to_19species.tsv.gz", tmp_path / "orthology")
    return tmp_path


def test_icodon_bad_rows_name_the_file_and_line(tmp_path: Path) -> None:
    good = "ENSG1\thuman\thela\tendogenous\t0.5\t1\tATGAAATAA\t1"
    data = _icodon_dir(tmp_path / "a", [good, "ENSG2\thuman\thela\tendogenous\t0.1\t1\tATGXAATAA\t1"])
    with pytest.raises(ValueError, match=r"icodon_testing\.tsv\.gz: line 3: character 'X' at position 4 \(1-based\)"):
        load_task("icodon_decay", data_dir=data)
    data = _icodon_dir(tmp_path / "b", [good, "ENSG2\thuman\thela\tendogenous\t\t1\tATGAAATAA\t1"])
    with pytest.raises(ValueError, match=r"icodon_testing\.tsv\.gz: 1 missing .*decay_rate.* line\(s\) 3"):
        load_task("icodon_decay", data_dir=data)
    data = _icodon_dir(tmp_path / "c", [good, "ENSG2\tfrog\thela\tendogenous\t0.1\t1\tATGAAATAA\t1"])
    with pytest.raises(ValueError, match=r"line 3: unknown specie 'frog'"):
        load_task("icodon_decay", data_dir=data)


def test_evaluate_runs_a_named_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = save_tiny_encoder(tmp_path / "encoder")
    out = tmp_path / "report"
    argv = ["evaluate", "--model", str(model), "--task", "icodon_decay", "--out", str(out), "--max-examples", "300",
            "--fractions", "1", "--seeds", "0,1", "--fine-tune-fractions", "none", "--batch-size", "8", "--quiet"]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["task"] == "icodon_decay" and report["target_names"] == ["decay_rate"]
    assert {r["seed"] for r in report["results"]} == {0, 1}
    assert all(r["n_test"] >= MIN_TEST_EXAMPLES for r in report["results"])
    assert {r["encoder"] for r in report["results"]} >= {"pretrained", "kmer_baseline"}


def test_a_repeated_gene_symbol_names_the_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "benchmarks" / "saluki_halflife"
    folder.mkdir(parents=True)
    shutil.copy(DATA_DIR / "benchmarks/saluki_halflife/human_folds.tsv", folder)
    (folder / "human_PC1.tsv").write_text("ensembl_gene_id\texternal_gene_name\thuman_PC1\n"
                                          "ENSG00000000003\tTSPAN6\t1.0\nENSG00000000419\tDPM1\t2.0\n"
                                          "ENSG00000000457\tTSPAN6\t3.0\n")
    with pytest.raises(ValueError, match=r"human_PC1\.tsv: line 4: gene symbol 'TSPAN6' appears again"):
        load_task("saluki_halflife_refseq", data_dir=tmp_path)
