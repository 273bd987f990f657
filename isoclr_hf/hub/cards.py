"""Model cards for IsoCLR encoders and heads, rendered with ``huggingface_hub.ModelCard``.

The templates are ``model_cards/encoder.md`` and ``model_cards/head.md`` in the repository; the package
ships an identical copy in ``isoclr_hf/hub/templates/`` (a test keeps them equal) and always renders from
that copy, so a card comes out the same from a checkout and from ``pip install``.

Nothing in a card is typed by hand: the example outputs are computed by the model when the card is
rendered, and the ``model-index`` holds the figures that ``isoclr evaluate`` wrote to its report.json.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..models.isoclr.modeling_isoclr import IsoCLRForSequenceClassification, IsoCLRModel
from ..models.isoclr.pipeline_isoclr import EMBEDDING_TASK, PROPERTY_TASK, target_names
from ..models.isoclr.tokenization_isoclr import IsoCLRTokenizer
from .targets import target_descriptions

TAGS = ["biology", "rna", "genomics", "custom_code", "isoclr", "mrna", "contrastive-learning"]
METRICS = {"pearson": "Pearson r", "spearman": "Spearman rho", "mse": "MSE"}
CLASSIFICATION_METRICS = {"auroc_macro": "macro AUROC", "auprc_macro": "macro AUPRC"}
METRIC_TYPES = {"pearson": "pearsonr", "spearman": "spearmanr", "mse": "mse", "auroc_macro": "roc_auc",
                "auprc_macro": "average_precision"}


def is_regression_head(model: IsoCLRModel | IsoCLRForSequenceClassification) -> bool:
    """Whether ``model`` is a head whose outputs are regression values (as its forward decides with no labels)."""
    if not isinstance(model, IsoCLRForSequenceClassification):
        return False
    config = model.config
    if config.problem_type is not None:
        return config.problem_type == "regression"
    return config.num_labels == 1 or config.target_names is not None


def card_metadata_labels(model: IsoCLRModel | IsoCLRForSequenceClassification) -> tuple[str | None, list[str]]:
    """The card's ``pipeline_tag`` and tags for ``model``.

    An encoder is ``feature-extraction``. A regression head has no Hub task that fits (its outputs are
    numbers named by ``config.target_names``, not class labels), so it gets no ``pipeline_tag`` and the
    tags ``regression`` and ``rna-property`` (its custom pipeline); a classification head is
    ``text-classification``.
    """
    if not isinstance(model, IsoCLRForSequenceClassification):
        return "feature-extraction", [*TAGS, EMBEDDING_TASK]
    if is_regression_head(model):
        return None, [*TAGS, PROPERTY_TASK, "regression"]
    return "text-classification", [*TAGS, PROPERTY_TASK, "classification"]


@dataclass(frozen=True)
class ExampleTranscript:
    """An input shown on the card; the output next to it is computed by the model."""

    name: str
    sequence: str
    cds: tuple[int, int] | None = None
    exon_ends: tuple[int, ...] | None = None

    def as_pipeline_input(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "cds": self.cds,
            "exon_ends": None if self.exon_ends is None else list(self.exon_ends),
        }


# Real transcripts from the bundled data (data/SOURCES.md), copied here so pip users have them too.
DEFAULT_EXAMPLES = (
    ExampleTranscript(
        name="PB.118988.1 (ADSL isoform, SQANTI3 UHR chr22; 3 exons, coding)",
        sequence=(
            "TCATCATGGCCATGGTCAAAGCTGGAGGTAGCCGCCAGGATTGCCATGAGAAAATCAGAGTGCTTTCTCAGCAGGCAGCTTCTGTGGTTAAG"
            "CAGGAAGGGGGTGACAATGACCTCATAGAGCGTATCCAGGTTGATGCCTACTTCAGTCCCATTCACTCCCAGTTGGATCATTTACTGGATCC"
            "TTCTTCTTTCACTGGTCGTGCCTCCCAGCAGGTGCAGAGATTCTTAGAAGAGGAGGTGTATCCCCTGTTAAAACCATATGAAAGCGTGATGA"
            "AGGTGAAAGCAGAATTATGTCTGTAGAGTTGGAAGAGAATTAAACGAAAATCATTGTT"
        ),
        cds=(5, 302),
        exon_ends=(38, 215, 334),
    ),
    ExampleTranscript(
        name="3'UTR fragment (Siegel et al. 2022 MPRA, Jurkat; non-coding)",
        sequence=(
            "CCGTTCACGTCTCTGCATCCATTCCTTCATGTCTTTATTTAGTTGTTTATTTATTTAGTTATTTATCTTATTGAGGGGTGAGGAGTGCCACG"
            "GCTGCCCGTTTACACCTTTAGCGTCTGGTCCTCCTGCGTGTCCTCCCCTCCACTGCCTGCATGG"
        ),
    ),
)


@dataclass
class CardDetails:
    """What a card says that the model and the evaluation report cannot tell.

    Args:
        repo_id: Hub id (or local path) used in the usage code; also the model-index name.
        license: SPDX-like license id for the card metadata.
        datasets: Hub dataset ids the model was trained on.
        base_model: Hub id of the encoder a head was fine-tuned from.
        training_data: Markdown describing the training data.
        training_procedure: Markdown describing the training procedure.
        examples: Inputs shown on the card with the model's outputs.
    """

    repo_id: str = "ORG/NAME"
    license: str = "mit"
    datasets: list[str] = field(default_factory=list)
    base_model: str | None = None
    training_data: str = "Not stated by the publisher."
    training_procedure: str = "Not stated by the publisher."
    examples: Sequence[ExampleTranscript] = DEFAULT_EXAMPLES


def template_text(kind: str) -> str:
    """The packaged card template for ``kind`` ("encoder" or "head")."""
    if kind not in ("encoder", "head"):
        raise ValueError(f"Unknown card template {kind!r}; choose 'encoder' or 'head'.")
    return resources.files("isoclr_hf.hub").joinpath("templates", f"{kind}.md").read_text(encoding="utf-8")


def read_evaluation_report(report: str | Path | dict[str, Any]) -> dict[str, Any]:
    """Load an ``isoclr evaluate`` report.json (or pass the dict through), checking its fields."""
    if isinstance(report, dict):
        data, where = report, "the evaluation report"
    else:
        where = str(report)
        try:
            data = json.loads(Path(report).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"Cannot read the evaluation report {where}: {error}") from error
    missing = [key for key in ("task", "dataset", "results") if key not in data]
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing)}; expected the report.json of `isoclr evaluate`.")
    return data


def evaluation_results(report: dict[str, Any]) -> list[EvalResult]:
    """Model-index entries from a report: the pretrained encoder on the full training set, per method,
    Pearson/Spearman/MSE averaged over seeds.
    """
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in report["results"]:
        if row.get("encoder") == "pretrained" and float(row.get("train_fraction", 0.0)) == 1.0:
            grouped[row["method"]].append(row)
    dataset = report["dataset"]
    classification = "classification" in str(report.get("task_type", ""))
    metrics = CLASSIFICATION_METRICS if classification else METRICS
    results = []
    for method, rows in sorted(grouped.items()):
        seeds = len(rows)
        for key, label in metrics.items():
            results.append(
                EvalResult(
                    task_type=("tabular-classification" if classification
                               else "tabular-regression" if report.get("task_type") == "regression" else "other"),
                    task_name=report["task"],
                    dataset_type=dataset.get("source", dataset["name"]),
                    dataset_name=dataset["name"],
                    dataset_split="test",
                    metric_type=METRIC_TYPES[key],
                    metric_value=round(statistics.fmean(float(r[key]) for r in rows), 4),
                    metric_name=f"{label} ({method.replace('_', ' ')}, mean of {seeds} seed{'s' * (seeds > 1)})",
                    metric_config=method,
                )
            )
    return results


def evaluation_markdown(results: Sequence[EvalResult]) -> str:
    """A table of the model-index figures for the card body."""
    if not results:
        return "No evaluation report was given when this card was written."
    lines = ["| task | dataset | metric | value |", "|---|---|---|---|"]
    for result in results:
        lines.append(f"| {result.task_name} | {result.dataset_name} | {result.metric_name} | {result.metric_value} |")
    return "\n".join(lines) + "\n\nFigures from `isoclr evaluate` (test split, pretrained encoder, all training data)."


@torch.no_grad()
def example_outputs(
    model: IsoCLRModel | IsoCLRForSequenceClassification,
    tokenizer: IsoCLRTokenizer,
    examples: Sequence[ExampleTranscript],
) -> list[dict[str, float]]:
    """Run the model on each example: ``{target: prediction}`` for a head, embedding summary for an encoder."""
    was_training = model.training
    model.eval()
    outputs = []
    for example in examples:
        batch = tokenizer(
            example.sequence, exon_ends=example.exon_ends, cds=example.cds, names=[example.name], return_tensors="pt"
        )
        batch = {key: value.to(model.device) for key, value in batch.items()}
        result = model(**batch)
        if isinstance(model, IsoCLRForSequenceClassification):
            values = result.predictions if result.predictions is not None else torch.softmax(result.logits, -1)
            outputs.append(dict(zip(target_names(model.config), values[0].float().tolist())))
        else:
            embedding = result.pooler_output[0].float()
            outputs.append({"embedding L2 norm": float(embedding.norm()), "embedding mean": float(embedding.mean())})
    model.train(was_training)
    return outputs


def _examples_markdown(examples: Sequence[ExampleTranscript], outputs: Sequence[dict[str, float]]) -> str:
    columns = list(outputs[0]) if outputs else []
    header = "| transcript | length | CDS | exon ends | " + " | ".join(columns) + " |"
    lines = [header, "|---" * (4 + len(columns)) + "|"]
    for example, output in zip(examples, outputs):
        exons = "-" if example.exon_ends is None else ", ".join(map(str, example.exon_ends))
        cds = "-" if example.cds is None else f"{example.cds[0]}-{example.cds[1]}"
        values = " | ".join(f"{output[c]:.4g}" for c in columns)
        lines.append(f"| {example.name} | {len(example.sequence)} | {cds} | {exons} | {values} |")
    return "\n".join(lines)


def _usage_code(repo_id: str, example: ExampleTranscript, is_head: bool) -> str:
    model_class = "AutoModelForSequenceClassification" if is_head else "AutoModel"
    exon_ends = None if example.exon_ends is None else list(example.exon_ends)
    result = (
        "prediction = model(**batch).predictions  # (1, num_labels), original units"
        if is_head
        else "embedding = model(**batch).pooler_output  # (1, hidden_size)"
    )
    pipeline_line = (
        'predict = pipeline(model=repo_id, trust_remote_code=True)  # the "rna-property" pipeline\n'
        'print(predict({"sequence": sequence, "cds": cds, "exon_ends": exon_ends}))  # {target: value}'
        if is_head
        else 'embed = pipeline(model=repo_id, trust_remote_code=True)  # the "rna-embedding" pipeline\n'
        'vector = embed({"sequence": sequence, "cds": cds, "exon_ends": exon_ends})  # list of floats'
    )
    return (
        "import torch\n"
        f"from transformers import {model_class}, AutoTokenizer, pipeline\n\n"
        f'repo_id = "{repo_id}"\n'
        f"model = {model_class}.from_pretrained(repo_id, trust_remote_code=True).eval()\n"
        "tokenizer = AutoTokenizer.from_pretrained(repo_id, trust_remote_code=True)\n\n"
        f'sequence = "{example.sequence}"\n'
        f"cds = {example.cds}  # 0-based, half-open, stop codon included; None if non-coding\n"
        f"exon_ends = {exon_ends}  # cumulative exon lengths; None if unknown\n"
        "batch = tokenizer(sequence, exon_ends=exon_ends, cds=cds, return_tensors='pt')\n"
        "with torch.no_grad():\n"
        f"    {result}\n\n"
        f"{pipeline_line}"
    )


def _parameter_count(model: torch.nn.Module) -> str:
    return f"{sum(p.numel() for p in model.parameters()):,}"


def _targets_markdown(names: Sequence[str], descriptions: dict[str, str]) -> str:
    lines = ["| output | what it is |", "|---|---|"]
    for name in names:
        lines.append(f"| `{name}` | {descriptions.get(name, 'not described by the publisher')} |")
    return "\n".join(lines)


def render_model_card(
    model: IsoCLRModel | IsoCLRForSequenceClassification,
    tokenizer: IsoCLRTokenizer,
    details: CardDetails | None = None,
    *,
    evaluation_report: str | Path | dict[str, Any] | Sequence[str | Path | dict[str, Any]] | None = None,
) -> ModelCard:
    """Render the card of an encoder or a head.

    Args:
        model: The model being published (its outputs on ``details.examples`` go into the card).
        tokenizer: Its tokenizer.
        details: What the card says about data, procedure, license; defaults to placeholders.
        evaluation_report: ``isoclr evaluate``'s report.json (path or dict), or a list of them (one per
            task), for the model-index.

    Returns:
        A ``ModelCard`` whose metadata holds library, pipeline tag, tags, license, datasets, widget
        examples with computed outputs and the model-index.
    """
    details = details or CardDetails()
    is_head = isinstance(model, IsoCLRForSequenceClassification)
    config = model.config
    outputs = example_outputs(model, tokenizer, details.examples)
    results = []
    reports = evaluation_report if isinstance(evaluation_report, (list, tuple)) else [evaluation_report]
    for report in reports:
        if report is not None:
            results += evaluation_results(read_evaluation_report(report))
    pipeline_tag, tags = card_metadata_labels(model)
    # The Hub's widget runs the pipeline_tag's task: none for a regression head (its computed outputs are in
    # the card's examples table); label/score outputs only for a classification head, whose labels are classes.
    widget = []
    if pipeline_tag is not None:
        for example, output in zip(details.examples, outputs):
            entry: dict[str, Any] = {"text": example.sequence, "example_title": example.name}
            if is_head:
                entry["output"] = [{"label": name, "score": round(value, 6)} for name, value in output.items()]
            widget.append(entry)
    card_data = ModelCardData(
        library_name="transformers",
        pipeline_tag=pipeline_tag,
        tags=tags,
        license=details.license,
        datasets=list(details.datasets) or None,
        base_model=details.base_model,
        model_name=details.repo_id if results else None,
        eval_results=results or None,
        widget=widget or None,
    )
    names = target_names(config) if is_head else []
    descriptions = target_descriptions(names, config)
    kwargs = {
        "model_name": details.repo_id.split("/")[-1],
        "architecture": type(model).__name__,
        "n_tracks": config.n_tracks,
        "stage_filters": ", ".join(map(str, config.stage_filters)),
        "blocks_per_stage": ", ".join(map(str, config.blocks_per_stage)),
        "kernel_size": config.kernel_size,
        "pooling": config.pooling,
        "hidden_size": config.hidden_size,
        "max_length": f"{tokenizer.model_max_length:,}",
        "parameter_count": _parameter_count(model),
        "target_list": ", ".join(names),
        "targets_table": _targets_markdown(names, descriptions),
        "outputs_sentence": (
            "One number per target (a regression, not a classification)."
            if is_regression_head(model)
            else "One probability per class."
        ),
        "has_target_stats": config.target_mean is not None,
        "head_description": "linear head" if config.classifier_hidden_size is None else "two-layer MLP head",
        "usage_code": _usage_code(details.repo_id, details.examples[0], is_head),
        "examples_table": _examples_markdown(details.examples, outputs),
        "evaluation_section": evaluation_markdown(results),
        "training_data": details.training_data,
        "training_procedure": details.training_procedure,
    }
    return ModelCard.from_template(card_data, template_str=template_text("head" if is_head else "encoder"), **kwargs)


def usage_code_from_card(card_text: str) -> str:
    """The first ```python block of a rendered card (what a reader copies)."""
    start = card_text.index("```python\n") + len("```python\n")
    return card_text[start : card_text.index("\n```", start)]


__all__ = [
    "DEFAULT_EXAMPLES",
    "CardDetails",
    "ExampleTranscript",
    "card_metadata_labels",
    "evaluation_results",
    "example_outputs",
    "is_regression_head",
    "read_evaluation_report",
    "render_model_card",
    "template_text",
    "usage_code_from_card",
]
