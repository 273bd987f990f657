"""Property tests: whatever the lines of a GTF/GFF3 or the bytes of a FASTA, the readers either read them
or raise AnnotationError naming the file (and, for a bad row, its line); never another exception."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isoclr_hf.annotations import AnnotationError, IndexedGenome, SkipLog, read_annotation, read_transcript_fasta

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_COUNTER = itertools.count()

# Errors about a whole file rather than one of its rows.
FILE_LEVEL = {"empty_file", "no_transcripts", "unknown_format", "unreadable_file"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("property")


@pytest.fixture(scope="module")
def genome(folder) -> Path:
    path = folder / "genome.fa"
    path.write_text(">1\n" + "ACGTTGCA" * 25 + "\n>chr2\n" + "GATTACA" * 20 + "\n")
    return path


_number = st.one_of(st.integers(-5, 260).map(str), st.sampled_from(["", "x", "1e3", " 7", "0x10"]))
_attribute = st.one_of(
    st.sampled_from(['transcript_id "t1";', 'transcript_id "t2";', "transcript_id t3;", 'gene_id "g1";',
                     'gene_id "g2";', 'tag "cds_start_NF";', 'tag "cds_end_NF";', "ID=t1", "ID=gene:g1",
                     "Parent=t1", "Parent=t1,t2", "Parent=gene:g1", "transcript_id=t%2C1", ';', '"', "=", "%ZZ"]),
    st.text(max_size=12),
)  # fmt: skip
_gtf_row = st.builds(
    lambda chromosome, feature, start, end, strand, frame, attributes: "\t".join(
        [chromosome, "src", feature, start, end, ".", strand, frame, " ".join(attributes)]
    ),
    st.sampled_from(["1", "chr1", "2", "chr2", "3", ""]),
    st.sampled_from(["exon", "CDS", "stop_codon", "transcript", "mRNA", "gene", "start_codon", "UTR", "x"]),
    _number,
    _number,
    st.sampled_from(["+", "-", ".", "?", ""]),
    st.sampled_from(["0", "1", "2", ".", "3", ""]),
    st.lists(_attribute, max_size=4),
)
_line = st.one_of(
    _gtf_row,
    _gtf_row.map(lambda row: "\t".join(row.split("\t")[:-1])),  # a column short
    _gtf_row.map(lambda row: row + "\textra"),
    st.sampled_from(["", "#comment", "##gff-version 3", "\t", "\r"]),
    st.text(max_size=40),
)
_line_bytes = st.one_of(
    _line.map(lambda line: line.encode("utf-8", "surrogatepass")),
    st.binary(max_size=40).map(lambda data: data.replace(b"\n", b"")),
)


def _check_annotation_error(error: AnnotationError, path: Path, n_lines: int) -> None:
    message = str(error)
    assert str(path) in message, message
    if error.reason not in FILE_LEVEL:
        where = re.search(re.escape(str(path)) + r":(\d+)", message)
        assert where and 1 <= int(where.group(1)) <= n_lines, message


@SETTINGS
@given(lines=st.lists(_line_bytes, max_size=12), suffix=st.sampled_from([".gtf", ".gff3", ".txt"]))
def test_annotation_lines_read_or_raise_annotation_error(folder, genome, lines, suffix):
    path = folder / f"annotation{next(_COUNTER)}{suffix}"
    path.write_bytes(b"\n".join(lines))
    n_lines = max(len(path.read_bytes().splitlines()), 1)
    for on_error in ("raise", "skip"):
        skipped = SkipLog()
        try:
            records = list(read_annotation(path, genome, species="homo_sapiens", on_error=on_error, skipped=skipped))
        except AnnotationError as error:
            _check_annotation_error(error, path, n_lines)
            continue
        for record in records:
            assert record.sequence and record.exon_ends[-1] == len(record.sequence)
            assert set(record.sequence) <= set("ACGT")


_fasta_line = st.one_of(
    st.builds(lambda name: f">{name}", st.sampled_from(["1", "chr2", "t1|g1|-|-|n|n|8|CDS:1-6|", "t1", "", " x"])),
    st.text(alphabet="ACGTNacgtn", min_size=0, max_size=12),
    st.sampled_from([";comment", "", "ACGT>ACGT", "AC GT", "\r"]),
    st.text(max_size=12),
)
_fasta_bytes = st.one_of(
    st.lists(_fasta_line, max_size=10).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")),
    st.binary(max_size=80),
)


@SETTINGS
@given(data=_fasta_bytes, trailing_newline=st.booleans())
def test_fasta_bytes_read_or_raise_annotation_error(folder, data, trailing_newline):
    path = folder / f"sequences{next(_COUNTER)}.fa"
    path.write_bytes(data + (b"\n" if trailing_newline else b""))
    try:
        records = list(read_transcript_fasta(path, species="homo_sapiens"))
        assert all(record.sequence for record in records)
    except AnnotationError as error:
        assert str(path) in str(error), str(error)
    try:
        with IndexedGenome(path) as genome:
            for name in genome.chromosomes:
                assert len(genome.fetch(name, 0, genome.length(name))) == genome.length(name)
    except AnnotationError as error:
        assert str(path) in str(error), str(error)
