"""The incremental check's state file: how it is written, read and updated.

The state (see ``generator.lint.incremental``) is a header frame, then each
table of ``TABLES`` in order as frames of at most ``_ENTRIES_PER_FRAME``
entries, closed by a frame holding ``None``.  A 50k-note vault's state is
~60 MB of marshal: written a frame at a time, no run holds more than one
frame's bytes beside the tables themselves.  An incremental run writes only
what it changed (a delta next to the state), not the whole state.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from generator.lint.cachefile import CACHE_VERSION, frame, part_file, read_frames, read_one, write_one
from generator.lint.vaultindex import VaultFiles
from generator.writer.fsops import atomic_write

# An incremental run saves only what changed since the last full run (the
# delta, next to the state): rewriting a 10k-note vault's ~20 MB state costs
# more than the rest of the run.  Past this many changed entries (plus one
# per ten files), the whole state is rewritten.
_MAX_DELTA_KEYS = 2000
# Entries per frame of a table: a few MB of marshal at most (subpaths hold
# each source's links).
_ENTRIES_PER_FRAME = 2000

# The state's tables, in file order, with what ``table[key]`` gives for a missing key.
TABLES: dict[str, Any] = {
    "by_name": [], "by_path": None, "alias_owners": [],  # VaultIndex's resolution tables
    "aliases": None,  # note -> its aliases' name keys, sorted
    "inbound": None,  # file -> how many other files link to it
    "targets": None,  # source -> the files it links to
    "dependents": None,  # note -> the sources with subpath links into it
    "subpaths": None,  # source -> (its links as marshal bytes, target notes, positions in its links)
    "anchors": None,  # note -> (headings, heading_keys, block_ids, read whole), if it has any or was not read whole
    "own": None,  # source -> check_source's findings (plain)
}


def state_file(root: Path, part: str = "state") -> Path:
    """``state``: written by a full run; ``delta``: what incremental runs changed since."""
    return part_file(root, part)


def file_set_key(files: VaultFiles) -> bytes:
    """Digest of which files exist (not of their contents)."""
    digest = hashlib.sha256()
    for part in (sorted(files.parsed), sorted(files.attachments), sorted(f"{path}\0{why}" for path, why in files.skipped)):
        digest.update("\0".join(part).encode("utf-8", "surrogatepass") + b"\1")
    return digest.digest()


class Table(dict):
    """A state table that remembers which keys an incremental run changed,
    and gives ``missing`` for an absent key (a defaultdict that does not insert)."""

    def __init__(self, data: dict, missing: Any, changed: Iterable[str] = ()):
        super().__init__(data)
        self.missing, self.changed = missing, set(changed)

    def __missing__(self, key: str) -> Any:
        if self.missing is None:
            raise KeyError(key)
        return self.missing

    def __setitem__(self, key: str, value: Any) -> None:
        self.changed.add(key)
        super().__setitem__(key, value)

    def pop(self, key: str, *default: Any) -> Any:
        self.changed.add(key)
        return super().pop(key, *default)


def _table_frames(items: Iterable[tuple[str, Any]]) -> Iterator[bytes]:
    entries = iter(items)
    while chunk := dict(islice(entries, _ENTRIES_PER_FRAME)):
        yield from frame(marshal.dumps(chunk))
    yield from frame(marshal.dumps(None))


def _read_table(frames: Iterator[bytes]) -> dict:
    """One table's frames (StopIteration: the file is cut short)."""
    table: dict = {}
    while (chunk := marshal.loads(next(frames))) is not None:
        if not isinstance(chunk, dict):
            raise TypeError("not a state table")
        table.update(chunk)
    return table


def write_state(root: Path, head: tuple, tables: Iterable[Iterable[tuple[str, Any]]]) -> None:
    """The state file: ``head`` (file set key, stamps, fixed findings,
    segments), then each table's entries, in the order of TABLES, as they come."""
    token = os.urandom(16)  # names this state in its deltas

    def frames() -> Iterator[bytes]:
        yield from frame(marshal.dumps((CACHE_VERSION, token, *head)))
        for table in tables:
            yield from _table_frames(table)

    path = state_file(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, frames(), durable=False)
        state_file(root, "delta").unlink(missing_ok=True)
    except (OSError, ValueError):
        pass  # a state that cannot be written is only a slower next run


def load_state(files: VaultFiles) -> dict | None:
    """The saved state with its delta applied, its tables as Tables
    (``state["changed"]``: the segments the delta replaced); None unless
    it is for these files."""
    frames = read_frames(state_file(files.root))
    head = marshal.loads(next(frames, b"N"))
    if not (isinstance(head, tuple) and len(head) == 6 and head[0] == CACHE_VERSION and head[2] == file_set_key(files)):
        return None
    _, token, _, stamps, fixed, segments = head
    data = read_one(state_file(files.root, "delta"))
    delta = data.get("delta") if data else None
    if not isinstance(delta, dict) or delta.get("token") != token:
        delta = {"stamps": stamps, "segments": {}, "tables": {}}
    state = {"token": token, "fixed": fixed, "segments": segments, "stamps": delta["stamps"], "changed": delta["segments"]}
    for name, missing in TABLES.items():
        table = _read_table(frames)
        changes = delta["tables"].get(name, {})
        for key, value in changes.items():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
        state[name] = Table(table, missing, changes)
    for path, segment in state["changed"].items():
        if segment:
            segments[path] = segment
        else:
            segments.pop(path, None)
    return state


def save_update(files: VaultFiles, state: dict) -> None:
    """Save what an incremental run changed: as a delta, or past
    ``_MAX_DELTA_KEYS`` as a whole new state."""
    tables = {name: {key: state[name].get(key) for key in state[name].changed} for name in TABLES}
    if sum(map(len, tables.values())) > _MAX_DELTA_KEYS + len(files.parsed) // 10:
        head = (file_set_key(files), state["stamps"], state["fixed"], state["segments"])
        write_state(files.root, head, (state[name].items() for name in TABLES))
        return
    delta = {"token": state["token"], "stamps": state["stamps"], "segments": state["changed"], "tables": tables}
    write_one(state_file(files.root, "delta"), {"delta": delta})
