"""mRNABench parquet layout: per-nucleotide tracks <-> record fields."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from isoclr_hf.annotations import AnnotationError, read_annotation, read_mrnabench_parquet, tracks_to_annotation
from isoclr_hf.models.isoclr.tokenization_isoclr import IsoCLRTokenizer


def test_tracks_round_trip_through_the_tokenizer(chr9_gtf, chr9_genome):
    tokenizer = IsoCLRTokenizer()
    for record in read_annotation(chr9_gtf, chr9_genome, species="homo_sapiens"):
        if {"cds_start_NF", "cds_end_NF"} & set(record.flags):
            continue
        encoded = tokenizer(record.sequence, exon_ends=record.exon_ends, cds=record.cds, return_tensors="np")
        exon_ends, cds_start, cds_end = tracks_to_annotation(encoded["cds_track"][0], encoded["splice_track"][0])
        assert (exon_ends, cds_start, cds_end) == (record.exon_ends, record.cds_start, record.cds_end)


def test_parquet_rows_become_records_and_bad_rows_are_reported(tmp_path):
    sequence = "GGATGAAATAGCC"
    cds = np.zeros(len(sequence), dtype=np.int8)
    cds[[2, 5, 8]] = 1
    splice = np.zeros(len(sequence), dtype=np.int8)
    splice[[6, 12]] = 1
    table = pa.table(
        {
            "sequence": [sequence, "ACGT"],
            "cds": [cds.tolist(), [0, 0]],  # second row: tracks too short
            "splice": [splice.tolist(), [0, 1]],
            "gene": ["ENSG00000000001.3", "ENSG00000000002.1"],
            "target": [0.5, 0.1],
        }
    )
    path = tmp_path / "bench.parquet"
    pq.write_table(table, path)
    # Rows counted from 1: the bad row is the second (without an id column, its id is the file's stem and that number).
    with pytest.raises(AnnotationError, match=r"bench\.parquet row 2 \(bench:2\): the cds/splice tracks must have one "
                       "value per nucleotide"):
        list(read_mrnabench_parquet(path))
    skipped = Counter()
    (record,) = read_mrnabench_parquet(path, on_error="skip", skipped=skipped)
    assert skipped == Counter({"track_length_mismatch": 1})
    assert (record.gene_id, record.exon_ends, record.cds) == ("ENSG00000000001", [7, 13], (2, 11))
    assert record.sequence[record.cds_start : record.cds_end] == "ATGAAATAG"
