"""Bad annotation and genome files: each ends in an AnnotationError naming the file (line, transcript), or,
with on_error="skip", in whole transcripts left out and counted by id; never a traceback from deeper down."""

from __future__ import annotations

import gzip
import os
import re
import shutil
from pathlib import Path

import pytest

from isoclr_hf.annotations import AnnotationError, IndexedGenome, SkipLog, read_annotation
from isoclr_hf.annotations.genome import check_fetched

DUPLICATED, RENAMED_TO = "ENST00000614900", "ENST00000620326"  # same gene; 2 exons each, lines 58-60 and 77-79
MINUS_STRAND = "ENST00000442898"
BROKEN_EXON = "ENST00000621255"  # 877 nt in 4 exons; its second exon (193 nt) is line 55


PRETRAINING = Path(__file__).resolve().parents[2] / "data" / "pretraining"
CHR9_GTF = "Homo_sapiens.GRCh38.91_chr9_1_1000000.gtf"
CHR9_GENOME = "Homo_sapiens.GRCh38.dna_sm.primary_assembly_chr9_1_1000000.fa"


def _records(gtf: Path, genome: Path, **kwargs):
    return {r.transcript_id: r for r in read_annotation(gtf, genome, species="homo_sapiens", **kwargs)}


def _edit_lines(source: Path, target: Path, edit) -> Path:
    """Copy ``source`` to ``target``, passing each (1-based number, line) through ``edit`` (-> line or None)."""
    lines = [edit(number, line) for number, line in enumerate(source.read_text().splitlines(), start=1)]
    target.write_text("".join(line + "\n" for line in lines if line is not None))
    return target


def _line_of(gtf: Path, pattern: str) -> int:
    return next(n for n, line in enumerate(gtf.read_text().splitlines(), start=1) if re.search(pattern, line))


@pytest.fixture(scope="module")
def reference():
    return _records(PRETRAINING / "ensembl91_chr9_1mb" / CHR9_GTF, PRETRAINING / "ensembl91_chr9_1mb" / CHR9_GENOME)


# --- compression and encoding -------------------------------------------------------------------------


def test_gzip_is_told_by_its_bytes_not_its_name(chr9_gtf, chr9_genome, tmp_path, reference):
    plain_named_gz = tmp_path / "plain.gtf.gz"
    shutil.copyfile(chr9_gtf, plain_named_gz)
    gzip_named_gtf = tmp_path / "packed.gtf"
    gzip_named_gtf.write_bytes(gzip.compress(chr9_gtf.read_bytes()))
    assert _records(plain_named_gz, chr9_genome) == reference
    assert _records(gzip_named_gtf, chr9_genome) == reference


def test_truncated_gzip_is_an_error_naming_the_file(chr9_gtf, chr9_genome, tmp_path):
    packed = gzip.compress(chr9_gtf.read_bytes())
    truncated = tmp_path / "truncated.gtf.gz"
    truncated.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(AnnotationError, match="truncated or corrupt") as error:
        next(read_annotation(truncated, chr9_genome, species="homo_sapiens"))
    assert str(truncated) in str(error.value)
    corrupt = tmp_path / "corrupt.gtf.gz"
    corrupt.write_bytes(packed[:20] + b"\x00" * 64 + packed[84:])
    with pytest.raises(AnnotationError, match="truncated or corrupt") as error:
        list(read_annotation(corrupt, chr9_genome, species="homo_sapiens", on_error="skip"))
    assert str(corrupt) in str(error.value)


def test_binary_garbage_is_an_error_naming_file_line_and_byte(chr9_genome, tmp_path):
    garbage = tmp_path / "garbage.gtf"
    garbage.write_bytes(b"# header\n" + bytes(range(128, 256)) * 4 + b"\n" + bytes(range(256)))
    with pytest.raises(AnnotationError) as error:
        next(read_annotation(garbage, chr9_genome, species="homo_sapiens"))
    assert f"{garbage}:2" in str(error.value) and "not UTF-8" in str(error.value)


def test_one_non_utf8_line_names_its_line_or_skips_its_transcript(chr9_gtf, chr9_genome, tmp_path, reference):
    bad = tmp_path / "latin1.gtf"
    lines = chr9_gtf.read_bytes().split(b"\n")
    lines[54] = lines[54].replace(b'gene_source "havana"', b'gene_source "hav\xc5na"')
    bad.write_bytes(b"\n".join(lines))
    with pytest.raises(AnnotationError, match="0xc5") as error:
        _records(bad, chr9_genome)
    assert f"{bad}:55:" in str(error.value)
    skipped = SkipLog()
    kept = _records(bad, chr9_genome, on_error="skip", skipped=skipped)
    assert skipped == {"malformed_line": 1} and skipped.ids == {"malformed_line": [BROKEN_EXON]}
    assert kept == {k: v for k, v in reference.items() if k != BROKEN_EXON}


