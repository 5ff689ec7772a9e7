"""Find a vault's files and load every note's facts, cached and in parallel.

The cache holds per-note parse facts keyed by (size, mtime, ctime, inode), in a
second file the last run's findings keyed by a digest of the whole listing,
and in a third what an incremental run needs (``generator.lint.incremental``);
where they live and how they are checked is ``generator.lint.cachefile``.  A
corrupt or foreign cache file is ignored past its first damaged frame, never
trusted: the worst case is a cold run.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Iterator, Sequence
from stat import S_ISBLK, S_ISCHR, S_ISFIFO, S_ISREG, S_ISSOCK
from dataclasses import dataclass, field
from pathlib import Path
from sys import intern
from typing import Any

from generator.errors import UsageError
from generator.lint.links import Link, new_link
from generator.lint.notefacts import CANVAS_SUFFIX, NoteFacts, read_note
from generator.lint.cachefile import CACHE_VERSION, cache_file, frame, part_file, read_frames, read_one, write_one
from generator.writer.fsops import atomic_write

NOTE_SUFFIX = ".md"
# Each worker process must get at least this many notes to parse, or
# starting it costs more than it saves.
_NOTES_PER_WORKER = 200
# Notes per task sent to a worker: what a worker, and the parent while it
# unpacks an answer, hold at once beyond the facts themselves.
_NOTES_PER_CHUNK = 500



@dataclass
class VaultFiles:
    """Every visible file of a vault, as posix paths relative to its root."""

    root: Path
    # path -> (size, mtime_ns, ctime_ns, inode): ctime and inode change even
    # when ``touch -r`` or ``cp -p`` restore size and mtime.
    parsed: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # notes and canvases
    attachments: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) not read

    @property
    def note_count(self) -> int:
        return sum(1 for path in self.parsed if path.endswith(NOTE_SUFFIX))


def _stamp(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def scan_vault(root: Path) -> VaultFiles:
    """List notes and attachments, skipping dot-files and dot-folders as Obsidian does.

    Folder symlinks are followed (Obsidian shows their files), each real
    folder once, so a link back up the tree cannot loop.  A file that is not
    a regular file after following links (dangling or looping link, FIFO,
    socket, device) is listed in ``skipped``: opening a FIFO would block.
    """
    files = VaultFiles(root)
    seen = set()
    stack = [("", str(root))]
    while stack:
        prefix, folder = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)  # first of two links to a folder wins
        except OSError:
            continue  # an unreadable folder is invisible to Obsidian too
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = prefix + entry.name
            try:
                if entry.is_dir():
                    stack.append((rel + "/", entry.path))
                    continue
                stat = entry.stat()
            except OSError as error:
                files.skipped.append((rel, error.strerror or type(error).__name__))
                continue
            if not S_ISREG(stat.st_mode):
                files.skipped.append((rel, _special_kind(stat.st_mode)))
            elif entry.name.endswith(NOTE_SUFFIX):
                files.parsed[rel] = _stamp(stat)
            elif entry.name.endswith(CANVAS_SUFFIX):
                files.attachments.append(rel)
                files.parsed[rel] = _stamp(stat)
            else:
                files.attachments.append(rel)
    return files


def _special_kind(mode: int) -> str:
    if S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if S_ISCHR(mode) or S_ISBLK(mode):
        return "a device file"
    if S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _findings_file(root: Path) -> Path:
    return part_file(root, "findings")


def listing_key(files: VaultFiles) -> bytes:
    """Digest of every file's path and every note's stamp (see VaultFiles).

    Findings depend on nothing else (attachments only by name), so an equal
    digest means the findings of the last run still hold.
    """
    listing = (sorted(files.parsed.items()), sorted(files.attachments), sorted(files.skipped))
    return hashlib.sha256(marshal.dumps(listing)).digest()


def load_findings(files: VaultFiles, key: bytes) -> list | None:
    """The last run's findings (plain tuples) if the vault is unchanged since."""
    data = read_one(_findings_file(files.root))
    if data is None or data.get("listing") != key or not isinstance(data.get("findings"), list):
        return None
    return data["findings"]


def save_findings(files: VaultFiles, key: bytes, findings: list[tuple]) -> None:
    write_one(_findings_file(files.root), {"listing": key, "findings": findings})


