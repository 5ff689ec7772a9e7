"""Find the Python interpreters experiments run under, and who they are."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeGuard

from generator.errors import InterpreterError
from generator.writer.fsops import atomic_write, parse_json, read_state

MIN_VERSION = (3, 8)

# Runs inside the probed interpreter, which may be as old as 3.8.
_PROBE = r"""
import json, platform, site, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", None)
try:  # where its third-party packages live (-I hides the user site, which experiments see)
    site_dirs = site.getsitepackages() + [site.getusersitepackages()]
except AttributeError:  # an old virtualenv's site module
    site_dirs = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
print(json.dumps({
    "version": platform.python_version(),
    "version_info": list(sys.version_info[:3]),
    "implementation": platform.python_implementation(),
    "build": " ".join(platform.python_build()),
    "compiler": platform.python_compiler(),
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil_enabled": True if gil is None else bool(gil()),
    "executable": sys.executable,
    "site_dirs": site_dirs,
}))
"""


@dataclass(frozen=True)
class Interpreter:
    """One Python interpreter, identified well enough to key a cache on."""

    path: str
    version: str
    implementation: str
    build: str
    compiler: str
    free_threaded: bool
    gil_enabled: bool
    # Set for an interpreter the project lists but this machine lacks: its
    # committed figures come from the results folder of machine `machine`,
    # and `measured_on` says where and when ("machine amd-epyc-2c-linux-a11965, 2026-12-01").
    machine: str = ""
    measured_on: str = ""
    # Its site-packages folders, for the versions of the packages an experiment
    # imports (``generator.packages``); a path, so not part of the identity.
    site_dirs: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        """Whether experiments can run under it here (not only shown from committed results)."""
        return not self.measured_on

    @property
    def tag(self) -> str:
        """Folder name for its results, e.g. ``cpython-3.13.0t``."""
        suffix = "t" if self.free_threaded else ""
        return f"{self.implementation.lower()}-{self.version}{suffix}"

    def at_least(self, major: int, minor: int) -> bool:
        """Whether this is ``major.minor`` or newer: for prose that holds from one release on."""
        return tuple(int(part) for part in self.version.split(".")[:2]) >= (major, minor)

    @property
    def label(self) -> str:
        gil = "" if self.gil_enabled else ", GIL disabled"
        where = f" (committed figures: {self.measured_on})" if self.measured_on else ""
        return f"{self.implementation} {self.version}{' free-threaded' if self.free_threaded else ''}{gil}{where}"

    def identity(self) -> dict:
        """What goes into a cache key: not the path, which differs across machines."""
        data = asdict(self)
        for where in ("path", "machine", "measured_on", "site_dirs"):
            del data[where]
        return data


def _locate(name: str) -> Path:
    candidate = Path(name).expanduser()
    try:
        exists = candidate.exists()
    except OSError as exc:  # e.g. a folder on its path that this user may not enter
        raise InterpreterError(f"cannot use interpreter: {exc.strerror}", path=candidate,
                               hint="check that it exists and that you may run it") from None
    if os.sep in name or exists:
        if not exists:
            raise InterpreterError(f"interpreter not found: {name}", hint="give an existing path or a name on PATH")
        return candidate
    found = shutil.which(name)
    if found is None:
        raise InterpreterError(
            f"interpreter {name!r} is not on PATH",
            hint="give its full path, e.g. --python $(pyenv prefix 3.13.0)/bin/python",
        )
    return Path(found)


def _probe(path: Path) -> dict:
    try:
        proc = subprocess.run(
            [str(path), "-I", "-c", _PROBE], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InterpreterError(f"cannot run interpreter: {exc}", path=path) from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InterpreterError(f"interpreter failed to start: {last}", path=path,
                               hint=f"vaultgen needs Python {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer")
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        info = None
    if not _valid_identity(info):
        raise InterpreterError("interpreter printed no identity", path=path,
                               hint="give a CPython or PyPy executable, 3.8 or newer")
    return info


_IDENTITY_TYPES = {"version": str, "version_info": list, "implementation": str, "build": str,
                   "compiler": str, "free_threaded": bool, "gil_enabled": bool, "site_dirs": list}


def _valid_identity(info: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(info, dict) and all(isinstance(info.get(k), t) for k, t in _IDENTITY_TYPES.items())


def _read_cache(cache_file: Path) -> dict:
    """The probe cache, or an empty one: a corrupt cache is only a lost shortcut."""
    try:
        cache = parse_json(read_state(cache_file))
    except (OSError, ValueError):
        return {}
    if not isinstance(cache, dict):
        return {}
    return {k: v for k, v in cache.items() if _valid_identity(v)}


def _write_cache(cache_file: Path, cache: dict) -> None:
    """Store the cache if it changed (or was corrupt); failing to is only a lost shortcut."""
    text = json.dumps(cache, indent=1, sort_keys=True)
    try:
        if read_state(cache_file) == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        if not cache_file.parent.is_symlink():  # never written through a link (build refuses one anyway)
            atomic_write(cache_file, text.encode("utf-8"), durable=False)
    except OSError:
        pass


def resolve(name: str | None, cache_dir: Path | None = None) -> Interpreter:
    """The interpreter ``name`` (a path or a command on PATH; None: this one).

    Probing costs a process start, so identities are cached by the
    executable's path, size and modification time.
    """
    path = Path(sys.executable) if name is None else _locate(name)
    try:
        stat = path.stat()
    except OSError as exc:
        raise InterpreterError(f"cannot use interpreter: {exc.strerror}", path=path,
                               hint="check that it exists and that you may run it") from exc
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = cache_dir / "interpreters.json" if cache_dir else None
    cache = _read_cache(cache_file) if cache_file else {}
    info = cache.get(key)
    if not _valid_identity(info):
        info = cache[key] = _probe(path)
    if tuple(info["version_info"]) < MIN_VERSION:
        raise InterpreterError(
            f"Python {info['version']} is too old for the experiments",
            path=path,
            hint=f"use Python {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer",
        )
    if cache_file:
        _write_cache(cache_file, cache)
    return Interpreter(
        path=str(path),
        version=info["version"],
        implementation=info["implementation"],
        build=info["build"],
        compiler=info["compiler"],
        free_threaded=info["free_threaded"],
        gil_enabled=info["gil_enabled"],
        site_dirs=tuple(str(d) for d in info["site_dirs"]),
    )
