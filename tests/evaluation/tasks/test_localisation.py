"""Localisation as multi-label classification: the task, its metrics, the logistic probe, the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

from isoclr_hf.cli import main
from isoclr_hf.evaluation.metrics import multilabel_metrics
from isoclr_hf.evaluation.probes.logistic import fit_logistic_probe
from isoclr_hf.evaluation.tasks.localisation import DM3LOC_PREDICTED
from isoclr_hf.evaluation.tasks.registry import MRNABENCH_ALIASES, load_task, resolve_task_name, task_names
from isoclr_hf.evaluation.tasks.splits import MIN_TEST_EXAMPLES, check_no_group_leak, evaluation_splits
from tests.evaluation.dm3loc_subset import dm3loc_headers_and_sequences, write_dm3loc_subset
from tests.hub.isolated_python import run_without_package


@pytest.fixture(scope="module")
def subset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dm3loc_subset(tmp_path_factory.mktemp("dm3loc"), 230)


def test_the_task_has_dm3locs_six_predicted_compartments_and_one_gene_per_group(subset_dir: Path) -> None:
    task = load_task("dm3loc_localisation", data_dir=subset_dir)
    assert task.task_type == "multi_label_classification"
    assert task.label_names == ["Nucleus", "Exosome", "Cytosol", "Ribosome", "Membrane", "Endoplasmic reticulum"]
    assert "Cytoplasm" not in task.label_names and list(DM3LOC_PREDICTED) == task.label_names
    expected = [[int(header[i]) for i in (0, 1, 2, 4, 5, 6)] for header, _ in dm3loc_headers_and_sequences(230)]
    np.testing.assert_array_equal(task.labels, expected)  # LABEL7 without its 4th column (Cytoplasm)
    assert len(task) == 230 and len(set(task.groups)) == 230
    assert [r.gene_id for r in task.records] == list(task.groups)  # the Entrez gene id
    _, splits = evaluation_splits(task, seeds=(0, 1, 2, 3, 4), min_test=MIN_TEST_EXAMPLES)
    for split in splits.values():
        check_no_group_leak(task.groups, split)


def test_a_bad_header_names_the_file_and_line(tmp_path: Path) -> None:
    sequence = "ATG" + "GCC" * 40 + "TAA"
    lines = [">0100000,ACCNUM:NM_1,Gene_ID:1,Gene_Name:A", sequence, ">01000,ACCNUM:NM_2,Gene_ID:2,Gene_Name:B",
             sequence]
    data = write_dm3loc_subset(tmp_path, 0, lines=lines)
    with pytest.raises(ValueError, match=r"dm3loc_human_refseq_mrna\.fasta\.gz:3: not a DM3Loc header"):
        load_task("dm3loc_localisation", data_dir=data)


def test_mrnabench_names_resolve_to_the_bundled_task_with_the_same_measurement() -> None:
    assert resolve_task_name("rnahl-human") == "saluki_halflife_refseq" == MRNABENCH_ALIASES["rnahl-human"]
    assert resolve_task_name("dm3loc_localisation") == "dm3loc_localisation"
    assert {"rnahl-human", "dm3loc_localisation"} <= set(task_names())


def test_multilabel_metrics_are_sklearns_per_class_and_their_macro_mean() -> None:
    rng = np.random.default_rng(0)
    labels = (rng.random((60, 3)) < 0.4).astype(int)
    labels[:, 2] = 1  # a class with a single value has no AUROC and stays out of the macro means
    scores = labels + rng.normal(0, 0.8, size=labels.shape)
    metrics = multilabel_metrics(scores, labels, ["a", "b", "c"])
    for column, name in enumerate("ab"):
        assert metrics[f"auroc[{name}]"] == pytest.approx(roc_auc_score(labels[:, column], scores[:, column]))
        assert metrics[f"auprc[{name}]"] == pytest.approx(average_precision_score(labels[:, column], scores[:, column]))
    assert math.isnan(metrics["auroc[c]"]) and math.isnan(metrics["auprc[c]"])
    assert metrics["auroc_macro"] == pytest.approx((metrics["auroc[a]"] + metrics["auroc[b]"]) / 2)
    with pytest.raises(ValueError, match="NaN or infinite"):
        multilabel_metrics(np.full((60, 3), np.nan), labels, ["a", "b", "c"])


def test_the_logistic_probe_is_sklearns_fit_at_the_c_chosen_on_validation() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 8))
    labels = np.stack([(x[:, 0] + 0.5 * rng.normal(size=300) > 0), (x[:, 1] > 1.0), np.zeros(300)], axis=1).astype(int)
    train, validation, test = slice(0, 200), slice(200, 250), slice(250, 300)
    probe = fit_logistic_probe(x[train], labels[train], x[validation], labels[validation])
    assert probe.constant_classes == [2]  # no positive in training: predicts its frequency (0)
    scores = probe.predict_proba(x[test])
    assert scores.shape == (50, 3) and np.all(scores[:, 2] < 1e-3)
    assert roc_auc_score(labels[test, 0], scores[:, 0]) > 0.85
    scaler = StandardScaler().fit(x[train])
    reference = LogisticRegression(C=probe.inverse_penalties[0], max_iter=1000).fit(scaler.transform(x[train]),
                                                                                     labels[train, 0])
    np.testing.assert_allclose(probe.coefficients[0], reference.coef_[0], rtol=1e-3, atol=1e-4)


def test_evaluate_reports_auroc_and_auprc_per_class_and_macro_with_paired_differences(
    subset_dir: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    argv = ["evaluate", "--model", str(tiny_model_dir), "--task", "dm3loc_localisation", "--data-dir", str(subset_dir),
            "--out", str(out), "--fractions", "1", "--seeds", "0,1,2,3,4", "--batch-size", "16", "--quiet",
            "--no-cache"]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["task_type"] == "multi_label_classification" and report["target_names"] == list(DM3LOC_PREDICTED)
    rows = report["results"]
    runs = {("pretrained", "linear_probe"), ("random_init", "linear_probe"), ("kmer_baseline", "logistic")}
    assert {(r["encoder"], r["method"]) for r in rows} == runs
    assert {r["seed"] for r in rows} == {0, 1, 2, 3, 4} and all(r["n_test"] >= MIN_TEST_EXAMPLES for r in rows)
    assert all("auroc_macro" in r and "auprc[Nucleus]" in r and "pearson" not in r for r in rows)
    names = {c["comparison"] for c in report["comparisons"]}
    assert "pretrained - kmer_baseline (linear probe vs logistic regression)" in names
    macro = [c for c in report["comparisons"] if c["metric"] == "auroc_macro" and c["train_fraction"] == 1.0]
    assert len(macro) == 2 and all(c["n_seeds"] == 5 and c["ci_low"] <= c["mean_difference"] <= c["ci_high"]
                                   for c in macro)
    text = (out / "report.md").read_text()
    assert "| macro AUROC | macro AUPRC |" in text and "## Per class" in text and "Nucleus AUROC" in text
    assert "## Paired comparisons (macro AUROC)" in text and "## Paired comparisons (macro AUPRC)" in text
    assert ("within noise" in text or "beyond noise" in text) and (out / "low_data_curve.png").is_file()


def test_a_localisation_split_with_fewer_than_20_test_examples_is_refused(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_dm3loc_subset(tmp_path / "data", 60)  # a grouped 10% test split of 60 genes: 6
    argv = ["evaluate", "--model", str(tiny_model_dir), "--task", "dm3loc_localisation", "--data-dir", str(data),
            "--out", str(tmp_path / "out"), "--quiet", "--no-cache"]
    assert main(argv) == 2
    assert "n test per split must be at least 20" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_fine_tuned_localisation_head_is_published_with_its_card_and_pipeline(
    subset_dir: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    argv = ["evaluate", "--model", str(tiny_model_dir), "--task", "dm3loc_localisation", "--data-dir", str(subset_dir),
            "--out", str(out), "--fractions", "1", "--seeds", "0,1", "--fine-tune", "--epochs", "1", "--max-steps",
            "2", "--batch-size", "8", "--learning-rate", "0.001", "--quiet", "--no-cache"]
    assert main(argv) == 0
    head = out / "head"
    config = json.loads((head / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification" and "auto_map" in config
    assert config["custom_pipelines"]["rna-property"]["impl"] == "pipeline_isoclr.IsoCLRPropertyPipeline"
    card = (head / "README.md").read_text()
    assert "pipeline_tag: text-classification" in card and "dm3loc_localisation" in card
    assert "roc_auc" in card  # the model-index carries the report's macro AUROC
    result = run_without_package(
        f"""
        import json
        from transformers import pipeline
        predict = pipeline(model={str(head)!r}, trust_remote_code=True)
        print(json.dumps(predict({{"sequence": "AUGGCCAAAUAGGCUUCCGA", "cds": (0, 12)}})))
        """,
        tmp_path / "isolated",
    )
    probabilities = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(probabilities) == list(DM3LOC_PREDICTED)
    assert all(0.0 < value < 1.0 for value in probabilities.values())
