"""GTF/GFF3 + genome reader: sequences, exon order, CDS conventions, bad records."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyfaidx
import pytest

from isoclr_hf.annotations import AnnotationError, read_annotation
from isoclr_hf.annotations.genome import reverse_complement

STOPS = {"TAA", "TAG", "TGA"}
INCOMPLETE = {"cds_start_NF", "cds_end_NF"}


def _records(gtf: Path, genome: Path, species: str = "homo_sapiens", **kwargs):
    return {record.transcript_id: record for record in read_annotation(gtf, genome, species=species, **kwargs)}


def _gtf_strands(gtf: Path) -> dict[str, str]:
    strands = {}
    for line in gtf.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) == 9 and fields[2] == "transcript":
            strands[re.search(r'transcript_id "([^"]+)"', fields[8]).group(1)] = fields[6]
    return strands


def _rewrite(source: Path, target: Path, edit) -> Path:
    """Copy a GTF, passing each row's fields through ``edit`` (returns a list of rows, maybe empty)."""
    lines = []
    for line in source.read_text().splitlines():
        fields = line.split("\t")
        lines += ["\t".join(row) for row in edit(fields)] if len(fields) == 9 else [line]
    target.write_text("\n".join(lines) + "\n")
    return target


def test_complete_coding_transcripts_have_start_and_stop_codons_on_both_strands(chr9_gtf, chr9_genome):
    records = _records(chr9_gtf, chr9_genome)
    strands = _gtf_strands(chr9_gtf)
    checked = Counter()
    for record in records.values():
        if not record.is_coding or INCOMPLETE & set(record.flags):
            continue
        cds = record.sequence[record.cds_start : record.cds_end]
        assert cds[:3] == "ATG", record.transcript_id
        assert cds[-3:] in STOPS, record.transcript_id
        assert len(cds) % 3 == 0, record.transcript_id
        assert not any(cds[i : i + 3] in STOPS for i in range(0, len(cds) - 3, 3)), (
            f"in-frame stop in {record.transcript_id}"
        )
        checked[strands[record.transcript_id]] += 1
    assert checked["+"] > 0 and checked["-"] > 0
    assert set(records) == set(strands)


def test_sequences_are_exons_joined_in_transcript_order(chr9_gtf, chr9_genome):
    genome = pyfaidx.Fasta(str(chr9_genome))
    exons: dict[str, list[tuple[int, int, str]]] = {}
    for line in chr9_gtf.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) == 9 and fields[2] == "exon":
            transcript = re.search(r'transcript_id "([^"]+)"', fields[8]).group(1)
            exons.setdefault(transcript, []).append((int(fields[3]), int(fields[4]), fields[6]))
    records = _records(chr9_gtf, chr9_genome)
    for transcript, pieces in exons.items():
        strand = pieces[0][2]
        joined = "".join(str(genome["9"][start - 1 : end]) for start, end, _ in sorted(pieces)).upper()
        expected = reverse_complement(joined) if strand == "-" else joined
        record = records[transcript]
        assert record.sequence == expected
        assert record.exon_ends[-1] == len(record.sequence)
        lengths = [end - start + 1 for start, end, _ in sorted(pieces, reverse=strand == "-")]
        assert record.exon_ends == [sum(lengths[: i + 1]) for i in range(len(lengths))]


def test_incomplete_cds_is_flagged_and_frame_aligned(chr9_gtf, chr9_genome):
    records = _records(chr9_gtf, chr9_genome)
    flagged = [r for r in records.values() if r.is_coding and INCOMPLETE & set(r.flags)]
    assert flagged
    for record in flagged:
        if "cds_end_NF" not in record.flags:  # start unknown, stop annotated: codons aligned to the stop
            assert (record.cds_end - record.cds_start) % 3 == 0, record.transcript_id
            assert record.sequence[record.cds_end - 3 : record.cds_end] in STOPS


