"""Downstream evaluation: tasks with measured labels, grouped splits, probes, fine-tuning, reports.

Modules: ``tasks`` (the task registry and loaders), ``splits`` (gene-grouped splits), ``features``
(the k-mer/length/GC baseline), ``embedding`` (batched embedding of records), ``probe`` (ridge
probe), ``metrics`` (Pearson, Spearman, MSE through ``evaluate``), ``low_data`` (training-fraction
curves), ``report`` (markdown, JSON and plots).
"""

from .embedding import embed_records, length_sorted_batches

__all__ = ["embed_records", "length_sorted_batches"]
