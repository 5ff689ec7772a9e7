"""vaultgen's folder of per-user caches, and what keeps it from growing forever.

It holds the linter's files (a few per vault checked, named by a hash of
the vault's path) and, in ``jinja/``, the compiled note templates (one per
template path).  Both are keyed by paths, so every vault or project that
ever was, temporary ones included, would leave its files behind: a file
not written or marked used for ``STALE_DAYS`` is deleted, at most once a
day.  ``vaultgen check`` marks its vault's files used (``keep``), so a
vault checked every week keeps its cache however long it stays unchanged;
a template compiled more than ``STALE_DAYS`` ago is compiled once more.

Beside the standard library it imports only ``writer.fsops`` (itself only the errors):
the linter and the build both import it.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable
from pathlib import Path

from generator.writer.fsops import open_regular

STALE_DAYS = 30
_DAY = 24 * 3600
# Written by each pruning: its age says when the last one ran.
_MARKER = ".pruned"
# (subfolder, name prefix, suffix) of the files this module may delete: only ours, and the
# temporaries a killed writer leaves (the atomic writer's ".check-….tmp", Jinja's "….cacheXXXX.tmp").
_OURS = (("", "check-", ".marshal"), ("", ".check-", ".tmp"), ("jinja", "__jinja2_", ".cache"), ("jinja", "__jinja2_", ".tmp"))


def cache_dir() -> Path:
    """``$VAULTGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/vaultgen``, else ``~/.cache/vaultgen``."""
    base = os.environ.get("VAULTGEN_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vaultgen"


def private_folder(name: str) -> Path | None:
    """``cache_dir() / name``, created mode 0700; None unless it is a real
    folder of this user's that nobody else may write to (what Jinja asks of
    a bytecode folder: its files are loaded as code)."""
    folder = cache_dir() / name
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        return None
    return folder


def keep(paths: Iterable[Path]) -> None:
    """Mark cache files as used now (their modification time), so that pruning spares them."""
    nofollow = os.utime in os.supports_follow_symlinks  # not on Windows
    for path in paths:
        try:
            if nofollow:
                os.utime(path, follow_symlinks=False)
            elif not os.path.islink(path):
                os.utime(path)
        except OSError:
            pass  # absent, or not ours: nothing to keep


def prune(now: float | None = None) -> int:
    """Delete our cache files unused for ``STALE_DAYS``, unless that was done
    within the last day; how many were deleted.  Never raises: a cache that
    cannot be tidied costs disk space, not a failed run."""
    now = time.time() if now is None else now
    root = cache_dir()
    marker = root / _MARKER
    try:
        if now - os.lstat(marker).st_mtime < _DAY:
            return 0
    except OSError:
        pass  # never pruned here (or the marker is unreadable): prune
    removed = 0
    for sub, prefix, suffix in _OURS:
        removed += _prune_folder(root / sub if sub else root, prefix, suffix, now - STALE_DAYS * _DAY)
    _stamp(marker, now)
    return removed


def _stamp(marker: Path, now: float) -> None:
    """Create or date ``marker``, never through a link (nor waiting on a FIFO)."""
    try:
        fd = open_regular(marker, os.O_WRONLY | os.O_CREAT, follow=False, mode=0o600)
    except OSError:
        return
    try:
        os.utime(fd if os.utime in os.supports_fd else marker, (now, now))
    except OSError:
        pass
    finally:
        os.close(fd)


def _prune_folder(folder: Path, prefix: str, suffix: str, before: float) -> int:
    removed = 0
    try:
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            return 0  # a link (or someone else's folder) there: never prune what it leads to
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)  # a link is judged, and removed, as itself
            if info.st_mtime < before:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed
