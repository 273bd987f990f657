"""The pretraining corpus: gene sets of transcripts (isoforms, orthologs) as a ``datasets.DatasetDict``.

Pair sampling and batching for training are in :mod:`isoclr_hf.pretraining`.
"""

from .build import CORPUS_FEATURES, build_corpus, summarize_corpus
from .orthology import OrthologyTable
from .splits import SPLIT_NAMES, split_of
from .storage import load_corpus, save_corpus

__all__ = [
    "CORPUS_FEATURES",
    "SPLIT_NAMES",
    "OrthologyTable",
    "build_corpus",
    "load_corpus",
    "save_corpus",
    "split_of",
    "summarize_corpus",
]
