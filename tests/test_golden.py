"""Rendering against a small golden vault: the same results give the same bytes.

Set VAULTGEN_UPDATE_GOLDEN=1 to rewrite tests/golden/expected after a deliberate change.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from generator.pipeline import render_files
from generator.config import Project
from generator.experiments import Experiment
from generator.templates import discover
from tests.factories import metric, result, result_set

GOLDEN = Path(__file__).parent / "golden"
SOURCE = 'print("hello from a thread")\n'


def _render(tmp_path: Path) -> dict[str, bytes]:
    project = Project(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    templates = tmp_path / "templates"
    templates.mkdir()
    # The golden notes use the project's real macros: a change to them shows here.
    for path in [*(GOLDEN / "templates").iterdir(), Path(__file__).parent.parent / "templates" / "_macros.md.j2"]:
        shutil.copy(path, templates / path.name)  # copied: templates may not link outside templates/
    experiments = {
        "thread_example": Experiment("thread_example", tmp_path / "thread_example.py", "example", "Thread example", SOURCE),
        "tiny": Experiment("tiny", tmp_path / "tiny.py", "benchmark", "Tiny", ""),
    }
    results = result_set(
        result("thread_example", {"wall": 0.0345}, kind="example", outputs={"stdout": "hello from a thread\n"}),
        result("tiny", {"loop.wall": metric(0.00123, spread=0.25), "items": metric(1000, unit="", spread=0)},
               unavailable={"spawn": "this platform has no spawn start method"},
               failure={"message": "exited with code 1: RuntimeError: flaky"}),
    )
    files, _ = render_files(project, discover(project.templates, set(experiments)), experiments, results)
    return files


def test_golden_vault(tmp_path):
    files = _render(tmp_path)
    expected_dir = GOLDEN / "expected"
    if os.environ.get("VAULTGEN_UPDATE_GOLDEN"):
        for path, data in files.items():
            target = expected_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    expected = {str(p.relative_to(expected_dir)): p.read_bytes()
                for p in expected_dir.rglob("*") if p.is_file()}
    assert files == expected


def test_rendering_is_deterministic(tmp_path):
    first = _render(tmp_path / "a")
    second = _render(tmp_path / "b")
    assert first == second
