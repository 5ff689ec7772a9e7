"""Find a vault's files and load every note's facts, cached and in parallel.

The cache holds per-note parse facts keyed by (size, mtime, ctime, inode), and in a
second file the last run's findings keyed by a digest of the whole listing;
it lives outside the vault (``$VAULTGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/vaultgen``,
else ``~/.cache/vaultgen``), in files named by a hash of the
vault's absolute path.  A corrupt or foreign cache file is ignored, never
trusted: the worst case is a cold run.
"""

from __future__ import annotations

import hashlib
import marshal
import multiprocessing
import os
from stat import S_ISBLK, S_ISCHR, S_ISFIFO, S_ISREG, S_ISSOCK
from dataclasses import dataclass, field
from pathlib import Path

from generator.lint.notefacts import CANVAS_SUFFIX, NoteFacts, from_plain, read_note, to_plain
from generator.writer.fsops import atomic_write

CACHE_VERSION = 4
NOTE_SUFFIX = ".md"
# Each worker process must get at least this many notes to parse, or
# starting it costs more than it saves.
_NOTES_PER_WORKER = 200


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


def cache_file(root: Path) -> Path:
    base = os.environ.get("VAULTGEN_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = os.path.join(xdg, "vaultgen")
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return Path(base) / f"check-{digest}.marshal"


def _read_cache(path: Path) -> dict | None:
    """The cache file's dict if it is ours and current, else None (ignored)."""
    try:
        with open(path, "rb") as handle:
            # marshal.load on a file reads in tiny pieces; loads is ~5x faster.
            data = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return data if isinstance(data, dict) and data.get("version") == CACHE_VERSION else None


def _write_cache(path: Path, data: dict) -> None:
    """Write atomically; a cache that cannot be written is only a slower next run."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, marshal.dumps({"version": CACHE_VERSION, **data}), durable=False)
    except (OSError, ValueError):
        pass


def _load_cache(path: Path) -> dict:
    notes = (_read_cache(path) or {}).get("notes")
    return notes if isinstance(notes, dict) else {}


def _findings_file(root: Path) -> Path:
    path = cache_file(root)
    return path.with_name(path.stem + "-findings.marshal")


def listing_key(files: VaultFiles) -> bytes:
    """Digest of every file's path and every note's stamp (see VaultFiles).

    Findings depend on nothing else (attachments only by name), so an equal
    digest means the findings of the last run still hold.
    """
    listing = (sorted(files.parsed.items()), sorted(files.attachments), sorted(files.skipped))
    return hashlib.sha256(marshal.dumps(listing)).digest()


def load_findings(files: VaultFiles, key: bytes) -> list | None:
    """The last run's findings (plain tuples) if the vault is unchanged since."""
    data = _read_cache(_findings_file(files.root))
    if data is None or data.get("listing") != key or not isinstance(data.get("findings"), list):
        return None
    return data["findings"]


def save_findings(files: VaultFiles, key: bytes, findings: list[tuple]) -> None:
    _write_cache(_findings_file(files.root), {"listing": key, "findings": findings})


def _parse_chunk(chunk: list[tuple[str, str, int]]) -> list[tuple[str, tuple]]:
    # Plain tuples, not NoteFacts: they pickle (to the parent) and marshal
    # (to the cache) as builtins, with no class lookups.
    return [(rel, to_plain(read_note(path, size))) for rel, path, size in chunk]


def _worker_count() -> int:
    configured = os.environ.get("VAULTGEN_JOBS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return os.cpu_count() or 1


def _parse_chunk_marshalled(chunk: list[tuple[str, str, int]]) -> bytes:
    # marshal writes builtins ~3x faster than pickle; the pool then only
    # pickles one bytes object per chunk.
    return marshal.dumps(_parse_chunk(chunk))


def _parse_all(jobs: list[tuple[str, str, int]]) -> list[tuple[str, tuple]]:
    workers = min(_worker_count(), len(jobs) // _NOTES_PER_WORKER)
    if workers <= 1:
        return _parse_chunk(jobs)
    # fork shares the already imported parser; spawn would re-import it all.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Interleaved chunks balance big and small notes between workers; a few
    # per worker let the parent unpack early chunks while later ones parse.
    chunks = [jobs[start :: workers * 4] for start in range(workers * 4)]
    results: list[tuple[str, tuple]] = []
    with context.Pool(workers) as pool:
        for part in pool.imap_unordered(_parse_chunk_marshalled, chunks):
            results.extend(marshal.loads(part))
    return results


def load_facts(files: VaultFiles, *, use_cache: bool = True) -> dict[str, NoteFacts]:
    """Facts for every note of ``files``, reusing cached facts of unchanged notes."""
    cache_path = cache_file(files.root)
    cached = _load_cache(cache_path) if use_cache else {}
    entries: dict[str, tuple] = {}
    jobs = []
    for rel, stamp in files.parsed.items():
        hit = cached.get(rel)
        if hit is not None and hit[0] == stamp:
            entries[rel] = hit
        else:
            jobs.append((rel, os.path.join(files.root, rel), stamp[0]))
    for rel, facts in _parse_all(jobs):
        entries[rel] = (files.parsed[rel], facts)
    if use_cache and (jobs or len(cached) != len(entries)):
        _write_cache(cache_path, {"notes": entries})
    return {rel: from_plain(entry[1]) for rel, entry in entries.items()}
