"""Helpers for the bad-input, hostile-project and fault tests: build, break one thing, check the damage.

Building the project (three tiny experiments) once per session and copying
it per case keeps a hundred CLI cases cheap: a copy's results are fresh, so
its next build only renders.
"""

from __future__ import annotations

import os
import re
import shutil
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
