"""What vaultgen wrote into the vault, and how to tell a file is still exactly that.

The manifest (``vault/.vaultgen/manifest.json``) maps each generated file to
the hash of the content vaultgen wrote.  It is committed with the vault, so it
holds no timestamps or absolute paths and is serialised deterministically.
Keep-block bodies are left out of a note's hash (see keepblocks.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import VaultError
from generator.writer.fsops import os_error, parse_json, read_regular
from generator.writer.keepblocks import is_keep_text, normalise_newlines, strip_keep_bodies
from generator.writer.state import state_dir

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


def content_hash(path: str, data: bytes) -> str:
    """sha256 of a file's content: line endings normalised for text, keep-block bodies emptied for notes."""
    if b"\0" not in data:
        data = normalise_newlines(data)
    if is_keep_text(path):
        # surrogateescape: bytes that are not UTF-8 (a user's, inside a keep block) round-trip unchanged,
        # so an edit there is still no hand edit; a UTF-8 file hashes exactly as it always did.
        data = strip_keep_bodies(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """Generated path -> hash of what vaultgen wrote there.

    ``pending`` holds further hashes accepted as vaultgen's own.  It is only
    non-empty while a commit is under way (see ``journal_towards``) or after
    one was killed; the next successful commit clears it.
    """

    files: dict[str, str] = field(default_factory=dict)
    pending: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # generated path -> the template it came from, so a note whose title
    # changed is recognised as renamed and carries its keep blocks along
    templates: dict[str, str] = field(default_factory=dict)

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
        return Manifest(files, pending, {**self.templates, **final.templates})

    def to_bytes(self) -> bytes:
        doc: dict[str, object] = {"version": MANIFEST_VERSION, "files": self.files}
        if self.pending:
            doc["pending"] = {path: list(hashes) for path, hashes in self.pending.items()}
        if self.templates:
            doc["templates"] = self.templates
        return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, where: Path) -> Manifest:
        try:
            doc = parse_json(data.decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("version") != MANIFEST_VERSION:
                raise ValueError(f"expected an object with version {MANIFEST_VERSION}")
            files = doc.get("files", {})
            pending = doc.get("pending", {})
            if not _is_str_map(files, lambda v: isinstance(v, str)):
                raise ValueError("'files' must map paths to hashes")
            if not _is_str_map(pending, lambda v: isinstance(v, list) and all(isinstance(h, str) for h in v)):
                raise ValueError("'pending' must map paths to lists of hashes")
            templates = doc.get("templates", {})
            if not _is_str_map(templates, lambda v: isinstance(v, str)):
                raise ValueError("'templates' must map paths to template names")
        except (UnicodeDecodeError, ValueError) as exc:
            raise VaultError(
                f"the manifest is not valid: {exc}",
                path=where,
                hint="restore it from git; without one, generated files that differ from the new rendering are conflicts",
            ) from None
        return cls(dict(files), {path: tuple(hashes) for path, hashes in pending.items()}, dict(templates))


def _is_str_map(value: object, valid_value) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and valid_value(v) for k, v in value.items())


def manifest_path(vault: Path) -> Path:
    return state_dir(vault) / MANIFEST_NAME


def read_manifest_bytes(vault: Path) -> bytes | None:
    path = manifest_path(vault)
    try:
        return read_regular(path, follow=False)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise os_error(exc, path, "read the manifest") from None


def load_manifest(vault: Path) -> Manifest:
    data = read_manifest_bytes(vault)
    return Manifest() if data is None else Manifest.from_bytes(data, manifest_path(vault))
