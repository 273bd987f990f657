"""Run mRNABench's own linear-probe code on embeddings made by this package (run in mRNABench's venv).

Usage: python mrnabench_probe.py TABLE.parquet EMBEDDINGS.npz TASK OUT.json

Imports nothing from isoclr_hf: it runs under mRNABench's pins (numpy<2, pandas<=2.2.2,
pyarrow==20.0.0). It reads the table with mRNABench's pandas and pyarrow, loads the embeddings the
way mRNABench's ``LinearProbeBuilder`` does (``np.load(...)["embedding"]``), probes with
``mrna_bench.linear_probe.LinearProbe`` over 5 seeds of its ``default`` splitter and writes, as
JSON: the metrics per seed, their summary (``compute_multirun_results``), the package versions,
and the abstract methods of ``mrna_bench.models.EmbeddingModel`` with their parameters (checked
against the adapter by the test).
"""

from __future__ import annotations

import inspect
import json
import sys

import numpy as np
import pandas as pd
import pyarrow
from mrna_bench.data_splitter.split_catalog import SPLIT_CATALOG
from mrna_bench.linear_probe.evaluator import LinearProbeEvaluator
from mrna_bench.linear_probe.linear_probe import LinearProbe
from mrna_bench.models.embedding_model import EmbeddingModel


def main(table_path: str, embeddings_path: str, task: str, out_path: str) -> None:
    frame = pd.read_parquet(table_path)
    embeddings = np.load(embeddings_path)["embedding"]
    probe = LinearProbe(frame, embeddings, "target", task, SPLIT_CATALOG["default"]((0.7, 0.15, 0.15)),
                        LinearProbeEvaluator(task), eval_all_splits=True)
    metrics = probe.linear_probe_multirun([0, 1, 2, 3, 4])
    summary = probe.compute_multirun_results(metrics)
    interface = {name: list(inspect.signature(getattr(EmbeddingModel, name)).parameters)
                 for name in sorted(EmbeddingModel.__abstractmethods__)}
    result = {"metrics": {str(seed): {k: float(v) for k, v in values.items()} for seed, values in metrics.items()},
              "summary": summary, "abstract_methods": interface,
              "versions": {"numpy": np.__version__, "pandas": pd.__version__, "pyarrow": pyarrow.__version__}}
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(*sys.argv[1:5])
