"""The defaults of an evaluation, in a module that imports nothing heavy.

``isoclr evaluate --help`` shows them without importing numpy, pandas, torch or transformers; the modules
that use them (``low_data``, ``comparison``, ``embedding_cache``, ``tasks``) import them from here.
"""

from __future__ import annotations

import os
from pathlib import Path

# Training fractions of the low-data curve.
DEFAULT_FRACTIONS = (0.005, 0.01, 0.1, 1.0)
# Five seeds: each is a split seed (a new grouped split) and the seed of the subset draws on it.
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
# Fewest training examples a probe or fine-tuning run gets, whatever the fraction.
DEFAULT_MIN_TRAIN = 10
# Transcripts per batch when embedding a task.
EMBEDDING_BATCH_SIZE = 64
# Examples a task is subsampled to unless told otherwise (whole groups at a time).
DEFAULT_MAX_EXAMPLES = 2000

TASK_FILE_FORMATS = ".parquet, .pq, .csv, .tsv, .tab (CSV/TSV optionally gzipped: .csv.gz, .tsv.gz)"

# The bundled tasks' names and the mRNABench aliases, as ``tasks.registry.task_names()`` gives them (a test
# holds the two equal): the registry imports every loader, this list imports nothing.
TASK_NAMES = (
    "dm3loc_localisation", "icodon_decay", "icodon_decay_human", "icodon_decay_mouse", "icodon_decay_zebrafish",
    "rnahl-human", "saluki_halflife_human", "saluki_halflife_refseq", "siegel_3utr_jurkat", "te_5utr_hek293",
    "te_5utr_muscle", "te_5utr_pc3",
)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/isoclr_hf/embeddings``, by default ``~/.cache/isoclr_hf/embeddings``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "isoclr_hf" / "embeddings"


__all__ = ["DEFAULT_FRACTIONS", "DEFAULT_MAX_EXAMPLES", "DEFAULT_MIN_TRAIN", "DEFAULT_SEEDS", "EMBEDDING_BATCH_SIZE",
           "TASK_FILE_FORMATS", "TASK_NAMES", "default_cache_dir"]
