"""The report: the JSON contract, the markdown table, the plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from isoclr_hf.evaluation.reports.plots import plot_embedding_map, plot_low_data_curve, plot_predicted_vs_measured
from isoclr_hf.evaluation.reports.writing import (
    markdown_table,
    report_dict,
    write_json,
)

CONTRACT_RESULT_KEYS = {"encoder", "method", "train_fraction", "seed", "n_train", "n_test", "pearson", "spearman",
                        "mse"}


def _results() -> list[dict]:
    rows = []
    pairs = [("pretrained", "linear_probe"), ("random_init", "linear_probe"), ("kmer_baseline", "ridge")]
    for encoder, method in pairs:
        for fraction, n in [(0.1, 20), (1.0, 200)]:
            for seed in (0, 1):
                rows.append({"encoder": encoder, "method": method, "train_fraction": fraction, "seed": seed,
                             "n_train": n, "n_test": 50, "pearson": 0.5 + 0.1 * seed, "spearman": 0.4,
                             "mse": float("nan") if encoder == "kmer_baseline" and seed else 1.0})
    return rows


def test_json_report_follows_the_contract_and_stays_valid_json(tmp_path: Path) -> None:
    report = report_dict(task_name="t", target_name="y", dataset_name="d", source="s", model="m", results=_results())
    write_json(report, tmp_path / "report.json")
    loaded = json.loads((tmp_path / "report.json").read_text())  # NaN written as null, still valid JSON
    assert loaded["task_type"] == "regression" and loaded["target_names"] == ["y"]
    assert loaded["dataset"] == {"name": "d", "source": "s"}
    assert all(set(row) == CONTRACT_RESULT_KEYS for row in loaded["results"])
    assert list(tmp_path.iterdir()) == [tmp_path / "report.json"]  # no temporary file left


def test_markdown_table_has_one_row_per_encoder_method_and_fraction_with_spread() -> None:
    table = markdown_table(_results())
    rows = [line for line in table.splitlines()[2:]]
    assert len(rows) == 6
    assert "| 0.1 | 20 | 50 | pretrained | linear_probe | 2 | 0, 1 | 0.550 ± 0.071 |" in table
    assert "Note:" not in table  # every row on the same split seeds


def test_rows_on_different_splits_say_so_in_the_table() -> None:
    """Fine-tuning on split seed 0 (the task's own split) and probes on seeds 0-4 (issue 26, item 5)."""
    rows = []
    for seed in range(5):
        n_train, n_test = (168, 61) if seed == 0 else (204, 25)
        for encoder, method in [("pretrained", "linear_probe"), ("kmer_baseline", "ridge")]:
            rows.append({"encoder": encoder, "method": method, "train_fraction": 1.0, "seed": seed,
                         "n_train": n_train, "n_test": n_test, "pearson": 0.3, "spearman": 0.3, "mse": 1.0})
        if seed == 0:
            rows.append({"encoder": "pretrained", "method": "fine_tune", "train_fraction": 1.0, "seed": 0,
                         "n_train": n_train, "n_test": n_test, "pearson": 0.4, "spearman": 0.4, "mse": 0.9})
    table = markdown_table(rows)
    assert "| 1 | 197 | 32 | pretrained | linear_probe | 5 | 0-4 |" in table
    assert "| 1 | 168 | 61 | pretrained | fine_tune | 1 | 0 |" in table
    note = table.splitlines()[-1]
    assert note.startswith("Note: At training fraction 1 the rows are on different splits: ")
    assert "pretrained linear_probe, kmer_baseline ridge on split seeds 0-4 (n train 197, n test 32 on average)" in note
    assert "pretrained fine_tune on split seed 0 (n train 168, n test 61)" in note


def test_seed_lists_join_consecutive_seeds() -> None:
    from isoclr_hf.evaluation.reports.tables import seed_list

    assert [seed_list(s) for s in ([0], [0, 1, 2, 3, 4], [0, 2], [0, 1], [0, 1, 2, 7], [3, 1, 2])] == [
        "0", "0-4", "0, 2", "0, 1", "0-2, 7", "1-3"]


def test_plots_are_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    plot_low_data_curve(_results(), tmp_path / "curve.png")
    measured = rng.normal(size=30)
    plot_predicted_vs_measured({"pretrained/linear_probe": measured + 0.1, "kmer_baseline/ridge": measured},
                               measured, tmp_path / "scatter.png")
    plot_embedding_map(rng.normal(size=(30, 8)), measured, tmp_path / "map.png", title="labels")
    plot_embedding_map(rng.normal(size=(30, 8)), np.array(["a", "b", "c"] * 10), tmp_path / "map2.png", title="x")
    for name in ("curve.png", "scatter.png", "map.png", "map2.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_report_carries_paired_comparisons_and_says_when_a_run_is_worse_than_the_mean(tmp_path: Path) -> None:
    from isoclr_hf.evaluation.reports.writing import write_markdown

    rows = []
    for seed in range(5):
        common = {"train_fraction": 1.0, "seed": seed, "n_train": 800, "n_test": 100, "spearman": 0.3}
        rows.append({**common, "encoder": "pretrained", "method": "linear_probe", "pearson": 0.6 + 0.01 * seed,
                     "mse": 0.8, "validation_mse": 0.8, "mean_baseline_mse": 1.0, "worse_than_mean": False})
        rows.append({**common, "encoder": "random_init", "method": "linear_probe", "pearson": 0.4,
                     "mse": 1.0, "validation_mse": 0.95, "mean_baseline_mse": 1.0, "worse_than_mean": False})
        rows.append({**common, "encoder": "random_init", "method": "fine_tune", "pearson": float("nan"),
                     "mse": 1.2, "validation_mse": 1.139, "mean_baseline_mse": 1.0, "worse_than_mean": True})
    report = report_dict(task_name="t", target_name="y", dataset_name="d", source="s", model="m", results=rows)
    assert any(c["comparison"] == "pretrained - random_init (linear probe)" and c["n_positive"] == 5
               for c in report["comparisons"])
    write_json(report, tmp_path / "report.json")
    assert json.loads((tmp_path / "report.json").read_text())["comparisons"][0]["metric"] == "pearson"
    write_markdown(report, tmp_path / "report.md", plots=[], notes=["a note"])
    text = (tmp_path / "report.md").read_text()
    assert "## Paired comparisons (Pearson r)" in text
    assert "pretrained above random_init: 5/5 seeds, pearson +0.220" in text
    assert ("random_init fine-tuning at training fraction 1: in 5 of 5 runs the best validation MSE was not below "
            "predicting the training mean (e.g. seed 0: 1.139 vs 1)") in text
