"""`vaultgen build` end to end on a small real project."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import REPO, invoke


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
    stored = json.loads((project / "results").glob("*/*/thread_example.json").__next__().read_text())
    assert outputs[0] == stored["outputs"]["stdout"]
    assert outputs[1].count("is running") == 5  # printed by five child processes, captured at fd level
    assert json.loads((vault / ".obsidian" / "app.json").read_text())["newLinkFormat"] == "shortest"
    # A quick build says so in the properties and under the title (issue 9, section 3).
    assert note.startswith("---\ntags:\n- test/examples\nitems: 1000\nprofile: quick\n---\n# Examples\n\n"
                           "> [!warning] Figures from the `quick` profile\n")


def test_second_build_changes_nothing(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    before = _snapshot(project / "vault")
    results_before = _snapshot(project / "results")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0, result.output
    assert _snapshot(project / "vault") == before
    assert _snapshot(project / "results") == results_before
    assert "vault up to date: 3 experiments cached" in result.output


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


def test_the_check_diff_applies_with_patch_to_names_with_spaces(runner, project, tmp_path):
    """GNU patch reads a header's file name up to a space unless a tab ends it."""
    import shutil
    import subprocess

    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    spaced = project / "templates" / "Two Words.md.j2"
    spaced.write_text((project / "templates" / "Home.md.j2").read_text().replace("Home", "Two Words"))
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    spaced.write_text(spaced.read_text() + "\nA new line.\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick", "--check")
    assert result.exit_code == 1 and "--- a/Two Words.md\t\n" in result.stdout
    copy = tmp_path / "copy"
    shutil.copytree(project / "vault", copy)
    subprocess.run(["patch", "-p1", "-d", str(copy)], input=result.stdout, text=True, check=True, capture_output=True)
    assert (copy / "Two Words.md").read_text().endswith("A new line.\n")


def test_check_says_a_hand_edit_is_not_fixed_by_a_build(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    note = project / "vault" / "Home.md"
    note.write_text(note.read_text() + "my own line\n")
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0  # kept as it is
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick", "--check")
    assert result.exit_code == 1
    assert "modified Home.md (edited by hand" in result.output and "run vaultgen build --overwrite" in result.output
    assert "out of date: run vaultgen build" not in result.output  # a build would not make it pass


def test_template_change_rerenders_without_rerunning(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    results_before = _snapshot(project / "results")
    template = project / "templates" / "Home.md.j2"
    template.write_text(template.read_text() + "\nEdited.\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0
    assert _snapshot(project / "results") == results_before
    assert (project / "vault" / "Home.md").read_text().endswith("Edited.\n")


def test_unchanged_build_imports_no_matplotlib(runner, project):
    import subprocess
    import sys

    # The fixture's notes draw no chart: add one that does (race_condition's quick run takes a second).
    (project / "experiments" / "race_condition.py").write_text((REPO / "experiments" / "race_condition.py").read_text())
    (project / "templates" / "Race.md.j2").write_text(
        '{#---\ntitle: Race\nexperiments: [race_condition]\n---#}\n# Race\n\nSee [[Home]].\n\n{{ chart("race-lost-updates") }}\n')
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    assert list((project / "vault" / "attachments").glob("race-lost-updates*")), "the note drew no chart"
    driver = ("import sys\nfrom generator.pipeline import BuildOptions, build\nfrom generator.config import Project\nfrom pathlib import Path\n"
              f"report = build(Project(Path({str(project)!r})), BuildOptions(profile='quick'))\n"
              "assert {s.state for s in report.experiments} == {'cached'}, report.experiments\n"
              "assert not report.written.changed\n"
              "print('matplotlib' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_no_change_build_still_restores_a_deleted_note(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    note = project / "vault" / "Home.md"
    text = note.read_text()
    note.unlink()
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0 and note.read_text() == text
    assert "files created" in result.output


def test_hand_edit_is_reported_on_every_build(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    note = project / "vault" / "Home.md"
    note.write_text(note.read_text() + "\nMy own words.\n")
    for _ in range(2):  # the skip-rendering shortcut must not hide it the second time
        result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
        assert result.exit_code == 0 and "Home.md" in result.output and "--overwrite" in result.output
    assert note.read_text().endswith("My own words.\n")
