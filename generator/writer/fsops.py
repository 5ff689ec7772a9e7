"""File-system primitives: the one atomic write, safe opens, folders, one-line OS errors.

Everything in vaultgen that replaces a file, or keeps state in one, goes
through ``atomic_write``: a temporary file with a unique name, created with
``O_EXCL | O_NOFOLLOW`` beside the target, then ``os.replace``.  (Files that
are new by construction use ``create_new``; an export writes its pages into a
fresh folder of its own, swapped in whole by ``export.outfolder``.)  A symlink planted where a temporary or a
state file goes is therefore never followed (``O_NOFOLLOW`` refuses it,
``O_EXCL`` refuses any existing name, and ``rename`` replaces a symlink
rather than writing through it), and two processes writing the same file
never share a temporary.

This module imports nothing of vaultgen but its errors: every other piece of
the writer builds on it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from generator.errors import DISK_FULL, EXIT_MACHINE, VaultError, VaultgenError

_FILE_MODE = 0o666  # the umask applies, as for any open()
_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

_HINTS = {
    errno.EACCES: "check its permissions (e.g. chmod u+rw)",
    errno.EPERM: "check its permissions (e.g. chmod u+rw)",
    errno.EROFS: "the file system is read-only; build a copy of the project elsewhere",
    errno.ENOSPC: "no space left on the disk: free some space and run the command again",
    errno.EDQUOT: "the disk quota is used up: free some space and run the command again",
    errno.ENOTDIR: "a file is where a folder should be; move that file away",
    errno.EISDIR: "a folder is where a file should be; move that folder away",
    errno.ELOOP: "a symbolic link stands where vaultgen keeps its own file; remove the link",
}


def os_error(exc: OSError, path: Path | str, doing: str, error: type[VaultgenError] = VaultError,
             otherwise: str = "fix this and build again; the next build repairs an interrupted one") -> VaultgenError:
    """One line saying what failed, where, and what the user can do about it (``otherwise``
    where the error number has no advice of its own)."""
    hint = _HINTS.get(exc.errno or 0, otherwise)
    found = error(f"cannot {doing}: {exc.strerror or exc}", path=_named(exc, path), hint=hint)
    if exc.errno in DISK_FULL:
        # As for output to a full disk (README, exit codes): CI must not read it as a failed experiment.
        found.exit_code = EXIT_MACHINE
    return found


def _named(exc: OSError, path: Path | str) -> Path | str:
    """The file an error is about, as the user knows it: a rename's target rather than the
    temporary or staged file it came from, and ``path`` rather than its own temporary."""
    if isinstance(exc.filename2, str):
        return exc.filename2
    if isinstance(exc.filename, str):
        name = Path(exc.filename).name
        return path if name.startswith(f".{Path(path).name}.") and name.endswith("tmp") else exc.filename
    return path


def atomic_write(target: Path, data: bytes | Iterable[bytes], *, durable: bool = True, temp_dir: Path | None = None,
                 on_written: Callable[[], None] | None = None) -> None:
    """Replace ``target`` so that it is always either the old or the new complete file.

    ``data`` is the content, or pieces of it written as they come (a large
    cache need not be held whole in memory).

    ``durable`` fsyncs the file and its folder (the rename lives in the
    folder); caches that are only shortcuts skip it.  ``temp_dir`` (on the
    same file system) holds the temporary instead of the target's folder, so
    a crash leaves it where the next run wipes it.  ``on_written`` runs
    between writing the temporary and the rename (the crash tests' hook).
    On any failure the temporary is removed and the target left as it was.
    """
    target = Path(target)
    fd, temp = _create_temporary(temp_dir or target.parent, target.name)
    try:
        try:
            for piece in (data,) if isinstance(data, bytes) else data:
                _write_all(fd, piece)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if on_written is not None:
            on_written()
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if durable:
        fsync_folder(target.parent)


def _create_temporary(folder: Path, name: str) -> tuple[int, str]:
    """A new file in ``folder`` with a name nobody else uses (like ``tempfile.mkstemp``).

    Its mode is what a plain ``open`` would give (mkstemp's 0600 would stick to
    committed results), and tempfile is not imported on the linter's start-up path.
    """
    for _ in range(100):
        temp = str(folder / f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(temp, _EXCLUSIVE, _FILE_MODE), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(folder / name))


def create_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet (nor be a symlink), durably."""
    fd = os.open(path, _EXCLUSIVE, _FILE_MODE)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def open_regular(path: Path, flags: int = os.O_RDONLY, *, follow: bool = True, mode: int = _FILE_MODE) -> int:
    """A file descriptor of the regular file at ``path``; a folder, FIFO, device or socket is
    refused, never waited on.

    ``O_NONBLOCK`` makes opening a FIFO return at once, so the check happens
    before anything could block.  Raises ``OSError`` (``EINVAL`` for a
    special file) like any other open.
    """
    fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW), mode)
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(kind):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, device or socket)", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


