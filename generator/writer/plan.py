"""Deciding what a build does to each file of the vault, before anything is written.

Each generated file gets a ``Decision`` (create, update, unchanged, modified
by hand, conflict with a user's file, remove, keep-removed), made from the
rendered bytes, the file on disk and the manifest.  stage.py stages and
commits the plan; ``plan_changes`` only reports it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from generator.errors import VaultError
from generator.writer.fsops import os_error, read_regular
from generator.writer.keepblocks import carry_keep_blocks, is_keep_text
from generator.writer.manifest import Manifest, content_hash, load_manifest
from generator.writer.paths import check_relpath
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


@dataclass(frozen=True)
class Plan:
    decisions: tuple[Decision, ...]
    forgotten: tuple[str, ...]  # manifest entries whose file and template are both gone
    manifest: Manifest  # as found


def final_manifest(decisions: Iterable[Decision]) -> Manifest:
    return Manifest({d.path: d.entry for d in decisions if d.entry is not None})


def make_plan(vault: Path, files: Mapping[str, bytes], overwrite: bool) -> Plan:
    require_vault_folder(vault)
    root = vault.resolve()
    for path in files:
        check_relpath(vault, root, path, source="the build")
    manifest = load_manifest(vault)
    decisions = [
        _decide(path, bytes(files[path]), read_existing(vault, path), manifest, overwrite) for path in files
    ]
    forgotten = []
    for path in manifest.paths() - set(files):
        check_relpath(vault, root, path, source="the manifest")
        disk = read_existing(vault, path)
        if disk is None:
            forgotten.append(path)
        else:
            decisions.append(_decide_orphan(path, disk, manifest))
    return Plan(tuple(sorted(decisions, key=lambda d: d.path)), tuple(sorted(forgotten)), manifest)


def _decide(path: str, rendered: bytes, disk: bytes | None, manifest: Manifest, overwrite: bool) -> Decision:
    content = _carry_keep(path, rendered, disk)
    entry = content_hash(path, content)
    if disk is None:
        return Decision(path, "create", disk, content, entry)
    if disk == content:  # also adopts an identical file the manifest does not know
        return Decision(path, "unchanged", disk, content, entry)
    if not manifest.knows(path):
        return Decision(path, "conflict", disk, content, None, message=_conflict_message(path))
    if manifest.accepts(path, content_hash(path, disk)):
        return Decision(path, "update", disk, content, entry)
    if overwrite:
        backup = backup_relpath(path, disk)
        message = f"{path}: edited by hand; replaced by the new version after saving yours as {backup}"
        return Decision(path, "update", disk, content, entry, backup=True, message=message)
    return Decision(path, "modified", disk, content, manifest.files.get(path), message=_modified_message(path))


def _decide_orphan(path: str, disk: bytes, manifest: Manifest) -> Decision:
    """A file vaultgen wrote whose template is gone."""
    if manifest.accepts(path, content_hash(path, disk)):
        # Unedited, but its keep blocks may hold the user's text: keep a copy.
        backup = backup_relpath(path, disk)
        message = f"{path}: its template is gone, so it is removed (a copy goes to {backup})"
        return Decision(path, "remove", disk, None, None, backup=True, message=message)
    message = (
        f"{path}: its template is gone but the file was edited by hand, so it is kept; "
        "vaultgen no longer manages it"
    )
    return Decision(path, "keep-removed", disk, None, None, message=message)


def _carry_keep(path: str, rendered: bytes, disk: bytes | None) -> bytes:
    if disk is None or not is_keep_text(path):
        return rendered
    try:
        return carry_keep_blocks(rendered.decode("utf-8"), disk.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        return rendered  # a note that is not UTF-8 has no keep blocks we could read


def _modified_message(path: str) -> str:
    return (
        f"{path}: edited by hand since vaultgen wrote it, so it is left as is; build with --overwrite "
        f"to replace it (your version is backed up to {STATE_DIR}/{BACKUP_NAME}/), or move your text "
        "inside one of the note's '%% keep: NAME %%' … '%% end keep %%' blocks"
    )


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
