"""The safe vault writer: plan, stage and commit a build without losing anyone's words.

Layers, each importing only those below it::

    stage     stage the vault-to-be, check it, commit it with atomic renames
    plan      decide per file: create, update, keep a hand edit, conflict, remove
    manifest  what vaultgen wrote, by content hash      keepblocks  the user's text
    lock      one build at a time                        paths       what may be touched
    state     the vault's .vaultgen folder
    fsops     atomic write, safe opens, one-line OS errors (imports nothing above it)
"""

from __future__ import annotations

import importlib

__all__ = ["FileChange", "Stage", "VaultLock", "WriteReport", "plan_changes", "stage_files"]


def __getattr__(name: str):
    # Lazy, so that the linter's cache writer importing fsops pays for fsops alone.
    if name == "VaultLock":
        return importlib.import_module("generator.writer.lock").VaultLock
    if name in __all__:
        return getattr(importlib.import_module("generator.writer.stage"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
