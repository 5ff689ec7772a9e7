"""The real notes render from crafted results, and their verdicts follow the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import render_files
from generator.config import Project
from generator.experiments import discover as discover_experiments
from generator.interpreters import Interpreter
from generator.results import ResultSet
from generator.templates import discover as discover_templates
from tests.factories import INTERPRETER, result

REPO = Path(__file__).resolve().parent.parent

FREE_THREADED = Interpreter(path="/opt/python3.13t", version="3.13.0", implementation="CPython", build="main",
                            compiler="GCC 12", free_threaded=True, gil_enabled=False)


def _cpu(threads: float, processes: float):
    return result("cpu_bound", {
        "python.threads.2.speedup": threads, "python.processes.2.speedup": processes,
        "c.threads.2.speedup": 1.9, "c.processes.2.speedup": 1.9, "python.capacity": 1.95,
        "python.processes.2.efficiency": processes / 1.95, "capacity.parallel": 1.95,
    })


def _render(tmp_path: Path, results: ResultSet) -> dict[str, str]:
    """The project's real templates and experiments, rendered in a scratch project."""
    for folder in ("templates", "experiments"):
        if not (tmp_path / folder).exists():
            (tmp_path / folder).symlink_to(REPO / folder)
    project = Project(tmp_path)
    found = discover_experiments(project.experiments)
    notes = discover_templates(project.templates, set(found))
    files, _ = render_files(project, notes, found, results)
    return {k: v.decode() for k, v in files.items() if k.endswith(".md")}


@pytest.mark.parametrize("threads, processes, label", [
    (1.02, 1.93, "Holds"),        # pure-Python threads stuck on a GIL build; C threads and processes scale
    (1.60, 1.93, "Does not hold here"),  # threads scaled: no GIL limit on this run
])
def test_gil_verdict_follows_the_figures(tmp_path, threads, processes, label):
    notes = _render(tmp_path, ResultSet([INTERPRETER], {INTERPRETER.tag: {"cpu_bound": _cpu(threads, processes)}}))
    note = notes["Multithreading vs Multiprocessing.md"]
    line = next(l for l in note.splitlines() if "The GIL lets only one thread" in l and l.startswith("> [!"))
    assert f"{label}:" in line
    assert f"threads_speedup_python_2: {threads}" in note  # the key figure is a property too


def test_every_note_renders_without_any_result(tmp_path):
    notes = _render(tmp_path, ResultSet([INTERPRETER], {INTERPRETER.tag: {}}))
    assert set(notes) == {"Python Concurrency.md", "Multithreading vs Multiprocessing.md", "Thread vs Asyncio.md", "Free-Threaded Python.md",
                          "Hybrid Concurrency Models.md", "Concurrency Performance Optimization.md",
                          "Beyond One Machine.md"}
    assert "Not measured" in notes["Multithreading vs Multiprocessing.md"]


def test_interpreters_are_compared_side_by_side(tmp_path):
    by_tag = {INTERPRETER.tag: {"cpu_bound": _cpu(1.01, 1.9)}, FREE_THREADED.tag: {"cpu_bound": _cpu(1.85, 1.9)}}
    note = _render(tmp_path, ResultSet([INTERPRETER, FREE_THREADED], by_tag))["Multithreading vs Multiprocessing.md"]
    section = note.split("## Across interpreters", 1)[1]
    assert "| CPython 3.11.7 | enabled | 1.01× |" in section
    assert "| CPython 3.13.0 free-threaded, GIL disabled | disabled | 1.85× |" in section
