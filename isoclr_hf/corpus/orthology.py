"""Orthology tables: which genes of different species (and paralogs, in HomoloGene) form one group.

Two layouts are read:

- NCBI HomoloGene (``HID``, ``Gene.Symbol``, ``Taxonomy``, ``Gene.ID``; e.g. the bundled
  ``homologene_b68.tsv.gz``): genes are matched by **gene symbol** (record ``gene_name``, e.g.
  human ``MAPT`` and mouse ``Mapt``) or by **Entrez Gene id** (record ``gene_id``, as RefSeq GFF3
  gives). It has no Ensembl ids, so records that carry only an Ensembl gene id (SQANTI3 output,
  whose ``associated_gene`` is an ENSG) do not match it. Genes sharing an HID are homologs:
  orthologs across species, and paralogs within a species too.
- A two-column ortholog pair list (``ENSG<TAB>ENSMUSG[<TAB>...]``, no header; e.g. the bundled
  ``human_mouse_1to1_orthologs.tsv``): matched by **Ensembl gene id**, version stripped, which
  every GENCODE/Ensembl/SQANTI3 record has. Each pair is one group.
- HGNC's HCOP predictions as babelgene ships them (``human_symbol``, ``human_entrez``,
  ``human_ensembl``, ``taxon_id``, ``symbol``, ``entrez``, ``ensembl``, ``support``, ``support_n``;
  e.g. the bundled ``babelgene_hcop_human_to_19species.tsv.gz``): one group per **human gene**,
  holding its symbol, Entrez and Ensembl ids, so human records from sources that name genes
  differently (an ENSG from SQANTI3, an Entrez id and symbol from RefSeq) join one set, and the
  orthologs of the other species by any of their three ids. An ortholog predicted for several human
  genes is left out (it would chain paralogous human genes into one set), as are predictions with
  fewer than ``min_support`` agreeing databases.
- The transcript ortholog tables of a TranscriptOrthology archive (``tar.gz``; see
  :mod:`isoclr_hf.annotations.transcript_orthology`): every ortholog transcript pair of two species
  joins their two **Ensembl genes** (one group per pair; pairs that share a gene merge in the build).
"""

from __future__ import annotations

import gzip
import os
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..annotations.errors import AnnotationError
from ..annotations.files import is_gzip
from ..annotations.structure import strip_version
from ..annotations.transcript_orthology import read_transcript_orthology_pairs

#: NCBI Taxonomy ids of the HomoloGene species -> species names as records carry them.
TAXON_SPECIES = {
    9606: "homo_sapiens",
    10090: "mus_musculus",
    10116: "rattus_norvegicus",
    7955: "danio_rerio",
    3702: "arabidopsis_thaliana",
    9913: "bos_taurus",
    9598: "pan_troglodytes",
    9615: "canis_lupus_familiaris",
    8364: "xenopus_tropicalis",
    9544: "macaca_mulatta",
    4530: "oryza_sativa",
    9031: "gallus_gallus",
    7165: "anopheles_gambiae",
    7227: "drosophila_melanogaster",
    6239: "caenorhabditis_elegans",
    318829: "magnaporthe_oryzae",
    5141: "neurospora_crassa",
    4932: "saccharomyces_cerevisiae",
    28985: "kluyveromyces_lactis",
    33169: "eremothecium_gossypii",
    4896: "schizosaccharomyces_pombe",
    284812: "schizosaccharomyces_pombe",  # the strain-level taxon HCOP uses
    13616: "monodelphis_domestica",
    28377: "anolis_carolinensis",
    9258: "ornithorhynchus_anatinus",
    9685: "felis_catus",
    9796: "equus_caballus",
    9823: "sus_scrofa",
}


def _compression(path: str | os.PathLike[str]) -> str | None:
    """Gzip told by the file's magic bytes, not its name."""
    return "gzip" if is_gzip(Path(path)) else None


