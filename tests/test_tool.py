"""vaultgen as an installed tool: settings, init, version, exit codes, run and list."""

from __future__ import annotations

import re

import json
import subprocess
import sys
from pathlib import Path

import pytest

from generator import __version__
from generator.config import Settings, load_settings
from generator.errors import ConfigError
from tests.conftest import REPO, invoke


def _settings(project: Path, table: str) -> None:
    (project / "pyproject.toml").write_text("[project]\nname = 'lab'\n\n[tool.vaultgen]\n" + table)


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0 and result.output == f"vaultgen {__version__}\n"


def test_config_prints_each_setting_with_its_source(runner, project):
    _settings(project, 'profile = "quick"\ntimeout = {quick = 30}\n\n[tool.vaultgen.check]\nignore = ["orphan"]\n')
    result = invoke(runner, "config", "-C", str(project))
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") == 4}
    assert "quick" in rows["profile"] and "pyproject.toml [tool.vaultgen]" in rows["profile"]
    assert "quick 30 s, full 180 s" in rows["timeout"]
    assert "default" in rows["vault"].split("│")[3]  # not in the table: the default
    assert "ignore = ['orphan']" in rows["check"]
    flagged = invoke(runner, "config", "-C", str(project), "--profile", "full")
    assert "command line" in next(line for line in flagged.output.splitlines() if line.startswith("│ profile"))


@pytest.mark.parametrize("table, said", [("foo = 1", "unknown setting foo"), ('ignore = ["orphans"]', "unknown finding code orphans")])
def test_config_refuses_a_check_setting_the_linter_would_refuse(runner, project, table, said):
    """It printed "check foo = 1" and exited 0, while `vaultgen check` then stopped with exit 2."""
    _settings(project, f"\n[tool.vaultgen.check]\n{table}\n")
    result = invoke(runner, "config", "-C", str(project))
    assert result.exit_code == 2 and said in result.output and "pyproject.toml" in result.output


def test_flags_override_settings():
    settings = Settings(profile="quick", sources={"profile": "pyproject.toml [tool.vaultgen]"})
    chosen = settings.override(profile="full", timeout=5, interpreters=None)
    assert chosen.profile == "full" and chosen.source("profile") == "command line"
    assert chosen.timeout_for("quick") == 5.0 and chosen.source("interpreters") == "default"


@pytest.mark.parametrize("table, where", [
    ('interpreter = ["python3"]\n', "unknown setting"),
    ('profile = "fast"\n', "must be one of"),
    ('interpreters = []\n', "non-empty list"),
    ('timeout = -1\n', "positive number"),
])
def test_bad_settings_name_the_file_and_line(tmp_path, table, where):
    _settings(tmp_path, table)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "pyproject.toml")
    assert where in str(info.value) and "pyproject.toml:5:" in str(info.value)


@pytest.mark.parametrize("vault, said", [
    ('".."', "leaves the project"), ('"notes/../.."', "leaves the project"), ('"/srv/site"', "is absolute"),
    ('"."', "not the project folder itself"), ('"templates"', "templates/ folder"), ('"results/v"', "results/ folder"),
    ('".vaultgen"', "hidden folder"), ('".git"', "hidden folder"), ('""', "relative to the project"),
    ('"vault\\u0000x"', "control character"), ('"notes "', "ending in a space"),
])
def test_the_vault_must_be_a_folder_of_its_own_inside_the_project(runner, project, vault, said):
    """vault = ".." wrote the notes, .obsidian/ and .vaultgen/ into the folder above the project."""
    _settings(project, f"vault = {vault}\n")
    before = sorted(p.name for p in project.parent.iterdir())
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 2 and said in result.output and "pyproject.toml:5:" in result.output, result.output
    assert sorted(p.name for p in project.parent.iterdir()) == before and not (project / "templates" / "Home.md").exists()


def test_a_bad_setting_is_a_usage_error_without_traceback(runner, project):
    _settings(project, "profile = = 1\n")
    result = invoke(runner, "build", "-C", str(project))
    assert result.exit_code == 2 and "invalid TOML" in result.output and "Traceback" not in result.output


