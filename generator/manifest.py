"""What vaultgen wrote into the vault, and how to tell a file is still exactly that.

The manifest (``vault/.vaultgen/manifest.json``) maps each generated file to
the hash of the content vaultgen wrote.  It is committed with the vault, so it
holds no timestamps or absolute paths and is serialised deterministically.

Text inside keep blocks (``%% keep: NAME %%`` … ``%% end keep %%``) belongs to
the user: it is carried into every new rendering and left out of the hash, so
editing only inside keep blocks is not a hand edit.

This module also owns the ``.vaultgen`` state folder and the translation of
``OSError`` into one-line ``VaultError`` messages, because both the lock and
the writer need them.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import VaultError

STATE_DIR = ".vaultgen"
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1

# A body may not contain another opening marker: an unterminated block then
# stays plain text instead of swallowing the next block.
_KEEP_BLOCK = re.compile(
    r"(?P<open>%%[ \t]*keep:[ \t]*(?P<name>[^%\r\n]+?)[ \t]*%%)"
    r"(?P<body>(?:(?!%%[ \t]*keep:).)*?)"
    r"(?P<close>%%[ \t]*end keep[ \t]*%%)",
    re.DOTALL,
)
ORPHAN_HEADING = "## Kept text from removed keep blocks"
_ORPHAN_NOTE = (
    "%% vaultgen: the template no longer has these keep blocks. Move the text where "
    "you want it; a block left empty is dropped at the next build. %%"
)


# --- keep blocks -------------------------------------------------------------


def strip_keep_bodies(text: str) -> str:
    """The text with every keep block emptied: what a hand edit is judged on."""
    return _KEEP_BLOCK.sub(lambda m: m["open"] + m["close"], text)


def carry_keep_blocks(new_text: str, old_text: str) -> str:
    """The new rendering with the old file's keep-block bodies put back.

    Blocks are matched by name, the n-th old block of a name going to the n-th
    new one.  Old blocks the rendering no longer has are appended under
    ORPHAN_HEADING so their text is never lost; a whitespace-only orphan has
    nothing to lose and is dropped, which is also how the user gets rid of one.
    """
    old_blocks = [(m["name"], m["body"]) for m in _KEEP_BLOCK.finditer(old_text)]
    unused = list(range(len(old_blocks)))

    def put_back(match: re.Match[str]) -> str:
        for index in unused:
            name, body = old_blocks[index]
            if name == match["name"]:
                unused.remove(index)
                return match["open"] + body + match["close"]
        return match[0]

    merged = _KEEP_BLOCK.sub(put_back, new_text)
    orphans = [
        f"%% keep: {name} %%{body}%% end keep %%"
        for name, body in (old_blocks[index] for index in unused)
        if body.strip()
    ]
    if not orphans:
        return merged
    return merged.rstrip("\n") + "\n\n" + "\n\n".join([ORPHAN_HEADING, _ORPHAN_NOTE, *orphans]) + "\n"


def is_keep_text(path: str) -> bool:
    """Only notes carry keep blocks; charts and settings are compared byte for byte."""
    return path.endswith(".md")


def content_hash(path: str, data: bytes) -> str:
    """sha256 of a file's content, keep-block bodies emptied for notes."""
    if is_keep_text(path):
        try:
            data = strip_keep_bodies(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            pass  # not text we can parse, so every byte counts
    return hashlib.sha256(data).hexdigest()


# --- the manifest ------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """Generated path -> hash of what vaultgen wrote there.

    ``pending`` holds further hashes accepted as vaultgen's own.  It is only
    non-empty while a commit is under way (see ``journal_towards``) or after
    one was killed; the next successful commit clears it.
    """

    files: dict[str, str] = field(default_factory=dict)
    pending: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def knows(self, path: str) -> bool:
        return path in self.files or path in self.pending

    def accepted(self, path: str) -> set[str]:
        own = {self.files[path]} if path in self.files else set()
        return own | set(self.pending.get(path, ()))

    def accepts(self, path: str, digest: str) -> bool:
        return digest in self.accepted(path)

    def paths(self) -> set[str]:
        return set(self.files) | set(self.pending)

    def journal_towards(self, final: Manifest) -> Manifest:
        """The manifest to hold while files move from this state to ``final``.

        It accepts every hash either side accepts, so a build killed halfway
        recognises both the old and the new files as vaultgen's own and the
        next build simply finishes the job.
        """
        files = {**self.files, **final.files}
        pending: dict[str, tuple[str, ...]] = {}
        for path in self.paths() | final.paths():
            extra = (self.accepted(path) | final.accepted(path)) - {files.get(path)}
            if extra:
                pending[path] = tuple(sorted(extra))
        return Manifest(files, pending)

    def to_bytes(self) -> bytes:
        doc: dict[str, object] = {"version": MANIFEST_VERSION, "files": self.files}
        if self.pending:
            doc["pending"] = {path: list(hashes) for path, hashes in self.pending.items()}
        return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, where: Path) -> Manifest:
        try:
            doc = json.loads(data.decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("version") != MANIFEST_VERSION:
                raise ValueError(f"expected an object with version {MANIFEST_VERSION}")
            files = doc.get("files", {})
            pending = doc.get("pending", {})
            if not _is_str_map(files, lambda v: isinstance(v, str)):
                raise ValueError("'files' must map paths to hashes")
            if not _is_str_map(pending, lambda v: isinstance(v, list) and all(isinstance(h, str) for h in v)):
                raise ValueError("'pending' must map paths to lists of hashes")
        except (UnicodeDecodeError, ValueError) as exc:
            raise VaultError(
                f"the manifest is not valid: {exc}",
                path=where,
                hint="restore it from git; without one, generated files that differ from the new rendering are conflicts",
            ) from None
        return cls(dict(files), {path: tuple(hashes) for path, hashes in pending.items()})


def _is_str_map(value: object, valid_value) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and valid_value(v) for k, v in value.items())


def manifest_path(vault: Path) -> Path:
    return vault / STATE_DIR / MANIFEST_NAME


def read_manifest_bytes(vault: Path) -> bytes | None:
    path = manifest_path(vault)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise vault_os_error(exc, path, "read the manifest") from None


def load_manifest(vault: Path) -> Manifest:
    data = read_manifest_bytes(vault)
    return Manifest() if data is None else Manifest.from_bytes(data, manifest_path(vault))


# --- the state folder and one-line errors -------------------------------------


def vault_os_error(exc: OSError, path: Path | str, doing: str) -> VaultError:
    """One line saying what failed, where, and what the user can do about it."""
    hints = {
        errno.EACCES: "check its permissions (e.g. chmod u+rw)",
        errno.EPERM: "check its permissions (e.g. chmod u+rw)",
        errno.EROFS: "the file system is read-only; build a copy of the project elsewhere",
        errno.ENOSPC: "free some disk space and build again",
        errno.ENOTDIR: "a file is where a folder should be; move that file away",
        errno.EISDIR: "a folder is where a file should be; move that folder away",
    }
    hint = hints.get(exc.errno or 0, "fix this and build again; the next build repairs an interrupted one")
    where = exc.filename if isinstance(exc.filename, str) else path
    return VaultError(f"cannot {doing}: {exc.strerror or exc}", path=where, hint=hint)


def require_vault_folder(vault: Path) -> None:
    """A vault path must be a folder, or not exist yet."""
    if vault.exists() and not vault.is_dir():
        raise VaultError(
            "the vault path is a file, not a folder",
            path=vault,
            hint="move the file away: vaultgen writes the vault into that folder",
        )


def require_writable(folder: Path) -> None:
    # os.access says yes to root whatever the mode; the OSError handlers
    # below still catch what it misses.
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
    state = vault / STATE_DIR
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise vault_os_error(exc, state, "create vaultgen's state folder") from None
    require_writable(state)
    return state
