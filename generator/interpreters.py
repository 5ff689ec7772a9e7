"""Find the Python interpreters experiments run under, and who they are."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from generator.errors import InterpreterError

MIN_VERSION = (3, 8)

# Runs inside the probed interpreter, which may be as old as 3.8.
_PROBE = r"""
import json, platform, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", None)
print(json.dumps({
    "version": platform.python_version(),
    "version_info": list(sys.version_info[:3]),
    "implementation": platform.python_implementation(),
    "build": " ".join(platform.python_build()),
    "compiler": platform.python_compiler(),
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil_enabled": True if gil is None else bool(gil()),
    "executable": sys.executable,
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

    @property
    def tag(self) -> str:
        """Folder name for its results, e.g. ``cpython-3.13.0t``."""
        suffix = "t" if self.free_threaded else ""
        return f"{self.implementation.lower()}-{self.version}{suffix}"

    @property
    def label(self) -> str:
        gil = "" if self.gil_enabled else ", GIL disabled"
        return f"{self.implementation} {self.version}{' free-threaded' if self.free_threaded else ''}{gil}"

    def identity(self) -> dict:
        """What goes into a cache key: not the path, which differs across machines."""
        data = asdict(self)
        del data["path"]
        return data


def _locate(name: str) -> Path:
    candidate = Path(name).expanduser()
    if os.sep in name or candidate.exists():
        if not candidate.exists():
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
        return json.loads(proc.stdout)
    except ValueError as exc:
        raise InterpreterError("interpreter printed no identity", path=path) from exc


def resolve(name: str | None, cache_dir: Path | None = None) -> Interpreter:
    """The interpreter ``name`` (a path or a command on PATH; None: this one).

    Probing costs a process start, so identities are cached by the
    executable's path, size and modification time.
    """
    path = Path(sys.executable) if name is None else _locate(name)
    stat = path.stat()
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = cache_dir / "interpreters.json" if cache_dir else None
    cache: dict = {}
    if cache_file and cache_file.exists():
        try:
            cache = json.loads(cache_file.read_text())
        except ValueError:
            cache = {}  # a corrupt cache is only a lost shortcut
    info = cache.get(key) or _probe(path)
    if tuple(info["version_info"]) < MIN_VERSION:
        raise InterpreterError(
            f"Python {info['version']} is too old for the experiments",
            path=path,
            hint=f"use Python {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer",
        )
    if cache_file and key not in cache:
        cache[key] = info
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True))
        os.replace(tmp, cache_file)
    return Interpreter(
        path=str(path),
        version=info["version"],
        implementation=info["implementation"],
        build=info["build"],
        compiler=info["compiler"],
        free_threaded=info["free_threaded"],
        gil_enabled=info["gil_enabled"],
    )
