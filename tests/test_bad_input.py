"""Bad input through `vaultgen build`: one clear line, the right exit code, the vault untouched.

Every case builds once successfully first, breaks one thing, builds again and
checks the error names the file (and line) and what to do, that there is no
traceback (unless ``--debug``), and that every byte under vault/ is as it was.
Failing experiments are different: the build goes on, the other notes are
written, and the build exits 1 at the end naming the experiment.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from generator.runner import OUTPUT_LIMIT
from tests.conftest import HOME_NOTE, TINY_BENCHMARK, invoke
from tests.faultkit import build as _build
from tests.faultkit import built as _built
from tests.faultkit import error_line as _error_line
from tests.faultkit import flat as _flat
from tests.faultkit import nobody_python, run_as_nobody
from tests.faultkit import snapshot as _snapshot
from tests.faultkit import template as _template

QUICK = ("--profile", "quick")


def _refused(runner, project: Path, before: dict[str, bytes], *extra: str, code: int = 1) -> str:
    result = _build(runner, project, *extra)
    assert result.exit_code == code, result.output
    line = _error_line(result.output)
    assert _snapshot(project / "vault") == before
    return line


# --- templates ---------------------------------------------------------------


def test_jinja_syntax_error(runner, project):
    before = _built(runner, project)
    _template(project, "Broken.md.j2", "{#---\ntitle: Broken\n---#}\nfine\n{% for x in %}\n")
    line = _refused(runner, project, before)
    assert "Broken.md.j2:5" in line and "syntax error" in line


def test_undefined_variable(runner, project):
    before = _built(runner, project)
    _template(project, "Home.md.j2", HOME_NOTE + "\n{{ nosuchvar }}\n")
    line = _refused(runner, project, before)
    assert "Home.md.j2:11" in line and "'nosuchvar' is undefined" in line


def test_debug_reraises_with_traceback(runner, project):
    from generator.errors import TemplateError

    _built(runner, project)
    _template(project, "Home.md.j2", HOME_NOTE + "\n{{ nosuchvar }}\n")
    with pytest.raises(TemplateError, match="nosuchvar"):
        invoke(runner, "--debug", "build", "-C", str(project), *QUICK)
    proc = subprocess.run([sys.executable, "-m", "generator", "--debug", "build", "-C", str(project), *QUICK],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "nosuchvar" in proc.stderr


def test_yaml_error_in_header(runner, project):
    before = _built(runner, project)
    _template(project, "Home.md.j2", HOME_NOTE.replace("tags: [test/home]", "tags: [test/home"))
    line = _refused(runner, project, before)
    assert "Home.md.j2:" in line and "YAML error" in line


@pytest.mark.parametrize("char", list('*"\\/<>:|?#^[]'))
def test_forbidden_title_character(runner, project, char):
    before = _built(runner, project)
    title = "Bad" + char + "Title"
    _template(project, "Bad.md.j2", "{#---\ntitle: '" + title + "'\n---#}\nbody\n")
    line = _refused(runner, project, before)
    reason = "links to it do not work" if char in "#^[]" else "Obsidian refuses"
    assert "Bad.md.j2:2" in line and reason in line


@pytest.mark.parametrize("title", ["../Escape", "sub/Note", "/etc/Note", "..", "a/../../b"])
def test_title_cannot_leave_the_vault(runner, project, title):
    before = _built(runner, project)
    _template(project, "Escape.md.j2", "{#---\ntitle: '" + title + "'\n---#}\nbody\n")
    line = _refused(runner, project, before)
    assert "Escape.md.j2:2" in line and "bad title" in line
    assert not any(p.name.startswith("Escape") for p in project.rglob("*.md"))


@pytest.mark.parametrize("second", ["Home", "home", "HOME"])
def test_duplicate_titles(runner, project, second):
    before = _built(runner, project)
    _template(project, "Zz.md.j2", "{#---\ntitle: " + second + "\n---#}\nbody\n")
    line = _refused(runner, project, before)
    assert "Zz.md.j2:2" in line and "already used by Home.md.j2" in line


def test_template_naming_unknown_experiment(runner, project):
    before = _built(runner, project)
    _template(project, "Ghost.md.j2", "{#---\ntitle: Ghost\nexperiments: [no_such_thing]\n---#}\nbody\n")
    line = _refused(runner, project, before)
    assert "Ghost.md.j2:3" in line and "unknown experiment 'no_such_thing'" in line and "known: " in line  # its key's line


@pytest.mark.parametrize("expression", [
    "''.__class__.__mro__",
    "''.__class__.__mro__[1].__subclasses__()",
    "note.__init__.__globals__",
    "note.path.read_text()",
    "note.path.parent.joinpath('escape.txt').write_text('pwned')",
    "results.tiny.path.read_text()",
    "interpreters[0].__class__",
])
def test_sandbox_refuses_unsafe_access(runner, project, expression):
    before = _built(runner, project)
    _template(project, "Evil.md.j2",
              "{#---\ntitle: Evil\nexperiments: [tiny]\n---#}\nline\n{{ " + expression + " }}\n")
    line = _refused(runner, project, before)
    assert "Evil.md.j2:6" in line and "rendering failed" in line
    assert not (project / "templates" / "escape.txt").exists()


def test_project_without_templates(runner, project):
    shutil.rmtree(project / "templates")
    result = _build(runner, project)
    assert result.exit_code == 1
    line = _error_line(result.output)
    assert str(project / "templates") in line and "missing" in line
    assert not (project / "vault").exists()


def test_project_folder_that_does_not_exist(runner, tmp_path):
    result = _build(runner, tmp_path / "nowhere")
    assert result.exit_code == 2
    line = _error_line(result.output)
    assert "nowhere" in line and "no such project folder" in line


# --- the command line --------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (("--only", "no_such_thing"), ["unknown experiment no_such_thing", "known: "]),
    (("--profile", "nope"), ["unknown profile 'nope'", "quick"]),
    (("--python", "nonexistent-python-xyz"), ["'nonexistent-python-xyz' is not on PATH"]),
    (("--python", "/no/such/python3"), ["/no/such/python3"]),
])
def test_usage_errors_exit_2(runner, project, args, words):
    before = _built(runner, project)
    results_before = _snapshot(project / "results")
    line = _refused(runner, project, before, *args, code=2)
    for word in words:
        assert word in line
    assert _snapshot(project / "results") == results_before


def test_python_that_is_not_python(runner, project, tmp_path):
    before = _built(runner, project)
    fake = tmp_path / "fakepython"
    fake.write_text("#!/bin/sh\necho 'not python' >&2\nexit 3\n")
    fake.chmod(0o755)
    line = _refused(runner, project, before, "--python", str(fake), code=2)
    assert str(fake) in line and "not python" in line


# --- experiments that fail ---------------------------------------------------

FAULTY_NOTE = '''\
{#---
title: Faulty
experiments: [faulty]
---#}
{% import "_macros.md.j2" as m with context %}
# Faulty

{{ m.failure("faulty") }}
{% set r = result("faulty") %}
Loop: {{ m.figure(r.metric("loop.wall") if r and r.metrics else none) }}
'''

FAULTS = {
    "exit-1": ("import _harness, sys\nsys.stderr.write('ran out of widgets\\n')\nsys.exit(1)\n",
               "exited with code 1: ran out of widgets"),
    "invalid-json-written": ("import _harness, sys\nout = sys.argv[sys.argv.index('--json-out') + 1]\n"
                             "open(out, 'w').write('{not json')\n", "wrote an invalid result document"),
    "invalid-json-printed": ("import _harness\nprint('{\"metrics\": oops')\n", "wrote no result document"),
    "hang": ("import _harness, time\ntime.sleep(60)\n", "killed after the 2 s timeout"),
    "segfault": ("import _harness, os, resource, signal\nresource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
                 "os.kill(os.getpid(), signal.SIGSEGV)\n", "died from signal SIGSEGV"),
    # A failure callout quotes stderr: markers in it are no keep block, and broke the build.
    "keep-markers-in-stderr": ("import _harness, sys\nsys.stderr.write('odd %% keep: x %% then %% end keep %% and %% keep: y %%\\n')\n"
                               "sys.exit(1)\n", "exited with code 1: odd %% keep: x %% then %% end keep %% and %% keep: y %%"),
    # Under the 64 MiB on disk that stops a run: 100 MiB raced the 0.25 s size check, and lost on a busy machine.
    "flood-then-exit-1": ("import _harness, sys\nchunk = 'x' * (1 << 20)\nfor _ in range(40):\n"
                          "    sys.stdout.write(chunk)\nsys.stdout.flush()\nsys.exit(1)\n", "exited with code 1"),
    "flood-forever": ("import _harness, sys\nchunk = 'x' * (1 << 20)\nwhile True:\n    sys.stdout.write(chunk)\n",
                      "killed after writing more than 64 MiB of output (the first and last 128 KiB are kept)"),
}


@pytest.mark.parametrize("good_first", [True, False], ids=["after-a-good-run", "never-ran"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_failing_experiment_does_not_stop_the_build(runner, project, fault, good_first):
    script = project / "experiments" / "faulty.py"
    script.write_text(TINY_BENCHMARK)
    _template(project, "Faulty.md.j2", FAULTY_NOTE)
    before = _built(runner, project)
    if not good_first:  # never measured: a build that never ran it has neither figures nor a failure
        shutil.rmtree(project / "results")
        shutil.rmtree(project / "vault")
    source, message = FAULTS[fault]
    script.write_text(source)
    # Only the hang waits for the timeout; the others get room on a busy machine.
    result = _build(runner, project, "--timeout", "2" if fault == "hang" else "30")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    output = _flat(result.output)
    assert re.search(r"faulty \(cpython-[^)]*\): " + re.escape(message), output), output
    assert "1 experiment(s) failed" in output and "vaultgen run NAME" in output
    vault = project / "vault"
    note = (vault / "Faulty.md").read_text()
    assert f"> [!warning] The last run of `faulty` failed: `{message}" in note
    stored = json.loads(next((project / "results").glob("*/*/faulty.json")).read_text())
    assert message in stored["failure"]["message"]
    assert len(json.dumps(stored)) < 64 * 1024  # a flood is not stored
    if good_first:  # the last good figures are kept, and shown, and the other notes untouched
        assert "The figures below are from the last good run." in note
        assert stored["metrics"]["loop.wall"]["n"] >= 3
        assert re.search(r"Loop: \*\*[\d.,]+ .?s( ⚠)?\*\*", note), note  # ⚠: noisy on a busy machine
        after = _snapshot(vault)
        assert {k: v for k, v in after.items() if "Faulty" not in k and ".vaultgen" not in k} == \
               {k: v for k, v in before.items() if "Faulty" not in k and ".vaultgen" not in k}
    else:
        assert "No figures are available" in note and "Loop: n/a" in note
        assert (vault / "Examples.md").is_file() and (vault / "Home.md").is_file()


def test_flood_of_output_is_cut_not_stored(runner, project):
    """100 MB on stdout of an example: the run counts, the note and result stay small."""
    (project / "experiments" / "flood.py").write_text(
        "import sys\nline = 'y' * 1023 + '\\n'\nfor _ in range(100 * 1024):\n    sys.stdout.write(line)\n")
    _template(project, "Flood.md.j2", "{#---\ntitle: Flood\nexperiments: [flood]\n---#}\n"
              '{% import "_macros.md.j2" as m with context %}\n{{ m.example("flood") }}\n')
    result = _build(runner, project)
    assert result.exit_code == 0, result.output
    note = (project / "vault" / "Flood.md").read_text()
    assert "bytes cut" in note and len(note) < OUTPUT_LIMIT + 8192
    stored = next((project / "results").glob("*/*/flood.json"))
    assert stored.stat().st_size < 2 * OUTPUT_LIMIT + 8192


# --- corrupt results and caches ----------------------------------------------


@pytest.mark.parametrize("content", ["{not json", "", "[]", '{"schema": 1}', '{"schema": 99, "metrics": {}}',
                                     '{"schema": 1, "experiment": "tiny", "cache_key": 5, "metrics": []}'])
def test_corrupt_result_is_measured_again(runner, project, content):
    before = _built(runner, project)
    stored = next((project / "results").glob("*/*/tiny.json"))
    stored.write_text(content)
    result = _build(runner, project)
    assert result.exit_code == 0, result.output
    assert "tiny" in _flat(result.output).split("experiments ran")[1].split("experiments cached")[0]
    assert json.loads(stored.read_text())["metrics"]["loop.wall"]["n"] >= 3
    assert _snapshot(project / "vault").keys() == before.keys()


def test_corrupt_result_not_being_measured_names_the_file(runner, project):
    before = _built(runner, project)
    stored = next((project / "results").glob("*/*/tiny.json"))
    stored.write_text('{"schema": 1,\n "metrics": oops}')
    line = _refused(runner, project, before, "--only", "thread_example")
    assert f"{stored}:2" in line and "--force" in line


@pytest.mark.parametrize("content", ["{not json", "", "[]", "null", '{"x": 1}', "{}", "entries-emptied"])
def test_corrupt_interpreter_cache_is_repaired(runner, project, content):
    before = _built(runner, project)
    cache = project / ".vaultgen" / "interpreters.json"
    good = json.loads(cache.read_text())
    if content == "entries-emptied":
        content = json.dumps({key: {} for key in good})
    cache.write_text(content)
    result = _build(runner, project)
    assert result.exit_code == 0, result.output
    assert "3 experiments cached" in result.output, result.output  # nothing re-measured
    assert _snapshot(project / "vault") == before
    assert json.loads(cache.read_text()) == good


def _chart_project(project: Path, monkeypatch) -> None:
    """A chart drawn from `tiny`, registered for this test only."""
    from generator import charts

    def draw(fig, data):
        metric = data.get("tiny").metric("loop.wall")
        fig.add_subplot().bar(["loop"], [metric.median])

    registry = charts.registry
    spec = charts.ChartSpec("test-loop", ("tiny",), draw, (3.0, 2.0))
    monkeypatch.setattr(charts, "registry", lambda: {**registry(), "test-loop": spec})
    _template(project, "Chart.md.j2", "{#---\ntitle: Chart\nexperiments: [tiny]\n---#}\n{{ chart('test-loop') }}\n")


@pytest.mark.parametrize("content", ["{not json", "", "[]", "null", '{"test-loop": 7}'])
def test_corrupt_chart_cache_is_repaired(runner, project, monkeypatch, content):
    _chart_project(project, monkeypatch)
    before = _built(runner, project)
    assert "attachments/test-loop.svg" in before
    cache = project / ".vaultgen" / "charts.json"
    good = json.loads(cache.read_text())
    cache.write_text(content)
    # Without this a no-change build skips rendering and never reads the chart cache.
    (project / ".vaultgen" / "rendered.json").unlink()
    result = _build(runner, project)
    assert result.exit_code == 0, result.output
    assert _snapshot(project / "vault") == before
    assert json.loads(cache.read_text()) == good


def test_corrupt_manifest_is_refused_before_measuring(runner, project):
    before = _built(runner, project)
    (project / "vault" / ".vaultgen" / "manifest.json").write_text("{oops")
    before = _snapshot(project / "vault")
    results_before = _snapshot(project / "results")
    line = _refused(runner, project, before, "--force")
    assert "manifest.json" in line and "manifest is not valid" in line
    assert _snapshot(project / "results") == results_before  # refused before spending time measuring


# --- the vault folder ----------------------------------------------------------


def test_vault_path_is_a_file(runner, project):
    _built(runner, project)
    shutil.rmtree(project / "vault")
    (project / "vault").write_text("not a folder\n")
    before = _snapshot(project / "vault")
    results_before = _snapshot(project / "results")
    line = _refused(runner, project, before, "--force")
    assert str(project / "vault") in line and "is a file" in line
    assert _snapshot(project / "results") == results_before


def test_symlinked_note_leading_outside_is_refused(runner, project, tmp_path):
    _built(runner, project)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.md").write_text("not yours\n")
    home = project / "vault" / "Home.md"
    home.unlink()
    home.symlink_to(outside / "victim.md")
    (project / "vault" / "Dangling.md").symlink_to(outside / "created-by-vaultgen.md")
    _template(project, "Dangling.md.j2", "{#---\ntitle: Dangling\n---#}\nbody\n")
    before = _snapshot(project / "vault")
    line = _refused(runner, project, before)
    assert "symbolic link" in line and "outside" in line
    assert _snapshot(outside) == {"victim.md": b"not yours\n"}


def test_symlinked_folder_leading_outside_is_refused(runner, project, monkeypatch, tmp_path):
    _chart_project(project, monkeypatch)
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "vault").mkdir()
    (project / "vault" / "attachments").symlink_to(outside, target_is_directory=True)
    result = _build(runner, project)
    assert result.exit_code == 1
    line = _error_line(result.output)
    assert "attachments/test-loop.svg" in line and "symbolic link" in line
    assert list(outside.iterdir()) == []


@contextlib.contextmanager
def _unprivileged(project: Path):
    """(project, run) where ``run(*args)`` builds as a user whom file modes bind.

    Root ignores file modes, so as root the project is copied to a folder
    `nobody` owns and vaultgen runs there through `setpriv`, wherever the
    clone lives (see ``faultkit.nobody_python``).
    """
    if os.geteuid() != 0:
        from typer.testing import CliRunner

        def run(*args):
            result = invoke(CliRunner(), *args)
            return result.exit_code, result.output

        yield project, run
        return
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, where file modes do not apply, and setpriv is not installed")
    base = Path(tempfile.mkdtemp(prefix="vaultgen-nobody-"))
    try:
        base.chmod(0o755)
        copy = base / "proj"
        shutil.copytree(project, copy, symlinks=True)
        subprocess.run(["chown", "-R", "nobody:nogroup", str(copy)], check=True)

        # The clone, its venv and this interpreter may live where `nobody` cannot enter
        # (a 0700 `mktemp -d`, /root): vaultgen and its libraries run from a world-readable copy.
        python, lib = nobody_python()

        def run(*args):
            return run_as_nobody(python, lib, copy, *args, "--python", python)

        yield copy, run
    finally:
        for path in [base, *base.rglob("*")]:  # give back what a test took away, then clean up
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(base)


def _can_still(path: Path, mode: int) -> bool:
    return os.geteuid() != 0 and os.access(path, mode)


@pytest.mark.parametrize("which", ["Home.md", "Mine.md"], ids=["generated", "users-own"])
def test_unreadable_file_in_vault(runner, project, which):
    """A generated note vaultgen cannot read is refused; the user's own unreadable note is let be."""
    _built(runner, project)
    (project / "vault" / "Mine.md").write_text("# Mine\n\nmy own note, see [[Home]]\n")
    with _unprivileged(project) as (proj, run):
        target = proj / "vault" / which
        before = _snapshot(proj / "vault")
        _template(proj, "Home.md.j2", HOME_NOTE + "\nChanged.\n")
        target.chmod(0)
        if _can_still(target, os.R_OK):
            pytest.skip("chmod 000 does not stop this user from reading the file")
        code, output = run("build", "-C", str(proj), *QUICK)
        mode = target.stat().st_mode & 0o777
        target.chmod(0o644)
        if which == "Mine.md":
            assert code == 0, output
            assert mode == 0 and target.read_bytes() == before["Mine.md"]
            assert (proj / "vault" / "Home.md").read_text().endswith("Changed.\n")
            return
        assert code == 1, output
        line = _error_line(output)
        assert which in line and "Permission denied" in line and "chmod" in line
        assert _snapshot(proj / "vault") == before