def test_configured_interpreters_are_used_and_a_missing_one_is_a_notice(runner, project):
    _settings(project, 'interpreters = ["default", "/nowhere/python3.99"]\nprofile = "quick"\n')
    result = invoke(runner, "build", "-C", str(project), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "ok" and summary["vault"] == str(project / "vault")
    assert {e["interpreter"] for e in summary["experiments"]} == {f"cpython-{sys.version.split()[0]}"}
    assert [n for n in summary["notices"] if "/nowhere/python3.99" in n and "not available here" in n]


def test_a_missing_interpreter_given_as_a_flag_is_a_usage_error(runner, project):
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick", "--python", "/nowhere/python")
    assert result.exit_code == 2 and "interpreter not found" in result.output


def test_a_crash_is_exit_3_in_one_line_and_debug_shows_it(runner, project, monkeypatch):
    import generator.scaffold

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(generator.scaffold, "new_template", crash)
    result = invoke(runner, "new", "Anything", "-C", str(project))
    assert result.exit_code == 3
    assert result.output.strip().startswith("internal error: RuntimeError: boom") and "Traceback" not in result.output
    with pytest.raises(RuntimeError, match="boom"):
        invoke(runner, "--debug", "new", "Anything", "-C", str(project))


def test_init_creates_a_working_project_and_refuses_a_vault_with_notes(runner, tmp_path):
    target = tmp_path / "lab"
    result = invoke(runner, "init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "experiments" / "_harness.py").is_file() and (target / "templates" / "_macros.md.j2").is_file()
    assert (target / "vault" / ".obsidian").is_dir() and not list((target / "vault").rglob("*.md"))
    assert load_settings(target / "pyproject.toml").interpreters == ("default",)
    listed = invoke(runner, "list", "-C", str(target))
    assert listed.exit_code == 0 and "cpu_bound" in listed.output
    (target / "vault" / "Mine.md").write_text("# Mine\n")
    again = invoke(runner, "init", str(target))
    assert again.exit_code == 2 and "already a vault with 1 note(s)" in again.output
    assert (target / "vault" / "Mine.md").read_text() == "# Mine\n"
    empty_vault = tmp_path / "ObsidianVault"
    (empty_vault / ".obsidian").mkdir(parents=True)  # an Obsidian vault, even without notes
    refused = invoke(runner, "init", str(empty_vault))
    assert refused.exit_code == 2 and "is an Obsidian vault" in refused.output
    assert sorted(p.name for p in empty_vault.iterdir()) == [".obsidian"]


@pytest.mark.parametrize(("made", "said"), [
    ("vault", "vault is a file, where init puts a folder"),
    ("templates", "templates is a file, where init puts a folder"),
    ("pyproject.toml/", "pyproject.toml is a folder, where init puts a file"),
    ("pyproject.toml@", "pyproject.toml is a symbolic link to nothing, where init puts a file"),
    ("pyproject.toml", "invalid TOML"),  # checked before experiments/ and templates/ are moved in
])
def test_init_refuses_a_file_where_a_folder_goes_before_writing_anything(runner, tmp_path, made, said):
    """A file named vault/ gave a NotADirectoryError traceback after experiments/ and templates/
    were copied, and the half-made project then refused the next init."""
    target = tmp_path / "lab"
    target.mkdir()
    name = made.rstrip("/@")
    if made.endswith("/"):
        (target / name).mkdir()
    elif made.endswith("@"):  # dangling: init would write where it points, outside the project
        (target / name).symlink_to(tmp_path / "outside.toml")
    else:
        (target / name).write_text("[tool.vaultgen\n" if name == "pyproject.toml" else "mine\n")
    result = invoke(runner, "init", str(target))
    assert result.exit_code == 2 and said in " ".join(result.output.split()) and "Traceback" not in result.output
    assert sorted(p.name for p in target.iterdir()) == [name] and not (tmp_path / "outside.toml").exists()


def test_init_that_fails_while_copying_leaves_no_half_project(runner, tmp_path, monkeypatch):
    import shutil

    copy = shutil.copytree

    def fail_on_templates(source, destination, **kwargs):
        if Path(destination).name == "templates":
            raise OSError(28, "No space left on device", str(destination))
        return copy(source, destination, **kwargs)

    monkeypatch.setattr(shutil, "copytree", fail_on_templates)
    target = tmp_path / "lab"
    result = invoke(runner, "init", str(target))
    assert result.exit_code == 3 and "cannot create the project: No space left on device" in result.output
    assert "free some space and run the command again" in " ".join(result.output.split())  # a full disk: exit 3
    assert list(target.iterdir()) == []  # neither folder half-copied, no staging left
    monkeypatch.setattr(shutil, "copytree", copy)
    assert invoke(runner, "init", str(target)).exit_code == 0


def test_an_unexpected_file_error_names_its_file_not_a_traceback(runner, tmp_path, monkeypatch):
    from generator import scaffold

    def broken(folder):
        raise PermissionError(13, "Permission denied", str(folder / "x"))

    monkeypatch.setattr(scaffold, "init_project", broken)
    result = invoke(runner, "init", str(tmp_path / "lab"))
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert f"{tmp_path / 'lab' / 'x'}: Permission denied" in result.output and "--debug" in result.output


def test_run_shows_metric_descriptions_within_80_columns(runner, project):
    result = invoke(runner, "run", "tiny", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0, result.output
    assert "time of a short loop" in result.output and "loop.wall" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_run_names_the_interpreter_and_announces_nothing_it_will_not_run(runner, project):
    result = invoke(runner, "run", "tiny", "-C", str(project), "--profile", "quick")
    assert f"running tiny under CPython {sys.version.split()[0]}" in result.output and "(quick profile)" in result.output
    missing = invoke(runner, "run", "tyni", "-C", str(project), "--profile", "quick")
    assert missing.exit_code == 2 and "unknown experiment 'tyni'" in missing.output
    assert "running" not in missing.output


def test_list_shows_states_and_each_interpreter_once_within_80_columns(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick", "--only", "tiny").exit_code == 0
    result = invoke(runner, "list", "-C", str(project), "--profile", "quick", "-p", sys.executable, "-p", sys.executable)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    tag = f"cpython-{sys.version.split()[0]}"
    assert sum(tag in line for line in lines) == 1
    row = next(line for line in lines if line.startswith("│ tiny"))
    assert "current" in row
    assert "not run" in next(line for line in lines if line.startswith("│ thread_example"))


def test_check_prints_a_unified_diff_that_patch_applies(runner, project, tmp_path):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    long_line = "A long line " + "x" * 300
    home = project / "templates" / "Home.md.j2"
    home.write_text(home.read_text() + f"\n{long_line}\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick", "--check")
    assert result.exit_code == 1
    assert f"+{long_line}\n" in result.stdout
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(project / "vault"), str(copy)], check=True)
    subprocess.run(["patch", "-s", "-p1", "-d", str(copy)], input=result.stdout, text=True, check=True)
    assert long_line in (copy / "Home.md").read_text()


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "generator", "--help"],
    [sys.executable, str(REPO / "experiments" / "race_condition.py"), "--help"],
])
def test_a_closed_pipe_ends_quietly(command):
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(REPO))
    proc.stdout.close()  # like `| head` that has already exited
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()


