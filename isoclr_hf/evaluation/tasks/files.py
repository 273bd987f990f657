"""User task files: a regression task from a parquet, CSV or TSV table (``isoclr evaluate --task FILE``).

Formats, chosen by the file name: ``.parquet`` (or ``.pq``), ``.csv`` and ``.tsv`` (or ``.tab``);
CSV and TSV may be gzipped (``.csv.gz``, ``.tsv.gz``). Text files need a header line.

Columns (:class:`TaskColumns`; ``isoclr evaluate --sequence-column`` etc.):

* sequence (default ``sequence``): the transcript or fragment, A/C/G/T/U/N and IUPAC codes.
* target(s) (default ``target``): a number per row. One task per target column; several targets are
  evaluated one after the other (the pipeline fits one target at a time).
* group (default: ``gene`` or ``gene_id`` when present): rows of one group (isoforms of a gene,
  variants of one element) never straddle train/validation/test. Without a group column each row is
  its own group, with a warning: isoforms of one gene could then land on both sides of a split.
* cds (default: ``cds`` when present), optional; per row one of
  - an interval, 0-based with the end exclusive (Python slice, the stop codon included):
    ``"start:end"``, ``"start-end"``, ``"start,end"``, ``"[start, end]"`` or a two-int list;
  - an mRNABench-style track: one 0/1 value per nucleotide, 1 at the first nucleotide of every
    codon (a list/array, or in a text file a string of 0s and 1s as long as the sequence);
  - empty (or an all-zero track): a non-coding row.
  A CDS whose length is not a whole number of codons is cut to whole codons and flagged
  ``cds_end_NF`` (a fragment cut by the end of the sequence).
* exon ends (default: ``splice``, else ``exon_ends``, when present), optional; per row one of
  - a list of exon ends, 0-based exclusive (= the 1-based position of each exon's last nucleotide),
    increasing, the last at most the sequence length (the sequence length is added when left out),
    e.g. ``"41,120"`` / ``"[41, 120]"`` / a list of ints;
  - an mRNABench-style splice track: one 0/1 value per nucleotide, 1 at the last nucleotide of
    every exon;
  - empty: one exon (the exon structure is unknown).
* split (``split`` when present): ``train``/``validation``/``test`` per row (``val``, ``valid``
  and ``dev`` are read as validation), used as given instead of a drawn grouped split.
* id (``transcript_id``, ``transcript``, ``id`` or ``name`` when present): the record id.

Without cds and exon columns every row is a non-coding RNA with unknown exons: no all-zero arrays
are needed. The mRNABench layout (``sequence``, ``cds``, ``splice``, ``target``, ``gene``) is read
with no options at all.

Errors: a missing column is a ``ValueError`` naming the file and listing the columns present. A bad
value is a ``ValueError`` naming the file and ``row N``: the 1-based data row, the header not
counted; for CSV/TSV the message also gives the file line (``line N+1``, the header being line 1,
assuming no quoted field spans lines). An id (id column) repeated with other targets, or in two groups,
is refused naming the ids and rows; so is a target column with one value in every row.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...annotations.records import TranscriptRecord
from ..defaults import TASK_FILE_FORMATS
from .regression import RegressionTask, first_non_nucleotide

PARQUET_SUFFIXES = (".parquet", ".pq")
TEXT_SEPARATORS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
GROUP_COLUMN_DEFAULTS = ("gene", "gene_id")
CDS_COLUMN_DEFAULTS = ("cds",)
EXON_COLUMN_DEFAULTS = ("splice", "exon_ends")
SPLIT_COLUMN_DEFAULTS = ("split",)
ID_COLUMN_DEFAULTS = ("transcript_id", "transcript", "id", "name")
SPLIT_ALIASES = {"train": "train", "training": "train", "validation": "validation", "val": "validation",
                 "valid": "validation", "dev": "validation", "test": "test", "testing": "test"}
_EMPTY_TEXT = {"", "none", "nan", "na", "n/a", "null", "-", "."}
_INT_SEPARATORS = re.compile(r"[\s,;:\-\[\]()]+")


@dataclass(frozen=True)
class TaskColumns:
    """Which columns of a task file hold what (``None``: the default named in the module docstring).

    Attributes:
        sequence: Sequence column.
        targets: Target columns, one task each.
        group: Group column (``None``: ``gene``/``gene_id`` when present, else one group per row).
        cds: CDS column (``None``: ``cds`` when present, else no CDS).
        exon_ends: Exon-ends or splice-track column (``None``: ``splice``/``exon_ends`` when present).
    """

    sequence: str = "sequence"
    targets: tuple[str, ...] = ("target",)
    group: str | None = None
    cds: str | None = None
    exon_ends: str | None = None

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError("Name at least one target column.")
        if len(set(self.targets)) != len(self.targets):
            raise ValueError(f"Target columns named twice: {', '.join(self.targets)}.")


def task_file_format(path: Path | str) -> str | None:
    """``"parquet"``, ``"csv"`` or ``"tsv"`` from the file name (``None`` for anything else)."""
    name = Path(path).name.lower()
    gzipped = name.endswith(".gz")
    stem = name[:-3] if gzipped else name
    suffix = Path(stem).suffix
    if suffix in PARQUET_SUFFIXES and not gzipped:
        return "parquet"
    if suffix in TEXT_SEPARATORS:
        return "csv" if suffix == ".csv" else "tsv"
    return None


def task_file_stem(path: Path | str) -> str:
    """The file name without ``.gz`` and the format suffix (``my_task.csv.gz`` -> ``my_task``)."""
    name = Path(path).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return Path(name).stem


def read_table(path: Path | str) -> tuple[pd.DataFrame, bool]:
    """Read a task file; text files as strings (nothing converted). Returns ``(table, is_text)``."""
    path = Path(path)
    kind = task_file_format(path)
    if kind is None:
        raise ValueError(f"{path}: not a task file format; use {TASK_FILE_FORMATS}.")
    if not path.is_file():
        raise FileNotFoundError(f"task file not found: {path}")
    try:
        if kind == "parquet":
            return pd.read_parquet(path), False
        table = pd.read_csv(path, sep="," if kind == "csv" else "\t", dtype=str, keep_default_na=False,
                            compression="infer")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, EOFError) as error:
        raise ValueError(f"{path}: not a readable {kind.upper()} file ({str(error).strip()})") from None
    except (OSError, ValueError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a readable {kind} file ({str(error).strip()})") from None
    return table, True


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in _EMPTY_TEXT
    if isinstance(value, float):
        return math.isnan(value)
    return False


def _ints(value: Any, length: int, what: str) -> list[int] | None:
    """Integers in ``value`` (a list/array or text), a 0/1 string as long as the sequence read digit by
    digit, ``None`` when empty. Raises ``ValueError`` (message without the location) when not integers."""
    if _missing(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if len(text) == length and set(text) <= {"0", "1"} and length > 2:
            return [int(c) for c in text]
        parts = [p for p in _INT_SEPARATORS.split(text) if p]
        if not parts or not all(p.isdigit() for p in parts):
            raise ValueError(f"{what} {value!r} is not a list of non-negative integers")
        return [int(p) for p in parts]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [int(value)]
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {_short(value)} is not a list of integers") from None
    if array.size == 0:
        return None
    if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)) or np.any(array < 0):
        raise ValueError(f"{what} {_short(value)} is not a list of non-negative integers")
    return array.astype(np.int64).tolist()


def _short(value: Any) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_track(values: list[int], length: int) -> bool:
    return len(values) == length and length > 2 and set(values) <= {0, 1}


def parse_cds(value: Any, length: int) -> tuple[int, int, list[str]]:
    """``(cds_start, cds_end, flags)`` from a cds cell (see the module docstring); ``(-1, -1, [])`` for none.

    Raises:
        ValueError: for a malformed value (the message names the value, not the row).
    """
    values = _ints(value, length, "cds")
    if values is None:
        return -1, -1, []
    if _is_track(values, length):
        codon_starts = np.flatnonzero(np.asarray(values))
        if codon_starts.size == 0:
            return -1, -1, []
        start, end = int(codon_starts[0]), min(int(codon_starts[-1]) + 3, length)
    elif len(values) == 2:
        start, end = values
        if not 0 <= start < end <= length:
            raise ValueError(f"cds {_short(value)}: need 0 <= start < end <= {length} (the sequence length); "
                             "the interval is 0-based with the end exclusive")
    else:
        raise ValueError(f"cds {_short(value)} is neither an interval ('start:end', 'start-end' or "
                         f"[start, end]) nor a 0/1 track with one value per nucleotide ({length})")
    flags = []
    if (end - start) % 3:
        end, flags = start + 3 * ((end - start) // 3), ["cds_end_NF"]
        if end == start:
            raise ValueError(f"cds {_short(value)} is shorter than one codon")
    return start, end, flags


def parse_exon_ends(value: Any, length: int) -> list[int]:
    """Exon ends (0-based exclusive, the last = ``length``) from an exon-ends cell or a splice track.

    Raises:
        ValueError: for a malformed value (the message names the value, not the row).
    """
    values = _ints(value, length, "exon ends")
    if values is None:
        return [length]
    if _is_track(values, length):
        ends = (np.flatnonzero(np.asarray(values)) + 1).tolist()
    else:
        ends = values
        if any(b <= a for a, b in pairwise(ends)) or ends[0] < 1 or ends[-1] > length:
            raise ValueError(f"exon ends {_short(value)}: need increasing ends between 1 and {length} "
                             "(the sequence length), or a 0/1 splice track with one value per nucleotide")
    if not ends or ends[-1] != length:
        ends.append(length)
    return ends


def _target(value: Any, column: str) -> float:
    if _missing(value):
        raise ValueError(f"{column} is missing (empty or NaN); drop the row or fill it in")
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{column} value {value!r} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{column} value {_short(value)} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{column} value {_short(value)} is not finite; drop the row or fill it in")
    return number


def _pick(present: list[str], given: str | None, defaults: Sequence[str]) -> str | None:
    if given is not None:
        return given
    return next((name for name in defaults if name in present), None)


SHOWN_IDS = 5  # ids named in an error about repeated ids


def _check_repeated_ids(path: Path, ids: list[str], groups: list[str], labels: np.ndarray,
                        targets: Sequence[str]) -> None:
    """Refuse an id on rows with different targets, or in two groups (it would leak across splits).

    Rows repeating an id with the same targets in one group are kept (they always share a split).

    Args:
        ids: The record id of each row.
        groups: The group of each row.
        labels: The targets. Shape: (rows, targets).
        targets: The target column names.
    """
    rows: dict[str, list[int]] = {}
    for i, transcript_id in enumerate(ids):
        rows.setdefault(transcript_id, []).append(i)
    repeated = {transcript_id: where for transcript_id, where in rows.items() if len(where) > 1}

    def listing(bad: list[str]) -> str:
        shown = "; ".join(f"{transcript_id} (rows {', '.join(str(i + 1) for i in repeated[transcript_id])})"
                          for transcript_id in bad[:SHOWN_IDS])
        return shown + (f" and {len(bad) - SHOWN_IDS} more" if len(bad) > SHOWN_IDS else "")

    two_groups = [transcript_id for transcript_id, where in repeated.items() if len({groups[i] for i in where}) > 1]
    if two_groups:
        raise ValueError(f"{path}: id(s) in two or more groups, which would put one transcript on both sides of a "
                         f"split: {listing(two_groups)}; give each id one group.")
    other_targets = [transcript_id for transcript_id, where in repeated.items()
                     if not (labels[where] == labels[where[0]]).all()]
    if other_targets:
        raise ValueError(f"{path}: id(s) repeated with different {', '.join(targets)} values: "
                         f"{listing(other_targets)}; keep one row per id (or average them).")


def read_task_file(
    path: Path | str,
    columns: TaskColumns | None = None,
    *,
    announce: Callable[[str], object] | None = None,
) -> list[RegressionTask]:
    """Regression tasks from a parquet/CSV/TSV file, one per target column (see the module docstring).

    Args:
        path: The task file.
        columns: Which columns hold what (default: the mRNABench names).
        announce: Called with the warning when the file has no group column (default:
            :func:`warnings.warn`).

    Returns:
        One task per target column, in the order given. A single target is named after the file
        (``my_task.csv`` -> ``my_task``); several are named ``<file>_<target>``.

    Raises:
        ValueError: naming the file (and the row for a bad value; see the module docstring).
    """
    path = Path(path)
    columns = columns or TaskColumns()
    table, is_text = read_table(path)
    present = [str(c) for c in table.columns]
    group_column = _pick(present, columns.group, GROUP_COLUMN_DEFAULTS)
    cds_column = _pick(present, columns.cds, CDS_COLUMN_DEFAULTS)
    exon_column = _pick(present, columns.exon_ends, EXON_COLUMN_DEFAULTS)
    split_column = _pick(present, None, SPLIT_COLUMN_DEFAULTS)
    id_column = _pick(present, None, ID_COLUMN_DEFAULTS)
    required = [columns.sequence, *columns.targets, group_column, cds_column, exon_column]
    missing = [name for name in dict.fromkeys(required) if name is not None and name not in present]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; the file has the columns "
                         f"{', '.join(present) or 'none'}.")
    if len(table) == 0:
        raise ValueError(f"{path}: no data rows.")

    def where(i: int) -> str:
        return f"{path}: row {i + 1}" + (f" (line {i + 2})" if is_text else "")

    records, labels = [], np.empty((len(table), len(columns.targets)))
    groups, split = [], []
    for i, row in enumerate(table.to_dict("records")):
        sequence = row[columns.sequence]
        if _missing(sequence) or not isinstance(sequence, str):
            raise ValueError(f"{where(i)}: empty or missing sequence in column {columns.sequence!r}.")
        sequence = sequence.strip()
        bad = first_non_nucleotide(sequence)
        if bad is not None:
            raise ValueError(f"{where(i)}: character {bad[1]!r} at position {bad[0] + 1} (1-based) is not a "
                             "nucleotide (allowed: A, C, G, T/U, N and the IUPAC codes R Y S W K M B D H V).")
        try:
            labels[i] = [_target(row[name], f"target {name!r}") for name in columns.targets]
            cds_start, cds_end, flags = (parse_cds(row[cds_column], len(sequence)) if cds_column
                                         else (-1, -1, []))
            exon_ends = parse_exon_ends(row[exon_column], len(sequence)) if exon_column else [len(sequence)]
        except ValueError as error:
            raise ValueError(f"{where(i)}: {error}.") from None
        transcript_id = str(row[id_column]) if id_column and not _missing(row[id_column]) else f"row_{i + 1}"
        if group_column:
            if _missing(row[group_column]):
                raise ValueError(f"{where(i)}: empty group in column {group_column!r}.")
            group = str(row[group_column])
        else:
            group = transcript_id
        if split_column:
            name = SPLIT_ALIASES.get(str(row[split_column]).strip().lower())
            if name is None:
                raise ValueError(f"{where(i)}: split {row[split_column]!r} is not one of train, validation "
                                 "(val, valid, dev) or test.")
            split.append(name)
        groups.append(group)
        records.append(TranscriptRecord(transcript_id, group, "", "homo_sapiens", sequence, exon_ends,
                                        cds_start, cds_end, "coding" if cds_start >= 0 else "non_coding",
                                        flags))

    _check_repeated_ids(path, [record.transcript_id for record in records], groups, labels, columns.targets)
    for k, target in enumerate(columns.targets):
        if np.ptp(labels[:, k]) == 0:
            raise ValueError(f"{path}: target column {target!r} has the same value ({labels[0, k]:g}) in every row; "
                             "there is nothing to predict (correlations are undefined): choose another column.")
    notes = [f"{len(records)} rows of {path.name}; sequence column {columns.sequence!r}."]
    if group_column:
        notes.append(f"Groups from the {group_column!r} column ({len(set(groups))} groups); a group never "
                     "straddles splits.")
    else:
        message = (f"{path}: no group column (--group-column; no 'gene' column either): each row is its own "
                   "group, so isoforms or variants of one gene could straddle train/validation/test and "
                   "inflate the test scores.")
        (announce or (lambda text: warnings.warn(text, UserWarning, stacklevel=3)))(message)
        notes.append("No group column: each row is its own group (isoforms of one gene could straddle splits).")
    if cds_column:
        notes.append(f"CDS from the {cds_column!r} column ({sum(r.is_coding for r in records)} coding rows).")
    else:
        notes.append("No CDS column: every row is encoded as a non-coding RNA.")
    notes.append(f"Exon ends from the {exon_column!r} column." if exon_column
                 else "No exon column: every row is one exon (exon structure unknown).")
    if split_column:
        notes.append(f"Split as given by the {split_column!r} column.")
    stem = task_file_stem(path)
    tasks = []
    for k, target in enumerate(columns.targets):
        tasks.append(RegressionTask(
            name=stem if len(columns.targets) == 1 else f"{stem}_{target}",
            records=list(records),
            labels=labels[:, k],
            groups=np.asarray(groups, dtype=object),
            target_name=target,
            dataset_name=f"Task file {path.name}" + (f" (target {target})" if len(columns.targets) > 1 else ""),
            source=str(path),
            predefined_split=np.asarray(split, dtype=object) if split_column else None,
            notes=[*notes, f"Target: the {target!r} column."],
        ))
    return tasks


__all__ = ["TASK_FILE_FORMATS", "TaskColumns", "parse_cds", "parse_exon_ends", "read_table", "read_task_file",
           "task_file_format", "task_file_stem"]