def test_stop_codon_inside_cds_rows_gives_the_same_cds(chr9_gtf, chr9_genome, tmp_path):
    """RefSeq/Ensembl GFF3 convention: the stop codon inside the CDS rows, no stop_codon rows."""

    def stop_as_cds(fields):
        if fields[2] == "stop_codon":
            return [[*fields[:2], "CDS", *fields[3:]]]
        return [fields]

    merged = _records(_rewrite(chr9_gtf, tmp_path / "merged.gtf", stop_as_cds), chr9_genome)
    assert merged == _records(chr9_gtf, chr9_genome)


def test_missing_stop_codon_rows_are_inferred(chr9_gtf, chr9_genome, tmp_path):
    dropped = _records(
        _rewrite(chr9_gtf, tmp_path / "nostop.gtf", lambda f: [] if f[2] == "stop_codon" else [f]), chr9_genome
    )
    reference = _records(chr9_gtf, chr9_genome)
    for transcript, record in reference.items():
        if record.is_coding and "cds_end_NF" not in record.flags:
            assert dropped[transcript].cds == record.cds


def _to_gff3(gtf: Path, target: Path) -> Path:
    """Ensembl-style GFF3 of a GTF: gene/transcript hierarchy, stop codon inside the CDS rows."""
    lines, seen_genes = ["##gff-version 3"], set()
    for line in gtf.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) != 9:
            continue
        attributes = dict(re.findall(r'(\S+) "([^"]*)"', fields[8]))
        tags = re.findall(r'tag "([^"]*)"', fields[8])
        gene, transcript = attributes["gene_id"], attributes.get("transcript_id")
        if fields[2] == "gene" and gene not in seen_genes:
            seen_genes.add(gene)
            column9 = f"ID=gene:{gene};Name={attributes.get('gene_name', '')};gene_id={gene}"
        elif fields[2] == "transcript":
            column9 = (
                f"ID=transcript:{transcript};Parent=gene:{gene};transcript_id={transcript};"
                f"biotype={attributes['transcript_biotype']}" + (f";tag={','.join(tags)}" if tags else "")
            )
        elif fields[2] in ("exon", "CDS", "stop_codon"):
            fields[2] = "CDS" if fields[2] == "stop_codon" else fields[2]
            column9 = f"Parent=transcript:{transcript}"
        else:
            continue
        lines.append("\t".join([*fields[:8], column9]))
    target.write_text("\n".join(lines) + "\n")
    return target


def test_gff3_gives_the_same_records_as_gtf(chr9_gtf, chr9_genome, tmp_path):
    from_gff3 = _records(_to_gff3(chr9_gtf, tmp_path / "chr9.gff3"), chr9_genome)
    from_gtf = _records(chr9_gtf, chr9_genome)
    assert from_gff3.keys() == from_gtf.keys()
    for transcript, record in from_gtf.items():
        assert from_gff3[transcript] == record, transcript


def test_chromosome_names_match_with_or_without_chr(chr9_gtf, chr9_genome, tmp_path):
    renamed = tmp_path / "genome_chr.fa"
    renamed.write_text(chr9_genome.read_text().replace(">9", ">chr9", 1))
    assert _records(chr9_gtf, renamed) == _records(chr9_gtf, chr9_genome)


def test_soft_masked_genome_gives_uppercase_sequences(chr9_gtf, chr9_genome):
    assert any(base.islower() for base in chr9_genome.read_text()[:200_000] if base.isalpha())
    assert all(record.sequence.isupper() for record in _records(chr9_gtf, chr9_genome).values())


def test_mouse_mapt_gencode_fits_the_genome_piece(mapt_gtf, mapt_genome):
    records = _records(mapt_gtf, mapt_genome, species="mus_musculus")
    assert len(records) == len(_gtf_strands(mapt_gtf))
    assert {r.species for r in records.values()} == {"mus_musculus"}
    assert {r.gene_id for r in records.values()} == {"ENSMUSG00000018411"}
    for record in records.values():
        if record.is_coding and "cds_end_NF" not in record.flags:
            cds = record.sequence[record.cds_start : record.cds_end]
            assert cds[:3] == "ATG" and cds[-3:] in STOPS and len(cds) % 3 == 0


