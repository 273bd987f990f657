"""The dataset card of a corpus (``README.md``): what the sets are, where the data came from, counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from .splits import SPLIT_NAMES
from .storage import parquet_path


@dataclass
class CorpusSource:
    """One input of a build, as the card lists it.

    Attributes:
        name: Short name (e.g. ``sqanti3_uhr_chr22``).
        kind: Reader used: ``gtf``, ``sqanti``, ``transcripts`` or ``mrnabench``.
        files: Input paths as given.
        species: Species of its records.
        license: SPDX-like license id of the data (Hub license ids: ``gpl-3.0``, ``mit``, ...) or ``unknown``.
        origin: Where the files come from (repository and commit, release, ...).
    """

    name: str
    kind: str
    files: list[str]
    species: str
    license: str = "unknown"
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _file_list(files: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in files)


def _size_category(count: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if count < limit:
            return label
    return "1M<n<10M"


def render_corpus_card(
    summary: dict[str, Any],
    sources: list[CorpusSource],
    *,
    orthology: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    skipped: dict[str, int] | None = None,
    pretty_name: str = "IsoCLR gene-set corpus",
) -> DatasetCard:
    """A ``huggingface_hub.DatasetCard`` for a corpus built from ``sources``.

    Args:
        summary: :func:`~isoclr_hf.corpus.build.summarize_corpus` output.
        sources: The inputs, with their licenses.
        orthology: Orthology tables used, as ``name (origin, license)`` strings.
        settings: Build settings (filters, split fractions, seed).
        skipped: Transcripts left out, by reason.
    """
    licenses = sorted({source.license for source in sources}) or ["unknown"]
    card_data = DatasetCardData(
        pretty_name=pretty_name,
        license=licenses if len(licenses) > 1 else licenses[0],
        tags=["biology", "rna", "mrna", "splice-isoforms", "contrastive-learning", "isoclr"],
        size_categories=[_size_category(summary["sets"])],
        configs=[
            {
                "config_name": "default",
                "data_files": [{"split": split, "path": parquet_path(split)} for split in SPLIT_NAMES],
            }
        ],
    )
    source_rows = "\n".join(
        f"| {s.name} | {s.kind} | {s.species} | {_file_list(s.files)} | {s.origin or '-'} | {s.license} |"
        for s in sources
    )
    split_rows = "\n".join(
        f"| {name} | {counts['sets']:,} | {counts['transcripts']:,} |" for name, counts in summary["splits"].items()
    )
    species_rows = "\n".join(f"| {name} | {count:,} |" for name, count in summary["transcripts_per_species"].items())
    skipped_rows = (
        "\n".join(f"| {reason} | {count:,} |" for reason, count in sorted((skipped or {}).items())) or "| none | 0 |"
    )
    isoforms = summary["isoforms_per_set"]

    def skipped_count(reason: str) -> int:
        return (skipped or {}).get(reason, 0)

    body = f"""
# {pretty_name}

Gene sets of mature transcripts for IsoCLR contrastive pretraining (Fradkin et al. 2023, "Splicing
Up Your Predictions with RNA Contrastive Learning"): one row per gene set (a gene, or a homology
group of genes merged through an orthology table), holding its splice isoforms (and orthologs) with
sequence, exon ends and CDS. Positive pairs are two transcripts of one set. Built with
`isoclr build-corpus` from the `isoclr-hf` package.

## Contents

{summary["sets"]:,} gene sets, {summary["transcripts"]:,} transcripts; {isoforms["mean"]} isoforms per set on
average (median {isoforms["median"]}, max {isoforms["max"]}); {isoforms["sets_with_2_or_more"]:,} sets with 2 or more
transcripts (the sets that give pairs of two different transcripts); {summary["multi_species_sets"]:,} sets with
transcripts of 2 or more species (cross-species ortholog pairs).

| split | sets | transcripts |
|---|---|---|
{split_rows}

| species | transcripts |
|---|---|
{species_rows}

Splits are by gene set (a hash of the set id and the seed), so isoforms and orthologs of one gene
never straddle train and test.

## Columns

- `set_id` (string): gene id, or orthology group id where genes were merged.
- `set_size` (int32): number of transcripts.
- `species` (list of string): distinct species of the set.
- `transcripts` (list of struct): `transcript_id`, `gene_id` (version stripped), `gene_name`, `species`,
  `sequence` (uppercase DNA, 5'->3'), `exon_ends` (0-based exclusive, in transcript coordinates),
  `cds_start`/`cds_end` (0-based half-open, stop codon included; -1 if non-coding), `biotype`, `flags`
  (`cds_start_NF`, `cds_end_NF`, ... : incomplete annotations).

## Sources

| name | reader | species | files | origin | license |
|---|---|---|---|---|---|
{source_rows}

Each part keeps the license of its source.

Orthology: {", ".join(orthology or []) or "none (one set per gene)"}.

## Build

Settings: {", ".join(f"{key}={value}" for key, value in (settings or {}).items()) or "defaults"}.

Transcripts left out (a transcript whose accession, version ignored, or whose sequence an earlier
source already gave is a duplicate: {skipped_count("duplicate_transcript_id"):,} by accession and
{skipped_count("duplicate_sequence"):,} by sequence):

| reason | transcripts |
|---|---|
{skipped_rows}

## Use

```python
from datasets import load_dataset
corpus = load_dataset("REPO_ID")  # or isoclr_hf.corpus.load_corpus("path/to/corpus")
set_ = corpus["train"][0]
print(set_["set_id"], [t["transcript_id"] for t in set_["transcripts"]])
```
"""
    return DatasetCard(f"---\n{card_data.to_yaml()}\n---\n{body}")
