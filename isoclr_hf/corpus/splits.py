"""Deterministic train/validation/test split by gene set (homology group).

Each set goes to a split by a hash of its id and the seed, not by its position in the corpus: a
set keeps its split when other sets are added or removed, and all isoforms and orthologs of a set
land in the same split (never straddling train and test).
"""

from __future__ import annotations

import hashlib

SPLIT_NAMES = ("train", "validation", "test")


def check_fractions(validation_fraction: float, test_fraction: float) -> None:
    """Raise ``ValueError`` unless both fractions are in [0, 1) and sum to less than 1."""
    if not (0 <= validation_fraction < 1 and 0 <= test_fraction < 1 and validation_fraction + test_fraction < 1):
        raise ValueError(
            f"validation_fraction ({validation_fraction}) and test_fraction ({test_fraction}) must be in [0, 1) "
            "and sum to less than 1"
        )


def split_of(set_id: str, *, validation_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0) -> str:
    """``"train"``, ``"validation"`` or ``"test"`` for the gene set ``set_id``.

    The set's uniform position ``u = sha256(f"{seed}:{set_id}") / 2**64`` picks test for
    ``u < test_fraction``, validation for the next ``validation_fraction``, train otherwise.
    """
    digest = hashlib.sha256(f"{seed}:{set_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < test_fraction:
        return "test"
    if position < test_fraction + validation_fraction:
        return "validation"
    return "train"


def held_out_gene(gene_name: str, fraction: float) -> bool:
    """Whether the gene ``gene_name`` is kept out of the corpus when ``fraction`` of genes are held out.

    The gene's uniform position ``u = sha256(f"held-out:{NAME}") / 2**64`` (``NAME`` upper-cased, so a mouse
    ``Mapt`` and a human ``MAPT`` are held out together) is below ``fraction``. The rule reads only the
    symbol: any corpus built with the same fraction holds out the same genes, and a downstream example
    whose gene symbol is held out was never a pretraining transcript. Genes without a symbol are never
    held out.
    """
    if fraction <= 0 or not gene_name:
        return False
    digest = hashlib.sha256(f"held-out:{gene_name.upper()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction
