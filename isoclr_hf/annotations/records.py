"""The transcript record: what every annotation reader yields and the corpus stores, and its tokenization."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TranscriptRecord:
    """One mature transcript, 5'->3' in transcript orientation.

    Attributes:
        transcript_id: Transcript id as in the source (e.g. ``ENST00000421620``, ``PB.3796.2``).
        gene_id: Gene id, version stripped (e.g. ``ENSG00000236875``).
        gene_name: Gene symbol where known, else ``""``.
        species: Species name in lowercase binomial form with an underscore (``homo_sapiens``).
        sequence: Mature transcript sequence (upper or lower case, DNA or RNA alphabet).
        exon_ends: 0-based exclusive exon ends in transcript coordinates; the last equals
            ``len(sequence)``.
        cds_start: 0-based start of the CDS in transcript coordinates, or -1 if non-coding.
        cds_end: 0-based exclusive end of the CDS (stop codon included), or -1 if non-coding.
        biotype: Transcript biotype (``protein_coding``, ``lncRNA``, ...) or ``""``.
        flags: Free-form quality flags, e.g. ``cds_start_NF``, ``cds_end_NF``; ``cds_inferred``
            where the CDS was inferred (longest ORF) rather than annotated, ``exons_unknown``
            where the source gives no exon structure.
    """

    transcript_id: str
    gene_id: str
    gene_name: str
    species: str
    sequence: str
    exon_ends: list[int]
    cds_start: int = -1
    cds_end: int = -1
    biotype: str = ""
    flags: list[str] = field(default_factory=list)

    @property
    def cds(self) -> tuple[int, int] | None:
        """The CDS as the tokenizer takes it, or ``None`` for a non-coding transcript."""
        return None if self.cds_start < 0 else (self.cds_start, self.cds_end)

    @property
    def is_coding(self) -> bool:
        return self.cds_start >= 0

    @property
    def cds_inferred(self) -> bool:
        """Whether the CDS was inferred from the sequence (flag ``cds_inferred``), not annotated.

        A flag rather than a field, so that it travels wherever the flags do (the corpus stores them).
        """
        return "cds_inferred" in self.flags

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> TranscriptRecord:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__ if name in row})


def tokenize_records(
    tokenizer: Any,
    records: Sequence[TranscriptRecord | Mapping[str, Any]],
    *,
    truncation: bool = False,
    max_length: int | None = None,
    pad_to_multiple_of: int | None = None,
    return_tensors: str = "pt",
) -> Any:
    """Tokenizer inputs for a batch of records (or corpus rows holding the record fields).

    Incomplete CDS are accepted: the readers only let a CDS that is not a multiple of 3 through
    when the annotation flags it (``cds_start_NF``/``cds_end_NF``).

    Args:
        tokenizer: An ``IsoCLRTokenizer``.
        records: Transcript records, or dicts with their ``sequence``, ``exon_ends``,
            ``cds_start``, ``cds_end`` and ``transcript_id``.
        truncation: Keep the 5' end of sequences longer than ``max_length`` instead of raising.
        max_length: Longest sequence (default: the tokenizer's ``model_max_length``).
        pad_to_multiple_of: Round the padded length up to a multiple of this (the model's
            ``config.downsampling`` matches the encoder's pooling); ``None`` pads to the longest
            sequence.
        return_tensors: ``"pt"`` for torch tensors.

    Returns:
        The tokenizer's ``BatchEncoding``, shape ``(len(records), padded length)`` per key.
    """
    # Only these fields matter here, so corpus rows need not carry the whole record.
    rows = [record.to_dict() if isinstance(record, TranscriptRecord) else record for record in records]
    return tokenizer(
        [row["sequence"] for row in rows],
        exon_ends=[list(row["exon_ends"]) or None for row in rows],
        cds=[(row["cds_start"], row["cds_end"]) if row["cds_start"] >= 0 else None for row in rows],
        names=[row["transcript_id"] for row in rows],
        truncation=truncation,
        max_length=max_length,
        pad_to_multiple_of=pad_to_multiple_of,
        allow_incomplete_cds=True,
        return_tensors=return_tensors,
    )
