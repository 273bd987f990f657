"""User task files: parquet/CSV/TSV(.gz), named columns, CDS and exon forms, errors that name file and row."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.evaluation.tasks.files import TaskColumns, parse_cds, parse_exon_ends
from isoclr_hf.evaluation.tasks.loaders import load_mrnabench_task
from isoclr_hf.evaluation.tasks.registry import load_task, load_tasks
from isoclr_hf.evaluation.tasks.splits import MIN_TEST_EXAMPLES, evaluation_splits, task_split
from tests.tiny_tasks import write_mrnabench_parquet


def _table(rows: int = 30, genes: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sequences = ["".join(rng.choice(list("ACGU"), size=int(rng.integers(60, 90)))) for _ in range(rows)]
    return pd.DataFrame({
        "seq": sequences,
        "y": rng.normal(size=rows),
        "y2": rng.normal(size=rows),
        "gene": [f"g{i % genes}" for i in range(rows)],
    })


def _write(table: pd.DataFrame, path: Path) -> Path:
    if path.name.endswith(".parquet"):
        table.to_parquet(path)
    else:
        sep = "," if ".csv" in path.name else "\t"
        table.to_csv(path, sep=sep, index=False)  # .gz compressed by pandas from the name
    return path


COLUMNS = TaskColumns(sequence="seq", targets=("y",), group="gene")


@pytest.mark.parametrize("name", ["t.parquet", "t.csv", "t.tsv", "t.csv.gz", "t.tsv.gz"])
def test_every_format_reads_the_same_task(tmp_path: Path, name: str) -> None:
    table = _table()
    path = _write(table, tmp_path / name)
    if name.endswith(".gz"):
        with gzip.open(path, "rt") as handle:  # really gzipped
            assert handle.readline().startswith("seq")
    task = load_task(path, columns=COLUMNS)
    assert task.name == "t" and task.target_name == "y" and task.source == str(path)
    assert [r.sequence for r in task.records] == table["seq"].tolist()
    np.testing.assert_allclose(task.labels, table["y"], rtol=1e-12)
    assert list(task.groups[:3]) == ["g0", "g1", "g2"]
    # No cds/exon columns: non-coding, one exon, no all-zero arrays needed.
    record = task.records[0]
    assert not record.is_coding and record.exon_ends == [len(record.sequence)]
    assert any("non-coding" in note for note in task.notes)
    IsoCLRTokenizer()([r.sequence for r in task.records], exon_ends=[r.exon_ends for r in task.records],
                      cds=[r.cds for r in task.records])


def test_several_targets_make_one_task_each(tmp_path: Path) -> None:
    path = _write(_table(), tmp_path / "t.csv")
    tasks = load_tasks(path, columns=TaskColumns(sequence="seq", targets=("y", "y2"), group="gene"))
    assert [t.name for t in tasks] == ["t_y", "t_y2"] and [t.target_name for t in tasks] == ["y", "y2"]
    np.testing.assert_allclose(tasks[1].labels, _table()["y2"])
    with pytest.raises(ValueError, match="2 target columns make 2 tasks"):
        load_task(path, columns=TaskColumns(sequence="seq", targets=("y", "y2"), group="gene"))


def test_without_a_group_column_each_row_is_its_own_group_with_a_warning(tmp_path: Path) -> None:
    path = _write(_table().drop(columns=["gene"]), tmp_path / "t.tsv")
    messages: list[str] = []
    task = load_task(path, columns=TaskColumns(sequence="seq", targets=("y",)), announce=messages.append)
    assert len(set(task.groups)) == len(task)
    assert len(messages) == 1 and "could straddle" in messages[0] and str(path) in messages[0]
    with pytest.warns(UserWarning, match="each row is its own group"):
        load_task(path, columns=TaskColumns(sequence="seq", targets=("y",)))


CDS_EXON_COLUMNS = TaskColumns(sequence="seq", targets=("y",), group="gene", cds="cds", exon_ends="exons")


def test_cds_and_exon_columns_as_text(tmp_path: Path) -> None:
    table = _table(rows=6)
    length = [len(s) for s in table["seq"]]
    table["cds"] = ["3:33", "3-33", "[3, 33]", "3,33", "", "[4, 20]"]
    table["exons"] = ["20,40", "[20]", "20;" + str(length[2]), "", "", "0" * 19 + "1" + "0" * (length[5] - 20)]
    records = load_task(_write(table, tmp_path / "t.csv"), columns=CDS_EXON_COLUMNS).records
    assert {r.cds for r in records[:4]} == {(3, 33)}
    assert not records[4].is_coding
    assert records[5].cds == (4, 19) and records[5].flags == ["cds_end_NF"]  # cut to whole codons
    assert records[0].exon_ends == [20, 40, length[0]]
    assert records[1].exon_ends == [20, length[1]] and records[2].exon_ends == [20, length[2]]
    assert records[3].exon_ends == [length[3]]
    assert records[5].exon_ends == [20, length[5]]  # a splice track as a digit string


def test_cds_and_exon_columns_as_arrays(tmp_path: Path) -> None:
    table = _table(rows=4)
    length = [len(s) for s in table["seq"]]
    track = np.zeros(length[0], dtype=int)
    track[5:5 + 3 * 10:3] = 1
    splice = np.zeros(length[0], dtype=int)
    splice[[19, length[0] - 1]] = 1
    table["cds"] = [track.tolist(), [3, 33], [], np.zeros(length[3], dtype=int).tolist()]
    table["exons"] = [splice.tolist(), [20, length[1]], [], [30]]
    records = load_task(_write(table, tmp_path / "t.parquet"), columns=CDS_EXON_COLUMNS).records
    assert records[0].cds == (5, 35) and records[1].cds == (3, 33)
    assert not records[2].is_coding and not records[3].is_coding  # empty list, all-zero track
    assert records[0].exon_ends == [20, length[0]] and records[1].exon_ends == [20, length[1]]
    assert records[2].exon_ends == [length[2]] and records[3].exon_ends == [30, length[3]]
    IsoCLRTokenizer()([r.sequence for r in records], exon_ends=[r.exon_ends for r in records],
                      cds=[r.cds for r in records])


def test_text_files_take_tracks_as_digit_strings() -> None:
    assert parse_cds("0010010010", 10) == (2, 8, ["cds_end_NF"])
    assert parse_cds("0010010000", 10) == (2, 8, [])
    assert parse_exon_ends("0001000001", 10) == [4, 10]
    assert parse_exon_ends("", 10) == [10]
    assert parse_cds(float("nan"), 10) == (-1, -1, [])


@pytest.mark.parametrize(("value", "fragment"), [("5:3", "need 0 <= start < end"), ("0:500", "need 0 <= start"),
                                                  ("abc", "not a list of non-negative integers"),
                                                  ("1,2,3", "neither an interval")])
def test_a_malformed_cds_names_file_and_row(tmp_path: Path, value: str, fragment: str) -> None:
    table = _table()
    table["cds"] = ""
    table.loc[6, "cds"] = value
    path = _write(table, tmp_path / "t.csv")
    with pytest.raises(ValueError, match=rf"t\.csv: row 7 \(line 8\): cds .*{fragment}"):
        load_task(path, columns=TaskColumns(sequence="seq", targets=("y",), group="gene", cds="cds"))


def test_malformed_exon_ends_are_refused(tmp_path: Path) -> None:
    table = _table()
    table["exons"] = ""
    table.loc[0, "exons"] = "40,20"
    path = _write(table, tmp_path / "t.tsv")
    with pytest.raises(ValueError, match=r"row 1 \(line 2\): exon ends '40,20': need increasing ends"):
        load_task(path, columns=TaskColumns(sequence="seq", targets=("y",), group="gene", exon_ends="exons"))


def test_a_missing_column_lists_the_columns_present(tmp_path: Path) -> None:
    path = _write(_table(), tmp_path / "t.csv")
    with pytest.raises(ValueError, match=r"t\.csv: missing column\(s\) label, cds; the file has the columns "
                                         r"seq, y, y2, gene"):
        load_task(path, columns=TaskColumns(sequence="seq", targets=("label",), group="gene", cds="cds"))


@pytest.mark.parametrize(("value", "fragment"), [("abc", "target 'y' value 'abc' is not a number"),
                                                  ("", "target 'y' is missing"),
                                                  ("inf", "target .y. value .inf. is not finite")])
def test_a_bad_target_names_file_row_and_line(tmp_path: Path, value: str, fragment: str) -> None:
    table = _table().astype({"y": object})
    table.loc[4, "y"] = value
    path = _write(table, tmp_path / "t.csv")
    with pytest.raises(ValueError, match=rf"t\.csv: row 5 \(line 6\): {fragment}"):
        load_task(path, columns=COLUMNS)


def test_nan_target_in_parquet_names_the_row(tmp_path: Path) -> None:
    table = _table()
    table.loc[9, "y"] = np.nan
    path = _write(table, tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"t\.parquet: row 10: target 'y' is missing"):
        load_task(path, columns=COLUMNS)


def test_bad_sequence_letters_name_the_row_and_position(tmp_path: Path) -> None:
    table = _table()
    table.loc[2, "seq"] = "ACGUXACG"
    path = _write(table, tmp_path / "t.tsv.gz")
    with pytest.raises(ValueError, match=r"t\.tsv\.gz: row 3 \(line 4\): character 'X' at position 5 \(1-based\)"):
        load_task(path, columns=COLUMNS)


def test_bundled_task_names_refuse_column_options_and_unknown_formats_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="column options apply only to a task file"):
        load_tasks("te_5utr_pc3", columns=COLUMNS)
    bad = tmp_path / "t.xlsx"
    bad.write_text("x")
    with pytest.raises(ValueError, match=r"not a task file format; use \.parquet"):
        load_task(bad)
    with pytest.raises(FileNotFoundError, match="task file not found"):
        load_task(tmp_path / "absent.csv")


def test_the_mrnabench_layout_needs_no_options_and_keeps_its_aliases(tmp_path: Path) -> None:
    path = write_mrnabench_parquet(tmp_path / "bench.parquet")
    table = pd.read_parquet(path)
    table["transcript_id"] = [f"ENST{i}" for i in range(len(table))]
    table["split"] = (["train"] * 24) + (["val"] * 6) + (["test"] * 6)
    table.to_parquet(path)
    task = load_task(path)
    strict = load_mrnabench_task(path)
    for loaded in (task, strict):
        first = loaded.records[0]
        assert first.transcript_id == "ENST0" and first.exon_ends == [41, len(table.sequence[0])]
        assert loaded.records[0].cds_start == 10 and list(loaded.groups[:3]) == ["gene0"] * 3
        assert list(loaded.predefined_split).count("validation") == 6
    # The strict mRNABench loader still requires all five columns.
    table.drop(columns=["splice"]).to_parquet(path)
    with pytest.raises(ValueError, match=r"missing column\(s\) splice"):
        load_mrnabench_task(path)
    assert load_task(path).records[0].exon_ends == [len(table.sequence[0])]


def test_fewer_than_20_test_examples_are_refused_with_the_reason(tmp_path: Path) -> None:
    task = load_task(_write(_table(rows=60, genes=30), tmp_path / "small.csv"), columns=COLUMNS)
    with pytest.raises(ValueError, match=r"Task 'small': the test split of split seed 0 has \d examples .*"
                                         r"at least 20.*more examples or groups.*fewer folds"):
        task_split(task, min_test=MIN_TEST_EXAMPLES)
    task_split(task)  # other callers (fine-tuning) keep any non-empty split
    big = load_task(_write(_table(rows=300, genes=150), tmp_path / "big.csv"), columns=COLUMNS)
    subsampled, splits = evaluation_splits(big, seeds=(0, 1, 2))
    assert all(len(split["test"]) >= MIN_TEST_EXAMPLES for split in splits.values()) and len(subsampled) == 300
    with pytest.raises(ValueError, match="the test split of split seed 0 has"):
        evaluation_splits(big, seeds=(0,), max_examples=100)


def test_a_predefined_small_test_split_is_refused(tmp_path: Path) -> None:
    table = _table(rows=60)
    table["gene"] = [f"g{i // 2}" for i in range(60)]
    table["split"] = ["train"] * 40 + ["validation"] * 10 + ["test"] * 10
    task = load_task(_write(table, tmp_path / "own.csv"), columns=COLUMNS)
    with pytest.raises(ValueError, match="its own test split has 10 examples"):
        task_split(task, min_test=MIN_TEST_EXAMPLES)
    table["split"] = ["train"] * 20 + ["validation"] * 10 + ["test"] * 30
    task = load_task(_write(table, tmp_path / "own.csv"), columns=COLUMNS)
    _, splits = evaluation_splits(task, seeds=(0, 1), min_test=6)
    assert len(splits[0]["test"]) == 30  # the task's own split for the first seed
    assert 0 < len(splits[1]["test"]) < 30  # a grouped 80/10/10 split for the others


def test_bundled_tasks_have_enough_test_examples(bundled_tasks: dict) -> None:
    for task in bundled_tasks.values():
        _, splits = evaluation_splits(task, seeds=(0, 1, 2, 3, 4), max_examples=2000)
        assert min(len(split["test"]) for split in splits.values()) >= MIN_TEST_EXAMPLES, task.name


def _with_ids(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(transcript_id=[f"tx{i}" for i in range(len(table))])


def test_an_id_repeated_with_another_target_is_refused_naming_it(tmp_path: Path) -> None:
    table = _with_ids(_table())
    table.loc[7, "transcript_id"] = "tx3"  # tx3 twice (rows 4 and 8), gene g3 and g7 differ: moved into g3
    table.loc[7, "gene"] = "g3"
    path = _write(table, tmp_path / "t.csv")
    with pytest.raises(ValueError, match=r"t\.csv: id\(s\) repeated with different y values: tx3 \(rows 4, 8\)"):
        load_task(path, columns=COLUMNS)
    table.loc[7, "y"] = table.loc[3, "y"]  # the same row twice in one group: kept, it cannot straddle a split
    load_task(_write(table, tmp_path / "t.csv"), columns=COLUMNS)


def test_an_id_in_two_groups_is_refused_naming_it(tmp_path: Path) -> None:
    table = _with_ids(_table())
    table.loc[[5, 6], "transcript_id"] = "shared"
    table.loc[6, "y"] = table.loc[5, "y"]  # same target: the groups alone are the problem
    path = _write(table, tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"t\.parquet: id\(s\) in two or more groups.*shared \(rows 6, 7\)"):
        load_task(path, columns=COLUMNS)


def test_a_constant_target_is_refused_naming_the_column(tmp_path: Path) -> None:
    table = _table().assign(y2=1.5)
    path = _write(table, tmp_path / "t.tsv")
    load_task(path, columns=COLUMNS)  # y varies
    with pytest.raises(ValueError, match=r"t\.tsv: target column 'y2' has the same value \(1\.5\) in every row"):
        load_tasks(path, columns=TaskColumns(sequence="seq", targets=("y", "y2"), group="gene"))


def test_isoclr_evaluate_refuses_a_leaking_task_file_in_one_line(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from isoclr_hf.cli import main

    table = _with_ids(_table())
    table.loc[[5, 6], "transcript_id"] = "shared"
    path = _write(table, tmp_path / "t.csv")
    code = main(["evaluate", "--model", "isoclr-s", "--task", str(path), "--sequence-column", "seq",
                 "--target-column", "y", "--group-column", "gene", "--out", str(tmp_path / "out")])
    assert code == 2
    error = capsys.readouterr().err
    assert "isoclr evaluate: error:" in error and "shared (rows 6, 7)" in error
    assert not (tmp_path / "out").exists()
