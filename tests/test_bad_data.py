"""Bad data is contained, nothing hangs, every refusal is one line (issue 11 §C and §D).

Each case breaks one thing in a fresh copy of a built project and asserts
the exit code, the one error line (file, problem, what to do; no traceback),
and what vault/ and results/ hold afterwards.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HOME_NOTE, TINY_BENCHMARK, invoke
from tests.faultkit import (  # noqa: F401  (fixtures)
    QUICK,
    build,
    built_once,
    error_line,
    flat,
    fresh,
    refused,
    snapshot,
    template,
)


def _stored(project: Path, name: str = "tiny") -> Path:
    return next((project / "results").rglob(f"{name}.json"))


# --- 16. result documents are validated before they replace a good one -------------------------------

BAD_METRICS = {
    "missing-q1": '{"loop.wall": {"median": 1.0, "q3": 1.0, "min": 1.0, "max": 1.0, "n": 1}}',
    "not-a-mapping": '{"loop.wall": [1, 2, 3]}',
    "text-median": '{"loop.wall": {"median": "fast", "q1": 1, "q3": 1, "min": 1, "max": 1, "n": 1}}',
    "bool-median": '{"loop.wall": {"median": true, "q1": 1, "q3": 1, "min": 1, "max": 1, "n": 1}}',
    "nan": '{"loop.wall": {"median": NaN, "q1": 1, "q3": 1, "min": 1, "max": 1, "n": 1}}',
    "infinity": '{"loop.wall": {"median": Infinity, "q1": 1, "q3": 1, "min": 1, "max": 1, "n": 1}}',
    "nan-sample": '{"loop.wall": {"median": 1, "q1": 1, "q3": 1, "min": 1, "max": 1, "n": 1, "samples": [-Infinity]}}',
    "no-n": '{"loop.wall": {"median": 1, "q1": 1, "q3": 1, "min": 1, "max": 1}}',
}
_WRITER = ("import _harness, sys\nout = sys.argv[sys.argv.index('--json-out') + 1]\n"
           "open(out, 'w').write('{\"experiment\": \"tiny\", \"metrics\": METRICS}')\n")


@pytest.mark.parametrize("case", sorted(BAD_METRICS))
def test_malformed_result_never_replaces_a_good_one(runner, fresh, case):
    stored = _stored(fresh)
    good = json.loads(stored.read_text())
    script = fresh / "experiments" / "tiny.py"
    script.write_text(_WRITER.replace("METRICS", BAD_METRICS[case]))
    result = build(runner, fresh)
    assert result.exit_code == 1, result.output
    output = flat(result.output)
    assert "Traceback" not in output and "tiny (" in output
    assert "invalid result document" in output or "does not fit the schema" in output, output
    now = json.loads(stored.read_text())
    assert now["metrics"] == good["metrics"]  # the last good figures are kept
    assert now["failure"]["status"] == "invalid"
    script.write_text(TINY_BENCHMARK)  # and the next build, --force included, is not blocked
    again = build(runner, fresh, "--force")
    assert again.exit_code == 0, again.output
    assert "failure" not in json.loads(stored.read_text())


@pytest.mark.parametrize("content", ['NaN', 'Infinity', '-Infinity'])
def test_stored_result_with_non_json_number_is_measured_again(runner, fresh, content):
    stored = _stored(fresh)
    doc = stored.read_text()
    stored.write_text(doc.replace('"median": ', f'"median": {content}, "was": ', 1))
    result = build(runner, fresh)
    assert result.exit_code == 0, result.output
    assert json.loads(stored.read_text())["metrics"]["loop.wall"]["n"] >= 3


# --- 17. experiment output is text, never links ---------------------------------------------------------


@pytest.mark.parametrize("text", ["[[2, 3]]", "![[secret.png]]", "see [[Home|x]] and `code`", "``[[a]]``"])
def test_failure_text_with_link_syntax_is_inserted_as_text(runner, fresh, text):
    (fresh / "experiments" / "faulty.py").write_text(
        f"import _harness, sys\nsys.stderr.write('ValueError: ' + {text!r} + '\\n')\nsys.exit(1)\n")
    template(fresh, "Faulty.md.j2", "{#---\ntitle: Faulty\nexperiments: [faulty]\n---#}\n"
             '{% import "_macros.md.j2" as m with context %}\n# Faulty\n\n{{ m.failure("faulty") }}\n\n[[Home]]\n')
    result = build(runner, fresh)
    assert result.exit_code == 1, result.output  # the experiment failed; the build did not
    assert "broken link" not in result.output and "Traceback" not in result.output
    note = (fresh / "vault" / "Faulty.md").read_text()
    assert f"ValueError: {text}" in note
    check = invoke(runner, "check", str(fresh / "vault"))
    assert "secret.png" not in check.output and "2, 3" not in check.output, check.output


# --- 18. no traceback without --debug -----------------------------------------------------------------------


def _fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize("kind, words", [
    ("latin-1", "is not UTF-8 text"),
    ("dangling", "symbolic link to nothing"),
    ("folder", "is a folder, not a script"),
    ("fifo", "cannot be read"),
])
def test_unreadable_experiment_file_is_one_line(runner, fresh, kind, words):
    path = fresh / "experiments" / "broken.py"
    if kind == "latin-1":
        path.write_bytes("print('caf\xe9')\n".encode("latin-1"))
    elif kind == "dangling":
        path.symlink_to(fresh / "nowhere.py")
    elif kind == "folder":
        path.mkdir()
    else:
        _fifo(path)
    before = snapshot(fresh / "vault")
    for extra in ((), ("--check",), ("--force",)):
        line = refused(runner, fresh, before, *extra)
        assert "broken.py" in line and words in line


@pytest.mark.parametrize("name, words", [("Tiny", "tiny.py"), ("CON", "reserved file name on Windows"),
                                         ("lpt1", "reserved file name on Windows")])
def test_an_experiment_name_its_results_could_not_have_everywhere_is_refused(runner, fresh, name, words):
    """results/…/Tiny.json beside tiny.json is one file on macOS and Windows; CON.json none at all."""
    (fresh / "experiments" / f"{name}.py").write_text("print(1)\n")
    before = snapshot(fresh / "vault")
    line = refused(runner, fresh, before)
    assert f"{name}.py" in line and words in line and ("only in case" in line or name != "Tiny")


@pytest.mark.parametrize("which", ["machine", "result"])
def test_a_state_file_that_is_a_folder_is_named_as_the_user_knows_it(runner, fresh, which):
    """machine.json as a folder was an internal error, and a result file as a folder named the
    writer's temporary (.tiny.json.5733.83fda4eb.tmp), not the file."""
    machine = next(p for p in (fresh / "results").iterdir() if p.is_dir())
    target = machine / "machine.json" if which == "machine" else next(machine.rglob("tiny.json"))
    target.unlink()
    target.mkdir()
    result = build(runner, fresh, "--force")
    assert result.exit_code == 1, result.output
    line = error_line(result.output)
    assert f"{target}: cannot" in line and ".tmp" not in line and "internal error" not in line, line


