"""SQANTI3 reader on the bundled chr22 run: filter, lengths, CDS, bad records."""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest

from isoclr_hf.annotations import AnnotationError, read_sqanti


@pytest.fixture(scope="module")
def table(request):
    folder = request.config.rootpath / "data" / "pretraining" / "sqanti3_uhr_chr22"
    return pd.read_csv(folder / "UHR_chr22_ML_result_classification.txt", sep="\t").set_index("isoform")


def _exon_lengths(gtf) -> Counter:
    lengths = Counter()
    for line in gtf.read_text().splitlines():
        fields = line.split("\t")
        if fields[2] == "exon":
            lengths[re.search(r'transcript_id "([^"]+)"', fields[8]).group(1)] += int(fields[4]) - int(fields[3]) + 1
    return lengths


def test_isoforms_that_pass_the_filter_are_read(sqanti_files, table):
    records = list(read_sqanti(*sqanti_files))
    kept = table[table["filter_result"] == "Isoform"]
    assert sorted(r.transcript_id for r in records) == sorted(kept.index)
    for record in records:
        gene = kept.loc[record.transcript_id, "associated_gene"]
        assert record.gene_id == re.sub(r"(ENSG\d{11})\.\d+", r"\1", gene)  # every version dropped
        assert record.species == "homo_sapiens"


def test_sequence_length_equals_summed_exon_lengths(sqanti_files):
    lengths = _exon_lengths(sqanti_files[1])
    for record in read_sqanti(*sqanti_files):
        assert len(record.sequence) == lengths[record.transcript_id] == record.exon_ends[-1]
        assert record.exon_ends == sorted(record.exon_ends)


def test_cds_starts_with_atg_where_the_orf_starts_with_methionine(sqanti_files, table):
    coding = 0
    for record in read_sqanti(*sqanti_files):
        row = table.loc[record.transcript_id]
        assert record.is_coding == (row["coding"] == "coding")
        if record.is_coding:
            coding += 1
            starts_with_atg = record.sequence[record.cds_start : record.cds_start + 3] == "ATG"
            assert starts_with_atg == str(row["ORF_seq"]).startswith("M"), record.transcript_id
            assert starts_with_atg == ("cds_start_NF" not in record.flags)
            assert record.cds_end - record.cds_start == row["CDS_length"]
    assert coding > 0


def test_isoform_absent_from_the_table_raises_or_is_counted(sqanti_files, tmp_path):
    fasta, gtf, classification = sqanti_files
    rows = classification.read_text().splitlines()
    dropped = rows[1 + next(i for i, row in enumerate(rows[1:]) if row.endswith("Isoform"))].split("\t")[0]
    trimmed = tmp_path / "classification.txt"
    trimmed.write_text("\n".join(row for row in rows if not row.startswith(dropped + "\t")) + "\n")
    with pytest.raises(AnnotationError, match=re.escape(dropped)) as error:
        list(read_sqanti(fasta, gtf, trimmed))
    assert error.value.reason == "transcript_missing_from_table"
    skipped = Counter()
    records = list(read_sqanti(fasta, gtf, trimmed, on_error="skip", skipped=skipped))
    assert skipped == Counter({"transcript_missing_from_table": 1})
    assert dropped not in {r.transcript_id for r in records}


def test_sequence_that_disagrees_with_the_exons_is_reported(sqanti_files, tmp_path):
    fasta, gtf, classification = sqanti_files
    lines = fasta.read_text().splitlines()
    last_line_of_first = next(i for i, line in enumerate(lines[1:], start=1) if line.startswith(">")) - 1
    lines[last_line_of_first] = lines[last_line_of_first][:-5]  # the first transcript loses 5 nt
    short = tmp_path / "short.fasta"
    short.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnnotationError, match="sum to") as error:
        list(read_sqanti(short, gtf, classification))
    assert error.value.reason == "length_mismatch"
