"""Task loaders: the bundled real data, the mRNABench layout, and clear errors on bad files."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.evaluation.tasks.registry import RegressionTask, load_task
from isoclr_hf.evaluation.tasks.splits import check_no_group_leak, task_split
from tests.tiny_tasks import DATA_DIR, write_mrnabench_parquet


def _tokenizes(task: RegressionTask, count: int = 20) -> None:
    records = task.records[:count]
    IsoCLRTokenizer()([r.sequence for r in records], exon_ends=[r.exon_ends for r in records],
                      cds=[r.cds for r in records], names=[r.transcript_id for r in records])


def test_halflife_task_has_one_isoform_per_gene_and_the_saluki_folds(bundled_tasks: dict) -> None:
    task = bundled_tasks["saluki_halflife_human"]
    folds = pd.read_csv(DATA_DIR / "benchmarks/saluki_halflife/human_folds.tsv", sep="\t")
    folds["GENEID"] = folds["GENEID"].str.split(".").str[0]
    folds = folds.set_index("GENEID")
    genes = [r.gene_id for r in task.records]
    assert len(genes) == len(set(genes)) > 200
    np.testing.assert_allclose(task.labels, folds.loc[genes, "HALFLIFE"].to_numpy())
    assert all(r.is_coding for r in task.records)
    test_bins = set(folds.loc[np.asarray(genes)[task.predefined_split == "test"], "BIN"])
    assert test_bins <= {1, 2}
    check_no_group_leak(task.groups, task_split(task))
    _tokenizes(task)


def test_siegel_task_groups_variants_of_one_utr(bundled_tasks: dict) -> None:
    task = bundled_tasks["siegel_3utr_jurkat"]
    assert len(task) == len(pd.read_csv(DATA_DIR / "benchmarks/siegel2022_3utr_stability/jurkat.tsv.gz",
                                        sep="\t", header=None))
    # Rows sharing their first 40 nt are variants of one element: one group.
    prefixes = pd.Series([r.sequence[:40] for r in task.records])
    for _, indices in list(prefixes.groupby(prefixes).groups.items())[:200]:
        assert len(set(task.groups[list(indices)])) == 1
    assert not any(r.is_coding for r in task.records[:100])
    check_no_group_leak(task.groups, task_split(task))
    _tokenizes(task)


def test_te_task_labels_are_log2_te_with_the_reporter_start_as_cds(bundled_tasks: dict) -> None:
    task = bundled_tasks["te_5utr_hek293"]
    table = pd.read_csv(DATA_DIR / "benchmarks/te_5utr_endogenous/final_endogenous.tsv", sep="\t", header=None)
    rows = table[table[1].str.split("|").str[1] == "HEK293"]
    assert len(task) == len(rows)
    te = rows[1].str.extract(r"te=([^|]+)")[0].astype(float).to_numpy()
    np.testing.assert_allclose(task.labels, np.log2(te))
    record = task.records[0]
    assert record.sequence[record.cds_start:record.cds_start + 3].upper() == "ATG"
    assert (record.cds_end - record.cds_start) % 3 == 0 and "cds_end_NF" in record.flags
    by_gene = pd.Series(task.groups).groupby(pd.Series([r.gene_name for r in task.records])).nunique()
    assert (by_gene == 1).all()
    _tokenizes(task)


def test_mrnabench_parquet_becomes_a_task(tmp_path: Path) -> None:
    path = write_mrnabench_parquet(tmp_path / "bench.parquet")
    task = load_task(path)
    table = pd.read_parquet(path)
    assert len(task) == len(table)
    record, row = task.records[0], table.iloc[0]
    assert record.exon_ends == [41, len(row.sequence)]
    assert record.cds_start == 10 and (record.cds_end - record.cds_start) % 3 == 0
    np.testing.assert_allclose(task.labels, table["target"])
    assert list(task.groups[:3]) == ["gene0"] * 3
    _tokenizes(task)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = write_mrnabench_parquet(tmp_path / "bench.parquet")
    pd.read_parquet(path).drop(columns=["gene", "target"]).to_parquet(path)
    with pytest.raises(ValueError, match=r"missing column\(s\) target; the file has the columns sequence, cds, "
                                         r"splice, isoform"):
        load_task(path)


def test_nan_labels_are_reported_with_their_row(tmp_path: Path) -> None:
    path = write_mrnabench_parquet(tmp_path / "bench.parquet")
    table = pd.read_parquet(path)
    table.loc[4, "target"] = np.nan
    table.to_parquet(path)
    with pytest.raises(ValueError, match=r"bench\.parquet: row 5: target 'target' is missing"):
        load_task(path)


def test_unknown_characters_are_reported_with_line_and_position(tmp_path: Path) -> None:
    folder = tmp_path / "benchmarks" / "siegel2022_3utr_stability"
    folder.mkdir(parents=True)
    with gzip.open(folder / "jurkat.tsv.gz", "wt") as handle:
        handle.write("ACGTACGTAC\t0.1\nACGTAXGTAC\t0.2\n")
    with pytest.raises(ValueError, match=r"line 2: character 'X' at position 6 \(1-based\)"):
        load_task("siegel_3utr_jurkat", data_dir=tmp_path)


def test_an_empty_split_is_an_error(tmp_path: Path) -> None:
    path = write_mrnabench_parquet(tmp_path / "bench.parquet", genes=6, per_gene=2)
    table = pd.read_parquet(path)
    table["split"] = ["train"] * 8 + ["test"] * 4  # no validation rows
    table.to_parquet(path)
    with pytest.raises(ValueError, match="validation split is empty"):
        task_split(load_task(path))


def test_unknown_task_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="te_5utr_pc3"):
        load_task("no_such_task")


def test_te_cell_lines_are_separate_tasks(tmp_path: Path) -> None:
    folder = tmp_path / "benchmarks" / "te_5utr_endogenous"
    folder.mkdir(parents=True)
    shutil.copy(DATA_DIR / "benchmarks/te_5utr_endogenous/final_endogenous.tsv", folder)
    muscle = load_task("te_5utr_muscle", data_dir=tmp_path)
    assert all("_MUSCLE_" in r.transcript_id for r in muscle.records)
