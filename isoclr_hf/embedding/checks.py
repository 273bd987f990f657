"""Records checked before any forward pass: each one tokenizes, or is skipped or refused with its name.

The tokenizer is the judge of a record (alphabet, exon ends, CDS); the length is checked here first,
so a transcript longer than the model's maximum is refused with the command's own words
(``--truncate``, ``--skip-bad-records``), not the tokenizer's Python arguments.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..annotations.records import TranscriptRecord, tokenize_records

# Records tokenized together while checking; a chunk that fails is checked again one record at a time.
CHECK_CHUNK = 64
TOO_LONG = "longer than the model's maximum"
REFUSED = "refused by the tokenizer"
TOKENIZER_LABEL = re.compile(r"^sequence \d+( \(.*?\))?: ")


class BadRecordError(ValueError):
    """A record the model cannot embed, named with its position (1-based) and transcript id."""


def check_records(
    tokenizer: Any,
    records: Sequence[TranscriptRecord],
    *,
    truncate: bool,
    skip_bad_records: bool,
    skipped: Counter[str],
    first_position: int = 1,
) -> list[TranscriptRecord]:
    """The records that tokenize, in input order; every one is checked before this returns.

    Args:
        tokenizer: The model's ``IsoCLRTokenizer`` (its ``model_max_length`` is the longest sequence).
        records: The records to check.
        truncate: Accept records longer than the maximum (their 5' end is embedded).
        skip_bad_records: Drop a bad record and count it in ``skipped`` instead of raising.
        skipped: Counts of dropped records by reason; updated in place.
        first_position: The 1-based input position of ``records[0]`` (for the messages).

    Returns:
        The records to embed.

    Raises:
        BadRecordError: for the first bad record unless ``skip_bad_records``, naming its input
            position, its id and the problem.
    """
    limit = int(tokenizer.model_max_length)
    kept: list[TranscriptRecord] = []
    for start in range(0, len(records), CHECK_CHUNK):
        chunk = records[start:start + CHECK_CHUNK]
        fits = []
        for offset, record in enumerate(chunk):
            if len(record.sequence) > limit and not truncate:
                message = (f"record {first_position + start + offset} ({record.transcript_id!r}) is "
                           f"{len(record.sequence):,} nt, longer than the model's maximum of {limit:,} nt: pass "
                           f"--truncate to embed its 5' {limit:,} nt, or --skip-bad-records to skip it")
                refuse_or_count(message, TOO_LONG, skip_bad_records, skipped)
            else:
                fits.append((start + offset, record))
        if not fits:
            continue
        try:
            tokenize_records(tokenizer, [record for _, record in fits], truncation=truncate)
            kept.extend(record for _, record in fits)
            continue
        except ValueError:
            pass  # find the bad record(s) one at a time
        for index, record in fits:
            try:
                tokenize_records(tokenizer, [record], truncation=truncate)
            except ValueError as error:
                # The tokenizer names the record "sequence 1" (of a one-record batch): name it by its input position.
                problem = TOKENIZER_LABEL.sub("", str(error), count=1)
                message = f"record {first_position + index} ({record.transcript_id!r}): {problem}"
                refuse_or_count(message, REFUSED, skip_bad_records, skipped)
            else:
                kept.append(record)
    return kept


def refuse_or_count(message: str, reason: str, skip_bad_records: bool, skipped: Counter[str]) -> None:
    if not skip_bad_records:
        raise BadRecordError(message)
    skipped[reason] += 1


def embedded_length(record: TranscriptRecord, max_length: int) -> int:
    """Nucleotides of ``record`` the model sees: its length, or the maximum for a truncated one."""
    return min(len(record.sequence), max_length)


__all__ = ["BadRecordError", "check_records", "embedded_length"]
