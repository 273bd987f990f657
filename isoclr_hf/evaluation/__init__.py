"""Downstream evaluation: tasks with measured labels, grouped splits, probes, fine-tuning, reports.

Modules: ``regression_task`` and ``classification_task`` (the tasks and input checks),
``task_loaders`` and ``localisation_task`` (the bundled benchmarks), ``task_files`` (user tables),
``tasks`` (the registry by name, with mRNABench aliases), ``splits`` (gene-grouped splits),
``features`` (the k-mer/length/GC baseline), ``embedding`` (batched embedding of records),
``embedding_cache`` (embeddings kept on disk across runs), ``probe`` (ridge probe),
``classification_probe`` (per-class logistic probe), ``probe_runs`` (one probe run and its row),
``fine_tune_runs`` and ``classification_fine_tuning`` (opt-in fine-tuning and its time estimate),
``metrics`` (Pearson, Spearman, MSE; AUROC, AUPRC), ``low_data`` (training-fraction curves),
``statistics`` (paired differences over seeds), ``comparison`` (the run behind ``isoclr evaluate``),
``report`` and ``report_tables`` (markdown, JSON and plots), ``mrnabench_adapter`` (mRNABench's
``EmbeddingModel`` interface and table layout).
"""

from .embedding import embed_records, length_sorted_batches

__all__ = ["embed_records", "length_sorted_batches"]
