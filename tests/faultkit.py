"""Helpers for the bad-input, hostile-project and fault tests: build, break one thing, check the damage.

Building the project (three tiny experiments) once per session and copying
it per case keeps a hundred CLI cases cheap: a copy's results are fresh, so
its next build only renders.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import EXAMPLES_NOTE, HOME_NOTE, invoke, make_skeleton

QUICK = ("--profile", "quick")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (and what a symlink or a plain file there points to)."""
    if folder.is_file() or folder.is_symlink():
        return {".": folder.read_bytes() if folder.is_file() else os.readlink(folder).encode()}
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): (os.readlink(p).encode() if p.is_symlink() else p.read_bytes())
        for p in sorted(folder.rglob("*")) if p.is_symlink() or p.is_file()
    }


def build(runner, project: Path, *extra: str):
    return invoke(runner, "build", "-C", str(project), *QUICK, *extra)


def built(runner, project: Path) -> dict[str, bytes]:
    result = build(runner, project)
    assert result.exit_code == 0, result.output
    return snapshot(project / "vault")


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def error_line(output: str) -> str:
    """The one error line; its hint (what to do) is the parenthesised end."""
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    assert re.search(r"\(.{8,}\)$", lines[0]), f"no hint in: {lines[0]}"
    return lines[0]


def refused(runner, project: Path, before: dict[str, bytes], *extra: str, code: int = 1) -> str:
    """Build, expect one error line and exit ``code``; vault/ and results/ must be as they were."""
    results_before = snapshot(project / "results")
    result = build(runner, project, *extra)
    assert result.exit_code == code, result.output
    line = error_line(result.output)
    assert snapshot(project / "vault") == before
    assert snapshot(project / "results") == results_before
    return line


def template(project: Path, name: str, text: str) -> Path:
    path = project / "templates" / name
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def built_once(tmp_path_factory) -> Path:
    root = make_skeleton(tmp_path_factory.mktemp("built") / "proj")
    (root / "templates" / "Examples.md.j2").write_text(EXAMPLES_NOTE)
    (root / "templates" / "Home.md.j2").write_text(HOME_NOTE)
    built(CliRunner(), root)
    return root


@pytest.fixture
def fresh(built_once: Path, tmp_path: Path) -> Path:
    """A copy of a built project: results fresh, vault written, nothing to measure."""
    copy = tmp_path / "proj"
    shutil.copytree(built_once, copy, symlinks=True)
    return copy


# --- running vaultgen as a user whom file modes bind ----------------------------------------------

_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
_LIB: dict[str, object] = {}


def _nobody_can_run(python: str) -> bool:
    want = f"{sys.version_info[0]}.{sys.version_info[1]}"
    probe = "import os, sys, json, encodings, ctypes; os.stat(sys.executable); print('%d.%d' % sys.version_info[:2])"
    try:
        proc = subprocess.run([*_NOBODY, python, "-I", "-c", probe], capture_output=True, text=True, timeout=30,
                              cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout.strip() == want


def nobody_python() -> tuple[str, Path]:
    """(an interpreter `nobody` can run, a world-readable folder holding vaultgen and what it imports).

    The clone (and its venv) may sit where `nobody` cannot enter (a 0700
    `mktemp -d`, /root): vaultgen's package and the libraries it imports are
    copied to a world-readable temporary folder instead.  Skips, saying why,
    only when no interpreter of this Python version is runnable by `nobody`.
    """
    if "python" not in _LIB:
        candidates = [os.path.realpath(sys.executable), getattr(sys, "_base_executable", ""),
                      "/usr/bin/python3", "/usr/local/bin/python3",
                      f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"]
        python = next((c for c in candidates if c and os.path.exists(c) and _nobody_can_run(c)), None)
        _LIB["python"] = python
        if python is not None:
            _LIB["lib"] = _world_readable_lib()
    python = _LIB["python"]
    if python is None:
        pytest.skip(f"no Python {sys.version_info[0]}.{sys.version_info[1]} that the user nobody can run "
                    "(this one lives where nobody may not enter, and the system has none of that version)")
    return str(python), _LIB["lib"]


def _distributions(name: str, seen: dict[str, metadata.Distribution]) -> None:
    """``name`` and everything it requires (extras aside), as installed."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return  # required only on other Python versions, or optional
    key = dist.metadata["Name"].lower().replace("_", "-")
    if key in seen:
        return
    seen[key] = dist
    for requirement in dist.requires or ():
        if "extra ==" not in requirement:
            _distributions(re.match(r"[A-Za-z0-9._-]+", requirement).group(0), seen)


def _world_readable_lib() -> Path:
    """vaultgen and every installed package it requires, copied where anyone may read them."""
    repo = Path(__file__).resolve().parent.parent
    lib = Path(tempfile.mkdtemp(prefix="vaultgen-nobody-lib-"))
    atexit.register(shutil.rmtree, lib, True)
    shutil.copytree(repo / "generator", lib / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    found: dict[str, metadata.Distribution] = {}
    _distributions("vaultgen", found)
    for key, dist in found.items():
        if key == "vaultgen":
            continue
        tops = {Path(str(f)).parts[0] for f in dist.files or ()}
        for top in sorted(tops):
            source = Path(dist.locate_file(top))
            if top.endswith((".dist-info", ".egg-info", ".pth")) or top in ("..", "__pycache__", "bin") \
                    or (lib / top).exists() or not source.exists():
                continue
            if source.is_dir():
                shutil.copytree(source, lib / top, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, lib / top)
    for path in [lib, *lib.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return lib


def run_as_nobody(python: str, lib: Path, cwd: Path, *args: str) -> tuple[int, str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(lib), "PYTHONDONTWRITEBYTECODE": "1",
           "HOME": str(cwd), "LANG": "C.UTF-8", "TMPDIR": str(cwd)}
    proc = subprocess.run([*_NOBODY, python, "-m", "generator", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr
