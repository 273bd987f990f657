"""An embedding folder: ``part-NNNNN.parquet`` files, one per shard of the input, and ``.manifest.json``.

Layout of ``isoclr embed ... --out DIR``::

    DIR/.manifest.json        settings (model fingerprint, dtype, inputs, shard size, versions); once every
                              shard is written also ``complete``, ``transcripts``, ``shards`` and ``skipped``
    DIR/part-00000.parquet    the embeddings of input records 0 .. shard_size-1 (less the skipped ones)
    DIR/part-00001.parquet    ...

A part is written to a hidden temporary file (``.part-NNNNN.parquet.*``) and renamed into place, so a
part that exists is whole; each holds the fingerprint of its shard's records in its schema metadata. A
run on a folder whose manifest holds other settings (another model, dtype or input) is refused; a
run with the same settings skips the parts already written. Columns of every part: ``transcript_id``,
``gene_id``, ``gene_name``, ``species``, ``length`` (the transcript's nucleotides), ``truncated``
(whether only its 5' end was embedded) and ``embedding`` (float32, fixed-size list). The folder loads
with ``datasets.load_dataset("parquet", data_dir=DIR)`` or ``pyarrow.parquet.read_table(DIR)``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..annotations.records import TranscriptRecord
from ..atomic_files import atomic_write, write_json_atomically

MANIFEST = ".manifest.json"
FORMAT_VERSION = 1
SHARD_METADATA_KEY = b"isoclr_shard"
# Recorded in the manifest but not compared on resume: the model as named (the fingerprint is compared)
# and the package versions.
RECORDED_ONLY = ("model", "versions")
PART_NAME = re.compile(r"^part-(\d{5,})\.parquet$")


class EmbeddingFolderError(ValueError):
    """A folder that this run must not write into (other settings, unknown files)."""


def records_fingerprint(records: Sequence[TranscriptRecord]) -> str:
    """SHA-256 of what decides the records' embeddings and rows (ids, sequence, exons, CDS), in order."""
    digest = hashlib.sha256()
    for r in records:
        fields = (r.transcript_id, r.gene_id, r.gene_name, r.species, r.sequence, r.exon_ends, r.cds_start, r.cds_end)
        digest.update(json.dumps(fields).encode())
    return digest.hexdigest()


def embedding_table(
    records: Sequence[TranscriptRecord], embeddings: np.ndarray, *, max_length: int
) -> pa.Table:
    """One row per record. ``embeddings`` shape: (len(records), hidden_size), float32."""
    hidden_size = embeddings.shape[1]
    return pa.table({
        "transcript_id": pa.array([r.transcript_id for r in records], type=pa.string()),
        "gene_id": pa.array([r.gene_id for r in records], type=pa.string()),
        "gene_name": pa.array([r.gene_name for r in records], type=pa.string()),
        "species": pa.array([r.species for r in records], type=pa.string()),
        "length": pa.array([len(r.sequence) for r in records], type=pa.int64()),
        "truncated": pa.array([len(r.sequence) > max_length for r in records], type=pa.bool_()),
        "embedding": pa.FixedSizeListArray.from_arrays(
            pa.array(np.ascontiguousarray(embeddings, dtype=np.float32).reshape(-1), type=pa.float32()), hidden_size
        ),
    })


class EmbeddingFolder:
    """The parts and the manifest of one ``--out DIR``; any process of a run may hold one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.manifest_path = self.path / MANIFEST

    def part_path(self, shard: int) -> Path:
        return self.path / f"part-{shard:05d}.parquet"

    def parts(self) -> dict[int, Path]:
        """The parts written so far, by shard index."""
        if not self.path.is_dir():
            return {}
        found = {}
        for entry in self.path.iterdir():
            match = PART_NAME.match(entry.name)
            if match:
                found[int(match.group(1))] = entry
        return dict(sorted(found.items()))

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.exists():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise EmbeddingFolderError(f"{self.manifest_path}: unreadable manifest ({error})") from error

    def prepare(self, settings: dict[str, Any]) -> bool:
        """Start or resume: write the manifest, or check that the existing one holds ``settings``.

        Every process of a run may call this: they compute the same settings, and the manifest is
        replaced atomically. Returns whether the folder already had the manifest (a resumed run).

        Raises:
            EmbeddingFolderError: the path is a file; the folder holds files but no manifest; or
                its manifest was written with other settings (naming each setting that differs).
        """
        if self.path.exists() and not self.path.is_dir():
            raise EmbeddingFolderError(f"{self.path} exists and is a file; --out DIR (no suffix) names a folder")
        manifest = self.read_manifest()
        if manifest is None:
            visible = sorted(p.name for p in self.path.iterdir() if not p.name.startswith((".", "_"))) \
                if self.path.is_dir() else []
            if visible:
                raise EmbeddingFolderError(
                    f"{self.path} exists and holds {visible[0]!r} but no {MANIFEST}: it is not an embedding folder "
                    "of `isoclr embed`; name a new or empty folder")
            write_json_atomically(self.manifest_path, {"format": FORMAT_VERSION, **settings})
            return False
        differences = [
            name for name in sorted(set(settings) | {"format"})
            if name not in RECORDED_ONLY and manifest.get(name) != ({"format": FORMAT_VERSION, **settings}).get(name)
        ]
        if differences:
            shown = "; ".join(f"{name}: folder has {json.dumps(manifest.get(name))[:200]}, this run "
                              f"{json.dumps(({'format': FORMAT_VERSION, **settings}).get(name))[:200]}"
                              for name in differences)
            raise EmbeddingFolderError(
                f"{self.path} holds embeddings made with other settings ({shown}); it is resumed only with "
                "the same model, inputs and options: name another --out, or delete the folder to start over")
        return True

    def done_shard(self, shard: int, fingerprint: str) -> bool:
        """Whether shard ``shard`` is written; raises if its part holds other records than ``fingerprint``."""
        path = self.part_path(shard)
        if not path.exists():
            return False
        stored = self.shard_metadata(path).get("fingerprint")
        if stored != fingerprint:
            raise EmbeddingFolderError(
                f"{path} was written from other input records than shard {shard} of this input "
                f"(fingerprint {stored} vs {fingerprint}): the input changed; delete the folder to start over")
        return True

    @staticmethod
    def shard_metadata(path: Path) -> dict[str, Any]:
        try:
            metadata = pq.read_schema(path).metadata or {}
        except (OSError, pa.ArrowInvalid) as error:
            raise EmbeddingFolderError(f"{path}: unreadable part ({error}); delete it to have it written again") \
                from error
        return json.loads(metadata.get(SHARD_METADATA_KEY, b"{}"))

    def write_part(self, shard: int, table: pa.Table, *, fingerprint: str, skipped: Counter[str]) -> Path:
        """Write one shard's table whole or not at all (hidden temporary file, then rename)."""
        metadata = {"index": shard, "fingerprint": fingerprint, "rows": table.num_rows, "skipped": dict(skipped)}
        table = table.replace_schema_metadata({SHARD_METADATA_KEY: json.dumps(metadata).encode()})
        path = self.part_path(shard)
        atomic_write(path, lambda temporary: pq.write_table(table, temporary))
        return path

    def finish(self, shard_count: int, reader_skipped: Counter[str] | None = None) -> dict[str, Any] | None:
        """Once every shard ``0 .. shard_count-1`` is written: the manifest's totals, written; else None.

        Collective-free, so no process waits for another: whichever process sees the last part writes
        the totals (two writing at once write the same thing). ``reader_skipped``: records the input
        readers skipped (every process reads the whole input, so any one of them knows them all).
        """
        parts = self.parts()
        if any(shard not in parts for shard in range(shard_count)):
            return None
        extra = sorted(set(parts) - set(range(shard_count)))
        if extra:
            raise EmbeddingFolderError(
                f"{self.path} holds {parts[extra[0]].name}, past the {shard_count} shards of this input")
        manifest = self.read_manifest() or {}
        skipped: Counter[str] = Counter(reader_skipped or {})
        shards, transcripts = [], 0
        for path in parts.values():
            metadata = self.shard_metadata(path)
            shards.append({"file": path.name, "rows": metadata["rows"], "fingerprint": metadata["fingerprint"]})
            transcripts += metadata["rows"]
            skipped.update(metadata.get("skipped", {}))
        manifest.update(complete=True, transcripts=transcripts, shards=shards, skipped=dict(skipped))
        write_json_atomically(self.manifest_path, manifest)
        return manifest


__all__ = ["MANIFEST", "EmbeddingFolder", "EmbeddingFolderError", "embedding_table", "records_fingerprint"]
