"""`vaultgen build` end to end on a small real project."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import invoke


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block."""
    return [(lang, body) for _, lang, body in re.findall(r"^(`{3,})(\w*)\n(.*?)^\1$", text, re.S | re.M)]


def test_build_writes_notes_with_real_examples(runner, project):
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0, result.output
    vault = project / "vault"
    assert {p.name for p in vault.glob("*.md")} == {"Examples.md", "Home.md"}
    note = (vault / "Examples.md").read_text()
    blocks = _code_blocks(note)
    sources = [body for lang, body in blocks if lang == "python"]
    outputs = [body for lang, body in blocks if lang == "text"]
    for name, source in zip(("thread_example", "process_example"), sources):
        script = (project / "experiments" / f"{name}.py").read_text()
        assert source == script  # byte for byte what ran
        compile(source, name, "exec")
    stored = json.loads((project / "results").glob("*/thread_example.json").__next__().read_text())
    assert outputs[0] == stored["outputs"]["stdout"]
    assert outputs[1].count("is running") == 5  # printed by five child processes, captured at fd level
    assert json.loads((vault / ".obsidian" / "app.json").read_text())["newLinkFormat"] == "shortest"
    assert note.startswith("---\ntags:\n- test/examples\nitems: 1000\n---\n")


def test_second_build_changes_nothing(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    before = _snapshot(project / "vault")
    results_before = _snapshot(project / "results")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0, result.output
    assert _snapshot(project / "vault") == before
    assert _snapshot(project / "results") == results_before
    assert "experiments ran" in result.output and re.search(r"experiments cached\s+│\s+3", result.output)


def test_failing_and_hanging_experiments_do_not_stop_the_build(runner, project):
    (project / "experiments" / "broken.py").write_text("import sys\nprint('partial')\nsys.exit('boom: bad input')\n")
    (project / "experiments" / "hangs.py").write_text("import time\ntime.sleep(60)\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick", "--timeout", "1")
    assert result.exit_code == 1
    assert "broken" in result.output and "boom: bad input" in result.output
    assert "hangs" in result.output and "timeout" in result.output
    assert (project / "vault" / "Examples.md").exists()  # the rest was built


def test_check_mode_reports_stale_vault(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick", "--check").exit_code == 0
    template = project / "templates" / "Home.md.j2"
    template.write_text(template.read_text() + "\nA new line.\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick", "--check")
    assert result.exit_code == 1
    assert "Home.md" in result.output and "+A new line." in result.output


def test_template_change_rerenders_without_rerunning(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    results_before = _snapshot(project / "results")
    template = project / "templates" / "Home.md.j2"
    template.write_text(template.read_text() + "\nEdited.\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0
    assert _snapshot(project / "results") == results_before
    assert (project / "vault" / "Home.md").read_text().endswith("Edited.\n")
