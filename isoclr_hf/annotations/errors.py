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
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_on_error(on_error: str) -> None:
    """Raise ``ValueError`` for an ``on_error`` value other than ``"raise"`` or ``"skip"``."""
    if on_error not in ON_ERROR_CHOICES:
        raise ValueError(f"on_error must be one of {ON_ERROR_CHOICES}, got {on_error!r}")


def handle_problem(error: AnnotationError, on_error: str, skipped: Counter[str] | None) -> None:
    """Raise ``error`` (``on_error="raise"``) or count it under ``error.reason`` and carry on."""
    if on_error == "raise":
        raise error
    if skipped is not None:
        skipped[error.reason] += 1
