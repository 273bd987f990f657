"""Readers that turn standard annotation files into :class:`TranscriptRecord` objects."""

from .records import TranscriptRecord

__all__ = ["TranscriptRecord"]
