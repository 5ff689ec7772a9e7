"""The linter's cache files: where they live, and how they are framed and checked.

They live outside the vault, in vaultgen's cache folder (``$VAULTGEN_CACHE_DIR``,
else ``$XDG_CACHE_HOME/vaultgen``, else ``~/.cache/vaultgen``; files unused
for 30 days are deleted: ``generator.usercache``), in files named by a hash
of the vault's absolute path.  Every file is a sequence of frames, each
its length, the CRC-32 of its bytes, and its bytes (marshal of builtins):
a file is read as far as it is whole, and a damaged, cut-short or foreign
file costs a slower run, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from generator.usercache import cache_dir
from generator.writer.fsops import atomic_write, open_regular, read_regular

# 7: the incremental state's tables are written in frames of entries.
# 8: a key given twice is a YAML error; quotes and lists nest to markdown-it's new limit.
# 9: "/Name" is the vault root's Name (the findings and resolution tables change).
# 10: "%%" in a file name is an unlinkable-filename warning; columns after a tab a list indent took part of.
# 11: "|" in a file name is unportable too; a link to a skipped file says so.
# 12: a note read only in part (nesting past the parser's limit); anchors say whether read whole.
# 13: a "^id" closing a heading is a block id of the note.
CACHE_VERSION = 13

# A cache frame starts with its length and the CRC-32 of its bytes: marshal
# reads damaged bytes as other valid data as often as it refuses them, and
# facts kept packed are decoded long after the file was read.
FRAME_HEADER = 12


def cache_file(root: Path) -> Path:
    """The facts file of the vault at ``root``; its other files share the name's stem."""
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return cache_dir() / f"check-{digest}.marshal"


def part_file(root: Path, part: str) -> Path:
    """The vault's cache file for ``part``: "findings", "state" or "delta"."""
    path = cache_file(root)
    return path.with_name(f"{path.stem}-{part}.marshal")


def vault_files(root: Path) -> list[Path]:
    """Every cache file of the vault at ``root``."""
    return [cache_file(root), *(part_file(root, part) for part in ("findings", "state", "delta"))]


def read_one(path: Path) -> dict | None:
    """The cache file's dict if it is ours and current, else None (ignored).

    Like every cache read, never through a symlink nor waiting on a FIFO: a
    special file there is a cache miss."""
    try:
        # marshal.load on a file reads in tiny pieces; loads of the bytes is ~5x faster.
        data = marshal.loads(checked(read_regular(path, follow=False)))
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return data if isinstance(data, dict) and data.get("version") == CACHE_VERSION else None


def write_one(path: Path, data: dict) -> None:
    """Write atomically; a cache that cannot be written is only a slower next run."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, frame(marshal.dumps({"version": CACHE_VERSION, **data})), durable=False)
    except (OSError, ValueError):
        pass


def read_frames(path: Path) -> Iterator[bytes]:
    """The cache file's frames (its header first), each written as its length and its bytes."""
    try:
        with os.fdopen(open_regular(path, follow=False), "rb") as handle:  # never through a link, nor a FIFO
            left = os.fstat(handle.fileno()).st_size
            while left >= FRAME_HEADER:
                header = handle.read(FRAME_HEADER)
                size = int.from_bytes(header[:8], "little")
                left -= FRAME_HEADER + size
                if left < 0:
                    return  # cut short or not ours: the notes it lacks are parsed again
                data = handle.read(size)
                if zlib.crc32(data) != int.from_bytes(header[8:], "little"):
                    return  # damaged: this frame's notes and the rest are parsed again
                yield data
    except OSError:
        return


def frame(data: bytes) -> Iterator[bytes]:
    yield len(data).to_bytes(8, "little") + zlib.crc32(data).to_bytes(4, "little")
    yield data


def checked(blob: bytes) -> bytes:
    """The bytes of a one-frame file, or ValueError when they are not what was written."""
    header, data = blob[:FRAME_HEADER], blob[FRAME_HEADER:]
    if len(header) < FRAME_HEADER or int.from_bytes(header[:8], "little") != len(data) \
            or zlib.crc32(data) != int.from_bytes(header[8:], "little"):
        raise ValueError("damaged cache file")
    return data
