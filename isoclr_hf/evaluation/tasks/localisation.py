"""Subcellular localisation of human mRNAs (DM3Loc): multi-label classification over 6 compartments.

DM3Loc's FASTA (``data/pretraining/refseq_human_mrna_dm3loc``, see ``data/SOURCES.md``) labels
17,306 RefSeq mRNAs, one per gene, with 7 compartments. DM3Loc's predictor leaves ``Cytoplasm``
out (it overlaps ``Cytosol``), so the task has its 6 predicted compartments: Nucleus, Exosome,
Cytosol, Ribosome, Membrane and Endoplasmic reticulum. The CDS is inferred as the longest ORF
(:func:`~isoclr_hf.annotations.orf.read_dm3loc_fasta`); exons are unknown (one exon track).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...annotations.orf import DM3LOC_COMPARTMENTS, read_dm3loc_fasta
from ...models.isoclr.track_vocabulary import MAX_SEQUENCE_LENGTH
from .classification import MultiLabelTask

DM3LOC_SOURCE = ("DM3Loc (Wang et al. 2021) RefSeq NM_ mRNAs and RNALocate-derived labels, duolinwang/DM3Loc "
                 "(dm3loc==1.2.0, testdata/modified_multilabel_seq_nonredundent.fasta)")
DM3LOC_FASTA = Path("pretraining") / "refseq_human_mrna_dm3loc" / "dm3loc_human_refseq_mrna.fasta.gz"
# The compartment DM3Loc's predictor does not predict (its labels stay in the reader's 7 columns).
DM3LOC_LEFT_OUT = "Cytoplasm"
DM3LOC_PREDICTED = tuple(name for name in DM3LOC_COMPARTMENTS if name != DM3LOC_LEFT_OUT)


def load_dm3loc_localisation(data_dir: Path) -> MultiLabelTask:
    """Multi-label localisation over DM3Loc's 6 predicted compartments, grouped by gene (Entrez id).

    Args:
        data_dir: Folder holding ``pretraining/refseq_human_mrna_dm3loc``.

    Raises:
        ValueError: naming the file and line of a malformed record.
    """
    path = Path(data_dir) / DM3LOC_FASTA
    records, labels7 = read_dm3loc_fasta(path)  # AnnotationError (a ValueError) names the file and line
    columns = [DM3LOC_COMPARTMENTS.index(name) for name in DM3LOC_PREDICTED]
    labels = labels7[:, columns]
    positives = labels.sum(axis=0)
    n_long = sum(len(r.sequence) > MAX_SEQUENCE_LENGTH for r in records)
    n_coding = sum(r.is_coding for r in records)
    return MultiLabelTask(
        name="dm3loc_localisation",
        records=records,
        labels=labels,
        groups=np.asarray([r.gene_id for r in records], dtype=object),
        label_names=list(DM3LOC_PREDICTED),
        dataset_name="DM3Loc human mRNA subcellular localisation (6 compartments, multi-label)",
        source=DM3LOC_SOURCE,
        categories=np.asarray([f"{int(k)} compartments" for k in labels.sum(axis=1)], dtype=object),
        notes=[
            f"{len(records)} RefSeq mRNAs, one per gene (grouped by Entrez gene id: no gene in two splits). Labels: "
            f"DM3Loc's 6 predicted compartments ({DM3LOC_LEFT_OUT} left out, as DM3Loc's predictor does); positives "
            + ", ".join(f"{name} {int(k)}" for name, k in zip(DM3LOC_PREDICTED, positives)) + ".",
            f"CDS inferred as the longest ORF ({n_coding} mRNAs have one); exons unknown (one exon track).",
            f"{n_long} mRNAs are longer than the model's {MAX_SEQUENCE_LENGTH:,} nt: the evaluation embeds their first "
            f"{MAX_SEQUENCE_LENGTH:,} nt (5' end).",
            "Metrics: AUROC and AUPRC per compartment and their macro mean (sklearn roc_auc_score and "
            "average_precision_score); Exosome is positive for 99% of mRNAs, so its AUROC rests on few negatives.",
        ],
    )


__all__ = ["DM3LOC_LEFT_OUT", "DM3LOC_PREDICTED", "load_dm3loc_localisation"]
