"""Loaders of the bundled benchmarks (``data/benchmarks``) and of mRNABench-layout parquet files.

User task files in any layout (parquet/CSV/TSV, named columns) are read by
:mod:`isoclr_hf.evaluation.tasks.files`.

The registry that names them is :data:`isoclr_hf.evaluation.tasks.registry.TASKS`.

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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ...annotations.orf import read_dm3loc_fasta
from ...annotations.records import TranscriptRecord
from ...annotations.sqanti import read_sqanti
from ...models.isoclr.track_vocabulary import MAX_SEQUENCE_LENGTH
from .files import TaskColumns, read_task_file
from .regression import RegressionTask, check_columns, check_labels, check_sequences
from .splits import MIN_TEST_EXAMPLES, shared_kmer_groups

SALUKI_SOURCE = "Agarwal & Kelley 2022 (Saluki), vagarwal87/saluki_paper @ 3aa4e56a; isoforms: SQANTI3 UHR chr22"
SIEGEL_SOURCE = "Siegel et al. 2022 3'UTR MPRA, Jurkat; vagarwal87/saluki_paper @ 3aa4e56a (Fig6_S7)"
SALUKI_REFSEQ_SOURCE = ("Agarwal & Kelley 2022 (Saluki), vagarwal87/saluki_paper @ 3aa4e56a; mRNAs: DM3Loc RefSeq "
                        "NM_ set, duolinwang/DM3Loc (dm3loc==1.2.0)")
ICODON_SOURCE = ("iCodon held-out set (Medina-Munoz et al. 2021), santiago1234/iCodon @ f3afe2b (data/testing.rda); "
                 "orthology: HCOP via igordot/babelgene @ ab61c52")
TE_SOURCE = "Endogenous 5'UTR reporter library, zzz2010/5UTR_Optimizer @ 94f1dcf8 (data/final_endogenous.txt)"
# Saluki's ten gene folds (BIN 1-10): bins 1-2 test, bin 3 validation, the rest train.
SALUKI_TEST_BINS = (1, 2)
SALUKI_VALIDATION_BINS = (3,)
# iCodon's species names -> (species of the records, task-name suffix); Ensembl gene-id prefix in the comment.
ICODON_SPECIES = {
    "human": ("homo_sapiens", "human"),  # ENSG
    "mouse": ("mus_musculus", "mouse"),  # ENSMUSG
    "fish": ("danio_rerio", "zebrafish"),  # ENSDARG
    "xenopus": ("xenopus_tropicalis", "xenopus"),  # ENSXETG
}
# Species with a task of their own: a grouped 10% test split of the rest (Xenopus: 127 genes, ~13) is
# under MIN_TEST_EXAMPLES; Xenopus genes stay in the all-species task.
ICODON_TASK_SPECIES = ("human", "mouse", "zebrafish")
STOP_CODONS = ("TAA", "TAG", "TGA")
# The reporter CDS start at the 3' end of every construct of the 5'UTR library (EGFP: ATG GTG AGC AAG GG).
REPORTER_CDS_START = "ATGGTGAGCAAGGG"


def representative_isoform(records: Iterable[TranscriptRecord]) -> TranscriptRecord:
    """The isoform that stands for a gene: longest CDS, then longest transcript, then smallest id.

    SQANTI3 records carry no expression, so the rule uses only the structure: the longest coding
    sequence is the gene's main protein product in most genes.
    """
    return min(records, key=lambda r: (-(r.cds_end - r.cds_start), -len(r.sequence), r.transcript_id))


def read_saluki_folds(path: Path) -> pd.DataFrame:
    """Saluki's ``human_folds.tsv`` (``BIN``, ``GENEID`` without its version, z-scored ``HALFLIFE``), checked."""
    folds = pd.read_csv(path, sep="\t")
    check_columns(list(folds.columns), ["BIN", "GENEID", "HALFLIFE"], path)
    check_labels(folds["HALFLIFE"].to_numpy(), path, first_line=2, column="HALFLIFE")
    folds["GENEID"] = folds["GENEID"].astype(str).str.split(".").str[0]
    return folds


def _split_from_saluki_bins(bins: np.ndarray) -> np.ndarray:
    """``test``/``validation``/``train`` from Saluki BINs (NaN, a gene without a fold: train)."""
    return np.where(np.isin(bins, SALUKI_TEST_BINS), "test",
                    np.where(np.isin(bins, SALUKI_VALIDATION_BINS), "validation", "train")).astype(object)


def load_saluki_halflife(data_dir: Path) -> RegressionTask:
    """mRNA half-life (Saluki PC1, z-scored) of the chr22 genes of the SQANTI3 UHR isoforms.

    One representative coding isoform per gene (:func:`representative_isoform`), joined on the gene
    id (version stripped) to ``human_folds.tsv``; Saluki's own ten gene folds make the split.
    """
    folds_path = data_dir / "benchmarks" / "saluki_halflife" / "human_folds.tsv"
    names_path = data_dir / "benchmarks" / "saluki_halflife" / "human_PC1.tsv"
    sqanti = data_dir / "pretraining" / "sqanti3_uhr_chr22"
    folds = read_saluki_folds(folds_path)
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
    split = _split_from_saluki_bins(bins)
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
    :func:`~isoclr_hf.evaluation.tasks.splits.shared_kmer_groups`.
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


def load_saluki_halflife_refseq(data_dir: Path) -> RegressionTask:
    """mRNA half-life (Saluki PC1, z-scored) of ~13,100 full-length human RefSeq mRNAs (DM3Loc set).

    The IsoCLR paper's half-life task at its real size. DM3Loc's RefSeq NM_ mRNAs (one per gene,
    :func:`~isoclr_hf.annotations.orf.read_dm3loc_fasta`: CDS inferred as the longest ORF, exons
    unknown) are joined by gene symbol to ``human_PC1.tsv`` (``external_gene_name``). Label: the
    z-scored ``HALFLIFE`` of ``human_folds.tsv`` where the gene has a fold (joined on the Ensembl
    gene id, version stripped); the genes without a fold get their PC1 z-scored with the mean and
    sd of PC1 over the folds' genes, which is exactly how ``HALFLIFE`` is made from PC1 (checked
    on load). Split: Saluki's BINs (1-2 test, 3 validation, the rest train); genes without a fold
    go to train, so validation and test are Saluki's own. Records carry the Ensembl gene id (the
    group) and the symbol; transcripts longer than the model's maximum are kept (the evaluation
    keeps their 5' end).
    """
    folder = data_dir / "benchmarks" / "saluki_halflife"
    folds_path, pc1_path = folder / "human_folds.tsv", folder / "human_PC1.tsv"
    fasta = data_dir / "pretraining" / "refseq_human_mrna_dm3loc" / "dm3loc_human_refseq_mrna.fasta.gz"
    folds = read_saluki_folds(folds_path)
    pc1 = pd.read_csv(pc1_path, sep="\t", dtype={"ensembl_gene_id": str, "external_gene_name": str})
    check_columns(list(pc1.columns), ["ensembl_gene_id", "external_gene_name", "human_PC1"], pc1_path)
    check_labels(pc1["human_PC1"].to_numpy(), pc1_path, first_line=2, column="human_PC1")
    pc1["ensembl_gene_id"] = pc1["ensembl_gene_id"].str.split(".").str[0]
    pc1 = pc1.dropna(subset=["external_gene_name"])
    repeated = pc1["external_gene_name"].duplicated()
    if repeated.any():
        line = int(pc1.index[repeated.to_numpy()][0]) + 2  # the index is the file row (header: line 1)
        raise ValueError(f"{pc1_path}: line {line}: gene symbol {pc1['external_gene_name'][repeated].iloc[0]!r} "
                         "appears again; the join to the RefSeq mRNAs needs one row per symbol.")
    table = pc1.merge(folds, how="left", left_on="ensembl_gene_id", right_on="GENEID")
    with_fold = table["BIN"].notna().to_numpy()
    mean, sd = table.loc[with_fold, "human_PC1"].mean(), table.loc[with_fold, "human_PC1"].std()
    z = (table["human_PC1"] - mean) / sd
    if with_fold.any() and not np.allclose(z[with_fold], table.loc[with_fold, "HALFLIFE"], atol=1e-6):
        raise ValueError(f"{folds_path}: HALFLIFE is not the z-scored human_PC1 of {pc1_path}; the two files do "
                         "not come from the same release.")
    table["label"] = np.where(with_fold, table["HALFLIFE"], z)
    table = table.set_index("external_gene_name")

    records = []
    for record in read_dm3loc_fasta(fasta)[0]:
        if record.gene_name in table.index:
            record.gene_id = str(table.at[record.gene_name, "ensembl_gene_id"])
            records.append(record)
    if not records:
        raise ValueError(f"{fasta}: no mRNA's gene symbol matches an external_gene_name of {pc1_path}.")
    rows = table.loc[[r.gene_name for r in records]]
    split = _split_from_saluki_bins(rows["BIN"].to_numpy(dtype=np.float64))
    n_fold = int(rows["BIN"].notna().sum())
    n_long = sum(len(r.sequence) > MAX_SEQUENCE_LENGTH for r in records)
    return RegressionTask(
        name="saluki_halflife_refseq",
        records=records,
        labels=rows["label"].to_numpy(dtype=np.float64),
        groups=np.asarray([r.gene_id for r in records], dtype=object),
        target_name="half_life_pc1_z",
        dataset_name="Saluki human mRNA half-life (PC1, z-scored), full-length RefSeq mRNAs (DM3Loc set)",
        source=SALUKI_REFSEQ_SOURCE,
        categories=np.where(np.asarray([r.cds_start for r in records]) >= 0, "coding", "noncoding").astype(object),
        predefined_split=split,
        notes=[
            f"{len(records)} genes with a DM3Loc RefSeq mRNA (one per gene) and a Saluki half-life PC1, joined by "
            "gene symbol; the RefSeq isoform may differ from the transcript Saluki used. CDS inferred as the longest "
            "ORF (flag cds_inferred); exons unknown (one exon track).",
            f"{n_fold} genes have a Saluki fold: label the folds' z-scored HALFLIFE; the other {len(records) - n_fold} "
            f"get their PC1 z-scored with the folds' mean ({mean:.4f}) and sd ({sd:.4f}), the same transform.",
            f"Split by Saluki's gene folds: BIN {SALUKI_TEST_BINS} test, BIN {SALUKI_VALIDATION_BINS} validation, "
            f"the other bins train; the {len(records) - n_fold} genes without a fold are train only.",
            f"{n_long} mRNAs are longer than the model's {MAX_SEQUENCE_LENGTH:,} nt and are kept: the evaluation "
            f"embeds their first {MAX_SEQUENCE_LENGTH:,} nt (5' end).",
        ],
    )


