"""Which paths the writer may touch: never outside the vault, never what it did not generate.

A path comes from the build (a note's title, a chart's name) or from the
manifest, which is a file in a folder anyone could have edited, so both are
checked before anything is read, written or removed.  A manifest entry may
not name a file in a hidden folder (bar vaultgen's own two settings files),
so a tampered manifest cannot get ``.git/config`` or an Obsidian plugin deleted.
"""

from __future__ import annotations

import re
from pathlib import Path

from generator.errors import VaultError
from generator.writer.state import STATE_DIR

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_OBSIDIAN_WORKSPACE = re.compile(r"^\.obsidian/workspace[^/]*\.json$")
# Files outside notes and attachments that vaultgen writes.
SETTINGS_FILES = frozenset({".gitignore", ".obsidian/app.json"})
# File names Windows cannot create, whatever the extension: notes and committed results
# are checked out there too.
WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))})


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


def is_generated_place(path: str) -> bool:
    """Outside hidden folders (``.git``, ``.obsidian``, ``.trash``), or one of vaultgen's settings files.

    A manifest entry anywhere else is refused: those folders hold what git,
    Obsidian and its plugins own, and their files' contents (hence hashes)
    are often predictable, so a hash check alone would not protect them.
    """
    return path in SETTINGS_FILES or not any(part.startswith(".") for part in path.split("/"))


def check_relpath(vault: Path, root: Path, path: str, source: str) -> None:
    """Refuse a path that could write or delete outside the vault's generated files."""
    problem, hint = relpath_problem(path), None
    if problem is None and source == "the manifest" and not is_generated_place(path):
        problem = f"is in a hidden folder, where vaultgen generates only {', '.join(sorted(SETTINGS_FILES))}"
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
