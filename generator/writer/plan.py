"""Deciding what a build does to each file of the vault, before anything is written.

Each generated file gets a ``Decision`` (create, update, unchanged, modified
by hand, conflict with a user's file, remove, keep-removed), made from the
rendered bytes, the file on disk and the manifest.  stage.py stages and
commits the plan; ``plan_changes`` only reports it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from generator.errors import VaultError
from generator.writer.fsops import os_error, read_regular
from generator.writer.keepblocks import carry_keep_blocks, is_keep_text, marker_problems, normalise_newlines, scan
from generator.writer.manifest import Manifest, content_hash, load_manifest
from generator.writer.paths import check_relpath
from generator.writer.settings import MERGED_SETTINGS, merge_settings
from generator.writer.state import STATE_DIR, require_vault_folder, require_writable

Action = Literal["create", "update", "unchanged", "modified", "conflict", "remove", "keep-removed"]
WRITES = ("create", "update")
TOUCHES = ("create", "update", "remove")
BACKUP_NAME = "backup"


@dataclass(frozen=True)
class Decision:
    path: str
    action: Action
    disk: bytes | None  # the file as found; None if absent
    content: bytes | None  # the generated file with keep blocks carried over; None if not generated
    entry: str | None  # its manifest hash once the build is done; None if not vaultgen's
    backup: bool = False
    message: str | None = None
    template: str | None = None  # the template it is generated from, if a note
    renamed_to: str | None = None  # set on the old path of a note whose title changed


@dataclass(frozen=True)
class Plan:
    decisions: tuple[Decision, ...]
    forgotten: tuple[str, ...]  # manifest entries whose file and template are both gone
    manifest: Manifest  # as found


def final_manifest(decisions: Iterable[Decision]) -> Manifest:
    entries: dict[str, str] = {}
    templates: dict[str, str] = {}
    for d in decisions:
        if d.entry is None:  # not vaultgen's (any more)
            continue
        entries[d.path] = d.entry
        if d.template is not None:
            templates[d.path] = d.template
    return Manifest(entries, templates=templates)


def make_plan(vault: Path, files: Mapping[str, bytes], overwrite: bool,
              origins: Mapping[str, str] | None = None) -> Plan:
    """``origins`` maps a generated note to its template, so a changed title is a rename."""
    require_vault_folder(vault)
    origins = origins or {}
    root = vault.resolve()
    for path in files:
        check_relpath(vault, root, path, source="the build")
    manifest = load_manifest(vault)
    orphans: dict[str, bytes] = {}
    forgotten = []
    for path in sorted(manifest.paths() - set(files)):
        check_relpath(vault, root, path, source="the manifest")
        disk = read_existing(vault, path)
        if disk is None:
            forgotten.append(path)
        else:
            orphans[path] = disk
    renames = _renames(files, origins, manifest, orphans)
    decisions = []
    for path in files:
        old = renames.get(path)
        decision = _decide(path, bytes(files[path]), read_existing(vault, path), manifest, overwrite,
                           carry_from=orphans.get(old) if old else None)
        decisions.append(dataclasses.replace(decision, template=origins.get(path)))
    decisions = _with_moves_by_hand(vault, decisions, manifest, files)
    moved_to = {old: new for new, old in renames.items()}
    decisions += [_decide_orphan(path, disk, manifest, moved_to.get(path)) for path, disk in orphans.items()]
    return Plan(tuple(sorted(decisions, key=lambda d: d.path)), tuple(forgotten), manifest)


def _renames(files: Mapping[str, bytes], origins: Mapping[str, str], manifest: Manifest,
             orphans: Mapping[str, bytes]) -> dict[str, str]:
    """New path -> old path, for notes whose template is the same but whose title changed."""
    old_by_template = {manifest.templates[p]: p for p in orphans if p in manifest.templates}
    return {path: old_by_template[origins[path]] for path in files
            if origins.get(path) in old_by_template and not manifest.knows(path)}


def _with_moves_by_hand(vault: Path, decisions: list[Decision], manifest: Manifest,
                        files: Mapping[str, bytes]) -> list[Decision]:
    """Spot a generated note the user renamed or moved (in Obsidian): it would silently become a duplicate."""
    missing = [d for d in decisions if d.action == "create" and d.path in manifest.files]
    if not missing:
        return decisions
    by_hash: dict[str, str] = {}
    for path in _user_notes(vault, manifest, files):
        disk = read_existing(vault, path)
        if disk is not None:
            by_hash.setdefault(content_hash(path, disk), path)
    out = []
    for decision in decisions:
        twin = by_hash.get(manifest.files.get(decision.path, "")) if decision in missing else None
        if twin is not None:
            template = decision.template or "its template"
            decision = dataclasses.replace(decision, message=(
                f"{decision.path}: missing, but {twin} holds the same note (renamed or moved in Obsidian?); "
                f"vaultgen generates {decision.path} from {template} and has written it again, so the vault now "
                f"has both: to keep the new name, change the title in {template} and delete {twin}; "
                f"otherwise delete {twin}"))
        out.append(decision)
    return out


def _user_notes(vault: Path, manifest: Manifest, files: Mapping[str, bytes]) -> list[str]:
    found = []
    for note in sorted(vault.rglob("*.md")):
        path = note.relative_to(vault).as_posix()
        if not any(part.startswith(".") for part in path.split("/")) and path not in files \
                and not manifest.knows(path) and note.is_file():
            found.append(path)
    return found


def _decide(path: str, rendered: bytes, disk: bytes | None, manifest: Manifest, overwrite: bool,
            carry_from: bytes | None = None) -> Decision:
    if path in MERGED_SETTINGS and disk is not None:
        merged = merge_settings(rendered, disk)
        if merged is not None:
            content, differs = merged
            return Decision(path, "update" if differs else "unchanged", disk, content, content_hash(path, content))
    content = _carry_keep(path, rendered, disk if disk is not None else carry_from)
    entry = content_hash(path, content)
    if disk is None:
        message = None
        if carry_from is not None and is_keep_text(path):
            message = f"{path}: a renamed note; its keep blocks were carried over from its old name"
        return Decision(path, "create", disk, content, entry, message=message)
    if normalise_newlines(disk) == normalise_newlines(content):  # also adopts an identical file the manifest does not know
        return Decision(path, "unchanged", disk, content, entry)
    if not manifest.knows(path):
        return Decision(path, "conflict", disk, content, None, message=_conflict_message(path))
    if manifest.accepts(path, content_hash(path, disk)):
        return Decision(path, "update", disk, content, entry)
    if overwrite:
        backup = backup_relpath(path, disk)
        message = f"{path}: edited by hand; replaced by the new version after saving yours as {backup}"
        return Decision(path, "update", disk, content, entry, backup=True, message=message)
    return Decision(path, "modified", disk, content, manifest.files.get(path), message=_modified_message(path, content, disk))


def _decide_orphan(path: str, disk: bytes, manifest: Manifest, renamed_to: str | None = None) -> Decision:
    """A file vaultgen wrote whose template is gone, or renamed it (``renamed_to``)."""
    backup = backup_relpath(path, disk)
    if manifest.accepts(path, content_hash(path, disk)):
        # Unedited, but its keep blocks may hold the user's text: keep a copy.
        if renamed_to is not None:
            message = (f"{path}: renamed to {renamed_to} (its template's title changed); keep blocks moved "
                       f"along, a copy goes to {backup}")
        else:
            message = f"{path}: its template is gone, so it is removed (a copy goes to {backup})"
        return Decision(path, "remove", disk, None, None, backup=True, message=message, renamed_to=renamed_to)
    if renamed_to is not None:
        message = (f"{path}: renamed to {renamed_to} (its template's title changed), but the file was edited by "
                   f"hand, so it is kept and vaultgen no longer manages it; its keep blocks were carried over")
    else:
        message = (f"{path}: its template is gone but the file was edited by hand, so it is kept; "
                   "vaultgen no longer manages it")
    return Decision(path, "keep-removed", disk, None, None, message=message)


def _carry_keep(path: str, rendered: bytes, disk: bytes | None) -> bytes:
    if disk is None or not is_keep_text(path):
        return rendered
    # surrogateescape: a keep block holding bytes that are not UTF-8 is carried over byte for byte.
    old = normalise_newlines(disk).decode("utf-8", "surrogateescape")
    return carry_keep_blocks(rendered.decode("utf-8"), old).encode("utf-8", "surrogateescape")


def _modified_message(path: str, content: bytes, disk: bytes | None = None) -> str:
    """Offer keep blocks only where the new rendering has some: an SVG or a JSON file has none.
    Where the file's own keep markers are broken, say that first: text the user put in a
    block whose end marker went is what made the file count as edited."""
    message = (f"{path}: edited by hand since vaultgen wrote it, so it is left as is; build with --overwrite "
               f"to replace it (your version is backed up to {STATE_DIR}/{BACKUP_NAME}/)")
    broken = _broken_markers(path, disk)
    if broken:
        return (f"{path}: its keep markers are broken ({broken}), so the text in that block counts as a hand "
                f"edit and the file is left as is: restore the marker, and the next build keeps your text")
    names = _block_names(path, content)
    if names:
        blocks = ", ".join(f"'%% keep: {name} %%'" for name in names)
        message += f", or move your text inside the note's keep block ({blocks} … '%% end keep %%')"
    return message


def _broken_markers(path: str, disk: bytes | None) -> str | None:
    """What is wrong with the keep markers of the file on disk, with the line, or None."""
    if disk is None or not is_keep_text(path):
        return None
    problems = marker_problems(normalise_newlines(disk).decode("utf-8", "surrogateescape"))
    return f"{problems[0][0]}, line {problems[0][1]}" if problems else None


def _block_names(path: str, content: bytes) -> list[str]:
    if not is_keep_text(path):
        return []
    try:
        return [block.name for block in scan(content.decode("utf-8"))[0]]
    except UnicodeDecodeError:
        return []


def _conflict_message(path: str) -> str:
    return (
        f"{path}: a file vaultgen did not write stands where it generates one, so it is left untouched; "
        "rename or move it, then build again"
    )


def backup_relpath(path: str, data: bytes) -> str:
    return f"{STATE_DIR}/{BACKUP_NAME}/{path}.{hashlib.sha256(data).hexdigest()[:8]}.bak"


def read_existing(vault: Path, path: str) -> bytes | None:
    target = vault / path
    try:
        return read_regular(target)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise VaultError(
            "this is a folder, but vaultgen generates a file here", path=target, hint="rename or move the folder"
        ) from None
    except NotADirectoryError:
        raise VaultError(
            "a file stands where vaultgen needs a folder on this path", path=target, hint="rename or move that file"
        ) from None
    except OSError as exc:
        raise os_error(exc, target, "read this file") from None


def require_writable_folders(vault: Path, plan: Plan) -> None:
    """Refuse up front rather than fail halfway through the moves."""
    for decision in plan.decisions:
        if decision.action in TOUCHES:
            folder = (vault / decision.path).parent
            while not folder.exists():
                folder = folder.parent
            require_writable(folder)