def ortholog_groups(genes: Iterable[str], orthology: pd.DataFrame) -> dict[str, str]:
    """A group per gene that holds it, its human orthologs and their other orthologs (HCOP).

    Nodes are the ``genes`` and the human genes they map to; edges the HCOP rows (``ensembl`` ->
    ``human_ensembl``) whose non-human gene is one of ``genes``. A group is a connected component,
    named by its smallest human gene id (or its smallest gene id if it has no human gene). A human
    gene is its own anchor; a gene without a mapping is a group of its own.

    Args:
        genes: Ensembl gene ids, any species (version stripped).
        orthology: HCOP table with columns ``human_ensembl`` and ``ensembl``.

    Returns:
        ``{gene: group}`` for every gene.
    """
    genes = sorted(set(genes))
    edges = orthology.loc[orthology["ensembl"].isin(genes), ["ensembl", "human_ensembl"]].dropna()
    nodes = pd.Index(sorted(set(genes) | set(edges["human_ensembl"])))
    a, b = nodes.get_indexer(edges["ensembl"]), nodes.get_indexer(edges["human_ensembl"])
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(len(nodes), len(nodes)))
    _, component = connected_components(graph, directed=False)
    names: dict[int, str] = {}
    for node, label in sorted(zip(nodes, component), key=lambda pair: (not pair[0].startswith("ENSG"), pair[0])):
        names.setdefault(int(label), str(node))  # human (ENSG) ids first, then the smallest id
    position = nodes.get_indexer(genes)
    return {gene: names[int(component[i])] for gene, i in zip(genes, position)}


