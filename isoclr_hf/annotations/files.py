"""Reading the text files every reader takes: plain or gzip-compressed (told by content), lines numbered,
bytes that are not UTF-8 reported with their line."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from .errors import AnnotationError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is gzip-compressed, told by its first two bytes (not by its name)."""
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of a plain or gzip-compressed file, line ends removed.

    Gzip is recognised by its magic bytes, so a plain file named ``.gz`` and a gzip file named
    ``.gtf`` both read. Bytes that are not UTF-8 are kept as surrogates (``surrogateescape``) so
    that the caller can report them with their line: see :func:`check_utf8`.

    Raises:
        AnnotationError: The gzip stream is truncated or corrupt (reason ``unreadable_file``).
    """
    line_number = 0
    try:
        with gzip.open(path, "rb") if is_gzip(path) else open(path, "rb") as handle:
            for line_number, raw in enumerate(handle, start=1):
                yield line_number, raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise AnnotationError(
            f"{path}: the gzip data is truncated or corrupt after line {line_number} ({error}); "
            "download or compress the file again",
            reason="unreadable_file",
        ) from None


def check_utf8(text: str, where: str) -> None:
    """Raise :class:`AnnotationError` naming ``where`` if ``text`` (from :func:`iter_lines`) held non-UTF-8 bytes."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        byte = ord(text[error.start]) & 0xFF
        raise AnnotationError(
            f"{where}: not UTF-8 text (byte 0x{byte:02x} at column {error.start + 1}); "
            "is this a binary or compressed file, or a file in another encoding?",
            reason="malformed_line",
        ) from None


__all__ = ["GZIP_MAGIC", "check_utf8", "is_gzip", "iter_lines"]
