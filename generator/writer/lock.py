"""One build at a time: an exclusive lock on ``vault/.vaultgen/lock``.

The kernel's ``flock``, not the pid written in the file, decides who holds
the lock.  The kernel drops it when the holder dies, even by ``kill -9``, so a
lock left by a crashed build is recovered without guessing whether a pid is
still alive (pids get reused).  The pid and host in the file only tell the
user who is holding it.  POSIX only (``fcntl``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from collections.abc import Callable
from types import TracebackType

from generator.errors import LockError
from generator.writer.fsops import os_error, parse_json, read_regular
from generator.writer.state import ensure_state_dir, state_dir

LOCK_NAME = "lock"
_POLL_SECONDS = 0.05


class VaultLock:
    """Context manager holding the vault's lock; released even on exceptions."""

    def __init__(self, vault_dir: str | Path, timeout: float = 5.0,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.vault = Path(vault_dir)
        self.timeout = timeout
        self.on_wait = on_wait  # told once, when the lock is found taken, who holds it
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return state_dir(self.vault) / LOCK_NAME

    def __enter__(self) -> VaultLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        ensure_state_dir(self.vault)
        deadline = time.monotonic() + self.timeout
        told = False
        while (fd := self._try_lock()) is None:
            if not told and self.on_wait is not None:
                self.on_wait(f"waiting for another vaultgen build ({_describe_holder(self.path)}) to finish "
                             f"(up to {self.timeout:g} s; Ctrl-C stops waiting)")
                told = True
            if time.monotonic() >= deadline:
                raise LockError(
                    f"another vaultgen build ({_describe_holder(self.path)}) holds the vault's lock; "
                    f"gave up after {self.timeout:g} s",
                    path=self.path,
                    hint="wait for that build to finish or stop it; "
                    "a lock left by a killed build is recovered automatically",
                )
            time.sleep(_POLL_SECONDS)
        self._fd = fd
        try:
            self._write_owner(fd)
        except OSError as exc:
            self.release()
            raise os_error(exc, self.path, "write the lock file") from None

    def release(self) -> None:
        if self._fd is None:
            return
        # Unlink while still holding the lock: a waiter that opened this file
        # will see, once it gets the lock, that the path names another file now.
        # A lock file that cannot be removed is harmless: closing releases the lock.
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None

    def _try_lock(self) -> int | None:
        """The locked file's descriptor, or None if another process holds it."""
        try:
            # O_NOFOLLOW: a symlink planted as the lock must not get its target truncated.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise os_error(exc, self.path, "create the lock file") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The previous holder may have unlinked the file between our open
            # and our flock; a lock on an unlinked file excludes nobody.
            locked = os.fstat(fd).st_ino == os.lstat(self.path).st_ino
        except (BlockingIOError, FileNotFoundError):
            locked = False
        if not locked:
            os.close(fd)
            return None
        return fd

    def _write_owner(self, fd: int) -> None:
        owner = json.dumps({"host": socket.gethostname(), "pid": os.getpid()}) + "\n"
        os.ftruncate(fd, 0)
        os.write(fd, owner.encode())


def _describe_holder(path: Path) -> str:
    try:
        owner = parse_json(read_regular(path, follow=False))
        return f"pid {owner['pid']} on {owner['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown: it is just starting"
