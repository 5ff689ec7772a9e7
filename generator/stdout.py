"""Command output on stdout: every byte written, or an error.

``sys.stdout.write`` can lose the end of a large text without a word.  When
the reader of a pipe exits in the middle of a write, Linux returns the count
written so far, and CPython's buffered writer (3.11 and 3.13 seen here) hands
that short count back to the text layer, which ignores it: ``vaultgen check |
head`` then exited 1 ("findings") with most of the report gone and no broken
pipe seen.  Writing to the file descriptor ourselves, until every byte is
taken, turns that into the ``BrokenPipeError`` the CLI answers with exit 141,
and a full disk into the ``OSError`` it answers with exit 3.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable

CHUNK = 1 << 16  # characters gathered before each write: about a Linux pipe's capacity


def write(text: str) -> None:
    write_pieces((text,))


def is_terminal() -> bool:
    """Whether stdout is a terminal (colour is for people, not for files and pipes)."""
    return sys.stdout is not None and sys.stdout.isatty()


def write_pieces(pieces: Iterable[str]) -> None:
    """Write ``pieces`` to stdout in order, all of them, then return; raise ``OSError`` if not."""
    out = sys.stdout
    if out is None:  # started with stdout closed (`>&-`): Python then has no sys.stdout at all
        raise OSError(errno.EBADF, "standard output is closed")
    fd = _file_descriptor(out)
    if fd is None:
        out.writelines(pieces)
        out.flush()
        return
    out.flush()  # what rich or print() wrote before comes first
    encoding, errors = out.encoding or "utf-8", out.errors or "strict"
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= CHUNK:
            _write_all(fd, "".join(batch).encode(encoding, errors))
            batch, size = [], 0
    if batch:
        _write_all(fd, "".join(batch).encode(encoding, errors))


def _file_descriptor(out: object) -> int | None:
    """stdout's descriptor, or None where bytes cannot go to it unchanged: a test runner's
    buffer, or Windows, whose text layer turns each newline into two bytes."""
    if os.linesep != "\n":
        return None
    try:
        return out.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
