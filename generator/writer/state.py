"""vaultgen's state folder in the vault (``vault/.vaultgen``) and the checks before writing.

The folder holds the manifest, the lock, the staging area and backups.  It
must be a real folder: vaultgen replaces and deletes files in it, so a
symlink there would carry those writes and deletions outside the project.
"""

from __future__ import annotations

import os
from pathlib import Path

from generator.errors import VaultError
from generator.writer.fsops import real_folder

STATE_DIR = ".vaultgen"


def state_dir(vault: Path) -> Path:
    return vault / STATE_DIR


def require_vault_folder(vault: Path) -> None:
    """A vault path must be a folder, or not exist yet; its state folder must not be a link."""
    if vault.exists() and not vault.is_dir():
        raise VaultError(
            "the vault path is a file, not a folder",
            path=vault,
            hint="move the file away: vaultgen writes the vault into that folder",
        )
    state = state_dir(vault)
    if state.is_symlink():
        raise VaultError(
            "vaultgen's state folder is a symbolic link; vaultgen never writes through one",
            path=state,
            hint=f"remove the link (rm '{state}') and restore the folder (with its manifest) from git",
        )


def require_writable(folder: Path) -> None:
    # os.access says yes to root whatever the mode; the OSError handlers
    # further on still catch what it misses.
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise VaultError(
            "the folder is read-only, so vaultgen cannot write the vault",
            path=folder,
            hint=f"make it writable (chmod u+w '{folder}')",
        )


def ensure_state_dir(vault: Path) -> Path:
    """Create ``vault/.vaultgen`` (and the vault) or say in one line why not."""
    require_vault_folder(vault)
    require_writable(vault)
    state = real_folder(state_dir(vault), "vaultgen's state folder")
    require_writable(state)
    return state
