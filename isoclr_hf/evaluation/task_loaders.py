"""Loaders of the bundled benchmarks (``data/benchmarks``) and of mRNABench-layout parquet files.

User task files in any layout (parquet/CSV/TSV, named columns) are read by
:mod:`isoclr_hf.evaluation.task_files`.

The registry that names them is :data:`isoclr_hf.evaluation.tasks.TASKS`.

Each loader documents the choices that turn a published table into a task (which rows, which
label, what groups a split keeps together); the choices also go into ``task.notes`` and from there
into the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..annotations.records import TranscriptRecord
from ..annotations.sqanti import read_sqanti
from .regression_task import RegressionTask, check_columns, check_labels, check_sequences
from .splits import shared_kmer_groups
from .task_files import TaskColumns, read_task_file

SALUKI_SOURCE = "Agarwal & Kelley 2022 (Saluki), vagarwal87/saluki_paper @ 3aa4e56a; isoforms: SQANTI3 UHR chr22"
SIEGEL_SOURCE = "Siegel et al. 2022 3'UTR MPRA, Jurkat; vagarwal87/saluki_paper @ 3aa4e56a (Fig6_S7)"
TE_SOURCE = "Endogenous 5'UTR reporter library, zzz2010/5UTR_Optimizer @ 94f1dcf8 (data/final_endogenous.txt)"
# Saluki's ten gene folds (BIN 1-10): bins 1-2 test, bin 3 validation, the rest train.
SALUKI_TEST_BINS = (1, 2)
SALUKI_VALIDATION_BINS = (3,)
# The reporter CDS start at the 3' end of every construct of the 5'UTR library (EGFP: ATG GTG AGC AAG GG).
REPORTER_CDS_START = "ATGGTGAGCAAGGG"


def representative_isoform(records: Iterable[TranscriptRecord]) -> TranscriptRecord:
    """The isoform that stands for a gene: longest CDS, then longest transcript, then smallest id.

    SQANTI3 records carry no expression, so the rule uses only the structure: the longest coding
    sequence is the gene's main protein product in most genes.
    """
    return min(records, key=lambda r: (-(r.cds_end - r.cds_start), -len(r.sequence), r.transcript_id))


def load_saluki_halflife(data_dir: Path) -> RegressionTask:
    """mRNA half-life (Saluki PC1, z-scored) of the chr22 genes of the SQANTI3 UHR isoforms.

    One representative coding isoform per gene (:func:`representative_isoform`), joined on the gene
    id (version stripped) to ``human_folds.tsv``; Saluki's own ten gene folds make the split.
    """
    folds_path = data_dir / "benchmarks" / "saluki_halflife" / "human_folds.tsv"
    names_path = data_dir / "benchmarks" / "saluki_halflife" / "human_PC1.tsv"
    sqanti = data_dir / "pretraining" / "sqanti3_uhr_chr22"
    folds = pd.read_csv(folds_path, sep="\t")
    check_columns(list(folds.columns), ["BIN", "GENEID", "HALFLIFE"], folds_path)
    check_labels(folds["HALFLIFE"].to_numpy(), folds_path, first_line=2, column="HALFLIFE")
    folds["GENEID"] = folds["GENEID"].astype(str).str.split(".").str[0]
    folds = folds.set_index("GENEID")
    gene_names = {}
    if names_path.exists():
        names = pd.read_csv(names_path, sep="\t")
        gene_names = dict(zip(names["ensembl_gene_id"].astype(str), names["external_gene_name"].astype(str)))

    by_gene: dict[str, list[TranscriptRecord]] = {}
    for record in read_sqanti(
        sqanti / "UHR_chr22.filtered.fasta",
        sqanti / "UHR_chr22.filtered.gtf",
        sqanti / "UHR_chr22_ML_result_classification.txt",
        species="homo_sapiens",
    ):
        if record.is_coding and record.gene_id in folds.index:
            by_gene.setdefault(record.gene_id, []).append(record)
    records = [representative_isoform(by_gene[gene]) for gene in sorted(by_gene)]
    for record in records:
        record.gene_name = record.gene_name or gene_names.get(record.gene_id, "")
    bins = folds.loc[[r.gene_id for r in records], "BIN"].to_numpy()
    split = np.where(np.isin(bins, SALUKI_TEST_BINS), "test",
                     np.where(np.isin(bins, SALUKI_VALIDATION_BINS), "validation", "train"))
    return RegressionTask(
        name="saluki_halflife_human",
        records=records,
        labels=folds.loc[[r.gene_id for r in records], "HALFLIFE"].to_numpy(),
        groups=np.asarray([r.gene_id for r in records], dtype=object),
        target_name="half_life_pc1_z",
        dataset_name="Saluki human mRNA half-life (PC1, z-scored), SQANTI3 UHR chr22 isoforms",
        source=SALUKI_SOURCE,
        categories=np.asarray([r.biotype or "coding" for r in records], dtype=object),
        predefined_split=split,
        notes=[
            f"{len(records)} chr22 coding genes with a Saluki label and fold; one isoform per gene "
            "(longest CDS, then longest transcript, then smallest id). Readthrough isoforms assigned to "
            "two genes (associated_gene 'A_B') count for neither gene.",
            f"Split by Saluki's gene folds: BIN {SALUKI_TEST_BINS} test, BIN {SALUKI_VALIDATION_BINS} "
            "validation, the other bins train.",
        ],
    )


def load_siegel_3utr(data_dir: Path) -> RegressionTask:
    """3'UTR stability MPRA (Siegel et al. 2022, Jurkat): ~160-nt 3'UTR fragments and their variants.

    Fragments are non-coding pieces (no CDS, one exon). The table has no source-UTR column; the
    source is recovered as the groups of fragments that share any 40-nt substring (variants of one
    tile share most of it, overlapping tiles of one 3'UTR share their overlap):
    :func:`~isoclr_hf.evaluation.splits.shared_kmer_groups`.
    """
    path = data_dir / "benchmarks" / "siegel2022_3utr_stability" / "jurkat.tsv.gz"
    table = pd.read_csv(path, sep="\t", header=None)
    if table.shape[1] != 2:
        raise ValueError(f"{path}: expected 2 tab-separated columns (sequence, stability), found {table.shape[1]}.")
    sequences = table[0].astype(str).tolist()
    labels = pd.to_numeric(table[1], errors="coerce").to_numpy()
    check_sequences(sequences, path)
    check_labels(labels, path, column="stability")
    groups = shared_kmer_groups(sequences)
    records = [
        TranscriptRecord(f"siegel_{i + 1}", f"utr_{groups[i]}", "", "homo_sapiens", seq, [len(seq)],
                         biotype="3utr_fragment")
        for i, seq in enumerate(sequences)
    ]
    return RegressionTask(
        name="siegel_3utr_jurkat",
        records=records,
        labels=labels,
        groups=np.asarray([f"utr_{g}" for g in groups], dtype=object),
        target_name="stability",
        dataset_name="Siegel 2022 3'UTR MPRA stability (Jurkat)",
        source=SIEGEL_SOURCE,
        notes=[
            f"{len(records)} fragments in {len(set(groups))} source-UTR groups (fragments sharing any 40-nt "
            "substring, transitively); a group never straddles splits.",
            "Fragments are encoded as non-coding single-exon RNA (no CDS track).",
        ],
    )


_TE_FIELD = re.compile(r"^(?P<key>[A-Za-z_]+)=(?P<value>.*)$")


def load_te_5utr(data_dir: Path, cell_line: str) -> RegressionTask:
    """Translation efficiency of endogenous 5'UTRs in one cell line (log2 of the measured TE).

    Rows are 140-nt constructs ``adapter + 5'UTR + GCCACC + ATGGTGAGCAAGGG`` (the reporter's start)
    with info ``ENST|cell line|rnaseq_rpkm=..|te=..|geneName=..|replicate``. The two replicate
    constructs of a transcript share the label; they and all transcripts of a gene are grouped by
    gene name. Rows without a ``te=`` field (the file's unlabelled tail) are skipped. The reporter
    start is annotated as a CDS cut to whole codons (``cds_end_NF``): the model sees where
    translation starts, as it does on a full mRNA.
    """
    path = data_dir / "benchmarks" / "te_5utr_endogenous" / "final_endogenous.tsv"
    table = pd.read_csv(path, sep="\t", header=None, dtype=str, keep_default_na=False)
    if table.shape[1] != 2:
        raise ValueError(f"{path}: expected 2 tab-separated columns (sequence, info), found {table.shape[1]}.")
    records, labels, groups, skipped = [], [], [], 0
    for line, (sequence, info) in enumerate(zip(table[0], table[1]), start=1):
        parts = info.split("|")
        fields = {m["key"]: m["value"] for m in map(_TE_FIELD.match, parts) if m}
        if "te" not in fields:
            skipped += 1
            continue
        if len(parts) < 2 or parts[1] != cell_line:
            continue
        check_sequences([sequence], path, first_line=line)
        te = float(fields["te"]) if fields["te"] else float("nan")
        if not te > 0:
            raise ValueError(f"{path}: line {line}: te={fields['te']!r} is not a positive number.")
        transcript = parts[0].split(".")[0]
        gene = fields.get("geneName") or transcript
        start = sequence.upper().rfind(REPORTER_CDS_START)
        cds_start = cds_end = -1
        if start >= 0:
            cds_start, cds_end = start, start + 3 * ((len(sequence) - start) // 3)
        replicate = parts[-1] if len(parts) >= 6 else str(line)
        records.append(TranscriptRecord(f"{transcript}_{cell_line}_{replicate}", gene, gene, "homo_sapiens",
                                        sequence, [len(sequence)], cds_start, cds_end, "5utr_reporter",
                                        ["cds_end_NF"] if start >= 0 else []))
        labels.append(np.log2(te))
        groups.append(gene)
    if not records:
        raise ValueError(f"{path}: no labelled rows for cell line {cell_line!r}; found lines for "
                         f"{', '.join(sorted(set(table[1].str.split('|').str[1])))}.")
    return RegressionTask(
        name=f"te_5utr_{cell_line.lower()}",
        records=records,
        labels=np.asarray(labels),
        groups=np.asarray(groups, dtype=object),
        target_name="log2_te",
        dataset_name=f"Endogenous 5'UTR translation efficiency ({cell_line})",
        source=TE_SOURCE,
        notes=[
            f"{len(records)} constructs of {len(set(groups))} genes in {cell_line}; label log2(TE); "
            "replicate constructs and transcripts of one gene share a group.",
            f"{skipped} rows of the file carry no te= value and are skipped.",
            "The reporter start (ATGGTGAGCAAGGG) is annotated as a CDS cut to whole codons (cds_end_NF).",
        ],
    )


MRNABENCH_COLUMNS = ["sequence", "cds", "splice", "target", "gene"]


def load_mrnabench_task(path: Path) -> RegressionTask:
    """A regression task from an mRNABench-layout parquet file, all five columns required.

    Columns: ``sequence`` (str), ``cds`` and ``splice`` (per-nucleotide 0/1 arrays, the six-track
    convention), ``target`` (float), ``gene`` (group id). An optional ``split`` column with
    ``train``/``validation``/``test`` (``val`` is read as validation) is used as given; otherwise a
    grouped split is drawn. Any table layout, with the columns named by options, is read by
    :func:`isoclr_hf.evaluation.task_files.read_task_file` (which this calls).
    """
    columns = TaskColumns(sequence="sequence", targets=("target",), group="gene", cds="cds", exon_ends="splice")
    return read_task_file(path, columns)[0]


__all__ = ["load_mrnabench_task", "load_saluki_halflife", "load_siegel_3utr", "load_te_5utr",
           "representative_isoform"]