def _parse_chunk(chunk: list[tuple[str, str, int]]) -> bytes:
    """A worker's answer: marshal bytes of [(rel, packed facts)] (see ``_packed``).

    marshal writes builtins ~3x faster than pickle, and the pool then
    pickles one bytes object per chunk; the parent writes it to the cache as is.
    """
    return marshal.dumps([(rel, _packed(read_note(path, size))) for rel, path, size in chunk])


def _packed(facts: NoteFacts) -> tuple:
    """``facts`` as builtins; links, headings and block ids as marshal bytes.

    A vault's ~10^6 links take ~45 bytes each packed, ~200 as Link tuples,
    and the parent reads them once, a note at a time; headings and block ids
    only of the notes that links name.  What the parent keeps unpacked
    (properties, heading keys) has its strings interned, since tags, keys and
    dates repeat across notes: marshal keeps that, and the parent's load then
    shares one copy.  Interning the packed links and headings would only cost
    time (~40 % of packing them): they are never held unpacked for long.
    """
    fields = facts._asdict()
    fields["properties"] = _interned(facts.properties)
    if facts.property_lines:
        fields["property_lines"] = _interned(facts.property_lines)
    fields["links"] = marshal.dumps(list(map(tuple, facts.links)))
    fields["headings"] = marshal.dumps(list(facts.headings))
    fields["block_ids"] = marshal.dumps(list(facts.block_ids))
    fields["heading_keys"] = [intern(key) for key in facts.heading_keys]
    return tuple(fields.values())


def _interned(value: Any) -> Any:
    """Front matter with its strings interned: tags, keys and dates repeat across notes."""
    kind = type(value)
    if kind is str:
        return intern(value)
    if kind is list:
        return [_interned(item) for item in value]
    if kind is dict:
        return {_interned(key): _interned(item) for key, item in value.items()}
    return value


class Packed(Sequence):
    """A list kept as marshal bytes and rebuilt on each read: for facts that
    the parent reads once or never, which would otherwise hold ~10^6 objects."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def unpacked(self) -> list:
        return marshal.loads(self.data)

    def __iter__(self) -> Iterator:
        return iter(self.unpacked())

    def __len__(self) -> int:
        return len(self.unpacked())

    def __bool__(self) -> bool:
        # A marshalled list is a type byte, a 4-byte count, then its items:
        # an empty one is those 5 bytes, and telling so needs no unpacking.
        return len(self.data) > 5

    def __getitem__(self, index):
        return self.unpacked()[index]

    def __contains__(self, value: object) -> bool:
        return value in self.unpacked()

    def index(self, value: object, *bounds: int) -> int:
        return self.unpacked().index(value, *bounds)

    def __eq__(self, other: object) -> bool:
        return self.unpacked() == list(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.unpacked()!r})"


class PackedLinks(Packed):
    """A note's links: plain tuples in the bytes, Link tuples when read."""

    __slots__ = ()

    def unpacked(self) -> list[Link]:
        return list(map(new_link, self.rows()))

    def __iter__(self) -> Iterator[Link]:
        return map(new_link, self.rows())

    def rows(self) -> list[tuple]:
        """The links as stored: plain tuples with Link's fields, for a loop
        that builds a Link only for the few it reports."""
        return marshal.loads(self.data)


def _unpacked(packed: tuple) -> NoteFacts:
    links, headings, block_ids, *rest = packed
    return NoteFacts(PackedLinks(links), Packed(headings), Packed(block_ids), *rest)


def worker_count() -> int:
    """Worker processes to use: ``VAULTGEN_JOBS``, else one per CPU (a value that is no
    positive whole number is refused: silently ignoring it would hide the typo)."""
    configured = os.environ.get("VAULTGEN_JOBS", "").strip()
    if not configured:
        return os.cpu_count() or 1
    if not configured.isdigit() or int(configured) < 1:
        raise UsageError(f"VAULTGEN_JOBS must be a positive whole number, not {configured!r}",
                         hint="set it to how many worker processes to use, or unset it for one per CPU")
    return int(configured)


def fork_context():
    """multiprocessing's fork context, or None where the platform has no fork.

    Imported here, not at the top: a run with nothing to parse or check in
    parallel does not need multiprocessing.
    """
    import multiprocessing

    return multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None