def load_icodon_decay(data_dir: Path, species: str | None = None) -> RegressionTask:
    """mRNA decay rate from the coding sequence alone (iCodon's held-out set), across species.

    The sequence is the coding sequence from ATG (``cds = (0, len)``; flags ``cds_start_NF`` where it
    does not start with ATG, ``cds_end_NF`` where it does not end with a stop, ``cds_trimmed`` where
    trailing bases past whole codons were cut). Rows of one gene (several cell types and assays, each
    already standardised by iCodon) are averaged per species and gene: one example per coding
    sequence. Groups: HCOP ortholog groups (:func:`ortholog_groups`), so a gene and its orthologs in
    other species never straddle splits. The all-species task has the species as ``strata``: the
    report gives every run's test metrics per species too.

    Args:
        data_dir: Folder holding ``benchmarks/`` and ``orthology/``.
        species: ``human``, ``mouse``, ``zebrafish`` or ``xenopus`` for one species; ``None``: all.
    """
    path = data_dir / "benchmarks" / "icodon_decay" / "icodon_testing.tsv.gz"
    orthology_path = data_dir / "orthology" / "babelgene_hcop_human_to_19species.tsv.gz"
    table = pd.read_csv(path, sep="\t", dtype={"gene_id": str, "specie": str, "coding": str})
    check_columns(list(table.columns), ["gene_id", "specie", "cell_type", "datatype", "decay_rate", "coding"], path)
    check_labels(table["decay_rate"].to_numpy(dtype=np.float64), path, first_line=2, column="decay_rate")
    check_sequences(table["coding"].tolist(), path, first_line=2)
    unknown = ~table["specie"].isin(list(ICODON_SPECIES))
    if unknown.any():
        line = int(np.flatnonzero(unknown.to_numpy())[0]) + 2
        raise ValueError(f"{path}: line {line}: unknown specie {table['specie'][unknown].iloc[0]!r}; expected one of "
                         f"{', '.join(ICODON_SPECIES)}.")
    table["line"] = np.arange(len(table)) + 2
    table["gene_id"] = table["gene_id"].str.split(".").str[0]
    differing = table.groupby(["specie", "gene_id"])["coding"].transform("nunique") > 1
    if differing.any():
        row = table[differing].iloc[0]
        raise ValueError(f"{path}: line {row['line']}: gene {row['gene_id']} ({row['specie']}) has rows with different "
                         "coding sequences; one sequence per gene is expected.")
    genes = table.groupby(["specie", "gene_id"], sort=True).agg(
        decay_rate=("decay_rate", "mean"), rows=("decay_rate", "size"), coding=("coding", "first")).reset_index()
    suffix = {code: name for code, (_, name) in ICODON_SPECIES.items()}
    genes["species_name"] = genes["specie"].map(suffix)
    all_counts = genes["species_name"].value_counts()
    too_small = [f"{s} ({all_counts.get(s, 0)} genes)" for s in suffix.values() if s not in ICODON_TASK_SPECIES]
    if species is not None:
        if species not in suffix.values():
            raise ValueError(f"Unknown iCodon species {species!r}; choose one of {', '.join(suffix.values())}.")
        genes = genes[genes["species_name"] == species].reset_index(drop=True)
    orthology = pd.read_csv(orthology_path, sep="\t", usecols=["human_ensembl", "ensembl"], dtype=str)
    group_of = ortholog_groups(genes["gene_id"], orthology)

    records, flagged = [], {"cds_start_NF": 0, "cds_end_NF": 0, "cds_trimmed": 0}
    for specie, gene, coding in zip(genes["specie"], genes["gene_id"], genes["coding"]):
        flags = []
        end = 3 * (len(coding) // 3)
        if end != len(coding):
            flags.append("cds_trimmed")
        if not coding[:3].upper().startswith("ATG"):
            flags.append("cds_start_NF")
        if coding[end - 3:end].upper().replace("U", "T") not in STOP_CODONS:
            flags.append("cds_end_NF")
        for flag in flags:
            flagged[flag] += 1
        records.append(TranscriptRecord(f"{gene}_cds", gene, "", ICODON_SPECIES[specie][0], coding[:end], [end],
                                        0, end, "protein_coding", flags))
    name = "icodon_decay" if species is None else f"icodon_decay_{species}"
    counts = genes["species_name"].value_counts()
    n_groups = len({group_of[g] for g in genes["gene_id"]})
    cross = genes.assign(group=genes["gene_id"].map(group_of)).groupby("group")["species_name"].nunique()
    return RegressionTask(
        name=name,
        records=records,
        labels=genes["decay_rate"].to_numpy(dtype=np.float64),
        groups=np.asarray([group_of[g] for g in genes["gene_id"]], dtype=object),
        target_name="decay_rate",
        dataset_name="iCodon mRNA decay rate from the coding sequence"
                     + ("" if species is None else f" ({species})"),
        source=ICODON_SOURCE,
        categories=genes["species_name"].to_numpy(dtype=object),
        strata=genes["species_name"].to_numpy(dtype=object) if species is None else None,
        notes=[
            f"{len(records)} genes ({', '.join(f'{s} {counts[s]}' for s in counts.index)}) from "
            f"{int(genes['rows'].sum())} rows: the decay rates of a gene's cell types and assays (each standardised "
            "by iCodon) are averaged per species and gene.",
            "CDS-only input: the coding sequence from ATG, CDS = the whole sequence, no UTRs; "
            + ", ".join(f"{n} {flag}" for flag, n in flagged.items()) + ".",
            f"{n_groups} ortholog groups (HCOP, all rows; {int((cross > 1).sum())} span several species); a gene and "
            "its orthologs never straddle splits. Genes without an HCOP mapping are groups of their own.",
            f"No task of its own for {', '.join(too_small)}: a grouped 10% test split of it is under "
            f"{MIN_TEST_EXAMPLES} examples; its genes are in icodon_decay.",
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
    :func:`isoclr_hf.evaluation.tasks.files.read_task_file` (which this calls).
    """
    columns = TaskColumns(sequence="sequence", targets=("target",), group="gene", cds="cds", exon_ends="splice")
    return read_task_file(path, columns)[0]


__all__ = ["ICODON_SPECIES", "ICODON_TASK_SPECIES", "load_icodon_decay",
           "load_mrnabench_task", "load_saluki_halflife", "load_saluki_halflife_refseq", "load_siegel_3utr",
           "load_te_5utr", "ortholog_groups", "representative_isoform"]
