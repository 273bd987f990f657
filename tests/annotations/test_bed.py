"""BED12 + transcript FASTA: the CPAT RefSeq set read in full, both strands, and bad lines named by file and line."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isoclr_hf.annotations import AnnotationError, SkipLog
from isoclr_hf.annotations.bed import parse_bed12_line, read_bed12, read_bed12_fasta
from isoclr_hf.annotations.genome import reverse_complement

CPAT = Path(__file__).resolve().parents[2] / "data" / "pretraining" / "cpat_refseq_hg19"
CPAT_BED = CPAT / "Human_test_coding_mRNA_hg19.bed.gz"
CPAT_FASTA = CPAT / "Human_test_coding_mRNA.fa.gz"


@pytest.fixture(scope="module")
def cpat_records():
    return list(read_bed12_fasta(CPAT_BED, CPAT_FASTA, species="homo_sapiens"))


def test_cpat_bed12_against_its_fasta(cpat_records):
    records = cpat_records
    assert len(records) == 4000  # every BED line found its sequence, and every length equals its exon sum
    assert sum(record.exon_ends[-1] == len(record.sequence) for record in records) == 4000
    strands = Counter(record.gene_id.rsplit(":", 1)[1] for record in records)
    assert strands["+"] > 1000 and strands["-"] > 1000
    coding = [record for record in records if record.is_coding]
    atg = sum(record.sequence[record.cds_start : record.cds_start + 3].upper() == "ATG" for record in coding)
    print(f"CPAT BED12: {len(records)}/4000 lengths equal; {atg}/{len(coding)} CDS start with ATG; {dict(strands)}")
    assert len(coding) == 4000 and atg == 3998  # two RefSeq CDS start at a CTG
    assert all((record.cds_end - record.cds_start) % 3 == 0 for record in coding if "cds_end_NF" not in record.flags)
    loci = Counter(record.gene_id for record in records)
    assert 3500 < len(loci) < 4000 and sum(count for count in loci.values() if count > 1) > 800
    assert not any(record.cds_inferred for record in records)


def test_bed12_minus_strand_blocks_and_cds_in_transcript_order(tmp_path):
    genome = "CCATGAAATTTGGGCCCTAAGG" + "TTTTTTTTTT" + "AAACCCGGGTTTAAACCCGGG"  # 0..22 exon, intron, 32..53 exon
    plus_exons = genome[0:22] + genome[32:53]
    bed = tmp_path / "t.bed"
    # The same model on both strands; CDS ATG..TAA = genome 2..20 on +.
    bed.write_text(
        "chr1\t100\t153\tplus\t0\t+\t102\t120\t0\t2\t22,21,\t0,32,\n"
        "chr1\t100\t153\tminus\t0\t-\t102\t120\t0\t2\t22,21\t0,32\n"
    )
    fasta = tmp_path / "t.fa"
    fasta.write_text(f">plus\n{plus_exons}\n>x_minus range=chr1:101-153 strand=-\n{reverse_complement(plus_exons)}\n")
    records = {record.transcript_id: record for record in read_bed12_fasta(bed, fasta, species="homo_sapiens")}
    plus, minus = records["plus"], records["minus"]
    assert plus.exon_ends == [22, 43] and minus.exon_ends == [21, 43]
    assert plus.cds == (2, 20) and plus.sequence[2:5] == "ATG"
    assert minus.cds == (43 - 20, 43 - 2)
    assert minus.sequence[minus.cds_end - 3 : minus.cds_end] == "CAT"  # reverse complement of ATG, at its 3' end
    assert plus.gene_id != minus.gene_id  # different strands, different loci
    by_name = list(read_bed12_fasta(bed, fasta, species="homo_sapiens", gene_id="name"))
    assert {record.gene_id for record in by_name} == {"plus", "minus"}


def test_non_coding_and_locus_grouping(tmp_path):
    bed = tmp_path / "t.bed"
    bed.write_text(
        "track name=x\n#comment\n"
        "chr2\t10\t20\ta\t0\t+\t15\t15\t0\t1\t10\t0\n"
        "chr2\t18\t40\tb\t0\t+\t40\t40\t0\t1\t22\t0\n"
        "chr2\t50\t60\tc\t0\t+\t50\t50\t0\t1\t10\t0\n"
    )
    fasta = tmp_path / "t.fa"
    fasta.write_text(">a\n" + "A" * 10 + "\n>b\n" + "C" * 22 + "\n>c\n" + "G" * 10 + "\n>unused\nACGT\n")
    records = {record.transcript_id: record for record in read_bed12_fasta(bed, fasta, species="homo_sapiens")}
    assert all(not record.is_coding and record.biotype == "" for record in records.values())
    assert records["a"].gene_id == records["b"].gene_id == "chr2:10-40:+" and records["c"].gene_id == "chr2:50-60:+"


def _bed(tmp_path, line: str) -> Path:
    path = tmp_path / "bad.bed"
    path.write_text("chr1\t0\t10\tok\t0\t+\t0\t0\t0\t1\t10\t0\n" + line + "\n")
    return path


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("chr1\t0\t10\tt\t0\t+\t0\t0\t0\t1\t10", "malformed_line"),  # 11 columns
        ("chr1\tx\t10\tt\t0\t+\t0\t0\t0\t1\t10\t0", "malformed_line"),
        ("chr1\t0\t10\tt\t0\t.\t0\t0\t0\t1\t10\t0", "bad_strand"),
        ("chr1\t0\t10\tt\t0\t+\t0\t0\t0\t2\t10\t0", "malformed_line"),  # blockCount 2, one size
        ("chr1\t0\t10\tt\t0\t+\t0\t0\t0\t1\t12\t0", "malformed_line"),  # block past chromEnd
        ("chr1\t0\t10\tt\t0\t+\t0\t0\t0\t2\t6,5\t0,5", "overlapping_exons"),
        ("chr1\t0\t10\tt\t0\t+\t4\t12\t0\t1\t10\t0", "malformed_line"),  # thickEnd past chromEnd
        ("chr1\t0\t10\tok\t0\t+\t0\t0\t0\t1\t10\t0", "duplicate_transcript"),
    ],
)
def test_bad_bed_lines_name_file_line_and_transcript(tmp_path, line, reason):
    path = _bed(tmp_path, line)
    with pytest.raises(AnnotationError) as caught:
        read_bed12(path)
    assert f"{path}:2:" in str(caught.value) and caught.value.reason == reason
    skipped = SkipLog()
    assert [t.name for t in read_bed12(path, on_error="skip", skipped=skipped)] == ["ok"]
    assert skipped[reason] == 1


def test_cds_in_intron_length_mismatch_and_missing_sequence(tmp_path):
    bed = tmp_path / "t.bed"
    bed.write_text(
        "chr1\t0\t30\tintron_cds\t0\t+\t12\t30\t0\t2\t10,10\t0,20\nchr1\t0\t10\tmissing\t0\t+\t0\t0\t0\t1\t10\t0\n"
    )
    fasta = tmp_path / "t.fa.gz"
    with gzip.open(fasta, "wt") as handle:
        handle.write(">intron_cds\n" + "A" * 20 + "\n")
    with pytest.raises(AnnotationError, match=rf"{re.escape(str(bed))}:1: transcript intron_cds: thickStart"):
        list(read_bed12_fasta(bed, fasta, species="homo_sapiens"))
    skipped = SkipLog()
    assert list(read_bed12_fasta(bed, fasta, species="homo_sapiens", on_error="skip", skipped=skipped)) == []
    assert skipped.ids == {"cds_outside_exons": ["intron_cds"], "transcript_missing_from_fasta": ["missing"]}
    with gzip.open(fasta, "wt") as handle:
        handle.write(">missing\n" + "A" * 9 + "\n")
    with pytest.raises(
        AnnotationError, match=rf"{re.escape(str(fasta))}:1: transcript missing has 9 nt .*t.bed:2 sum to 10 nt"
    ):
        list(read_bed12_fasta(bed, fasta, species="homo_sapiens"))


def test_fasta_header_locus_must_match_the_bed_line(tmp_path):
    bed = tmp_path / "t.bed"
    bed.write_text("chr1\t0\t10\tNM_1\t0\t+\t0\t0\t0\t1\t10\t0\n")
    fasta = tmp_path / "t.fa"
    fasta.write_text(">hg19_ct_UserTrack_1_NM_1 range=chr1:5-15 strand=+\n" + "A" * 10 + "\n")
    with pytest.raises(AnnotationError, match=rf"{re.escape(str(fasta))}:1: .*range=chr1:5-15") as caught:
        list(read_bed12_fasta(bed, fasta, species="homo_sapiens"))
    assert caught.value.reason == "locus_mismatch"


_field = st.one_of(
    st.integers(-3, 60).map(str),
    st.sampled_from(["", "x", "+", "-", ".", "chr1", "t1", "1,2,", "0,5", "5,0", "3,3,3", ",", " 7", "1e3"]),
    st.text(max_size=6),
)
_bed_line = st.one_of(
    st.lists(_field, min_size=0, max_size=14).map("\t".join),
    st.builds(
        lambda start, size, strand, thick, count, sizes, starts: "\t".join(
            [
                "chr1",
                str(start),
                str(start + size),
                "t",
                "0",
                strand,
                str(thick[0]),
                str(thick[1]),
                "0",
                str(count),
                ",".join(map(str, sizes)),
                ",".join(map(str, starts)),
            ]
        ),
        st.integers(0, 20),
        st.integers(-2, 30),
        st.sampled_from(["+", "-", "."]),
        st.tuples(st.integers(0, 50), st.integers(0, 50)),
        st.integers(0, 4),
        st.lists(st.integers(0, 15), max_size=4),
        st.lists(st.integers(0, 30), max_size=4),
    ),
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=_bed_line)
def test_bed12_line_parser_only_raises_annotation_error_naming_file_and_line(line):
    where = "some/file.bed:17"
    try:
        transcript = parse_bed12_line(line, where)
    except AnnotationError as error:
        assert str(error).startswith(f"{where}: "), str(error)
        return
    if transcript is not None:
        assert transcript.length == sum(end - start for start, end in transcript.blocks) > 0
        assert transcript.exon_ends()[-1] == transcript.length
        try:
            cds = transcript.cds()
        except AnnotationError as error:
            assert str(error).startswith(f"{where}: ") and error.reason == "cds_outside_exons"
            return
        if cds is not None:
            assert 0 <= cds[0] < cds[1] <= transcript.length


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_bed_line, max_size=6), data=st.binary(max_size=30))
def test_bed12_file_reads_or_raises_annotation_error_naming_it(tmp_path_factory, lines, data):
    path = tmp_path_factory.mktemp("bed") / "f.bed"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + data)
    try:
        read_bed12(path)
    except AnnotationError as error:
        assert str(path) in str(error)
        if error.reason != "no_transcripts":
            assert re.search(re.escape(str(path)) + r":\d+: ", str(error)), str(error)
