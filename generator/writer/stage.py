"""Write the rendered vault without ever losing what people wrote in it.

The build renders every file in memory and hands them over as relative posix
path -> bytes.  ``stage_files`` decides what to do with each file and writes
the vault-to-be into ``.vaultgen/staging`` for the link check; that folder is
on the vault's file system, so ``Stage.commit`` can move each changed file into
place with an atomic ``os.replace``.  ``plan_changes`` makes the same
decisions and writes nothing (``vaultgen build --check``).

The rules:

* A file whose content no longer matches its manifest hash was edited by
  hand: it is reported as ``modified`` and kept, or with ``overwrite`` backed
  up to ``.vaultgen/backup/`` and replaced.
* Keep-block bodies always survive (see ``manifest.carry_keep_blocks``).
* Files vaultgen did not write are never touched; one standing where a
  generated file should go is a ``conflict``.
* A file whose template is gone is removed (after a backup) only if unedited.
* Before moving anything, the manifest is rewritten as a journal accepting
  both the old and the new hash of every file, so a build killed halfway
  leaves each file complete and recognisably vaultgen's; the next build
  finishes the job.
* No path may lead outside the vault, nor into ``.vaultgen`` or Obsidian's
  workspace files.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import NoReturn

from generator.writer.fsops import atomic_write, create_new, fsync_folders, os_error, prune_empty_folders, real_folder, remove_tree
from generator.writer.manifest import Manifest, manifest_path, read_manifest_bytes
from generator.writer.plan import (
    TOUCHES,
    WRITES,
    Action,
    Decision,
    Plan,
    backup_relpath,
    final_manifest,
    make_plan,
    read_existing,
    require_writable_folders,
)
from generator.writer.state import ensure_state_dir

__all__ = ["FileChange", "Stage", "WriteReport", "plan_changes", "stage_files"]


STAGING_NAME = "staging"


def _checkpoint(label: str) -> None:
    """Fault-injection hook: the crash tests replace it to kill the process at a chosen step."""


# --- what the caller gets ------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """What writing would do to one file; ``diff`` is a unified diff for text files."""

    path: str
    action: Action
    diff: str | None = None
    message: str | None = None

    @property
    def changes_vault(self) -> bool:
        return self.action in TOUCHES


@dataclass
class WriteReport:
    """What a commit did, as vault-relative posix paths."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)  # edited by hand: kept, not overwritten
    conflicts: list[str] = field(default_factory=list)  # a user's file stands where a generated one goes
    removed: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)  # "old → new": a note whose title changed
    kept_removed: list[str] = field(default_factory=list)  # template gone but edited by hand: kept
    backed_up: list[str] = field(default_factory=list)  # copied to .vaultgen/backup/ first
    messages: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed or self.renamed)


# --- staging and committing ------------------------------------------------------


