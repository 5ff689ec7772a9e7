"""Skip rendering when nothing that feeds the vault has changed.

A no-change ``vaultgen build`` should cost little more than starting Python.
Rendering (Jinja), checking (markdown) and staging are skipped when a key
over every input matches the last successful build *and* every file the
build wrote is still on disk byte for byte.  The key is deliberately broad
(all templates, results and experiment sources, vaultgen's own code, the
libraries that render), so it can only err towards rendering again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from generator.config import Project
from generator.interpreters import Interpreter
from generator.writer.fsops import atomic_write, parse_json, read_regular, read_state, real_folder
from generator.writer.manifest import manifest_path

_FILE = "rendered.json"
_LIBRARIES = ("jinja2", "yaml", "markdown_it", "mdit_py_plugins", "matplotlib")


def _tree(digest, folder: Path, pattern: str) -> None:
    for path in sorted(folder.rglob(pattern)) if folder.is_dir() else ():
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
        elif not path.is_dir():  # a FIFO, device or dangling link: never read, but it changes the key
            digest.update(str(path.relative_to(folder)).encode() + b"\0special\0")


def _code_identity(digest) -> None:
    """vaultgen's modules and the rendering libraries, by size and mtime (cheap to stat)."""
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package)}|{stat.st_size}|{stat.st_mtime_ns}\0".encode())
    for name in _LIBRARIES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        if origin:
            stat = os.stat(origin)
            digest.update(f"{origin}|{stat.st_size}|{stat.st_mtime_ns}\0".encode())


def render_key(project: Project, interpreters: list[Interpreter], profile: str) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([profile, [i.identity() for i in interpreters]], sort_keys=True).encode())
    _tree(digest, project.templates, "*")
    _tree(digest, project.experiments, "*.py")
    _tree(digest, project.results, "*.json")
    _tree(digest, project.results, "*.jsonl")  # the history charts in the notes
    _code_identity(digest)
    return digest.hexdigest()


def _hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(read_regular(path)).hexdigest()
    except OSError:
        return None


def unchanged(project: Project, key: str) -> list[str] | None:
    """The files of the last build if its key matches and all are intact, else None."""
    try:
        record = parse_json(read_state(project.cache / _FILE))
        files = record["files"]
        if record["key"] != key or not isinstance(files, dict):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no record, or a corrupt one: render as usual
    if record.get("manifest") != _hash(manifest_path(project.vault)):
        return None  # the manifest changed since (restored, edited, tampered with): take the full path
    for path, expected in files.items():
        if _hash(project.vault / path) != expected:
            return None
    return sorted(files)


def remember(project: Project, key: str, paths: list[str]) -> None:
    """Record what the vault holds after a build that wrote everything it rendered.

    A build that kept a hand edit or met a conflict is not recorded, so the
    next build takes the full path and reports them again.
    """
    files = {path: _hash(project.vault / path) for path in sorted(paths)}
    if None in files.values():
        forget(project)
        return
    record = {"key": key, "files": files, "manifest": _hash(manifest_path(project.vault))}
    save_cache(project, project.cache / _FILE, json.dumps(record, indent=1, sort_keys=True).encode())


def save_cache(project: Project, target: Path, data: bytes) -> None:
    """Write a file of the project's cache folder, which must be a real folder.

    A cache that cannot be written only costs time next build; a cache folder
    that is a symlink is refused, as vaultgen never writes through one.
    """
    real_folder(target.parent, "vaultgen's cache folder", base=project.root)
    try:
        atomic_write(target, data, durable=False)
    except OSError:
        pass


def forget(project: Project) -> None:
    try:
        (project.cache / _FILE).unlink()
    except FileNotFoundError:
        pass