def test_the_public_api_is_importable_by_name():
    import generator

    for name in generator.__all__:
        assert getattr(generator, name).__name__ == name


def test_help_shows_no_type_metavars(runner):
    for command in ("build", "run", "list", "check", "init", "history", "graph", "export html"):
        result = invoke(runner, *command.split(), "--help")
        assert result.exit_code == 0, result.output
        assert not re.search(r"<(?:bool|str|path|int|float)>", result.output), (command, result.output)


def test_every_option_that_takes_a_value_names_it():
    """--select showed nothing after it, as if it were a flag."""
    import typer.main

    from generator.cli import app

    group = typer.main.get_command(app)
    for words, command in _commands(group):
        for param in command.params:
            if param.param_type_name == "option" and not param.is_flag and not hasattr(param.type, "choices"):
                assert param.metavar, (words, param.opts)


def _commands(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_help_shows_every_word_of_each_docstring(runner, monkeypatch):
    """Rich reads "[check]" as markup and drops it (the docstring must write
    "\\[check]"), and the command list keeps a docstring's line breaks: each
    command's text must survive both."""
    import typer.main

    from generator.cli import app

    monkeypatch.setenv("COLUMNS", "400")
    group = typer.main.get_command(app)
    for words, command in _commands(group):
        first, *rest = command.help.split("\n\n")
        assert "\n" not in first.strip(), (words, "the command list would break this line where the source does")
        shown = " ".join(invoke(runner, *words, "--help").output.replace("│", " ").split())
        for paragraph in (first, *rest):
            plain = " ".join(paragraph.replace("\\[", "[").split())
            assert plain in shown, (words, plain)


def test_a_build_waits_for_the_lock_and_says_so(runner, project):
    import threading

    from generator.writer import VaultLock

    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    home = project / "templates" / "Home.md.j2"
    home.write_text(home.read_text() + "\nChanged.\n")
    lock = VaultLock(project / "vault")
    lock.acquire()
    threading.Timer(1.0, lock.release).start()
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0, result.output
    assert "waiting for another vaultgen build (pid " in result.output
    assert "Changed." in (project / "vault" / "Home.md").read_text()


@pytest.mark.parametrize("output", ["text", "json", "sarif", "github"])
def test_check_on_a_folder_without_notes_says_it_is_not_a_vault(runner, tmp_path, output):
    (tmp_path / "notes.txt").write_text("not markdown\n")
    result = invoke(runner, "check", str(tmp_path), "--format", output)
    assert result.exit_code == 2 and "not a vault: it holds no notes" in result.output  # CI reads JSON, SARIF too


def test_quiet_build_prints_nothing_when_all_is_well(runner, project):
    assert invoke(runner, "build", "-C", str(project), "--profile", "quick").exit_code == 0
    home = project / "templates" / "Home.md.j2"
    home.write_text(home.read_text() + "\nQuietly.\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick", "--quiet")
    assert result.exit_code == 0 and result.output == ""
    assert "Quietly." in (project / "vault" / "Home.md").read_text()


def test_a_long_interpreter_path_is_elided_in_the_middle_to_fit():
    from generator.console import _fit_path

    long = "/tmp/tmp.AbCdEfGh/" + "deep/" * 20 + ".venv/bin/python3"
    fitted = _fit_path(long, 76)
    assert len(fitted) == 76 and "…" in fitted
    assert fitted.startswith("/tmp/tmp.") and fitted.endswith(".venv/bin/python3")
    assert _fit_path("/usr/bin/python3", 76) == "/usr/bin/python3"


def test_timeout_help_states_the_configured_defaults():
    from generator import cli
    from generator.config import DEFAULT_TIMEOUT

    text = cli.TimeoutOpt.help
    assert f"{DEFAULT_TIMEOUT['full']:g} full, {DEFAULT_TIMEOUT['quick']:g} quick" in text


@pytest.mark.parametrize("args", [["list"], ["config"], ["--help"], ["--version"], ["check", "VAULT"], ["check", "--help"]])
def test_a_closed_pipe_ends_quietly_with_141(project, tmp_path, args):
    """`vaultgen list | head -1` exited 1 (rich's and click's answer), `check … | head` 3 with an
    "internal error": a reader that went away is 128 + SIGPIPE, and nothing is printed."""
    import os

    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "A.md").write_text("[[Gone]]\n" * 50, encoding="utf-8")
    read, write = os.pipe()
    os.close(read)  # the reader is gone before vaultgen writes a byte
    try:
        done = subprocess.run([sys.executable, "-m", "generator", *[str(vault) if a == "VAULT" else a for a in args]],
                              stdout=write, stderr=subprocess.PIPE, text=True, cwd=project, timeout=120,
                              env={**os.environ, "VAULTGEN_CACHE_DIR": str(tmp_path / "cache")})
    finally:
        os.close(write)
    assert done.returncode == 141 and done.stderr == "", (done.returncode, done.stderr)


