"""A hostile project cannot make vaultgen write, delete or read outside it (issue 11 §A).

Each case plants one symlink, template or manifest entry in a fresh copy of a
built project, builds (or checks), and asserts the exit code, the one error
line, that a victim file outside the project is untouched, and what vault/
and results/ hold afterwards.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generator.writer.manifest import content_hash
from tests.conftest import HOME_NOTE, invoke
from tests.faultkit import (  # noqa: F401  (fixtures)
    build,
    built_once,
    error_line,
    flat,
    fresh,
    refused,
    snapshot,
    template,
)

SECRET = b"outside the project: must never change\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_bytes(SECRET)
    (outside / "staging").mkdir()
    (outside / "staging" / "keep-me").write_bytes(SECRET)
    return outside


def _untouched(outside: Path) -> None:
    assert snapshot(outside) == {"victim": SECRET, "staging/keep-me": SECRET}


def _changed_home(project: Path) -> None:
    template(project, "Home.md.j2", HOME_NOTE + "\nChanged.\n")


# --- 1. state and temporary files are never opened through a symlink ---------------------


def test_symlinked_lock_is_refused_and_its_target_kept(runner, fresh, victim):
    before = snapshot(fresh / "vault")
    _changed_home(fresh)
    (fresh / "vault" / ".vaultgen" / "lock").symlink_to(victim / "victim")
    before = snapshot(fresh / "vault")
    line = refused(runner, fresh, before)
    assert "lock" in line and "symbolic link" in line
    _untouched(victim)


@pytest.mark.parametrize("check", [False, True], ids=["build", "check"])
def test_symlinked_state_folder_is_refused(runner, fresh, victim, check):
    state = fresh / "vault" / ".vaultgen"
    (victim / "manifest.json").write_bytes((state / "manifest.json").read_bytes())
    for path in state.iterdir():
        path.unlink() if path.is_file() else None
    state.rmdir()
    state.symlink_to(victim, target_is_directory=True)
    _changed_home(fresh)
    before = snapshot(fresh / "vault")
    line = refused(runner, fresh, before, *(["--check"] if check else []))
    assert "state folder is a symbolic link" in line and "rm " in line
    assert (victim / "staging" / "keep-me").read_bytes() == SECRET
    assert sorted(p.name for p in victim.iterdir()) == ["manifest.json", "staging", "victim"]


@pytest.mark.parametrize("check", [True, False], ids=["check", "build"])
def test_planted_cache_temporaries_are_never_written_through(runner, fresh, victim, monkeypatch, check):
    from generator import charts

    registry = charts.registry
    spec = charts.ChartSpec("test-loop", ("tiny",), lambda fig, data: fig.add_subplot().bar(["a"], [1.0]), (2.0, 2.0))
    monkeypatch.setattr(charts, "registry", lambda: {**registry(), "test-loop": spec})
    template(fresh, "Chart.md.j2", "{#---\ntitle: Chart\nexperiments: [tiny]\n---#}\n{{ chart('test-loop') }}\n")
    for name in ("charts.tmp", "charts.json.tmp", "rendered.tmp", "interpreters.tmp"):
        (fresh / ".vaultgen" / name).symlink_to(victim / "victim")
    cache_before = snapshot(fresh / ".vaultgen")
    before = snapshot(fresh / "vault")
    result = build(runner, fresh, *(["--check"] if check else []))
    assert result.exit_code == (1 if check else 0), result.output
    assert "Chart.md" in result.output
    _untouched(victim)
    if check:  # --check changes nothing at all
        assert snapshot(fresh / "vault") == before
        assert snapshot(fresh / ".vaultgen") == cache_before
    else:
        assert (fresh / "vault" / "attachments" / "test-loop.svg").is_file()


def test_result_temporary_symlink_is_never_followed(runner, fresh, victim):
    stored = next((fresh / "results").rglob("tiny.json"))
    planted = [stored.with_name("tiny.json.tmp"), stored.with_name(".tiny.json.tmp")]
    for path in planted:
        path.symlink_to(victim / "victim")
    result = build(runner, fresh, "--force")
    assert result.exit_code == 0, result.output
    assert json.loads(stored.read_text())["metrics"]["loop.wall"]["n"] >= 3
    assert not stored.is_symlink()
    _untouched(victim)


@pytest.mark.parametrize("folder", [".vaultgen", "results", "results/TAG"])
def test_symlinked_cache_or_results_folder_is_refused(runner, fresh, victim, folder):
    if folder == "results/TAG":
        folder = str(next((fresh / "results").iterdir()).relative_to(fresh))
    real = fresh / folder
    moved = victim / "moved"
    real.rename(moved)
    real.symlink_to(moved, target_is_directory=True)
    moved_before = snapshot(moved)
    before = snapshot(fresh / "vault")
    result = build(runner, fresh, "--force")
    assert result.exit_code == 1, result.output
    line = error_line(result.output)
    assert "symbolic link" in line and folder.split("/")[0] in line
    assert snapshot(fresh / "vault") == before
    assert snapshot(moved) == moved_before
    _untouched_except_moved = {k: v for k, v in snapshot(victim).items() if not k.startswith("moved/")}
    assert _untouched_except_moved == {"victim": SECRET, "staging/keep-me": SECRET}


def test_planted_jinja_bytecode_is_never_loaded(runner, fresh):
    """A project's own .vaultgen/jinja folder is not a bytecode cache (loading it would run its code)."""
    cache = fresh / ".vaultgen" / "jinja"
    cache.mkdir(parents=True, exist_ok=True)
    for path in cache.iterdir():
        path.unlink()
    _changed_home(fresh)
    result = build(runner, fresh)
    assert result.exit_code == 0, result.output
    assert list(cache.iterdir()) == []
    # The one bytecode folder: the user's own, mode 0700 (this test's: conftest's own_cache_folder).
    ours = Path(os.environ["VAULTGEN_CACHE_DIR"]) / "jinja"
    assert any(ours.glob("__jinja2_*.cache")) and (ours.stat().st_mode & 0o777) == 0o700


# --- 2. templates cannot mutate what other notes render from -------------------------------


@pytest.mark.parametrize("expression", [
    "notes.clear()",
    "notes.pop()",
    "notes.append(note)",
    "result('tiny').metrics.clear()",
    "result('tiny').metrics.pop('loop.wall')",
    "result('tiny').facts.update(x=1)",
    "result('tiny').outputs.clear()",
    "results.clear()",
    "interpreters.clear()",
    "env.clear()",
    "note.extra.update(x=1)",
])
def test_template_cannot_mutate_shared_objects(runner, fresh, expression):
    before = snapshot(fresh / "vault")
    template(fresh, "Aaa.md.j2", "{#---\ntitle: Aaa\nexperiments: [tiny]\norder: 1\n---#}\n"
             "{{ (" + expression + ") or '' }}\n")
    line = refused(runner, fresh, before)
    assert "Aaa.md.j2:6" in line and "rendering failed" in line and "unsafe" in line


# --- 3. includes never leave templates/ ------------------------------------------------------


@pytest.mark.parametrize("how", ["include", "import", "extends"])
def test_include_through_symlink_out_of_templates_is_refused(runner, fresh, how):
    secret = fresh.parent / "secret.txt"
    secret.write_text("API_TOKEN=hunter2\n")
    (fresh / "templates" / "_env.md.j2").symlink_to(secret)
    tag = {"include": '{% include "_env.md.j2" %}', "import": '{% import "_env.md.j2" as e %}',
           "extends": '{% extends "_env.md.j2" %}'}[how]
    _changed_home(fresh)
    template(fresh, "Leak.md.j2", "{#---\ntitle: Leak\n---#}\n" + tag + "\n")
    before = snapshot(fresh / "vault")
    for extra in ((), ("--check",)):
        result = build(runner, fresh, *extra)
        assert result.exit_code == 1, result.output
        line = error_line(result.output)
        assert "hunter2" not in result.output
        assert "_env.md.j2" in line and "outside the templates folder" in line
    assert snapshot(fresh / "vault") == before


def test_include_of_proc_environ_is_refused(runner, fresh):
    (fresh / "templates" / "_env.md.j2").symlink_to("/proc/self/environ")
    template(fresh, "Leak.md.j2", '{#---\ntitle: Leak\n---#}\n{% include "_env.md.j2" %}\n')
    before = snapshot(fresh / "vault")
    result = build(runner, fresh, "--check")
    assert result.exit_code == 1
    line = error_line(result.output)
    assert "outside the templates folder" in line and "PATH=" not in result.output
    assert snapshot(fresh / "vault") == before


def test_symlink_inside_templates_still_works(runner, fresh):
    (fresh / "templates" / "_part.txt").write_text("shared words\n")
    (fresh / "templates" / "_alias.md.j2").symlink_to("_part.txt")
    template(fresh, "Part.md.j2", '{#---\ntitle: Part\n---#}\n{% include "_alias.md.j2" %}\n')
    result = build(runner, fresh)
    assert result.exit_code == 0, result.output
    assert "shared words" in (fresh / "vault" / "Part.md").read_text()


# --- 4. a tampered manifest cannot delete what vaultgen never generated -----------------------


@pytest.mark.parametrize("path", [".git/config", ".obsidian/plugins/dataview/main.js", ".trash/old.md",
                                  ".obsidian/community-plugins.json", "notes/.hidden.md"])
def test_tampered_manifest_cannot_remove_users_files(runner, fresh, path):
    vault = fresh / "vault"
    target = vault / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"[core]\n\tbare = false\n")
    manifest_file = vault / ".vaultgen" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["files"][path] = content_hash(path, target.read_bytes())
    manifest_file.write_text(json.dumps(manifest))
    before = snapshot(vault)
    for extra in (("--check",), ()):
        line = refused(runner, fresh, before, *extra)
        assert repr(path) in line and "hidden folder" in line and "restore the manifest" in line
    assert target.read_bytes() == b"[core]\n\tbare = false\n"


def test_manifest_entry_outside_the_vault_is_refused(runner, fresh, victim):
    vault = fresh / "vault"
    manifest_file = vault / ".vaultgen" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    (vault / "escape").symlink_to(victim, target_is_directory=True)
    manifest["files"]["escape/victim"] = content_hash("escape/victim", SECRET)
    manifest_file.write_text(json.dumps(manifest))
    before = snapshot(vault)
    line = refused(runner, fresh, before)
    assert "escape/victim" in line and "symbolic link" in line
    _untouched(victim)


def test_removed_template_still_removes_its_own_note(runner, fresh):
    """The rule above does not stop the ordinary removal of a generated note."""
    (fresh / "templates" / "Examples.md.j2").unlink()
    template(fresh, "Home.md.j2", HOME_NOTE)
    result = build(runner, fresh)
    assert result.exit_code == 0, result.output
    assert not (fresh / "vault" / "Examples.md").exists()
    assert "Examples.md" in flat(result.output)



# --- files inside the state folders: never read or appended through a link, never waited on --------


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "symlink outside", "fifo"])
def test_a_result_file_that_is_a_link_or_a_fifo_is_refused_at_once(runner, fresh, victim, kind):
    """A committed results/…/x.json -> /dev/zero once read until memory ran out; a FIFO hung the build.
    Now it is stale, with the reason, and the build replaces it."""
    import os

    stored = next((fresh / "results").rglob("tiny.json"))
    stored.unlink()
    if kind == "fifo":
        os.mkfifo(stored)
    else:
        stored.symlink_to("/dev/zero" if kind == "symlink to /dev/zero" else victim / "victim")
    listed = invoke(runner, "list", "-C", str(fresh), "--profile", "quick")
    assert listed.exit_code == 0 and "unreadable cannot read result" in listed.output  # named, not waited on
    result = build(runner, fresh)
    assert result.exit_code == 0, result.output  # re-measured, and stored as a regular file
    assert stored.is_file() and not stored.is_symlink() and json.loads(stored.read_text())["experiment"] == "tiny"
    _untouched(victim)


def test_cache_files_are_never_read_through_a_link(runner, fresh, victim):
    """An outside rendered.json once made the build report "vault up to date" without rendering."""
    _changed_home(fresh)
    cache = fresh / ".vaultgen"
    for name in ("rendered.json", "charts.json", "interpreters.json"):
        if (cache / name).exists():
            (victim / name).write_bytes((cache / name).read_bytes())
            (cache / name).unlink()
        (cache / name).symlink_to(victim / name)
    outside = snapshot(victim)
    result = build(runner, fresh)
    assert result.exit_code == 0, result.output
    assert "Changed." in (fresh / "vault" / "Home.md").read_text()  # rendered: the linked record was not trusted
    assert snapshot(victim) == outside  # and nothing was written through the links
    # Rewritten as regular files (charts.json only once a chart is drawn, which this project has none of).
    assert not any((cache / name).is_symlink() for name in ("rendered.json", "interpreters.json"))


def test_history_is_never_appended_through_a_link(tmp_path, victim):
    from generator import history
    from generator.errors import ResultError

    folder = tmp_path / "results"
    folder.mkdir()
    (folder / history.HISTORY_FILE).symlink_to(victim / "victim")
    with pytest.raises(ResultError, match="cannot append to the history") as info:
        history.append(folder, {"experiment": "x", "environment": {"date": "d"}, "metrics": {}})
    assert info.value.path == folder / history.HISTORY_FILE
    _untouched(victim)
    assert history.read(folder, "x") == []  # nor read through it


def test_an_unreadable_history_is_named_by_the_history_command(runner, project):
    """A history.jsonl that is a folder (or a FIFO, a link) made `vaultgen history` say there was
    no history at all; notes and builds still go on without trends."""
    from generator import history

    folder = project / "results" / "some-machine" / "cpython-3.11.7"
    (folder / history.HISTORY_FILE).mkdir(parents=True)
    result = invoke(runner, "history", "tiny", "-C", str(project))
    assert result.exit_code == 1 and "cannot read the history" in result.output and history.HISTORY_FILE in result.output
    assert history.read(folder, "tiny") == []  # what a note's trend sees


def test_the_renderers_note_limit_is_the_size_the_linter_still_reads():
    """Two constants, since the sandbox must not load the linter; a note larger than the linter
    reads would be a skipped file in the vault the build just wrote."""
    from generator import sandbox
    from generator.lint import notefacts

    assert sandbox.MAX_NOTE_BYTES == notefacts.MAX_NOTE_BYTES