def _first_exon_row(fields):
    return fields[2] == "exon" and 'transcript_id "ENST00000421620"' in fields[8]


@pytest.mark.parametrize(
    ("reason", "edit"),
    [
        ("malformed_line", lambda f: [f[:5]] if _first_exon_row(f) else [f]),
        (
            "overlapping_exons",
            lambda f: [f, [*f[:3], str(int(f[3]) + 10), str(int(f[4]) + 10), *f[5:]]] if _first_exon_row(f) else [f],
        ),
        (
            "cds_outside_exons",
            lambda f: [f, [*f[:2], "CDS", "5", "20", *f[5:7], "0", f[8]]] if _first_exon_row(f) else [f],
        ),
        (
            "chromosome_missing_from_genome",
            lambda f: [["10", *f[1:]]] if 'transcript_id "ENST00000421620"' in f[8] else [f],
        ),
    ],
)
def test_bad_records_raise_or_are_counted(chr9_gtf, chr9_genome, tmp_path, reason, edit):
    bad = _rewrite(chr9_gtf, tmp_path / "bad.gtf", edit)
    with pytest.raises(AnnotationError) as error:
        _records(bad, chr9_genome)
    assert error.value.reason == reason
    assert str(bad) in str(error.value)
    skipped = Counter()
    kept = _records(bad, chr9_genome, on_error="skip", skipped=skipped)
    assert skipped[reason] >= 1
    assert len(kept) >= len(_gtf_strands(chr9_gtf)) - 2


def test_missing_chromosome_error_names_both_spellings(chr9_gtf, chr9_genome, tmp_path):
    bad = _rewrite(chr9_gtf, tmp_path / "chr10.gtf", lambda f: [["chr10", *f[1:]]])
    with pytest.raises(AnnotationError, match=r"'chr10'.*'10'.*it has: 9"):
        next(read_annotation(bad, chr9_genome, species="homo_sapiens"))


def test_rows_need_not_be_grouped_by_chromosome(chr9_gtf, chr9_genome, tmp_path):
    genome = tmp_path / "two_chromosomes.fa"
    genome.write_text(chr9_genome.read_text() + chr9_genome.read_text().replace(">9", ">10", 1))
    lines = chr9_gtf.read_text().splitlines()
    first_transcript = [line for line in lines if 'transcript_id "ENST00000421620"' in line]
    other_chromosome = [line.replace("9\t", "10\t", 1).replace("ENST", "ENSTX") for line in first_transcript]
    interleaved = tmp_path / "interleaved.gtf"  # a chr10 block in the middle of a chr9 transcript
    interleaved.write_text("\n".join(lines[:104] + other_chromosome + lines[104:]) + "\n")
    records = _records(interleaved, genome)
    reference = _records(chr9_gtf, chr9_genome)
    assert records.pop("ENSTX00000421620").sequence == reference["ENST00000421620"].sequence
    assert records == reference


def test_a_transcript_on_two_chromosomes_is_reported(chr9_gtf, chr9_genome, tmp_path):
    genome = tmp_path / "two_chromosomes.fa"
    genome.write_text(chr9_genome.read_text() + chr9_genome.read_text().replace(">9", ">10", 1))
    lines = chr9_gtf.read_text().splitlines()
    lines[104] = lines[104].replace("9\t", "10\t", 1)
    moved = tmp_path / "moved.gtf"
    moved.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnnotationError, match="one chromosome") as error:
        list(read_annotation(moved, genome, species="homo_sapiens"))
    assert error.value.reason == "transcript_on_several_chromosomes"


def test_on_error_is_validated(chr9_gtf, chr9_genome):
    with pytest.raises(ValueError, match="on_error"):
        next(read_annotation(chr9_gtf, chr9_genome, species="homo_sapiens", on_error="ignore"))