# The most a settings file (pyproject.toml, vaultgen.toml, .obsidian/*.json) is read of: they
# are a few lines; a FIFO is refused, and /dev/zero or a huge file is not read whole.
SETTINGS_MAX_BYTES = 4 * 1024 * 1024


def read_regular(path: Path, *, follow: bool = True, at_most: int | None = None) -> bytes:
    """A regular file's bytes (see ``open_regular``); more than ``at_most`` of them is an
    ``OSError`` (EFBIG), counted as read, since a file may grow while it is read."""
    fd = open_regular(path, follow=follow)
    try:
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if at_most is not None and size > at_most:
                raise OSError(errno.EFBIG, f"larger than {at_most:,} bytes", str(path))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_json(text: str | bytes, **options):
    """``json.loads``, with a document nested too deep for the parser refused like any invalid
    one (``ValueError``): ``[`` * 100,000 in a state file would otherwise be a RecursionError."""
    try:
        return json.loads(text, **options)
    except RecursionError:
        raise ValueError("nested too deeply to be read") from None


def read_state(path: Path) -> str:
    """A state or result file's text, as vaultgen reads every one: never through a symlink
    (``O_NOFOLLOW``: a committed link to /dev/zero or outside the project is refused) and never
    waiting on a FIFO.  Raises ``OSError`` or ``UnicodeDecodeError``."""
    return read_regular(path, follow=False).decode("utf-8")


def append_state(path: Path, text: str) -> None:
    """Append ``text`` to a state file (created if missing), never through a symlink nor to a special file."""
    fd = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, follow=False)
    try:
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def real_folder(folder: Path, what: str, base: Path | None = None) -> Path:
    """Create ``folder`` (with parents) and refuse it, or any folder from ``base`` down, being a link.

    vaultgen's state folders hold files it replaces and deletes; one that is a
    symlink would have those writes and deletions land wherever it points.
    """
    chain = [folder]
    if base is not None and folder.is_relative_to(base):
        chain = [base / Path(*folder.relative_to(base).parts[:n])
                 for n in range(1, len(folder.relative_to(base).parts) + 1)]
    for step in chain:
        if step.is_symlink():
            raise VaultError(f"{what} is a symbolic link; vaultgen never writes through one", path=step,
                             hint=f"remove the link (rm '{step}'); vaultgen recreates the folder")
        try:
            step.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise VaultError(f"{what} is a file, not a folder", path=step,
                             hint="move the file away; vaultgen keeps its own files in that folder") from None
        except OSError as exc:
            raise os_error(exc, step, f"create {what}") from None
    return folder


def fsync_folder(folder: Path) -> None:
    """Make a rename durable: it lives in the folder, not the file."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folders(vault: Path, paths: Iterable[str]) -> None:
    folders = {vault}
    for path in paths:
        folders.update(p for p in (vault / path).parents if p.is_relative_to(vault) and p.is_dir())
    for folder in sorted(folders):
        fsync_folder(folder)


def prune_empty_folders(vault: Path, removed: Iterable[str]) -> None:
    """Drop folders a removal emptied, so Obsidian shows no empty husks."""
    for path in removed:
        for folder in (vault / path).parents:
            if folder == vault or not folder.is_relative_to(vault):
                break
            try:
                folder.rmdir()
            except OSError:  # not empty (or not ours to remove): stop here
                break


def remove_tree(path: Path) -> None:
    """Remove a folder vaultgen made; a symlink in its place is unlinked, never followed."""
    if path.is_symlink():
        with contextlib.suppress(OSError):
            path.unlink()
        return
    shutil.rmtree(path, ignore_errors=True)