# --- duplicate ids, strands ----------------------------------------------------------------------------


def test_a_transcript_id_used_twice_is_an_error_not_a_chimera(chr9_gtf, chr9_genome, tmp_path, reference):
    renamed = _edit_lines(chr9_gtf, tmp_path / "renamed.gtf", lambda n, line: line.replace(DUPLICATED, RENAMED_TO))
    second = _line_of(renamed, rf'\ttranscript\t.*"{RENAMED_TO}".*transcript_name "PGM5P3-AS1-204"')
    with pytest.raises(AnnotationError) as error:
        _records(renamed, chr9_genome)
    assert error.value.reason == "duplicate_transcript_id"
    assert f"{renamed}:{second}:" in str(error.value) and RENAMED_TO in str(error.value)
    skipped = SkipLog()
    kept = _records(renamed, chr9_genome, on_error="skip", skipped=skipped)
    assert skipped == {"duplicate_transcript_id": 1} and skipped.ids["duplicate_transcript_id"] == [RENAMED_TO]
    assert kept == {k: v for k, v in reference.items() if k not in (DUPLICATED, RENAMED_TO)}


def test_a_transcript_id_in_two_genes_names_both_genes_and_the_line(chr9_gtf, chr9_genome, tmp_path):
    other = "ENST00000421620"  # gene ENSG00000236875; DUPLICATED is in ENSG00000277631

    def edit(number, line):
        if f'"{DUPLICATED}"' not in line:
            return line
        return None if line.split("\t")[2] == "transcript" else line.replace(DUPLICATED, other)

    moved = _edit_lines(chr9_gtf, tmp_path / "moved.gtf", edit)
    first_moved = _line_of(moved, r'ENSG00000277631.*"ENST00000421620"')
    with pytest.raises(AnnotationError) as error:
        _records(moved, chr9_genome)
    message = str(error.value)
    assert f"{moved}:{first_moved}:" in message
    assert "ENSG00000236875" in message and "ENSG00000277631" in message and other in message


def test_transcript_ids_must_be_unique_across_chromosome_blocks(chr9_gtf, chr9_genome, tmp_path):
    genome = tmp_path / "two.fa"
    genome.write_text(chr9_genome.read_text() + chr9_genome.read_text().replace(">9", ">10", 1))
    lines = chr9_gtf.read_text().splitlines()
    copied = [line.replace("9\t", "10\t", 1) for line in lines if f'"{MINUS_STRAND}"' in line]
    again = tmp_path / "again.gtf"
    again.write_text("\n".join(lines + copied) + "\n")
    with pytest.raises(AnnotationError, match=f"{MINUS_STRAND} is used again") as error:
        _records(again, genome)
    assert f"{again}:{len(lines) + 1}" in str(error.value)


def test_strand_dot_is_an_error_not_the_forward_strand(chr9_gtf, chr9_genome, tmp_path, reference):
    def unstranded(number, line):
        fields = line.split("\t")
        if f'"{MINUS_STRAND}"' in line:
            fields[6] = "."
        return "\t".join(fields)

    dotted = _edit_lines(chr9_gtf, tmp_path / "dotted.gtf", unstranded)
    with pytest.raises(AnnotationError, match=r"strand '\.'") as error:
        _records(dotted, chr9_genome)
    assert error.value.reason == "unknown_strand"
    assert f"{dotted}:{_line_of(dotted, MINUS_STRAND)}:" in str(error.value) and MINUS_STRAND in str(error.value)
    skipped = SkipLog()
    kept = _records(dotted, chr9_genome, on_error="skip", skipped=skipped)
    assert skipped.ids == {"unknown_strand": [MINUS_STRAND]} and skipped["unknown_strand"] == 1
    assert kept == {k: v for k, v in reference.items() if k != MINUS_STRAND}


def test_rows_of_one_transcript_on_both_strands_are_an_error(chr9_gtf, chr9_genome, tmp_path):
    exon_line = _line_of(chr9_gtf, rf"\texon\t.*\"{MINUS_STRAND}\"")
    mixed = _edit_lines(
        chr9_gtf, tmp_path / "mixed.gtf", lambda n, line: line.replace("\t-\t", "\t+\t") if n == exon_line else line
    )
    with pytest.raises(AnnotationError, match="strand") as error:
        _records(mixed, chr9_genome)
    assert error.value.reason == "strand_conflict" and f"{mixed}:{exon_line}:" in str(error.value)


# --- skip mode drops whole transcripts --------------------------------------------------------------------


