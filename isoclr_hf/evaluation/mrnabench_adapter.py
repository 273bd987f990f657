"""mRNABench (``pip install mrna-bench``) interoperability: an embedding model and its table layout.

:class:`IsoCLREmbeddingModel` implements mRNABench's ``EmbeddingModel`` interface
(``mrna_bench.models.EmbeddingModel``, mrna-bench 1.3.2): ``get_model_short_name``,
``short_name``, ``is_sixtrack``, ``embed_sequence(sequence)`` and
``embed_sequence_sixtrack(sequence, cds, splice)``, each returning a ``(1, hidden)`` tensor. So an
IsoCLR model runs in mRNABench's own ``DatasetEmbedder`` and its embeddings go into its
``LinearProbe``. mRNABench pins ``numpy<2``, ``pandas<=2.2.2`` and ``pyarrow==20.0.0``, so this
module never imports it: the class is duck-typed, and where ``mrna_bench`` is importable it is
registered as a virtual subclass of its ``EmbeddingModel`` (``isinstance`` holds). Unlike
mRNABench's own models, it does not switch autograd off for the whole process (it embeds under
``torch.no_grad``).

:func:`task_to_mrnabench_frame` writes a task in mRNABench's parquet layout (``sequence``, ``cds``
and ``splice`` as per-nucleotide 0/1 arrays, ``target``, ``gene``); ``isoclr evaluate --task
FILE.parquet`` reads that layout back (:mod:`isoclr_hf.evaluation.tasks.files`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .. import loading
from ..annotations.records import TranscriptRecord
from ..inference import embed_records
from .tasks.files import parse_cds, parse_exon_ends
from .tasks.regression import RegressionTask


def cds_track(record: TranscriptRecord) -> np.ndarray:
    """mRNABench's ``cds`` array: 1 at the first nucleotide of every codon of the CDS. Shape: (L,), int8."""
    track = np.zeros(len(record.sequence), dtype=np.int8)
    if record.is_coding:
        track[record.cds_start:record.cds_end:3] = 1
    return track


def splice_track(record: TranscriptRecord) -> np.ndarray:
    """mRNABench's ``splice`` array: 1 at the last nucleotide of every exon. Shape: (L,), int8."""
    track = np.zeros(len(record.sequence), dtype=np.int8)
    track[np.asarray(record.exon_ends, dtype=np.int64) - 1] = 1
    return track


def record_from_tracks(sequence: str, cds: Any, splice: Any, *, name: str = "sequence") -> TranscriptRecord:
    """A transcript record from mRNABench's six-track inputs (``cds``/``splice`` 0/1 arrays, or ``None``)."""
    length = len(sequence)
    start, end, flags = parse_cds(cds, length) if cds is not None else (-1, -1, [])
    exon_ends = parse_exon_ends(splice, length) if splice is not None else [length]
    return TranscriptRecord(name, name, "", "", sequence, exon_ends, start, end,
                            "coding" if start >= 0 else "non_coding", flags)


def task_to_mrnabench_frame(task: RegressionTask) -> pd.DataFrame:
    """A regression task in mRNABench's table layout: ``sequence``, ``cds``, ``splice``, ``target``, ``gene``."""
    return pd.DataFrame({
        "sequence": [r.sequence for r in task.records],
        "cds": [cds_track(r) for r in task.records],
        "splice": [splice_track(r) for r in task.records],
        "target": np.asarray(task.labels, dtype=np.float64),
        "gene": [str(g) for g in task.groups],
    })


def register_with_mrnabench() -> bool:
    """Register :class:`IsoCLREmbeddingModel` as a virtual subclass of mRNABench's ``EmbeddingModel``.

    Returns:
        Whether ``mrna_bench`` was importable (nothing is done where it is not).
    """
    try:
        from mrna_bench.models.embedding_model import EmbeddingModel
    except ImportError:
        return False
    EmbeddingModel.register(IsoCLREmbeddingModel)
    return True


class IsoCLREmbeddingModel:
    """An IsoCLR encoder behind mRNABench's ``EmbeddingModel`` interface (see the module docstring).

    Args:
        model_version: Model folder or Hub id (a training run folder means its ``final/``).
        device: Where the encoder runs.
        trust_remote_code: Allow a model folder that is not an IsoCLR model.
        truncation: Keep the 5' end of transcripts longer than the model's maximum (mRNABench's
            long transcripts) instead of raising.
        batch_size: Transcripts per forward pass in :meth:`embed_frame`.
    """

    @staticmethod
    def get_model_short_name(model_version: str) -> str:
        """The folder's name (or the Hub id's), with no underscores (mRNABench splits file names on ``_``)."""
        name = Path(str(model_version).rstrip("/")).name or "isoclr"
        return "".join(c if c.isalnum() or c in "-." else "-" for c in name)

    def __init__(self, model_version: str, device: torch.device | str = "cpu", *, trust_remote_code: bool = False,
                 truncation: bool = True, batch_size: int = 32) -> None:
        register_with_mrnabench()
        path = loading.resolve_model_path(model_version)
        self.model_version = str(model_version)
        self.short_name = self.get_model_short_name(path.name if Path(str(model_version)).exists()
                                                    else str(model_version))
        self.device = torch.device(device)
        self.model = loading.load_encoder(path, trust_remote_code=trust_remote_code).to(self.device)
        self.tokenizer = loading.load_tokenizer(path, trust_remote_code=trust_remote_code)
        self.is_sixtrack = int(getattr(self.model.config, "n_tracks", 6)) == 6
        self.truncation = truncation
        self.batch_size = batch_size

    @staticmethod
    def _check_aggregation(agg_fn: Callable | None) -> None:
        if agg_fn not in (None, torch.mean):
            raise NotImplementedError("IsoCLR embeddings are the mean over the valid positions (the model's pooling); "
                                      "other aggregations are not supported.")

    def _embed(self, records: Sequence[TranscriptRecord], progress: bool = False) -> np.ndarray:
        return embed_records(self.model, self.tokenizer, list(records), batch_size=self.batch_size,
                             progress=progress, truncation=self.truncation)

    def embed_sequence(self, sequence: str, agg_fn: Callable | None = None) -> torch.Tensor:
        """Embed a sequence without annotation (non-coding, exons unknown). Shape: (1, hidden)."""
        self._check_aggregation(agg_fn)
        return torch.from_numpy(self._embed([record_from_tracks(sequence, None, None)]))

    def embed_sequence_sixtrack(self, sequence: str, cds: np.ndarray, splice: np.ndarray,
                                agg_fn: Callable | None = None) -> torch.Tensor:
        """Embed a sequence with mRNABench's ``cds`` and ``splice`` tracks. Shape: (1, hidden).

        Raises:
            ValueError: for a track that is not one 0/1 value per nucleotide.
        """
        self._check_aggregation(agg_fn)
        return torch.from_numpy(self._embed([record_from_tracks(sequence, cds, splice)]))

    def embed_frame(self, frame: pd.DataFrame, *, progress: bool = True) -> np.ndarray:
        """Embed every row of an mRNABench table in length-sorted batches (faster than row by row).

        Returns:
            Shape: (len(frame), hidden), float32, in row order (what mRNABench's ``LinearProbe`` takes).
        """
        has_tracks = self.is_sixtrack and {"cds", "splice"} <= set(frame.columns)
        records = [record_from_tracks(row["sequence"], row["cds"] if has_tracks else None,
                                      row["splice"] if has_tracks else None, name=f"row_{i + 1}")
                   for i, row in enumerate(frame.to_dict("records"))]
        return self._embed(records, progress)


__all__ = ["IsoCLREmbeddingModel", "cds_track", "record_from_tracks", "register_with_mrnabench", "splice_track",
           "task_to_mrnabench_frame"]