class OrthologyTable:
    """Maps ``(species, gene key)`` to a homology group id (e.g. ``homologene:74962``).

    Keys are gene ids (Ensembl, version stripped; Entrez) and gene symbols; a record is looked up
    by its ``gene_id``, then its ``gene_name``.

    Args:
        name: Short name of the table, the prefix of its group ids.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._groups: dict[tuple[str, str], list[str]] = {}

    def add_group(self, group: str, members: Iterable[tuple[str, str]]) -> None:
        """Add ``(species, key)`` members to group ``group`` (a key in several groups keeps all)."""
        group_id = f"{self.name}:{group}"
        for species, key in members:
            if key:
                found = self._groups.setdefault((species, key), [])
                if group_id not in found:
                    found.append(group_id)

    def groups_of(self, species: str, gene_id: str, gene_name: str = "") -> list[str]:
        """Group ids of a gene, by id first, then by symbol; ``[]`` if the table does not have it."""
        return self._groups.get((species, strip_version(gene_id))) or self._groups.get((species, gene_name)) or []

    def __len__(self) -> int:
        return len(self._groups)

    @classmethod
    def from_hcop(
        cls, path: str | os.PathLike[str], taxa: dict[int, str] | None = None, min_support: int = 1
    ) -> OrthologyTable:
        """Read HCOP predictions (babelgene layout, tab-separated): one group per human gene."""
        taxa = TAXON_SPECIES if taxa is None else taxa
        frame = pd.read_csv(
            path, sep="\t", compression=_compression(path), dtype=str, keep_default_na=False,
            usecols=["human_symbol", "human_entrez", "human_ensembl", "taxon_id", "symbol", "entrez", "ensembl",
                     "support_n"],
        )
        table = cls("hcop")
        humans = frame[["human_symbol", "human_entrez", "human_ensembl"]].drop_duplicates()
        for symbol, entrez, ensembl in humans.itertuples(index=False):
            group = entrez or symbol or ensembl
            table.add_group(group, [("homo_sapiens", symbol), ("homo_sapiens", entrez), ("homo_sapiens", ensembl)])
        support = pd.to_numeric(frame["support_n"], errors="coerce").fillna(0)
        frame = frame[support >= min_support]
        # An ortholog predicted for two human genes would merge them: keep one-human-gene predictions.
        ortholog = frame["taxon_id"] + "\t" + frame["symbol"] + "\t" + frame["entrez"] + "\t" + frame["ensembl"]
        human_genes_per_ortholog = frame.groupby(ortholog)["human_symbol"].transform("nunique")
        frame = frame[human_genes_per_ortholog == 1]
        for row in frame.itertuples(index=False):
            species = taxa.get(int(row.taxon_id), f"taxon_{row.taxon_id}")
            group = row.human_entrez or row.human_symbol or row.human_ensembl
            table.add_group(group, [(species, row.symbol), (species, row.entrez), (species, row.ensembl)])
        return table

    @classmethod
    def from_homologene(cls, path: str | os.PathLike[str], taxa: dict[int, str] | None = None) -> OrthologyTable:
        """Read a HomoloGene table (``HID``, ``Gene.Symbol``, ``Taxonomy``, ``Gene.ID``; tab-separated)."""
        taxa = TAXON_SPECIES if taxa is None else taxa
        frame = pd.read_csv(
            path, sep="\t", compression=_compression(path), dtype={"HID": str, "Gene.Symbol": str, "Gene.ID": str}
        )
        table = cls("homologene")
        for hid, species_code, symbol, entrez in zip(
            frame["HID"], frame["Taxonomy"], frame["Gene.Symbol"], frame["Gene.ID"]
        ):
            species = taxa.get(int(species_code), f"taxon_{species_code}")
            table.add_group(hid, [(species, symbol), (species, entrez)])
        return table

    @classmethod
    def from_pairs(
        cls, path: str | os.PathLike[str], species: tuple[str, str] = ("homo_sapiens", "mus_musculus")
    ) -> OrthologyTable:
        """Read a headerless ortholog pair list: gene of ``species[0]``, gene of ``species[1]``, ... ."""
        frame = pd.read_csv(path, sep="\t", compression=_compression(path), header=None, usecols=[0, 1], dtype=str)
        table = cls(Path(path).name.split(".")[0])
        for first, second in zip(frame[0], frame[1]):
            first, second = strip_version(first), strip_version(second)
            table.add_group(first, [(species[0], first), (species[1], second)])
        return table

    @classmethod
    def from_transcript_orthology(cls, path: str | os.PathLike[str]) -> OrthologyTable:
        """Read the transcript ortholog tables of a TranscriptOrthology archive: one group per gene pair.

        Group ids are ``transcriptorthology:<transcript>``, the transcript whose row gave the pair.
        """
        table = cls("transcriptorthology")
        for pair in read_transcript_orthology_pairs(path):
            table.add_group(pair.transcript, [(pair.first_species, pair.first_gene),
                                              (pair.second_species, pair.second_gene)])
        return table

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> OrthologyTable:
        """Read any layout: a TranscriptOrthology archive, or a table told apart by its header."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"orthology table not found: {path}")
        if tarfile.is_tarfile(path):
            try:
                return cls.from_transcript_orthology(path)
            except AnnotationError as error:
                raise ValueError(f"{path}: cannot read the TranscriptOrthology archive: {error}") from None
        try:
            with gzip.open(path, "rb") if is_gzip(path) else open(path, "rb") as handle:
                first_line = handle.readline().decode("utf-8")
            if first_line.startswith("HID\t"):
                return cls.from_homologene(path)
            if first_line.startswith("human_symbol\t"):
                return cls.from_hcop(path)
            if len(first_line.split("\t")) >= 2 and first_line.startswith("ENS"):
                return cls.from_pairs(path)
        except (ValueError, KeyError, EOFError, zlib.error) as error:  # pandas, decoding and gzip errors
            raise ValueError(f"{path}: cannot read the orthology table: {type(error).__name__}: {error}") from None
        raise ValueError(
            f"{path}: not a HomoloGene table (header HID, Gene.Symbol, Taxonomy, Gene.ID), an HCOP table (header "
            "human_symbol, human_entrez, human_ensembl, taxon_id, symbol, entrez, ensembl, support, support_n), "
            "an Ensembl ortholog pair list (ENSG<TAB>ENSMUSG, no header) nor a TranscriptOrthology tar.gz"
        )
