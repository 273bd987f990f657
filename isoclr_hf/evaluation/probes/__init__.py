"""Linear probes on frozen embeddings and the k-mer baseline's features.

Modules: ``ridge`` (regression), ``logistic`` (per-class logistic regression for multi-label tasks),
``features`` (k-mer, length and GC features of the baseline), ``runs`` (one probe run and its result row).
"""