@pytest.mark.parametrize("args", [["check", "VAULT"], ["check", "VAULT", "-f", "json"], ["graph", "VAULT"]])
def test_a_reader_that_stops_halfway_is_a_closed_pipe_not_a_result(project, tmp_path, args):
    """`vaultgen check big | head` exited 1 ("findings") and `graph big | head` 0: the reader left
    in the middle of one large write, which the kernel cut short and Python did not report."""
    import os

    vault = tmp_path / "vault"
    vault.mkdir()
    for i in range(400):
        (vault / f"N{i}.md").write_text("".join(f"[[Gone {i} {j}]] [[N{i + 1}]]\n" for j in range(5)), encoding="utf-8")
    with subprocess.Popen([sys.executable, "-m", "generator", *[str(vault) if a == "VAULT" else a for a in args]],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=project,
                          env={**os.environ, "VAULTGEN_CACHE_DIR": str(tmp_path / "cache")}) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(100)  # the first bytes came, then the reader goes away
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.wait(timeout=120)
    assert proc.returncode == 141 and stderr == b"", (proc.returncode, stderr)


def test_stdout_writes_every_byte_when_the_system_takes_a_few_at_a_time(monkeypatch, capfd):
    import os

    from generator import stdout

    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    pieces = [f"line {i} é\n" for i in range(20000)]  # more than one chunk, not ASCII
    stdout.write_pieces(iter(pieces))
    assert capfd.readouterr().out == "".join(pieces)


def test_a_vault_symlinked_into_the_projects_own_folders_is_refused(runner, project):
    """vault = "exlink" with exlink -> experiments wrote seven notes among the scripts."""
    (project / "exlink").symlink_to(project / "experiments")
    _settings(project, 'vault = "exlink"\n')
    before = sorted(p.name for p in (project / "experiments").iterdir())
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 1 and "leads into the project's experiments/ folder" in result.output, result.output
    assert sorted(p.name for p in (project / "experiments").iterdir()) == before
    # The other way round: a vault that holds the project (vault -> ..) would stage its sources as notes.
    (project / "up").symlink_to(project.parent)
    _settings(project, 'vault = "up"\n')
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 1 and "leads to a folder that holds the project" in result.output, result.output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["list"], ["--version"], ["check", "VAULT"]])
def test_output_to_a_full_disk_is_one_line_and_no_bug_report(project, tmp_path, args):
    """`check … >/dev/full` said "internal error … please report it"; --version printed a traceback."""
    import os

    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "A.md").write_text("x\n", encoding="utf-8")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "generator", *[str(vault) if a == "VAULT" else a for a in args]],
                              stdout=full, stderr=subprocess.PIPE, text=True, cwd=project, timeout=120,
                              env={**os.environ, "VAULTGEN_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 3 and done.stderr.count("\n") == 1, done.stderr
    assert "cannot write the output: No space left on device" in done.stderr and "report" not in done.stderr


@pytest.mark.parametrize("args", [["check", "VAULT"], ["graph", "VAULT"], ["list"], ["config"]])
def test_a_closed_stdout_is_said_in_one_line_not_a_bug(project, tmp_path, args):
    """`vaultgen check VAULT >&-` was "internal error: AttributeError: 'NoneType' object has no attribute 'isatty'",
    and `vaultgen list >&-` exited 0 with its table gone (rich writes to a null file then)."""
    import os

    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "A.md").write_text("[[Gone]]\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "generator", *[str(vault) if a == "VAULT" else a for a in args]],
                          stderr=subprocess.PIPE, text=True, cwd=project, timeout=120, preexec_fn=lambda: os.close(1),
                          env={**os.environ, "VAULTGEN_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 3 and done.stderr.count("\n") == 1, done.stderr
    assert "cannot write the output: standard output is closed (send the output elsewhere" in done.stderr


def test_with_stdout_closed_only_writing_an_answer_fails(monkeypatch):
    """A command that prints nothing (`build --quiet`) must still run with stdout closed."""
    import errno

    from generator import console

    monkeypatch.setattr(sys, "stdout", None)
    assert console.out_console.is_terminal is False  # asked before anything is printed
    with pytest.raises(OSError) as raised:
        console.out_console.print("answer")
    assert raised.value.errno == errno.EBADF and raised.value.filename is None


def test_debug_shows_the_traceback_of_a_nested_command_too(monkeypatch, tmp_path):
    """`vaultgen --debug export html …` printed the one-line error that asks for --debug."""
    from typer.testing import CliRunner

    import generator.export
    from generator.cli import app

    def broken(*args, **kwargs):
        raise ValueError("broken on purpose")

    monkeypatch.setattr(generator.export, "export_html", broken)
    args = ["export", "html", str(tmp_path / "site"), "--vault", str(tmp_path)]
    assert isinstance(CliRunner().invoke(app, ["--debug", *args]).exception, ValueError)
    plain = CliRunner().invoke(app, args)
    assert plain.exit_code == 3 and "rerun with --debug" in plain.output


def test_init_refuses_a_vault_that_leads_back_to_the_project(runner, tmp_path):
    """vault -> . made the project folder an Obsidian vault, which build and the next init refused."""
    target = tmp_path / "lab"
    target.mkdir()
    (target / "vault").symlink_to(".")
    result = invoke(runner, "init", str(target))
    assert result.exit_code == 2 and "symbolic link to the project folder" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["vault"]
