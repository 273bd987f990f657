"""Downstream evaluation: tasks with measured labels, grouped splits, probes, fine-tuning, reports.

Modules: ``regression_task`` (the task and input checks), ``task_loaders`` (the bundled
benchmarks), ``tasks`` (the registry by name), ``splits`` (gene-grouped splits), ``features``
(the k-mer/length/GC baseline), ``embedding`` (batched embedding of records), ``probe`` (ridge
probe), ``metrics`` (Pearson, Spearman, MSE), ``low_data`` (training-fraction curves),
``report`` (markdown, JSON and plots).
"""

from .embedding import embed_records, length_sorted_batches

__all__ = ["embed_records", "length_sorted_batches"]
