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
    here, real = Path.cwd().resolve(), out.resolve()
    if here == real or real in here.parents:
        raise UsageError("the output folder is the current folder, or holds it", path=out,
                         hint="run the export from another folder: the site replaces the folder it is written to")
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
    return [_path(line) for line in text[len(_HEADER):].split("\n") if line]


def _path(line: str) -> str:
    """A marker line: a JSON string, or a plain path as vaultgen wrote them for a few commits."""
    if line.startswith('"'):
        try:
            value = json.loads(line)
        except ValueError:
            return line
        return value if isinstance(value, str) else line
    return line


def kept(out: Path, staging: Path) -> list[str]:
    """What an earlier export at ``out`` holds beyond its own files, to carry into the new site.

    Its own files are those its marker lists; for a marker from before the
    list, see ``_kept_from_unlisted``.  Nothing is moved here; a path of yours
    where the new site writes is refused.
    """
    if not (out / MARKER).exists():
        return []  # an empty folder
    listed = _listed(out)
    if listed is None:
        return _kept_from_unlisted(out, staging)
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


# Files a site's host reads that an export never writes: kept from an export that lists nothing.
_HOST_FILES = frozenset({"CNAME", "robots.txt", "favicon.ico", "humans.txt", "ads.txt"})


def _kept_from_unlisted(out: Path, staging: Path) -> list[str]:
    """``kept`` for an export from before the list, which cannot tell your files from its own:
    top-level dot-entries (``.git``) and host files (``CNAME``) are yours; pages, and files the
    new site writes again, are its own; anything else, in any folder, is refused by name
    rather than guessed at."""
    found: list[str] = []
    unknown: list[str] = []

    def visit(rel: str) -> None:
        for entry in sorted(os.scandir(out / rel), key=lambda e: e.name):
            path = f"{rel}/{entry.name}" if rel else entry.name
            folder = entry.is_dir(follow_symlinks=False)
            if path == MARKER or (entry.name.endswith(".html") and not folder):
                continue  # its marker, and its pages (of notes since deleted, too)
            if not rel and (entry.name.startswith(".") or entry.name in _HOST_FILES):
                found.append(path)
            elif folder and (staging / path).is_dir():
                visit(path)  # a folder the new site writes: look at each file in it
            elif not folder and ((staging / path).is_file() or (staging / path).is_symlink()):
                continue  # the export's own, written again
            else:
                unknown.append(path + ("/" if folder else ""))

    visit("")
    if unknown:
        shown = ", ".join(unknown[:8]) + (f", … ({len(unknown)} in all)" if len(unknown) > 8 else "")
        raise UsageError(f"the earlier export predates the list of its own files, so these may be yours or its "
                         f"old pages and attachments: {shown}", path=out,
                         hint="move out what is yours, delete the rest, then export again (this happens once)")
    return found


def swap(staging: Path, out: Path, carried: list[str]) -> None:
    """Move the new site into place and ``carried`` (paths in the old one) into it; the old
    site is removed only once everything of yours is across."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = _old_of(out)
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except OSError:
        os.replace(old, out)  # the previous site back where it was
        raise
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
