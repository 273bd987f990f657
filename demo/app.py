"""IsoCLR demo: paste a transcript (optional CDS and exon ends) or upload a FASTA, see predictions and its tracks.

Space-ready: the model comes from ``ISOCLR_MODEL`` (a Hub id or a local folder; default: the half-life head that
``make demo-finetune`` writes, ``outputs/demo/evaluation/halflife_fine_tune/head`` in the repository) and is
loaded with transformers' remote code, so the Space needs only ``requirements.txt`` and ``examples.json`` (three
real human transcripts), not this package. What each target means (in words, with its unit) comes from the
model's ``config.json`` (``target_descriptions``, written by ``isoclr_hf.hub.prepare_model_folder``).

Empty CDS boxes mean a non-coding RNA; empty exon ends mean unknown exon structure. Input problems are shown
in the result box ("Could not predict: ..."), never as a bare error.

Run locally, after ``make demo-finetune``::

    python demo/app.py                                # the head it fine-tuned (or: make demo-app)
    ISOCLR_MODEL=path/to/model python demo/app.py     # any other head or encoder folder, or a Hub id
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a demo or a test

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gradio as gr
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

TRACK_NAMES = ("A", "C", "G", "T", "CDS (codon starts)", "splice (exon ends)")
BASE_IDS = {"A": 1, "C": 2, "G": 3, "T": 4}  # the IsoCLR tokenizer's ids of the four bases
MAX_FASTA_RECORDS = 50
EXAMPLES_PATH = Path(__file__).resolve().with_name("examples.json")  # real human transcripts (Ensembl 91)
# Where `make demo-finetune` writes its fine-tuned half-life head (the Makefile's DEMO_HEAD).
DEMO_HEAD = Path(__file__).resolve().parents[1] / "outputs" / "demo" / "evaluation" / "halflife_fine_tune" / "head"


class InputError(ValueError):
    """Something the user typed or uploaded cannot be used; the message says what and how to fix it."""


def load_examples(path: Path = EXAMPLES_PATH) -> list[dict[str, Any]]:
    """The example transcripts: name, sequence, CDS (or ``None``) and exon ends, from ``examples.json``."""
    return json.loads(path.read_text(encoding="utf-8"))["examples"]


def known_target_descriptions() -> dict[str, str]:
    """Descriptions of the known targets from the isoclr-hf package where it is installed (not on a Space).

    A model folder written by ``isoclr_hf.hub.prepare_model_folder`` carries its own in ``config.json``
    (``target_descriptions``), which win; this covers heads saved without it.
    """
    try:
        from isoclr_hf.hub.targets import TARGET_DESCRIPTIONS
    except ImportError:
        return {}
    return dict(TARGET_DESCRIPTIONS)


def parse_exon_ends(text: str | None) -> list[int] | None:
    """``"38, 215, 334"`` -> ``[38, 215, 334]``; empty -> ``None`` (unknown exon structure)."""
    if text is None or not str(text).strip():
        return None
    try:
        return [int(part) for part in str(text).replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise InputError(
            f"Exon ends must be whole numbers separated by commas (e.g. 38, 215, 334), got {text!r}."
        ) from None


def _position(text: str | float | None, what: str) -> int | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        raise InputError(f"The {what} must be a whole number (0-based), got {text!r}.") from None
    if value != int(value):
        raise InputError(f"The {what} must be a whole number (0-based), got {text!r}.")
    return int(value)


def parse_cds(start: str | float | None, end: str | float | None) -> tuple[int, int] | None:
    """CDS start/end boxes -> ``(start, end)``; both empty -> ``None`` (a non-coding RNA)."""
    start_value, end_value = _position(start, "CDS start"), _position(end, "CDS end")
    if start_value is None and end_value is None:
        return None
    if start_value is None or end_value is None:
        raise InputError(
            "Give both the CDS start and end (0-based start, end exclusive, stop codon included), "
            "or leave both empty for a non-coding RNA."
        )
    return start_value, end_value


def read_fasta(path: str | Path) -> list[tuple[str, str]]:
    """Records of a FASTA file as ``(name, sequence)``."""
    records: list[tuple[str, list[str]]] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if line.startswith(">"):
                records.append((line[1:].split()[0] if line[1:].strip() else f"record_{len(records) + 1}", []))
            elif line:
                if not records:
                    raise InputError(f"{Path(path).name} line {number}: sequence before the first '>' header.")
                records[-1][1].append(line)
    if not records:
        raise InputError(f"{Path(path).name} holds no FASTA records.")
    if len(records) > MAX_FASTA_RECORDS:
        raise InputError(f"{Path(path).name} has {len(records)} records; the demo takes at most {MAX_FASTA_RECORDS}.")
    return [(name, "".join(parts)) for name, parts in records]


def error_outputs(message: str) -> tuple[pd.DataFrame, str, None]:
    """What the page shows when a prediction cannot be made: the reason in the result box, nothing else."""
    return pd.DataFrame(), f"Could not predict: {message}", None


class IsoCLRDemo:
    """The model behind the page: a head (named predictions) or an encoder (embedding summary)."""

    def __init__(self, model_path: str) -> None:
        config = AutoConfig.from_pretrained(model_path, trust_remote_code=True)
        self.is_head = "IsoCLRForSequenceClassification" in (config.architectures or [])
        model_class = AutoModelForSequenceClassification if self.is_head else AutoModel
        self.model = model_class.from_pretrained(model_path, trust_remote_code=True).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(model_path, trust_remote_code=True)
        config = self.model.config
        self.target_names = list(config.target_names or [config.id2label[i] for i in range(config.num_labels)]) if (
            self.is_head
        ) else []
        own = getattr(config, "target_descriptions", None) or {}
        known = known_target_descriptions()
        self.descriptions = {
            name: own.get(name) or known[name] for name in self.target_names if own.get(name) or name in known
        }

    def describe(self, name: str) -> str:
        """What target ``name`` is, in words with its unit (or a note that the model does not say)."""
        return self.descriptions.get(name, "no description in the model's config")

    @torch.no_grad()
    def run(self, names: list[str], sequences: list[str], cds: list[Any], exon_ends: list[Any]) -> tuple[dict, Any]:
        """Tokenize and run; tokenizer errors (bad characters, bad annotations) become :class:`InputError`."""
        try:
            batch = self.tokenizer(sequences, exon_ends=exon_ends, cds=cds, names=names, return_tensors="pt")
        except ValueError as error:
            raise InputError(str(error)) from None
        return batch, self.model(**batch)

    def table(self, names: list[str], batch: dict, outputs: Any) -> pd.DataFrame:
        lengths = batch["attention_mask"].sum(1).tolist()
        frame = pd.DataFrame({"transcript": names, "length": lengths})
        if self.is_head:
            values = outputs.predictions if outputs.predictions is not None else torch.softmax(outputs.logits, -1)
            for column, name in enumerate(self.target_names):
                frame[name] = values[:, column].float().numpy()
        else:
            embeddings = outputs.pooler_output.float()
            frame["embedding L2 norm"] = embeddings.norm(dim=1).numpy()
            for dim in range(min(4, embeddings.shape[1])):
                frame[f"dim {dim}"] = embeddings[:, dim].numpy()
        return frame

    def summary(self, frame: pd.DataFrame, cds: Any, exon_ends: Any) -> str:
        """The first row in words: ``name (length, coding or not, exons)`` then ``target = value`` and its meaning."""
        first = frame.iloc[0]
        kind = "non-coding (no CDS)" if cds is None else f"CDS {cds[0]}-{cds[1]}"
        exons = "exons unknown" if exon_ends is None else f"{len(exon_ends)} exon{'s' * (len(exon_ends) != 1)}"
        lines = [f"{first['transcript']}: {int(first['length']):,} nt, {kind}, {exons}"]
        columns = [c for c in frame.columns if c not in ("transcript", "length")]
        for column in columns:
            line = f"{column} = {first[column]:.4g}"
            lines.append(f"{line}  ({self.describe(column)})" if self.is_head else line)
        if len(frame) > 1:
            lines.append(f"... and {len(frame) - 1} more transcript(s) in the table.")
        return "\n".join(lines)

    def predict(
        self, name: str, sequence: str, cds_start: str, cds_end: str, exon_ends: str, fasta: str | None = None
    ) -> tuple[pd.DataFrame, str, plt.Figure | None]:
        """The Predict button: the table, the result in words and the track plot; or the reason it can't."""
        plt.close("all")
        try:
            if fasta:
                records = read_fasta(fasta)
                names = [record_name for record_name, _ in records]
                sequences = [seq for _, seq in records]
                cds_list: list[Any] = [None] * len(records)
                exon_list: list[Any] = [None] * len(records)
            else:
                sequence = "".join((sequence or "").split())
                if not sequence:
                    raise InputError("paste a transcript sequence (or pick an example below, or upload a FASTA file).")
                names, sequences = [(name or "").strip() or "input"], [sequence]
                cds_list, exon_list = [parse_cds(cds_start, cds_end)], [parse_exon_ends(exon_ends)]
            batch, outputs = self.run(names, sequences, cds_list, exon_list)
        except InputError as error:
            return error_outputs(str(error))
        except Exception as error:  # the page says what went wrong instead of a bare "Error"
            return error_outputs(f"unexpected {type(error).__name__}: {error}")
        frame = self.table(names, batch, outputs)
        return frame, self.summary(frame, cds_list[0], exon_list[0]), plot_tracks(names[0], batch)