def test_read_only_vault_folder(runner, project):
    _built(runner, project)
    with _unprivileged(project) as (proj, run):
        vault = proj / "vault"
        before = _snapshot(vault)
        _template(proj, "Home.md.j2", HOME_NOTE + "\nChanged.\n")
        vault.chmod(0o555)
        if _can_still(vault, os.W_OK):
            pytest.skip("chmod 555 does not stop this user from writing the folder")
        code, output = run("build", "-C", str(proj), *QUICK)
        vault.chmod(0o755)
        assert code == 1, output
        line = _error_line(output)
        assert str(vault) in line and "read-only" in line and "chmod" in line
        assert _snapshot(vault) == before


@pytest.mark.parametrize("changed", [False, True], ids=["up-to-date", "out-of-date"])
def test_check_on_a_read_only_checkout(runner, project, changed):
    """`build --check` writes nothing, so a checkout nobody may write to is checked like any other."""
    with _unprivileged(project) as (proj, run):
        code, output = run("build", "-C", str(proj), *QUICK)  # under the interpreter this user runs
        assert code == 0, output
        if changed:
            _template(proj, "Home.md.j2", HOME_NOTE + "\nChanged.\n")
        before = _snapshot(proj)
        for path in [proj, *proj.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o555 if path.is_dir() else 0o444)
        if _can_still(proj, os.W_OK):
            pytest.skip("chmod a-w does not stop this user from writing")
        code, output = run("build", "-C", str(proj), *QUICK, "--check")
        assert "Traceback" not in output, output
        assert code == (1 if changed else 0), output
        assert ("Home.md" in output) == changed
        assert _snapshot(proj) == before
