"""Readers that turn standard annotation files into :class:`TranscriptRecord` objects.

Every reader yields records lazily and takes ``on_error="raise"|"skip"`` and an optional
``skipped`` counter of skip reasons (a :class:`SkipLog` also keeps the skipped transcripts' ids).
Every problem with an input file is an :class:`AnnotationError` (a ``ValueError``) naming the file
and, where it has one, the line and transcript.
"""

from .bed import read_bed12, read_bed12_fasta
from .errors import AnnotationError, SkipLog
from .fasta import read_transcript_fasta
from .genome import IndexedGenome
from .gtf import read_annotation
from .mrnabench import read_mrnabench_parquet, tracks_to_annotation
from .orf import DM3LOC_COMPARTMENTS, infer_cds, read_dm3loc_fasta, read_fasta_inferring_cds
from .records import TranscriptRecord
from .sqanti import read_sqanti
from .transcript_orthology import read_transcript_orthology_alignments, read_transcript_orthology_families

__all__ = [
    "DM3LOC_COMPARTMENTS",
    "AnnotationError",
    "IndexedGenome",
    "SkipLog",
    "TranscriptRecord",
    "infer_cds",
    "read_annotation",
    "read_bed12",
    "read_bed12_fasta",
    "read_dm3loc_fasta",
    "read_fasta_inferring_cds",
    "read_mrnabench_parquet",
    "read_sqanti",
    "read_transcript_fasta",
    "read_transcript_orthology_alignments",
    "read_transcript_orthology_families",
    "tracks_to_annotation",
]