@pytest.mark.parametrize("where", [".vaultgen", "results", "results/TAG"])
def test_state_folder_that_is_a_file_is_one_line(runner, fresh, where):
    if where == "results/TAG":
        where = str(next((fresh / "results").iterdir()).relative_to(fresh))
    target = fresh / where
    shutil.rmtree(target)
    target.write_text("not a folder\n")
    before = snapshot(fresh / "vault")
    result = build(runner, fresh, "--force")
    assert result.exit_code == 1, result.output
    line = error_line(result.output)
    assert where.split("/")[-1] in line and ("is a file" in line or "a file is where a folder" in line)
    assert snapshot(fresh / "vault") == before
    assert target.read_text() == "not a folder\n"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_full_disk_while_saving_results(runner, fresh, monkeypatch, code):
    from generator.writer import fsops

    stored = _stored(fresh)
    good = stored.read_bytes()
    real = fsops._write_all

    def full(fd, data):
        if b'"experiment": "tiny"' in data or b'"experiment":"tiny"' in data:
            raise OSError(code, os.strerror(code))
        real(fd, data)

    monkeypatch.setattr(fsops, "_write_all", full)
    before = snapshot(fresh / "vault")
    result = build(runner, fresh, "--only", "tiny")
    assert result.exit_code == 3, result.output  # the machine's trouble, as for output to a full disk
    line = error_line(result.output)
    assert "no space left" in line or "quota" in line
    assert "run the command again" in line
    assert str(stored) in line
    assert stored.read_bytes() == good  # the old result is whole
    assert [p.name for p in stored.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert snapshot(fresh / "vault") == before


@pytest.mark.parametrize("title", ["x" * 300, "é" * 130, "CON", "nul", "Com1", "LPT9.notes", "a\tb", "a\u0007b"])
def test_new_refuses_bad_titles_in_one_line(runner, fresh, title):
    before = snapshot(fresh / "templates")
    result = invoke(runner, "new", title, "-C", str(fresh))
    assert result.exit_code == 2, result.output
    line = error_line(result.output)
    assert "title" in line
    assert snapshot(fresh / "templates") == before


def test_two_concurrent_checks_do_not_race(fresh):
    template(fresh, "Home.md.j2", HOME_NOTE + "\nChanged.\n")
    command = [sys.executable, "-m", "generator", "build", "-C", str(fresh), *QUICK, "--check"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        assert "Traceback" not in err and "Home.md" in out
    assert [p for p in (fresh / ".vaultgen").iterdir() if p.name.endswith(".tmp")] == []


# --- 19. titles are validated before anything is measured --------------------------------------------------


@pytest.mark.parametrize("title, words", [
    ('"line\\nbreak"', "control character"),
    ('"tab\\there"', "control character"),
    ('"Thread vs \\u202eoicnysA"', "U+202E RIGHT-TO-LEFT OVERRIDE"),  # shows as 'Thread vs Asyncio'
    ('"Zero\\u200bwidth"', "U+200B ZERO WIDTH SPACE"),
    ('"two\\u2028lines"', "U+2028 LINE SEPARATOR"),
    ("CON", "reserved file name on Windows"),
    ("nul", "reserved file name on Windows"),
    ("COM1", "reserved file name on Windows"),
    ("aux.notes", "reserved file name on Windows"),
    ("x" * 260, "the 255 that file systems allow"),
    ("ü" * 127, "the 255 that file systems allow"),
    ("L" * 251, "at most 215 leave room"),  # its .md fits 255, but its backup's temporary does not
])
def test_bad_title_is_refused_before_measuring(runner, fresh, title, words):
    before = snapshot(fresh / "vault")
    template(fresh, "Bad.md.j2", "{#---\ntitle: " + title + "\n---#}\nbody\n")
    line = refused(runner, fresh, before, "--force")  # --force: results unchanged means nothing was measured
    assert "Bad.md.j2:2" in line and words in line


def test_joiners_that_scripts_and_emoji_need_are_a_fine_title():
    from generator.templates import title_problem

    assert title_problem("می\u200cخواهم") is None  # Persian: the non-joiner is part of the spelling
    assert title_problem("Family \U0001F468\u200d\U0001F469\u200d\U0001F467") is None


def test_the_longest_title_allowed_survives_overwrite_and_export(runner, fresh, tmp_path):
    """A 251-byte title passed, then `build --overwrite` failed forever on its backup's temporary
    ("File name too long") and `export html` on its page."""
    title = "L" * 215
    template(fresh, "Long.md.j2", "{#---\ntitle: " + title + "\n---#}\nbody\n")
    assert build(runner, fresh).exit_code == 0
    note = fresh / "vault" / f"{title}.md"
    note.write_text(note.read_text() + "mine\n")
    result = build(runner, fresh, "--overwrite")
    assert result.exit_code == 0, result.output
    exported = invoke(runner, "export", "html", str(tmp_path / "site"), "-C", str(fresh))
    assert exported.exit_code == 0 and (tmp_path / "site" / f"{title}.html").is_file(), exported.output


# --- 20. numbers are validated --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf"])
def test_timeout_must_be_positive_and_finite(runner, fresh, value):
    before = snapshot(fresh / "vault")
    line = refused(runner, fresh, before, "--force", "--timeout", value, code=2)
    assert "--timeout" in line and "positive, finite" in line


@pytest.mark.parametrize("value", ["-1", "nan"])
def test_run_and_config_refuse_the_same_timeouts(runner, fresh, value):
    """`vaultgen run --timeout -1` blamed the experiment ("killed after the -1 s timeout"), and nan
    switched the timeout off."""
    for command in ("run", "config"):
        args = [command, "tiny"] if command == "run" else [command]
        result = invoke(runner, *args, "-C", str(fresh), "--timeout", value)
        assert result.exit_code == 2 and "positive, finite" in result.output, (command, result.output)


@pytest.mark.parametrize("value", ["nan", "inf", "{ quick = nan }", "0"])
def test_settings_timeout_must_be_positive_and_finite(runner, fresh, value):
    """`timeout = nan` in pyproject.toml was accepted, and a hung experiment was never killed."""
    assert not (fresh / "pyproject.toml").exists()
    (fresh / "pyproject.toml").write_text(f"[tool.vaultgen]\ntimeout = {value}\n")
    result = invoke(runner, "config", "-C", str(fresh))
    assert result.exit_code == 2 and "finite, positive number" in result.output and "pyproject.toml" in result.output, result.output


def test_overdue_eta_counts_up_instead_of_sitting_at_zero():
    import time

    from generator.console import _progress

    progress = _progress(__import__("rich.console").console.Console(file=open(os.devnull, "w")))
    task = progress.add_task("x", total=1, eta_at=time.monotonic() - 75)
    column = progress.columns[-1]
    text = column.render(progress.tasks[task]).plain
    assert text == "1:15 over"
    progress.update(task, eta_at=time.monotonic() + 61.5)
    assert column.render(progress.tasks[task]).plain == "ETA 1:01"


# --- 13. rendering has a time limit -------------------------------------------------------------------------


def test_endless_template_is_stopped_naming_it(runner, fresh, monkeypatch):
    from generator import notes

    monkeypatch.setattr(notes, "RENDER_TIME_LIMIT", 0.5)
    before = snapshot(fresh / "vault")
    template(fresh, "Endless.md.j2", "{#---\ntitle: Endless\n---#}\n"
             "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n")
    for extra in ((), ("--check",)):
        line = refused(runner, fresh, before, *extra)
        assert "Endless.md.j2" in line and "longer than 0.5 s" in line
    assert not (fresh / "vault" / ".vaultgen" / "lock").exists()  # released


@pytest.mark.parametrize("body, said", [
    ('{{ "a" * 10**9 }}', "a repetition of 1,000,000,000 items"),
    ('{{ [0] * 10**9 }}', "a repetition of 1,000,000,000 items"),
    ('{{ 10 ** 1000000 }}', "a power too large"),
    ('{{ (10 ** 100000) ** 100 }}', "a power too large"),
    ('{{ "%040000000d" % 1 }}', "%-format width"),
    ('{{ "a".center(40000000) }}', "str.center to a width"),
    ('{{ ("a" | safe).center(40000000) }}', "str.center to a width"),
    ('{{ "%*d" % (40000000, 1) }}', "%-format width"),
    ('{{ "%(a)040000000d" % {"a": 1} }}', "%-format width"),
    ('{{ "{:>40000000}".format(1) }}', "str.format to a width"),
    ('{{ "{:>{w}}".format(1, w=40000000) }}', "str.format to a width"),
    ('{{ "%40000000d" | format(1) }}', "%-format width"),
    ('{{ ("\t" * 1000).expandtabs(100000) }}', "str.expandtabs to a width"),
    ('{% for i in range(99999) %}{{ "        " * 1000 }}{% endfor %}', "grew past 8,388,608 characters"),
    ('{% for i in range(9) %}{{ "a" * 1000000 }}{% endfor %}', "grew past 8,388,608 characters"),
    ('{% for i in range(3) %}{{ "€" * 1000000 }}{% endfor %}', "over the 8,388,608 a note may be"),
])
def test_a_template_is_refused_one_operation_too_large_for_any_note_and_any_note_over_8_mib(runner, fresh, body, said):
    """"a" * 10**9 took 50 s and 4.9 GB, then committed a 1 GB note: one C operation, which the
    render time limit cannot stop, so the sandbox refuses it before it runs (filters such as
    center(10**9) it does not: README, "Templates")."""
    before = snapshot(fresh / "vault")
    template(fresh, "Huge.md.j2", "{#---\ntitle: Huge\n---#}\n# Huge\n\n" + body + "\n")
    line = refused(runner, fresh, before)
    assert "Huge.md.j2" in line and said in line, line


# --- 14. special files never hang the build or the linter ---------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("where", ["users-note", "generated-note", "attachment", "template", "partial"])
def test_fifo_never_hangs(fresh, where):
    path = {"users-note": fresh / "vault" / "Pipe.md", "generated-note": fresh / "vault" / "Home.md",
            "attachment": fresh / "vault" / "attachments" / "pipe.svg",
            "template": fresh / "templates" / "Pipe.md.j2", "partial": fresh / "templates" / "_pipe.md.j2"}[where]
    if path.exists():
        path.unlink()
    path.parent.mkdir(exist_ok=True)
    _fifo(path)
    if where == "partial":
        template(fresh, "Uses.md.j2", '{#---\ntitle: Uses\n---#}\n{% include "_pipe.md.j2" %}\n')
    built = _run("build", "-C", str(fresh), *QUICK)  # a hang fails by TimeoutExpired
    checked = _run("check", str(fresh / "vault"))
    assert "Traceback" not in built.stderr + checked.stderr
    if where in ("users-note", "attachment"):
        assert built.returncode == 0, built.stderr
    else:
        assert built.returncode == 1
        assert "not a regular file" in built.stderr or "regular UTF-8" in built.stderr or \
               "a regular" in built.stderr, built.stderr
    assert checked.returncode in (0, 1)


# --- 15. an interrupted commit is reported truthfully ------------------------------------------------------


@pytest.mark.parametrize("how", ["ctrl-c", "disk-full"])
def test_interrupted_commit_says_what_was_written(runner, fresh, monkeypatch, how):
    from generator.writer import stage

    for name in ("Home", "Examples"):
        path = fresh / "templates" / f"{name}.md.j2"
        path.write_text(path.read_text() + "\nChanged.\n")

    def stop(label):
        if label.startswith("commit: replaced"):
            if how == "ctrl-c":
                raise KeyboardInterrupt
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(stage, "_checkpoint", stop)
    result = build(runner, fresh)
    output = flat(result.output)
    assert "Traceback" not in output
    assert "1 of 2 file changes were made" in output and "the next build completes the job" in output
    assert "left as it was" not in output
    if how == "ctrl-c":
        assert result.exit_code == 130 and output.startswith("interrupted while writing the vault")
    else:
        assert result.exit_code == 3 and "no space left" in error_line(result.output)
    monkeypatch.undo()
    again = build(runner, fresh)
    assert again.exit_code == 0, again.output
    for name in ("Home", "Examples"):
        assert (fresh / "vault" / f"{name}.md").read_text().endswith("Changed.\n")
