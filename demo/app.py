"""IsoCLR demo: paste a transcript (optional CDS and exon ends) or upload a FASTA, see predictions and its tracks.

Space-ready: the model comes from ``ISOCLR_MODEL`` (a Hub id or a local folder; default ``demo/model``) and is
loaded with transformers' remote code, so the Space needs only ``requirements.txt``, not this package.

Run locally::

    ISOCLR_MODEL=path/to/model python demo/app.py
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a demo or a test

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


def parse_exon_ends(text: str | None) -> list[int] | None:
    """``"38, 215, 334"`` -> ``[38, 215, 334]``; empty -> ``None``."""
    if text is None or not text.strip():
        return None
    try:
        return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise gr.Error(f"Exon ends must be whole numbers separated by commas, got {text!r}.") from None


def parse_cds(start: float | None, end: float | None) -> tuple[int, int] | None:
    """CDS start/end boxes -> ``(start, end)``; both empty -> ``None`` (non-coding)."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise gr.Error("Give both the CDS start and end (0-based, end exclusive, stop codon included), or neither.")
    return int(start), int(end)


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
                    raise gr.Error(f"{Path(path).name} line {number}: sequence before the first '>' header.")
                records[-1][1].append(line)
    if not records:
        raise gr.Error(f"{Path(path).name} holds no FASTA records.")
    if len(records) > MAX_FASTA_RECORDS:
        raise gr.Error(f"{Path(path).name} has {len(records)} records; the demo takes at most {MAX_FASTA_RECORDS}.")
    return [(name, "".join(parts)) for name, parts in records]


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

    @torch.no_grad()
    def run(self, names: list[str], sequences: list[str], cds: list[Any], exon_ends: list[Any]) -> tuple[dict, Any]:
        """Tokenize and run; tokenizer errors (bad characters, bad annotations) become messages for the user."""
        try:
            batch = self.tokenizer(sequences, exon_ends=exon_ends, cds=cds, names=names, return_tensors="pt")
        except ValueError as error:
            raise gr.Error(str(error)) from None
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

    def predict(
        sequence: str, cds_start: float | None, cds_end: float | None, exon_ends: str, fasta: str | None
    ) -> tuple[pd.DataFrame, str, plt.Figure]:
        if fasta:
            records = read_fasta(fasta)
            names = [name for name, _ in records]
            sequences = [seq for _, seq in records]
            cds_list: list[Any] = [None] * len(records)
            exon_list: list[Any] = [None] * len(records)
        else:
            sequence = "".join((sequence or "").split())
            if not sequence:
                raise gr.Error("Paste a transcript sequence or upload a FASTA file.")
            names, sequences = ["input"], [sequence]
            cds_list, exon_list = [parse_cds(cds_start, cds_end)], [parse_exon_ends(exon_ends)]
        batch, outputs = service.run(names, sequences, cds_list, exon_list)
        frame = service.table(names, batch, outputs)
        first = frame.iloc[0]
        value_columns = [c for c in frame.columns if c not in ("transcript", "length")]
        summary = "; ".join(f"{column}: {first[column]:.6g}" for column in value_columns)
        plt.close("all")
        return frame, f"{first['transcript']} - {summary}", plot_tracks(names[0], batch)

    kind = f"predicts {', '.join(service.target_names)}" if service.is_head else "embeds transcripts"
    with gr.Blocks(title="IsoCLR RNA model") as demo:
        gr.Markdown(
            f"# IsoCLR RNA model\n`{model_path}` {kind}. Paste a mature transcript (5'->3', DNA or RNA letters) "
            "with its CDS (0-based start, end exclusive, stop codon included) and exon ends (cumulative exon "
            "lengths, the last equals the length), or upload a FASTA file (no annotations)."
        )
        with gr.Row():
            with gr.Column():
                sequence = gr.Textbox(label="Sequence", lines=6, elem_id="sequence")
                with gr.Row():
                    cds_start = gr.Number(label="CDS start", precision=0, elem_id="cds-start")
                    cds_end = gr.Number(label="CDS end", precision=0, elem_id="cds-end")
                exon_ends = gr.Textbox(label="Exon ends (comma separated)", elem_id="exon-ends")
                fasta = gr.File(label="...or a FASTA file", file_types=[".fa", ".fasta", ".txt"], type="filepath")
                button = gr.Button("Predict", variant="primary", elem_id="predict-button")
            with gr.Column():
                summary = gr.Textbox(label="Result", elem_id="summary", interactive=False)
                table = gr.Dataframe(label="Predictions", elem_id="predictions", interactive=False)
                plot = gr.Plot(label="Input tracks")
        button.click(predict, [sequence, cds_start, cds_end, exon_ends, fasta], [table, summary, plot])
    return demo


demo = build_demo(os.environ.get("ISOCLR_MODEL", "demo/model")) if __name__ == "__main__" or os.environ.get(
    "SPACE_ID"
) else None

if __name__ == "__main__":
    assert demo is not None
    demo.launch()