@dataclass(eq=False)
class Stage:
    """The vault-to-be, staged at ``path``; ``commit()`` or ``discard()`` it.

    ``path`` holds the full picture for the link check: every generated file
    as it will be, and every other note and attachment of the vault as
    hardlinks (so never write to them), dot-folders left out.  Used as a
    context manager, a stage not committed by the end of the block is
    discarded.
    """

    vault: Path
    path: Path
    _plan: Plan = field(repr=False)
    _closed: bool = field(default=False, init=False)

    def __enter__(self) -> Stage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()

    def commit(self) -> WriteReport:
        if self._closed:
            raise RuntimeError("this stage was already committed or discarded")
        progress = _Progress()
        try:
            return _commit(self.vault, self.path, self._plan, progress)
        except OSError as exc:
            error = os_error(exc, self.vault, "update the vault")
            if progress.journal:
                error.hint = f"{progress.says()}; {error.hint}"
            raise error from None
        except KeyboardInterrupt as exc:
            setattr(exc, "vaultgen_context", f"while writing the vault: {progress.says()}")  # read by the CLI
            raise
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the staging folder; the vault is left as it is."""
        self._closed = True
        remove_tree(self.path)


def stage_files(vault_dir: str | Path, files: Mapping[str, bytes], overwrite: bool = False,
                origins: Mapping[str, str] | None = None) -> Stage:
    """Decide what to do with each file and stage the vault as it will be.

    ``origins`` maps each note to the template it came from (see
    ``plan.make_plan``).  Nothing outside ``.vaultgen/`` changes until
    ``commit()``.  Hold a ``VaultLock`` around staging and committing.
    """
    vault = Path(vault_dir)
    plan = make_plan(vault, files, overwrite, origins)
    staging = ensure_state_dir(vault) / STAGING_NAME
    require_writable_folders(vault, plan)
    remove_tree(staging)  # left over by a killed build
    try:
        _write_picture(vault, staging, plan)
    except OSError as exc:
        remove_tree(staging)
        raise os_error(exc, staging, "stage the vault") from None
    except BaseException:
        remove_tree(staging)
        raise
    return Stage(vault, staging, plan)


def plan_changes(vault_dir: str | Path, files: Mapping[str, bytes], overwrite: bool = False,
                 origins: Mapping[str, str] | None = None) -> list[FileChange]:
    """What ``stage_files(...).commit()`` would do, per file, without writing anything."""
    return [_file_change(d) for d in make_plan(Path(vault_dir), files, overwrite, origins).decisions]


def _file_change(decision: Decision) -> FileChange:
    diff = None
    if decision.action not in ("unchanged", "keep-removed"):
        diff = _unified_diff(decision.path, decision.disk, decision.content)
    return FileChange(decision.path, decision.action, diff, decision.message)


def _unified_diff(path: str, before: bytes | None, after: bytes | None) -> str:
    try:
        old = before.decode("utf-8") if before is not None else ""
        new = after.decode("utf-8") if after is not None else ""
    except UnicodeDecodeError:
        return f"Binary file {path} differs\n"
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        # A tab ends the name: GNU patch reads a header's name up to a space
        # otherwise, and every generated note's name has spaces.
        fromfile=f"a/{path}\t" if before is not None else "/dev/null",
        tofile=f"b/{path}\t" if after is not None else "/dev/null",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _write_picture(vault: Path, staging: Path, plan: Plan) -> None:
    staging.mkdir(parents=True)
    for decision in plan.decisions:
        if decision.action in WRITES:
            assert decision.content is not None
            target = staging / decision.path
            target.parent.mkdir(parents=True, exist_ok=True)
            create_new(target, decision.content)
            _checkpoint(f"stage: wrote {decision.path}")
        elif decision.action != "remove":
            _mirror(vault / decision.path, staging / decision.path)
    decided = {d.path for d in plan.decisions}
    for path in _obsidian_files(vault):
        if path not in decided:
            _mirror(vault / path, staging / path)
    _checkpoint("stage: picture complete")


def _obsidian_files(vault: Path) -> Iterator[str]:
    """Every file Obsidian shows: dot-folders and dot-files are Obsidian's and vaultgen's own."""
    for folder, dirs, names in os.walk(vault, onerror=_raise):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        symlinked_dirs = [d for d in dirs if (here / d).is_symlink()]  # os.walk does not enter them
        for name in [*names, *symlinked_dirs]:
            if not name.startswith("."):
                yield (here / name).relative_to(vault).as_posix()


def _raise(error: OSError) -> NoReturn:
    raise error


def _mirror(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target)
    except OSError:  # hardlinks refused (file system, protected_hardlinks): a copy does as well
        shutil.copy2(source, target)


@dataclass
class _Progress:
    """How far a commit got, so an interrupted one is reported truthfully."""

    journal: bool = False
    done: int = 0
    total: int = 0

    def says(self) -> str:
        if not self.journal:
            return "nothing in it had changed yet, so the vault was left as it was"
        return (f"{self.done} of {self.total} file changes were made before it stopped; each file is a complete "
                "old or new version, and the next build completes the job")


def _commit(vault: Path, staging: Path, plan: Plan, progress: _Progress) -> WriteReport:
    decisions = [_recheck(vault, d, plan.manifest) for d in plan.decisions]
    final = final_manifest(decisions)
    moving = [d for d in decisions if d.action in WRITES]
    removing = [d for d in decisions if d.action == "remove"]
    progress.total = len(moving) + len(removing)
    if moving or removing:
        _atomic_write(manifest_path(vault), staging, plan.manifest.journal_towards(final).to_bytes(), "journal")
        progress.journal = True
        for decision in (d for d in decisions if d.backup):
            assert decision.disk is not None
            backup = backup_relpath(decision.path, decision.disk)
            target = vault / backup
            real_folder(target.parent, "vaultgen's backup folder", base=vault)
            _atomic_write(target, staging, decision.disk, f"backup {decision.path}")
        for decision in moving:
            target = vault / decision.path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / decision.path, target)
            progress.done += 1
            _checkpoint(f"commit: replaced {decision.path}")
        for decision in removing:
            (vault / decision.path).unlink(missing_ok=True)
            progress.done += 1
            _checkpoint(f"commit: removed {decision.path}")
        fsync_folders(vault, [d.path for d in moving + removing])
    prune_empty_folders(vault, [d.path for d in removing] + list(plan.forgotten))
    if final.to_bytes() != read_manifest_bytes(vault):
        _atomic_write(manifest_path(vault), staging, final.to_bytes(), "manifest")
    return _report(decisions)


def _recheck(vault: Path, decision: Decision, manifest: Manifest) -> Decision:
    """Leave alone a file someone changed while the build ran (e.g. saved in Obsidian)."""
    if decision.action not in TOUCHES or read_existing(vault, decision.path) == decision.disk:
        return decision
    return dataclasses.replace(
        decision,
        action="modified" if manifest.knows(decision.path) else "conflict",
        entry=manifest.files.get(decision.path),
        backup=False,
        message=f"{decision.path}: changed on disk while the build ran, so it was left as is; build again",
    )


def _report(decisions: Iterable[Decision]) -> WriteReport:
    report = WriteReport()
    by_action: dict[str, list[str]] = {
        "create": report.created,
        "update": report.updated,
        "unchanged": report.unchanged,
        "modified": report.modified,
        "conflict": report.conflicts,
        "remove": report.removed,
        "keep-removed": report.kept_removed,
    }
    for decision in decisions:
        if decision.renamed_to is not None and decision.action == "remove":
            report.renamed.append(f"{decision.path} → {decision.renamed_to}")
        else:
            by_action[decision.action].append(decision.path)
        if decision.backup:
            report.backed_up.append(decision.path)
        if decision.message:
            report.messages.append(decision.message)
    return report


def _atomic_write(target: Path, staging: Path, data: bytes, label: str) -> None:
    """Temporaries go in the staging folder, which the next build wipes if this one is killed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, data, temp_dir=staging, on_written=lambda: _checkpoint(f"commit: {label} temp written"))
    _checkpoint(f"commit: {label} in place")
