"""The export's output folder: what may be written to, and how a new site replaces the old.

OUT must be new, empty or an earlier export, which holds a marker file
listing the files that export wrote (one JSON string per line, so that no
file name can break a line).  The new site is built beside OUT; then OUT
moves aside, the new site moves in, and what the earlier export held beyond
its own files (a ``.git`` folder, a ``CNAME``) is renamed across before the
old folder is removed.  Every step is a rename within one folder: your files
are never copied, and an export stopped half-way leaves the old folder
beside OUT, which the next export refuses to touch until you have looked.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from generator.errors import UsageError, VaultError
from generator.writer.fsops import read_regular

MARKER = ".vaultgen-export"
_HEADER = ("A static site written by `vaultgen export html`; the next export replaces the files listed\n"
           "below and keeps anything else here.\n\n")
# A marker is a few bytes per page: anything larger is not one.
_MARKER_LIMIT = 64 * 1024 * 1024


def staging_of(out: Path) -> Path:
    return out.parent / f".{out.name}.vaultgen-tmp"


def _old_of(out: Path) -> Path:
    return out.parent / f".{out.name}.vaultgen-old"


def check_out(vault: Path, out: Path) -> None:
    """Refuse an output the export may not replace, before anything is read or written."""
    if not vault.is_dir():
        raise UsageError("vault folder does not exist", path=vault, hint="pass --vault the folder that holds your notes")
    if out.is_symlink():
        raise UsageError("the output folder is a symbolic link", path=out,
                         hint=f"pass the folder it points to ({os.path.realpath(out)}): the site replaces the folder it is written to")
    if out.exists() and not out.is_dir():
        raise UsageError("the output is a file", path=out, hint="pass a folder for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise UsageError("the output folder holds files that are not an earlier export", path=out,
                         hint="pass a new or empty folder; vaultgen only replaces its own exports")
    if out.resolve().is_relative_to(vault.resolve()):
        raise UsageError("the output folder is inside the vault", path=out,
                         hint="write the site outside the vault, or the next export would include it")
    old = _old_of(out)
    if old.exists() or old.is_symlink():
        raise UsageError("an earlier export stopped half-way: the folder beside the output holds its previous site",
                         path=old, hint="take anything of yours out of it, delete it, and export again")


def write_marker(staging: Path) -> None:
    """The marker of the site in ``staging``: every file it holds."""
    written = sorted(Path(root, name).relative_to(staging).as_posix()
                     for root, _, names in os.walk(staging) for name in names)
    (staging / MARKER).write_text(_HEADER + "".join(json.dumps(path) + "\n" for path in written), encoding="utf-8")


def _listed(out: Path) -> list[str] | None:
    """The files the earlier export at ``out`` wrote; None for a marker from before the list."""
    try:
        data = read_regular(out / MARKER, follow=False)
    except OSError as exc:
        raise UsageError(f"the export's marker cannot be read: {exc.strerror or exc}", path=out / MARKER,
                         hint="make it the regular file an export wrote, or delete the folder and export again") from None
    if len(data) > _MARKER_LIMIT:
        raise UsageError("the export's marker is far larger than any export writes", path=out / MARKER,
                         hint="delete the folder and export again")
    text = data.decode("utf-8", "replace")
    if not text.startswith(_HEADER):
        return None
    try:
        paths = [json.loads(line) for line in text[len(_HEADER):].split("\n") if line]
    except ValueError:
        return None
    return paths if all(isinstance(path, str) for path in paths) else None


def kept(out: Path, staging: Path) -> list[str]:
    """What an earlier export at ``out`` holds beyond its own files, to carry into the new site.

    Its own files are those its marker lists.  A marker from before the list
    (vaultgen 0.x) lists none: then only top-level files that are no page
    (``CNAME``, ``robots.txt``) and dot-entries (``.git``) are kept, so that the
    pages of notes deleted since do not stay published.  Nothing is moved here;
    a path of yours where the new site writes is refused.
    """
    if not (out / MARKER).exists():
        return []  # an empty folder
    listed = _listed(out)
    if listed is None:
        return sorted(entry.name for entry in os.scandir(out) if entry.name != MARKER and (
            entry.name.startswith(".") or (entry.is_file(follow_symlinks=False) and not entry.name.endswith(".html"))))
    ours = {*listed, MARKER}
    folders = {parent.as_posix() for path in listed for parent in Path(path).parents}
    found: list[str] = []

    def visit(rel: str) -> None:
        for entry in sorted(os.scandir(out / rel), key=lambda e: e.name):
            path = f"{rel}/{entry.name}" if rel else entry.name
            if path in ours:
                continue
            if path in folders and entry.is_dir(follow_symlinks=False):
                visit(path)
                continue
            target = staging / path
            blocked = next((parent for parent in Path(path).parents if (staging / parent).is_file()), None)
            if target.exists() or target.is_symlink() or blocked is not None:
                raise UsageError(f"{path} in the earlier export is not one of its files, and the new site writes "
                                 f"{blocked.as_posix() if blocked else path}", path=out / path,
                                 hint="move it out of the export folder, then export again")
            found.append(path)

    visit("")
    return found


def swap(staging: Path, out: Path, carried: list[str]) -> None:
    """Move the new site into place and ``carried`` (paths in the old one) into it; the old
    site is removed only once everything of yours is across."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = _old_of(out)
    os.replace(out, old)
    os.replace(staging, out)
    try:
        for path in carried:
            (out / path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(old / path, out / path)
    except OSError as exc:
        raise VaultError(f"the new site is in place, but moving your files into it failed: {exc.strerror or exc}",
                         path=old, hint=f"what was not moved is still in {old}: move it into {out}, then delete {old}") from None
    remove(old)


def remove(path: Path) -> None:
    """Remove a folder of the export's own, a link as itself (never what it points to)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