@pytest.mark.parametrize(
    "break_row",
    [
        lambda line: "\t".join(line.split("\t")[:4]),  # columns lost: the transcript is known from its neighbours
        lambda line: line.replace("\t79345\t", "\tx79345\t"),  # bad start: the transcript is named in column 9
        lambda line: line.replace("\t+\t", "\t?\t"),
    ],
)
def test_skip_mode_leaves_out_the_whole_transcript_of_a_bad_row(chr9_gtf, chr9_genome, tmp_path, reference, break_row):
    assert reference[BROKEN_EXON].exon_ends[-1] == 877
    broken = _edit_lines(chr9_gtf, tmp_path / "broken.gtf", lambda n, line: break_row(line) if n == 55 else line)
    with pytest.raises(AnnotationError, match=f"{broken}:55:"):
        _records(broken, chr9_genome)
    skipped = SkipLog()
    kept = _records(broken, chr9_genome, on_error="skip", skipped=skipped)
    assert skipped == {"malformed_line": 1} and skipped.ids == {"malformed_line": [BROKEN_EXON]}
    assert kept == {k: v for k, v in reference.items() if k != BROKEN_EXON}


# --- empty files --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no annotation rows"),
        ("#!genome-build GRCh38\n\n", "no annotation rows"),
        ('9\thavana\tgene\t12134\t13783\t.\t+\t.\tgene_id "ENSG00000236875";\n', "describes no transcripts"),
    ],
)
def test_an_annotation_without_transcripts_is_an_error(chr9_genome, tmp_path, content, message):
    empty = tmp_path / "empty.gtf"
    empty.write_text(content)
    for on_error in ("raise", "skip"):
        with pytest.raises(AnnotationError, match=message) as error:
            list(read_annotation(empty, chr9_genome, species="homo_sapiens", on_error=on_error))
        assert str(empty) in str(error.value)


# --- the genome ---------------------------------------------------------------------------------------------


def _truncated_genome(chr9_genome: Path, tmp_path: Path, keep: int) -> Path:
    short = tmp_path / "short.fa"
    short.write_bytes(chr9_genome.read_bytes()[:keep])
    return short


def test_genome_shorter_than_its_stale_index_is_refused_at_once(chr9_gtf, chr9_genome, tmp_path):
    short = _truncated_genome(chr9_genome, tmp_path, 500_000)
    stale = Path(f"{short}.fai")
    stale.write_text("9\t1000000\t3\t60\t61\n")  # the index of the whole genome, newer than the FASTA
    future = short.stat().st_mtime + 10
    os.utime(stale, (future, future))
    with pytest.raises(AnnotationError, match="shorter than its index") as error:
        next(read_annotation(chr9_gtf, short, species="homo_sapiens"))
    assert error.value.reason == "stale_index"
    assert (
        str(short) in str(error.value) and str(stale) in str(error.value) and "9 (1,000,000 bases)" in str(error.value)
    )


def test_fetched_bases_are_checked_against_the_length_asked(tmp_path):
    with pytest.raises(AnnotationError, match="gives 3 bases where 5") as error:
        check_fetched("ACG", 5, "9:101-105", tmp_path / "g.fa")
    assert "9:101-105" in str(error.value) and "g.fa" in str(error.value)
    with pytest.raises(AnnotationError, match="'>'"):
        check_fetched("AC>GT", 5, "9:101-105", tmp_path / "g.fa")


def test_exon_past_the_end_of_the_genome_names_chromosome_coordinates_and_file(chr9_gtf, chr9_genome, tmp_path):
    short = _truncated_genome(chr9_genome, tmp_path, 61 * 5000 + 3)  # 300,000 bases, indexed afresh
    with pytest.raises(AnnotationError, match="outside") as error:
        _records(chr9_gtf, short)
    message = str(error.value)
    assert re.search(r"interval 9:\d+-\d+ is outside 9 \(length 300,000\)", message) and str(short) in message
    assert re.search(rf"{re.escape(str(chr9_gtf))}:\d+: transcript ENST", message)


def test_garbage_genome_is_an_error_naming_the_file(chr9_gtf, tmp_path):
    binary = tmp_path / "binary.fa"
    binary.write_bytes(b">9\nACGT\n" + bytes(range(128, 256)) + b"\n")
    with pytest.raises(AnnotationError, match="not text") as error:
        IndexedGenome(binary)
    assert f"{binary}:3" in str(error.value)
    gzipped = tmp_path / "plain_gzip.fa.gz"
    gzipped.write_bytes(gzip.compress(b">9\nACGT\n"))
    with pytest.raises(AnnotationError, match="bgzip") as error:
        IndexedGenome(gzipped)
    assert str(gzipped) in str(error.value)
    ragged = tmp_path / "ragged.fa"
    ragged.write_text(">9\nACGTACGT\nACG\nACGTACGT\n")
    with pytest.raises(AnnotationError, match="one width") as error:
        IndexedGenome(ragged)
    assert str(ragged) in str(error.value)
