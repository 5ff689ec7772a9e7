"""One exception tree for everything vaultgen refuses to do.

Every error carries where it happened (``path`` and, when known, ``line``)
and a ``hint`` that says what the user can do about it.  The CLI prints
``str(error)`` as one line and exits with ``error.exit_code``; a traceback is
shown only with ``--debug``.
"""

from __future__ import annotations

import errno
from pathlib import Path


EXIT_MACHINE = 3  # the machine's trouble (a full disk), told apart from findings and failures as a bug is
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # the error numbers that mean it


class VaultgenError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.hint = hint

    @property
    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class UsageError(VaultgenError):
    """The command line asks for something impossible (exit code 2)."""

    exit_code = 2


class ConfigError(VaultgenError):
    """The project layout or its [tool.vaultgen] settings are not what vaultgen needs (exit code 2)."""

    exit_code = 2


class InterpreterError(VaultgenError):
    """An interpreter given with --python cannot be found or is too old."""

    exit_code = 2


class ExperimentError(VaultgenError):
    """An experiment failed, hung, crashed or printed a broken result."""


class ResultError(VaultgenError):
    """A stored result or cache file is corrupt or of an unknown schema."""


class TemplateError(VaultgenError):
    """A template's header, syntax or rendering is broken."""


class ChartError(VaultgenError):
    """A chart could not be drawn from the results it was given."""


class VaultError(VaultgenError):
    """The vault cannot be read, written or locked safely."""


class LockError(VaultError):
    """Another build holds the vault's lock."""


class CheckFailed(VaultgenError):
    """The staged vault has broken links or embeds; nothing was written."""
