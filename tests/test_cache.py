"""Results are reused exactly while nothing that could change them changed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.machine import Machine

from generator.pipeline import BuildOptions, build
from generator.config import Project


def _build(root: Path, **options) -> dict[str, str]:
    report = build(Project(root), BuildOptions(profile="quick", **options))
    return {s.name: s.state for s in report.experiments}


def test_unchanged_project_runs_nothing(project):
    assert set(_build(project).values()) == {"ran"}
    assert set(_build(project).values()) == {"cached"}


def test_changing_a_script_reruns_only_it(project):
    _build(project)
    script = project / "experiments" / "thread_example.py"
    script.write_text(script.read_text() + "\n# a comment changes the source\n")
    states = _build(project)
    assert states["thread_example"] == "ran" and states["process_example"] == "cached"


def test_changing_a_shared_helper_reruns_its_importers(project):
    _build(project)
    helper = project / "experiments" / "_harness.py"
    helper.write_text(helper.read_text() + "\n# changed\n")
    states = _build(project)
    assert states["tiny"] == "ran" and states["thread_example"] == "cached"


def test_changing_the_profile_reruns(project):
    _build(project)
    report = build(Project(project), BuildOptions(profile="full", only=()))
    assert {s.state for s in report.experiments} == {"ran"}


def test_template_change_does_not_rerun(project):
    _build(project)
    (project / "templates" / "Home.md.j2").write_text((project / "templates" / "Home.md.j2").read_text() + "x\n")
    assert set(_build(project).values()) == {"cached"}


def test_only_and_force(project):
    _build(project)
    assert _build(project, only=("tiny",)) == {"tiny": "ran", "thread_example": "cached", "process_example": "cached"}
    assert set(_build(project, force=True).values()) == {"ran"}


def test_only_does_not_call_an_experiment_without_a_current_result_cached(project):
    """After a killed build of a new experiment, `--only another` counted it "cached"."""
    _build(project)
    new = project / "experiments" / "fresh_one.py"
    new.write_text("print('new')\n")
    assert _build(project, only=("tiny",))["fresh_one"] == "not current"
    script = project / "experiments" / "thread_example.py"
    script.write_text(script.read_text() + "\n# changed: its result is stale now\n")
    assert _build(project, only=("tiny",))["thread_example"] == "not current"


def test_failed_run_keeps_the_last_good_result(project):
    _build(project)
    result_file = next((project / "results").glob("*/*/tiny.json"))
    good = json.loads(result_file.read_text())
    tiny = project / "experiments" / "tiny.py"
    tiny.write_text(tiny.read_text().replace("def run(ctx):", "def run(ctx):\n    raise RuntimeError('broken on purpose')"))
    report = build(Project(project), BuildOptions(profile="quick"))
    assert [s.name for s in report.failed] == ["tiny"]
    kept = json.loads(result_file.read_text())
    assert kept["metrics"] == good["metrics"] and "broken on purpose" in kept["failure"]["message"]
    note = (project / "vault" / "Examples.md").read_text()
    assert "[!warning] The last run of `tiny` failed" in note and "last good run" in note


def _pyenv_python(version: str) -> str | None:
    try:
        prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = Path(prefix.stdout.strip()) / "bin" / "python"
    return str(path) if prefix.returncode == 0 and path.exists() else None


def test_two_interpreters_in_one_build(project):
    others = [p for p in (_pyenv_python("3.12.1"), _pyenv_python("3.13.0")) if p]
    if not others:
        pytest.skip("no second CPython from pyenv on this machine")
    report = build(Project(project), BuildOptions(profile="quick", pythons=("python3", others[0])))
    tags = {s.interpreter for s in report.experiments}
    assert len(tags) == 2 and not report.failed
    for tag in tags:
        assert (project / "results" / Machine.here().slug / f"{tag}-quick" / "tiny.json").exists()


def test_unknown_or_too_old_interpreter_is_refused(project):
    from generator.errors import InterpreterError

    with pytest.raises(InterpreterError, match="not on PATH"):
        build(Project(project), BuildOptions(profile="quick", pythons=("python-does-not-exist",)))
    old = _pyenv_python("3.7.16") or _pyenv_python("3.6.15")
    if old is None:
        pytest.skip("no Python older than 3.8 from pyenv on this machine")
    with pytest.raises(InterpreterError, match="too old"):
        build(Project(project), BuildOptions(profile="quick", pythons=(old,)))


def test_corrupt_result_file_is_named(project):
    _build(project)
    result_file = next((project / "results").glob("*/*/tiny.json"))
    result_file.write_text("{ not json")
    states = _build(project)  # a corrupt result is not fresh: re-measured
    assert states["tiny"] == "ran"
    assert json.loads(result_file.read_text())["metrics"]


def test_results_survive_a_copy_of_the_project(project, tmp_path):
    _build(project)
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    assert set(_build(copy).values()) == {"cached"}


def test_installing_a_package_an_experiment_imports_reruns_it(project, monkeypatch):
    """An experiment that records "not available" without a package must not
    keep that result once the package is installed (nor after an upgrade)."""
    packages = project.parent / "pythonpath"
    packages.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(packages))
    script = project / "experiments" / "tiny.py"
    script.write_text(script.read_text().replace("import time\n", "import time\n\ntry:\n    import fakepkg\nexcept ImportError:\n    fakepkg = None\n", 1))
    _build(project)
    assert _build(project)["tiny"] == "cached"
    (packages / "fakepkg").mkdir()
    (packages / "fakepkg" / "__init__.py").write_text("")
    (packages / "fakepkg-1.0.dist-info").mkdir()
    states = _build(project)
    assert states["tiny"] == "ran" and states["thread_example"] == "cached"
    assert _build(project)["tiny"] == "cached"
    (packages / "fakepkg-1.0.dist-info").rename(packages / "fakepkg-1.1.dist-info")
    assert _build(project)["tiny"] == "ran"