def _parse_all(jobs: list[tuple[str, str, int]]) -> Iterator[bytes]:
    """``_parse_chunk`` answers for ``jobs``, in any order, after a first b"".

    Worker processes start at that first ``next()``: the caller takes it
    before it loads the cache, so that forked workers do not begin with a
    copy of the parent's memory.
    """
    workers = min(worker_count(), len(jobs) // _NOTES_PER_WORKER)
    if workers <= 1:
        yield b""
        if jobs:
            yield _parse_chunk(jobs)
        return
    import multiprocessing

    # fork shares the already imported parser; spawn would re-import it all.
    context = fork_context() or multiprocessing.get_context()
    # Small interleaved chunks balance big and small notes between workers
    # and bound what a worker, or the parent unpacking an answer, holds at once.
    count = max(workers * 4, len(jobs) // _NOTES_PER_CHUNK)
    with context.Pool(workers) as pool:
        yield b""
        yield from pool.imap_unordered(_parse_chunk, [jobs[start::count] for start in range(count)])


def _started(jobs: list[tuple[str, str, int]]) -> Iterator[bytes]:
    answers = _parse_all(jobs)
    next(answers)
    return answers


def _jobs(files: VaultFiles, wanted) -> list[tuple[str, str, int]]:
    return [(rel, os.path.join(files.root, rel), stamp[0]) for rel, stamp in files.parsed.items() if wanted(rel, stamp)]


def load_facts(files: VaultFiles, *, use_cache: bool = True) -> dict[str, NoteFacts]:
    """Facts for every note of ``files``, reusing cached facts of unchanged notes.

    The cache file is a header ({path: stamp}), then frames of [(path,
    packed facts)] as the workers wrote them; it is written while they
    answer, so that no run holds the whole file in memory.
    """
    cache_path = cache_file(files.root)
    frames = read_frames(cache_path) if use_cache else iter(())
    stamps = _cached_stamps(frames)
    jobs = _jobs(files, lambda rel, stamp: stamps.get(rel) != stamp)
    facts: dict[str, NoteFacts] = {}
    pieces = _loaded(files, frames, stamps, _started(jobs), facts)
    if use_cache and (jobs or len(stamps) != len(files.parsed)):
        _write_facts(cache_path, pieces)
    for _ in pieces:  # what is left when the write failed or was not needed
        pass
    late = _jobs(files, lambda rel, stamp: rel not in facts)  # a damaged cache's notes
    if late:
        for data in _started(late):
            facts.update((rel, _unpacked(packed)) for rel, packed in marshal.loads(data))
        if use_cache:
            _write_facts(cache_path, _repacked(files, facts))
    return {rel: facts[rel] for rel in files.parsed}


def _write_facts(path: Path, pieces: Iterator[bytes]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, pieces, durable=False)
    except (OSError, ValueError):
        pass  # a cache that cannot be written is only a slower next run


def _repacked(files: VaultFiles, facts: dict[str, NoteFacts]) -> Iterator[bytes]:
    """The cache file for ``facts``, from memory (after a damaged cache)."""
    yield from frame(marshal.dumps((CACHE_VERSION, files.parsed)))
    rels = list(facts)
    for start in range(0, len(rels), _NOTES_PER_CHUNK):
        entries = [(rel, tuple(f.data if isinstance(f, Packed) else f for f in facts[rel])) for rel in rels[start : start + _NOTES_PER_CHUNK]]
        yield from frame(marshal.dumps(entries))


def _cached_stamps(frames: Iterator[bytes]) -> dict:
    """The header's {path: stamp}, or {} when the file is not a current cache."""
    try:
        version, stamps = marshal.loads(next(frames))
    except (StopIteration, EOFError, ValueError, TypeError):
        return {}
    return stamps if version == CACHE_VERSION and isinstance(stamps, dict) else {}


def _loaded(files: VaultFiles, frames: Iterator[bytes], stamps: dict, answers: Iterator[bytes], facts: dict) -> Iterator[bytes]:
    """Fill ``facts`` from the cache's frames and the workers' answers,
    yielding the new cache file piece by piece as it goes."""
    yield from frame(marshal.dumps((CACHE_VERSION, files.parsed)))
    for data in frames:
        try:
            entries = marshal.loads(data)
            kept = [(rel, packed) for rel, packed in entries if stamps.get(rel) == files.parsed.get(rel)]
            batch = {rel: _unpacked(packed) for rel, packed in kept}
        except (EOFError, ValueError, TypeError, IndexError):
            break  # a damaged frame: the notes it and the rest held are parsed after
        facts.update(batch)
        if kept:
            yield from frame(data if len(kept) == len(entries) else marshal.dumps(kept))
    for data in answers:
        facts.update((rel, _unpacked(packed)) for rel, packed in marshal.loads(data))
        yield from frame(data)
