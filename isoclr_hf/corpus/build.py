"""Transcript records -> the gene-set corpus: a ``datasets.DatasetDict`` with one row per gene set.

Memory model: records are streamed into Arrow record batches as they arrive (one byte a
nucleotide, no Python object per transcript kept), with only each transcript's species, gene id
and gene name held as Python strings for grouping. The split tables are then gathered from those
batches with Arrow ``take``, so the whole corpus is in memory about twice, plus allocator slack:
benchmarks/corpus_build.py measured about 10 KB of peak memory per transcript (1 GB for 100k
transcripts of about 1.8 kb). The reader adds one chromosome of annotation rows; the genome
never enters memory.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..annotations.errors import count_skip
from ..annotations.records import TranscriptRecord
from ..models.isoclr.configuration_isoclr import IsoCLRConfig
from .orthology import OrthologyTable
from .splits import SPLIT_NAMES, check_fractions, held_out_gene, split_of

TRANSCRIPT_FEATURES = {
    "transcript_id": datasets.Value("string"),
    "gene_id": datasets.Value("string"),
    "gene_name": datasets.Value("string"),
    "species": datasets.Value("string"),
    "sequence": datasets.Value("large_string"),
    "exon_ends": datasets.List(datasets.Value("int32")),
    "cds_start": datasets.Value("int32"),
    "cds_end": datasets.Value("int32"),
    "biotype": datasets.Value("string"),
    "flags": datasets.List(datasets.Value("string")),
}
CORPUS_FEATURES = datasets.Features(
    {
        "set_id": datasets.Value("string"),
        "set_size": datasets.Value("int32"),
        "species": datasets.List(datasets.Value("string")),
        "transcripts": datasets.List(TRANSCRIPT_FEATURES),
    }
)
_TRANSCRIPT_SCHEMA = datasets.Features(TRANSCRIPT_FEATURES).arrow_schema
_BATCH_SIZE = 2048


@dataclass
class _TranscriptStore:
    """Accepted transcripts as Arrow batches, plus the fields needed to group them."""

    batches: list[pa.RecordBatch] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    species: list[str] = field(default_factory=list)
    gene_ids: list[str] = field(default_factory=list)
    gene_names: list[str] = field(default_factory=list)

    def add(self, record: TranscriptRecord) -> None:
        row = record.to_dict()
        row["sequence"] = row["sequence"].upper()
        self.pending.append(row)
        self.species.append(record.species)
        self.gene_ids.append(record.gene_id)
        self.gene_names.append(record.gene_name)
        if len(self.pending) >= _BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.batches.append(pa.RecordBatch.from_pylist(self.pending, schema=_TRANSCRIPT_SCHEMA))
            self.pending = []

    def as_struct_array(self) -> pa.ChunkedArray:
        """All transcripts as one chunked struct column (no copy of the batches)."""
        self.flush()
        return pa.Table.from_batches(self.batches, schema=_TRANSCRIPT_SCHEMA).to_struct_array()


_VERSIONED_ACCESSION = re.compile(r"^((?:ENS[A-Z]*[TG]|[NX][MR]_)\d+)\.\d+$")


def accession_key(transcript_id: str) -> str:
    """The id a transcript is deduplicated by: Ensembl and RefSeq accessions lose their version
    (``NM_000546.6`` -> ``NM_000546``, ``ENST00000269305.9`` -> ``ENST00000269305``); other ids are kept."""
    return _VERSIONED_ACCESSION.sub(r"\1", transcript_id)


@dataclass
class _Seen:
    """What the build has accepted so far: accessions per species, and sequence digests."""

    accessions: set[tuple[str, str]] = field(default_factory=set)
    sequences: set[bytes] | None = field(default_factory=set)  # None: sequences not deduplicated


def _sequence_digest(sequence: str) -> bytes:
    return hashlib.blake2b(sequence.upper().encode("ascii", "replace"), digest_size=16).digest()


def _accept(
    record: TranscriptRecord,
    seen: _Seen,
    max_length: int,
    biotypes: frozenset[str] | None,
    skipped: Counter[str],
) -> bool:
    key = (record.species, accession_key(record.transcript_id))
    digest = _sequence_digest(record.sequence) if seen.sequences is not None else b""
    reason = None
    if key in seen.accessions:
        reason = "duplicate_transcript_id"
    elif seen.sequences is not None and digest in seen.sequences:
        reason = "duplicate_sequence"
    elif len(record.sequence) > max_length:
        reason = "longer_than_max_length"
    elif biotypes is not None and record.biotype not in biotypes:
        reason = "biotype_not_selected"
    if reason:
        count_skip(skipped, reason, record.transcript_id)
        return False
    seen.accessions.add(key)
    if seen.sequences is not None:
        seen.sequences.add(digest)
    return True


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, node: str) -> str:
        root = self.parent.setdefault(node, node)
        while root != self.parent[root]:
            root = self.parent[root]
        while node != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, first: str, second: str) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def assign_gene_sets(
    species: Sequence[str], gene_ids: Sequence[str], gene_names: Sequence[str], orthology: Sequence[OrthologyTable]
) -> list[str]:
    """Set id of every transcript: its gene, merged with homologous genes through the tables.

    A set that merges several genes is named after its orthology group (``homologene:74962``); a
    set of one gene is the gene id (prefixed with the species where two species share that id).
    """
    genes = sorted(set(zip(species, gene_ids, gene_names)))
    union_find = _UnionFind()
    for gene_species, gene_id, gene_name in genes:
        node = f"gene\t{gene_species}\t{gene_id}"
        union_find.find(node)
        for table in orthology:
            for group in table.groups_of(gene_species, gene_id, gene_name):
                union_find.union(node, f"group\t{group}")
    members: dict[str, list[str]] = {}
    for node in list(union_find.parent):
        members.setdefault(union_find.find(node), []).append(node)
    species_per_gene_id = Counter(gene_id for _, gene_id in {(s, g) for s, g, _ in genes})
    names: dict[str, str] = {}
    for root, nodes in members.items():
        groups = sorted(node.split("\t", 1)[1] for node in nodes if node.startswith("group\t"))
        gene_nodes = [node for node in nodes if node.startswith("gene\t")]
        if groups and len(gene_nodes) > 1:
            names[root] = groups[0]
        elif gene_nodes:
            _, gene_species, gene_id = gene_nodes[0].split("\t")
            names[root] = gene_id if species_per_gene_id[gene_id] == 1 else f"{gene_species}:{gene_id}"
    return [names[union_find.find(f"gene\t{s}\t{g}")] for s, g in zip(species, gene_ids)]


def build_corpus(
    records: Iterable[TranscriptRecord],
    *,
    orthology: OrthologyTable | Sequence[OrthologyTable] | None = None,
    max_length: int | None = None,
    biotypes: Iterable[str] | None = None,
    min_isoforms: int = 1,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    skipped: Counter[str] | None = None,
    deduplicate_sequences: bool = True,
    hold_out_genes: float = 0.0,
) -> datasets.DatasetDict:
    """Group transcript records into gene sets and split them by set.

    Args:
        records: Transcript records from any reader(s), any species, any order.
        orthology: Table(s) merging homologous genes into one set (see
            :mod:`isoclr_hf.corpus.orthology`); ``None`` makes one set per gene.
        max_length: Transcripts longer than this are left out; ``None`` for the model's maximum
            (``IsoCLRConfig().max_sequence_length``).
        biotypes: Keep only transcripts with these biotypes (``None``: all).
        min_isoforms: Leave out sets with fewer transcripts than this (after the other filters).
        validation_fraction: Expected fraction of sets in the validation split.
        test_fraction: Expected fraction of sets in the test split.
        seed: Changes which sets go to which split (see :func:`~isoclr_hf.corpus.splits.split_of`).
        skipped: Counter updated with the transcripts left out, by reason
            (``duplicate_transcript_id``: an accession already taken for the species, version
            ignored; ``duplicate_sequence``: a sequence already taken, in any case or species;
            ``longer_than_max_length``, ``biotype_not_selected``, ``set_below_min_isoforms``); a
            :class:`~isoclr_hf.annotations.errors.SkipLog` also keeps their ids (set ids for
            ``set_below_min_isoforms``). The first record of an accession or a sequence is kept, so
            the order of the sources says which one wins.
        deduplicate_sequences: Leave out a transcript whose sequence an accepted one already has (a
            pair of identical views teaches nothing a transcript paired with itself does not).
        hold_out_genes: Fraction of gene symbols kept out of pretraining
            (:func:`~isoclr_hf.corpus.splits.held_out_gene`): a gene set with any member of a held-out
            gene is left out whole (its other members are that gene's orthologs), counted as
            ``held_out_gene_set`` with its transcripts. Downstream examples of these genes are then
            free of pretraining leakage (``isoclr evaluate --pretraining-corpus``).

    Returns:
        ``DatasetDict`` with ``train``, ``validation`` and ``test``: one row per gene set,
        columns ``set_id``, ``set_size``, ``species`` (distinct, sorted) and ``transcripts``
        (list of record dicts, sorted by species, gene and transcript id); rows sorted by set id.
        The same inputs give the same corpus, whatever the order of the records (as long as no two
        of them share an accession or a sequence: then the first one is kept).

    Raises:
        ValueError: Bad fractions or limits, or no transcript (or no set) left to build from.
    """
    check_fractions(validation_fraction, test_fraction)
    max_length = IsoCLRConfig().max_sequence_length if max_length is None else max_length
    if min_isoforms < 1 or max_length < 1:
        raise ValueError(f"min_isoforms ({min_isoforms}) and max_length ({max_length}) must be >= 1")
    if not 0 <= hold_out_genes < 1:
        raise ValueError(f"hold_out_genes must be in [0, 1), got {hold_out_genes}")
    tables = [] if orthology is None else [orthology] if isinstance(orthology, OrthologyTable) else list(orthology)
    allowed = None if biotypes is None else frozenset(biotypes)
    skipped = Counter() if skipped is None else skipped
    store, seen = _TranscriptStore(), _Seen(sequences=set() if deduplicate_sequences else None)
    transcript_ids: list[str] = []
    for record in records:
        if _accept(record, seen, max_length, allowed, skipped):
            store.add(record)
            transcript_ids.append(record.transcript_id)
    if not transcript_ids:
        raise ValueError(f"no transcripts to build a corpus from{_skip_note(skipped)}")
    set_ids = assign_gene_sets(store.species, store.gene_ids, store.gene_names, tables)
    members: dict[str, list[int]] = {}
    for index in sorted(range(len(set_ids)), key=lambda i: (store.species[i], store.gene_ids[i], transcript_ids[i])):
        members.setdefault(set_ids[index], []).append(index)
    if hold_out_genes > 0:
        for set_id in [s for s, indices in members.items()
                       if any(held_out_gene(store.gene_names[i], hold_out_genes) for i in indices)]:
            count_skip(skipped, "held_out_gene_set", set_id, len(members.pop(set_id)))
    for set_id in [s for s, indices in members.items() if len(indices) < min_isoforms]:
        count_skip(skipped, "set_below_min_isoforms", set_id, len(members.pop(set_id)))
    if not members:
        raise ValueError(
            f"no gene set has {min_isoforms} or more transcripts: the corpus would be empty{_skip_note(skipped)}"
        )
    transcripts = store.as_struct_array()
    by_split: dict[str, list[str]] = {name: [] for name in SPLIT_NAMES}
    for set_id in sorted(members):
        by_split[
            split_of(set_id, validation_fraction=validation_fraction, test_fraction=test_fraction, seed=seed)
        ].append(set_id)
    return datasets.DatasetDict(
        {
            name: _split_dataset(name, set_list, members, transcripts, store.species)
            for name, set_list in by_split.items()
        }
    )


def _skip_note(skipped: Counter[str]) -> str:
    """``" (left out: reason count, ...)"`` for an error message, or ``""``."""
    if not skipped:
        return ""
    return " (left out: " + ", ".join(f"{reason} {count:,}" for reason, count in sorted(skipped.items())) + ")"


def _split_dataset(
    name: str,
    set_list: list[str],
    members: dict[str, list[int]],
    transcripts: pa.ChunkedArray,
    species: list[str],
) -> datasets.Dataset:
    order = [index for set_id in set_list for index in members[set_id]]
    sizes = np.array([len(members[set_id]) for set_id in set_list], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)  # (sets + 1,)
    gathered = transcripts.take(pa.array(order, type=pa.int64())).combine_chunks()  # (transcripts of the split,)
    table = pa.table(
        {
            "set_id": pa.array(set_list, type=pa.string()),
            "set_size": pa.array(sizes, type=pa.int32()),
            "species": pa.array(
                [sorted({species[i] for i in members[s]}) for s in set_list], type=pa.list_(pa.string())
            ),
            "transcripts": pa.ListArray.from_arrays(pa.array(offsets), gathered),
        }
    ).cast(CORPUS_FEATURES.arrow_schema)
    return datasets.Dataset(
        datasets.table.InMemoryTable(table), info=datasets.DatasetInfo(features=CORPUS_FEATURES), split=name
    )


def summarize_corpus(corpus: datasets.DatasetDict) -> dict[str, Any]:
    """Counts a user checks after a build: sets, transcripts and isoforms per set, per split and in all."""
    per_split: dict[str, dict[str, int]] = {}
    all_sizes: list[int] = []
    species: Counter[str] = Counter()
    nucleotides = 0
    for name, split in corpus.items():
        sizes = list(split["set_size"])
        all_sizes += sizes
        per_split[name] = {"sets": len(sizes), "transcripts": int(sum(sizes))}
        transcripts = split.data.column("transcripts").combine_chunks()  # list<struct> over the split's sets
        species.update(transcripts.flatten().field("species").to_pylist())
        nucleotides += int(pc.sum(pc.utf8_length(transcripts.flatten().field("sequence"))).as_py() or 0)
    return {
        "sets": len(all_sizes),
        "transcripts": int(sum(all_sizes)),
        "nucleotides": nucleotides,
        "splits": per_split,
        "isoforms_per_set": {
            "mean": round(statistics.fmean(all_sizes), 2) if all_sizes else 0.0,
            "median": statistics.median(all_sizes) if all_sizes else 0,
            "max": max(all_sizes, default=0),
            "sets_with_2_or_more": sum(size >= 2 for size in all_sizes),
        },
        "transcripts_per_species": dict(sorted(species.items())),
        # sets whose transcripts come from 2 or more species (cross-species ortholog pairs)
        "multi_species_sets": sum(len(s) > 1 for split in corpus.values() for s in split["species"]),
    }