def plot_tracks(name: str, batch: dict, row: int = 0) -> plt.Figure:
    """The six input tracks of one transcript, one panel per track. Shape plotted: (6, length)."""
    length = int(batch["attention_mask"][row].sum())
    ids = batch["input_ids"][row, :length].numpy()
    tracks = np.stack(
        [(ids == BASE_IDS[base]).astype(float) for base in "ACGT"]
        + [batch["cds_track"][row, :length].numpy(), batch["splice_track"][row, :length].numpy()]
    )  # (6, L)
    figure, axes = plt.subplots(6, 1, figsize=(10, 4.5), sharex=True)
    for axis, track, label in zip(axes, tracks, TRACK_NAMES):
        axis.fill_between(np.arange(length), track, step="mid", linewidth=0)
        axis.set_ylim(0, 1.05)
        axis.set_yticks([])
        axis.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    axes[0].set_title(f"{name}: six input tracks ({length} nt)")
    axes[-1].set_xlabel("position in transcript (5'->3')")
    figure.tight_layout()
    return figure


def build_demo(model_path: str) -> gr.Blocks:
    """The Gradio page for the model at ``model_path`` (Hub id or folder)."""
    service = IsoCLRDemo(model_path)
    examples = load_examples()
    if service.is_head:
        kind = "predicts:\n\n" + "\n".join(f"- **{n}**: {service.describe(n)}" for n in service.target_names)
    else:
        kind = "embeds transcripts (an encoder: the page shows a summary of each embedding)."
    default = example_fields(examples[0])  # the page opens on a real coding transcript, ready to predict
    with gr.Blocks(title="IsoCLR RNA model") as demo:
        gr.Markdown(
            f"# IsoCLR RNA model\n`{model_path}` {kind}\n\n"
            "Paste a mature transcript (5'->3', DNA or RNA letters) with its CDS (0-based start, end exclusive, "
            "stop codon included; **leave both boxes empty for a non-coding RNA**) and its exon ends (cumulative "
            "exon lengths, the last equals the length; empty if unknown), pick one of the real human transcripts "
            "below, or upload a FASTA file (read without annotations)."
        )
        with gr.Row():
            with gr.Column():
                name = gr.Textbox(label="Name (optional)", value=default[0], elem_id="name")
                sequence = gr.Textbox(label="Sequence", lines=6, max_lines=12, value=default[1], elem_id="sequence")
                with gr.Row():
                    cds_start = gr.Textbox(label="CDS start (empty = non-coding)", elem_id="cds-start",
                                           value=default[2], placeholder="e.g. 39")
                    cds_end = gr.Textbox(label="CDS end (empty = non-coding)", elem_id="cds-end",
                                         value=default[3], placeholder="e.g. 1083")
                exon_ends = gr.Textbox(label="Exon ends (comma separated; empty = unknown)", elem_id="exon-ends",
                                       value=default[4], placeholder="e.g. 193, 280, 1143")
                fasta = gr.File(label="...or a FASTA file", file_types=[".fa", ".fasta", ".txt"], type="filepath")
                button = gr.Button("Predict", variant="primary", elem_id="predict-button")
            with gr.Column():
                summary = gr.Textbox(label="Result", lines=4, elem_id="summary", interactive=False)
                table = gr.Dataframe(label="Predictions", elem_id="predictions", interactive=False)
                plot = gr.Plot(label="Input tracks")
        # A pasted sequence must not inherit the example's CDS: clear it as soon as the sequence changes
        # (Gradio's `input` event misses pastes), and again when Predict is clicked.
        annotations = [name, cds_start, cds_end, exon_ends]
        sequence.change(
            lambda *values: fields_after_sequence_edit(examples, *values), [sequence, *annotations], annotations
        )
        gr.Examples(
            examples=[example_fields(e) for e in examples],
            inputs=[name, sequence, cds_start, cds_end, exon_ends],
            example_labels=[e["name"] for e in examples],
            label="Real human transcripts (Ensembl 91, GRCh38 chr9)",
            elem_id="examples",
        )
        def on_predict(*values: Any) -> tuple[Any, ...]:
            name_text, sequence_text, start, end, exons, fasta_path = values
            fields = fields_after_sequence_edit(examples, sequence_text, name_text, start, end, exons)
            return (*service.predict(fields[0], sequence_text, *fields[1:], fasta_path), *fields)

        button.click(
            on_predict, [name, sequence, cds_start, cds_end, exon_ends, fasta], [table, summary, plot, *annotations]
        )
    return demo


def _box(cds: list[int] | None, index: int) -> str:
    """A CDS box's text: the start or end, or empty for a non-coding transcript."""
    return "" if cds is None else str(cds[index])


def example_fields(example: dict[str, Any]) -> list[str]:
    """An example as the page's boxes hold it: name, sequence, CDS start, CDS end, exon ends."""
    exon_ends = ", ".join(map(str, example["exon_ends"] or []))
    return [example["name"], example["sequence"], _box(example["cds"], 0), _box(example["cds"], 1), exon_ends]


def fields_after_sequence_edit(
    examples: list[dict[str, Any]], sequence: str, name: str, cds_start: str, cds_end: str, exon_ends: str
) -> list[str]:
    """Name, CDS and exon-end boxes after the user edits the sequence.

    Boxes still holding an example's annotations are emptied once the sequence is no longer that example's
    (a pasted transcript is then read as non-coding with unknown exons, instead of failing on the example's
    CDS); annotations the user typed are kept.
    """
    boxes = [name or "", cds_start or "", cds_end or "", exon_ends or ""]
    pasted = "".join((sequence or "").split()).upper().replace("U", "T")
    for example in examples:
        fields = example_fields(example)
        if boxes == [fields[0], *fields[2:]] and pasted != example["sequence"].upper():
            return ["", "", "", ""]
    return boxes


def model_to_serve(environment: Mapping[str, str] | None = None) -> str:
    """``ISOCLR_MODEL`` (from ``environment``, default ``os.environ``) when set, else make demo-finetune's head.

    Raises:
        InputError: Neither is there (``make demo-finetune`` not run yet), saying how to get one.
    """
    chosen = (os.environ if environment is None else environment).get("ISOCLR_MODEL")
    if chosen:
        return chosen
    if not (DEMO_HEAD / "config.json").is_file():
        raise InputError(f"No model to serve: {DEMO_HEAD} does not exist. Run `make demo-finetune` first (it "
                         "fine-tunes the half-life head there), or set ISOCLR_MODEL to a model folder or Hub id.")
    return str(DEMO_HEAD)


demo = build_demo(model_to_serve()) if __name__ == "__main__" or os.environ.get("SPACE_ID") else None

if __name__ == "__main__":
    assert demo is not None
    demo.launch()
