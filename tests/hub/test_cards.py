"""Model cards: rendered from the templates, parseable, model-index from the evaluation report, runnable usage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import eval_results_to_model_index, model_index_to_eval_results

from isoclr_hf import IsoCLRForSequenceClassification, IsoCLRTokenizer
from isoclr_hf.hub.cards import CardDetails, evaluation_results, render_model_card, template_text, usage_code_from_card
from isoclr_hf.hub.package import prepare_model_folder
from isoclr_hf.hub.targets import TARGET_DESCRIPTIONS
from tests.hub.isolated_python import run_without_package
from tests.hub.published_models import direct_embedding, direct_prediction, tiny_encoder, tiny_head
from tests.tiny_models import tiny_config

REPO_ROOT = Path(__file__).resolve().parents[2]


def evaluation_report() -> dict:
    """A report in the layout `isoclr evaluate` writes (see evaluation/report.py), with rows the card must leave out."""
    rows = []
    for method, base in (("linear_probe", 0.60), ("fine_tune", 0.70)):
        for seed in range(3):
            rows.append({"encoder": "pretrained", "method": method, "train_fraction": 1.0, "seed": seed,
                         "n_train": 200, "n_test": 50, "pearson": base + 0.01 * seed,
                         "spearman": base - 0.05 + 0.01 * seed, "mse": 1.0 - base + 0.02 * seed})
    rows.append({"encoder": "pretrained", "method": "linear_probe", "train_fraction": 0.1, "seed": 0, "n_train": 20,
                 "n_test": 50, "pearson": 0.1, "spearman": 0.1, "mse": 9.0})
    rows.append({"encoder": "random_init", "method": "linear_probe", "train_fraction": 1.0, "seed": 0,
                 "n_train": 200, "n_test": 50, "pearson": 0.2, "spearman": 0.2, "mse": 5.0})
    return {"task": "half_life_human", "task_type": "regression", "target_names": ["half_life"],
            "dataset": {"name": "Saluki human half-life", "source": "saluki_halflife"},
            "model": "tiny", "results": rows}


@pytest.mark.parametrize("kind", ["encoder", "head"])
def test_packaged_templates_equal_model_cards_folder(kind: str) -> None:
    source = (REPO_ROOT / "model_cards" / f"{kind}.md").read_text(encoding="utf-8")
    assert template_text(kind) == source, f"copy model_cards/{kind}.md to isoclr_hf/hub/templates/{kind}.md"


def test_model_index_holds_seed_means_of_pretrained_full_data_rows() -> None:
    results = evaluation_results(evaluation_report())
    by_key = {(r.metric_config, r.metric_type): r.metric_value for r in results}
    assert set(by_key) == {(m, t) for m in ("fine_tune", "linear_probe") for t in ("pearsonr", "spearmanr", "mse")}
    assert by_key["linear_probe", "pearsonr"] == pytest.approx(0.61)
    assert by_key["fine_tune", "mse"] == pytest.approx(0.32)


def test_head_card_renders_parses_and_round_trips(tmp_path: Path) -> None:
    model = tiny_head()
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(evaluation_report()))
    card = render_model_card(model, IsoCLRTokenizer(), CardDetails(repo_id="lab/tiny-head", datasets=["lab/hl"]),
                             evaluation_report=report_path)
    parsed = ModelCard(str(card))
    data = parsed.data
    assert data.library_name == "transformers" and data.pipeline_tag is None  # a regression: no Hub task fits
    assert {"biology", "rna", "genomics", "custom_code", "regression", "rna-property"} <= set(data.tags)
    assert data.license == "mit" and data.datasets == ["lab/hl"]
    assert ModelCard(str(parsed)).data.to_dict() == data.to_dict()
    model_index = eval_results_to_model_index(data.model_name, data.eval_results)
    name, results = model_index_to_eval_results(model_index)
    assert name == "lab/tiny-head" and len(results) == 6
    assert "widget" not in data.to_dict()  # label/score widget outputs are for classifiers
    assert "| `half_life` | not described by the publisher |" in parsed.text
    for title in ("## Intended use", "## Limitations", "## Training data", "## Training procedure", "arXiv:2310.08738",
                  "2024.10.10.617658"):
        assert title in parsed.text


def test_example_outputs_are_computed_by_the_model() -> None:
    model = tiny_head()
    details = CardDetails(repo_id="lab/tiny-head")
    card = render_model_card(model, IsoCLRTokenizer(), details)
    for example in details.examples:
        expected = direct_prediction(model, example.as_pipeline_input())
        assert f"{expected:.4g}" in card.text  # the examples table


def test_head_from_evaluate_is_a_named_regression_everywhere(tmp_path: Path) -> None:
    """A head built as `isoclr evaluate` built it: num_labels=1 set before the target names (so LABEL_0)."""
    config = tiny_config()
    config.num_labels, config.problem_type = 1, "regression"
    config.target_names, config.target_mean, config.target_std = ["half_life_pc1_z"], [0.2], [1.3]
    assert config.id2label == {0: "LABEL_0"}  # what the folder must not carry on
    folder = prepare_model_folder(IsoCLRForSequenceClassification(config).eval(), IsoCLRTokenizer(), tmp_path / "h")
    readme = (folder / "README.md").read_text(encoding="utf-8")
    saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert "LABEL_0" not in readme and "LABEL_0" not in json.dumps(saved)
    card = ModelCard(readme)
    assert card.data.pipeline_tag is None and "text-classification" not in readme
    assert {"rna", "regression", "rna-property"} <= set(card.data.tags)
    assert saved["id2label"] == {"0": "half_life_pc1_z"} and saved["label2id"] == {"half_life_pc1_z": 0}
    description = TARGET_DESCRIPTIONS["half_life_pc1_z"]
    assert "z-score" in description and "half-life" in description
    assert saved["target_descriptions"] == {"half_life_pc1_z": description}
    assert f"| `half_life_pc1_z` | {description} |" in readme
    assert "**half_life_pc1_z**" in readme


def test_classification_head_keeps_text_classification_with_its_labels() -> None:
    config = tiny_config(num_labels=2, id2label={0: "unstable", 1: "stable"},
                         problem_type="single_label_classification")
    card = render_model_card(IsoCLRForSequenceClassification(config).eval(), IsoCLRTokenizer())
    assert card.data.pipeline_tag == "text-classification" and "classification" in card.data.tags
    assert [o["label"] for o in card.data.widget[0]["output"]] == ["unstable", "stable"]
    assert "One probability per class." in card.text


def test_card_without_report_says_so() -> None:
    card = render_model_card(tiny_encoder(), IsoCLRTokenizer())
    assert card.data.eval_results is None and "No evaluation report" in card.text
    assert card.data.pipeline_tag == "feature-extraction"


def test_usage_snippets_run_on_tiny_models_without_the_package(tmp_path: Path) -> None:
    """Both cards' usage code, as a reader copies it, run in one child without the package."""
    head, encoder = tiny_head(), tiny_encoder()
    checks = {
        "head": "result = {'direct': prediction[0, 0].item(), 'pipeline': predict("
        "{'sequence': sequence, 'cds': cds, 'exon_ends': exon_ends})['half_life']}",
        "encoder": "result = {'direct': embedding[0].tolist(), 'pipeline': vector}",
    }
    program = ["import json", "results = {}"]
    for kind, model in (("head", head), ("encoder", encoder)):
        folder = tmp_path / kind
        prepare_model_folder(model, IsoCLRTokenizer(), folder, card=CardDetails(repo_id=str(folder)))
        snippet = usage_code_from_card((folder / "README.md").read_text(encoding="utf-8"))
        program += ["namespace = {}", f"exec({snippet + chr(10) + checks[kind]!r}, namespace)",
                    f"results[{kind!r}] = namespace['result']"]
    program.append("print(json.dumps(results))")
    result = run_without_package("\n".join(program) + "\n", tmp_path / "run")
    output = json.loads(result.stdout.strip().splitlines()[-1])
    example = CardDetails().examples[0].as_pipeline_input()
    expected_prediction = direct_prediction(head, example)
    assert output["head"]["direct"] == pytest.approx(expected_prediction, rel=1e-5)
    assert output["head"]["pipeline"] == pytest.approx(expected_prediction, rel=1e-5)
    expected_embedding = direct_embedding(encoder, example)
    assert output["encoder"]["direct"] == pytest.approx(expected_embedding, rel=1e-5, abs=1e-6)
    assert output["encoder"]["pipeline"] == pytest.approx(expected_embedding, rel=1e-5, abs=1e-6)


def test_card_takes_several_reports_and_classification_metrics() -> None:
    localisation = {
        "task": "dm3loc_localisation", "task_type": "multi_label_classification", "target_names": ["Nucleus"],
        "dataset": {"name": "DM3Loc localisation", "source": "dm3loc"}, "model": "tiny",
        "results": [{"encoder": "pretrained", "method": "logistic", "train_fraction": 1.0, "seed": seed,
                     "auroc_macro": 0.6 + 0.02 * seed, "auprc_macro": 0.4} for seed in range(2)],
    }  # fmt: skip
    card = render_model_card(tiny_encoder(), IsoCLRTokenizer(), CardDetails(repo_id="lab/enc"),
                             evaluation_report=[evaluation_report(), localisation])
    results = ModelCard(str(card)).data.eval_results
    by_task = {(r.task_name, r.metric_type): r.metric_value for r in results}
    assert by_task["dm3loc_localisation", "roc_auc"] == pytest.approx(0.61)
    assert by_task["dm3loc_localisation", "average_precision"] == pytest.approx(0.4)
    assert ("half_life_human", "pearsonr") in by_task
    assert {r.task_type for r in results if r.task_name == "dm3loc_localisation"} == {"tabular-classification"}
