"""Downstream evaluation: tasks with measured labels, probes, fine-tuning, reports, leakage counts.

Grouped by job:

- ``tasks/``: the two task types (regression, multi-label classification), the bundled benchmarks,
  user task files, the registry by name and the grouped splits;
- ``probes/``: ridge and logistic probes on frozen embeddings, the k-mer baseline's features, one probe run;
- ``fine_tuning/``: one fine-tuning engine for every head, its settings, the runs of a comparison and
  ``training/finetune.py``'s procedure;
- ``reports/``: report.json and report.md, tables, paired statistics over seeds, plots.

Beside them: ``comparison`` (the run behind ``isoclr evaluate``), ``embedding_cache`` (embeddings kept on
disk across runs), ``low_data`` (training-fraction curves), ``metrics`` (Pearson, Spearman, MSE; AUROC,
AUPRC), ``overlap`` (task examples also in a pretraining corpus) and ``mrnabench_adapter`` (mRNABench's
``EmbeddingModel`` interface and table layout). Evaluation imports models, annotations and the corpus;
nothing below it imports evaluation.
"""
