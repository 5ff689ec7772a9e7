"""File-system primitives of the vault writer: path safety and durable writes.

Kept apart from vault.py's decisions so each reads on its own: these
functions know nothing about manifests or hand edits, only how to refuse a
path that leads outside the vault and how to make a write survive a crash.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from generator.errors import VaultError
from generator.manifest import STATE_DIR

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_OBSIDIAN_WORKSPACE = re.compile(r"^\.obsidian/workspace[^/]*\.json$")


def relpath_problem(path: object) -> str | None:
    if not isinstance(path, str) or not path:
        return "is not a non-empty string"
    if "\x00" in path:
        return "contains a NUL character"
    if "\\" in path:
        return "contains a backslash; folders are separated by '/'"
    if path.startswith("/"):
        return "is absolute"
    if _DRIVE_LETTER.match(path):
        return "starts with a drive letter"
    parts = path.split("/")
    if ".." in parts:
        return "climbs out with '..'"
    if "" in parts or "." in parts:
        return "has an empty or '.' component"
    if parts[0] == STATE_DIR:
        return f"is inside vaultgen's own {STATE_DIR} folder"
    if _OBSIDIAN_WORKSPACE.match(path):
        return "is an Obsidian workspace file, which belongs to the user"
    return None


def check_relpath(vault: Path, root: Path, path: str, source: str) -> None:
    """Refuse a path that could write or delete outside the vault's generated files."""
    problem, hint = relpath_problem(path), None
    if problem is None:
        try:
            target = (vault / path).resolve()
        except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
            target = None
        link_hint = "remove the symbolic link or point it inside the vault"
        if target is None:
            problem, hint = "goes through a symbolic link loop", link_hint
        elif not target.is_relative_to(root) or target.is_relative_to(root / STATE_DIR):
            problem, hint = f"leads through a symbolic link to {target}, outside the vault's notes", link_hint
    if problem is not None:
        if hint is None:
            hint = "restore the manifest from git" if source == "the manifest" else "fix the note's title in its template"
        raise VaultError(f"refusing the path {path!r} given by {source}: it {problem}", path=vault, hint=hint)


def write_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


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
    shutil.rmtree(path, ignore_errors=True)
