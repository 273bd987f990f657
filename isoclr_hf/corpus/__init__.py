"""The pretraining corpus: gene sets of transcripts (isoforms, orthologs) as a ``datasets.DatasetDict``."""

from .batching import (
    ContrastivePairCollator,
    bucketed_batches,
    padded_fraction,
    random_batches,
    shard_batch,
    stream_bucketed_batches,
)
from .build import CORPUS_FEATURES, build_corpus, summarize_corpus
from .orthology import OrthologyTable
from .pairs import (
    GeneSetPairDataset,
    gene_set_pair_weights,
    gene_set_weight_normaliser,
    pair_lengths,
    sample_epoch_pairs,
    stream_pairs,
)
from .splits import SPLIT_NAMES, split_of
from .storage import load_corpus, save_corpus

__all__ = [
    "CORPUS_FEATURES",
    "SPLIT_NAMES",
    "ContrastivePairCollator",
    "GeneSetPairDataset",
    "OrthologyTable",
    "bucketed_batches",
    "build_corpus",
    "gene_set_pair_weights",
    "gene_set_weight_normaliser",
    "load_corpus",
    "padded_fraction",
    "pair_lengths",
    "random_batches",
    "sample_epoch_pairs",
    "save_corpus",
    "shard_batch",
    "split_of",
    "stream_bucketed_batches",
    "stream_pairs",
    "summarize_corpus",
]
