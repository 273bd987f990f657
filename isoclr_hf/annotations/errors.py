"""What a reader does with a record it cannot use: raise a clear error, or count a skip."""

from __future__ import annotations

from collections import Counter
from typing import Literal

OnError = Literal["raise", "skip"]
ON_ERROR_CHOICES = ("raise", "skip")


class AnnotationError(ValueError):
    """A record in an annotation file that cannot be turned into a transcript.

    Attributes:
        reason: A short, stable key for the kind of problem (e.g. ``"overlapping_exons"``); it is
            what a skip is counted under.
        transcript_id: The transcript the problem belongs to, where known (``""`` otherwise).
    """

    def __init__(self, message: str, *, reason: str, transcript_id: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.transcript_id = transcript_id


class SkipLog(Counter):
    """A ``Counter`` of skip reasons that also keeps the ids of the skipped transcripts.

    Every reader accepts it wherever it accepts a ``skipped`` counter; ``ids[reason]`` lists the
    transcript ids left out for that reason, in the order they were met (an id appears once per
    reason).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.ids: dict[str, list[str]] = {}

    def add(self, reason: str, transcript_id: str = "", count: int = 1) -> None:
        """Count ``count`` skips under ``reason``, remembering ``transcript_id`` if given."""
        self[reason] += count
        if transcript_id:
            self.ids.setdefault(reason, []).append(transcript_id)

    def examples(self, limit: int = 5) -> dict[str, list[str]]:
        """The first ``limit`` transcript ids of every reason that has any."""
        return {reason: ids[:limit] for reason, ids in sorted(self.ids.items()) if ids}


def count_skip(skipped: Counter[str] | None, reason: str, transcript_id: str = "", count: int = 1) -> None:
    """Add a skip to ``skipped`` (a plain ``Counter`` or a :class:`SkipLog`, which also keeps the id)."""
    if skipped is None:
        return
    if isinstance(skipped, SkipLog):
        skipped.add(reason, transcript_id, count)
    else:
        skipped[reason] += count


def check_on_error(on_error: str) -> None:
    """Raise ``ValueError`` for an ``on_error`` value other than ``"raise"`` or ``"skip"``."""
    if on_error not in ON_ERROR_CHOICES:
        raise ValueError(f"on_error must be one of {ON_ERROR_CHOICES}, got {on_error!r}")


def handle_problem(error: AnnotationError, on_error: str, skipped: Counter[str] | None) -> None:
    """Raise ``error`` (``on_error="raise"``) or count it under ``error.reason`` and carry on."""
    if on_error == "raise":
        raise error
    count_skip(skipped, error.reason, error.transcript_id)
