"""Command line: parse, call the library, print.  No logic lives here.

Every command goes through one error path (``VaultgenGroup.invoke``):

    0  success
    1  findings (``check``), a failed experiment or an out-of-date vault
    2  a usage error: a bad flag, an unknown name, a missing interpreter
    3  an internal error: a bug in vaultgen (the traceback is shown with --debug)

A crash is never exit 1, which CI would read as "findings".
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, NoReturn, Optional

import typer
from rich.console import Console as RichConsole
from typer.core import TyperGroup

from generator import __version__
from generator.errors import DISK_FULL, EXIT_MACHINE, VaultgenError
from generator.launch import EXIT_INTERRUPTED  # answered there first, before the CLI is imported

if TYPE_CHECKING:
    from generator.config import Project
    from generator.experiments import Experiment
    from generator.interpreters import Interpreter

EXIT_INTERNAL = EXIT_MACHINE  # a bug, or the machine's trouble: never read as findings
EXIT_TERMINATED = 143  # 128 + SIGTERM
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a tool killed by a closed pipe reports


def output_failed(exc: OSError) -> bool:
    """Whether ``exc`` is the output failing (a full disk, an I/O error, stdout closed): the
    machine's or the caller's trouble, not a bug.  Such a write names no file; every file vaultgen writes is named."""
    return exc.filename is None and exc.errno in (*DISK_FULL, errno.EIO, errno.EBADF)


def _output_failed_message(exc: OSError) -> str:
    hint = "free some space, or send the output elsewhere" if exc.errno in DISK_FULL else "send the output elsewhere, e.g. > FILE"
    return f"error: cannot write the output: {exc.strerror} ({hint})"


def _pipe_closed(console: Any) -> None:
    """rich's answer to a closed pipe is ``SystemExit(1)``, which a shell reads as a failure
    and which no handler here sees: raise the error instead, for the one answer, exit 141.
    Set on the class, since typer prints help and usage errors through consoles of its own."""
    raise BrokenPipeError(errno.EPIPE, "the program reading vaultgen's output stopped reading")


def _quiet_stdout_after_broken_pipe() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again.

    The recipe from the docs of the signal module ("Note on SIGPIPE").
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test runner's buffer)
        pass


class VaultgenGroup(TyperGroup):
    """The one error handler for every command, including those added by register()."""

    def invoke(self, ctx: Any) -> Any:
        debug = bool(ctx.find_root().params.get("debug"))  # a nested group (export) has its own params
        try:
            return super().invoke(ctx)
        except VaultgenError as exc:
            if debug:
                raise
            _error(f"error: {exc}", exc.exit_code)
        except KeyboardInterrupt as exc:
            from generator.runner import Terminated

            # Where it stopped decides what is true to say (see runner.run_script, writer.stage).
            context = getattr(exc, "vaultgen_context", "before writing anything: the vault was left as it was")
            if isinstance(exc, Terminated):
                _error(f"terminated {context}", EXIT_TERMINATED)
            _error(f"interrupted {context}", EXIT_INTERRUPTED)
        except BrokenPipeError:
            _quiet_stdout_after_broken_pipe()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except (typer.Exit, typer.Abort):
            raise
        except OSError as exc:
            if debug:
                raise
            if output_failed(exc):
                _error(_output_failed_message(exc), EXIT_INTERNAL)
            # Every expected file error is turned into a VaultgenError where it happens; this one
            # was not, but it still names its file, which says more than a traceback.
            where = f"{exc.filename}: " if exc.filename else ""
            _error(f"error: {where}{exc.strerror or exc} (this is a bug in vaultgen: it should have said what to do; "
                   "rerun with --debug and report the traceback)", EXIT_INTERNAL)
        except Exception as exc:
            if debug or _is_click_exception(exc):
                raise
            _error(f"internal error: {type(exc).__name__}: {exc} "
                   "(this is a bug in vaultgen: rerun with --debug and report the traceback)", EXIT_INTERNAL)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _hide_flag_metavars(command, ctx)
        return command


def _is_click_exception(exc: BaseException) -> bool:
    """A usage error raised by the parser (exit 2), which typer reports itself."""
    return type(exc).__module__.split(".")[0] in ("click", "typer") and hasattr(exc, "exit_code")


def _hide_flag_metavars(command: Any, ctx: Any) -> None:
    """Help without ``<bool>``, ``<str>`` and ``<path>`` beside every parameter.

    A flag takes no value, so it shows none; an argument or an option that
    takes a value shows its metavar (NAME, DIR), which says more than its
    Python type.
    """
    for param in getattr(command, "params", []):
        if param.opts[0].startswith("-"):
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        elif not getattr(param.type, "unlabelled", False):
            param.type = _unlabelled(param.type)


def _unlabelled(kind: Any) -> Any:
    """A copy of the (shared) click type ``kind`` that converts the same and shows no label."""
    import copy

    clone = copy.copy(kind)
    clone.get_metavar = lambda *args, **kwargs: ""
    clone.unlabelled = True
    return clone


def _error(message: str, code: int) -> NoReturn:
    from generator.console import err_console

    err_console.print(message, style="red" if code not in (EXIT_INTERRUPTED, EXIT_TERMINATED) else "yellow",
                      markup=False, soft_wrap=True)
    raise typer.Exit(code)


app = typer.Typer(
    name="vaultgen",
    cls=VaultgenGroup,
    help="Run Python concurrency experiments and render them into a measured Obsidian vault.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

ProjectOpt = typer.Option(None, "--project", "-C", metavar="DIR",
                          help="Project folder (default: the nearest one above the current folder).")
ProfileOpt = typer.Option(None, "--profile", metavar="PROFILE",
                          help="Parameter set: 'full' (minutes per interpreter) or 'quick' (seconds, for trying things). "
                               "Default: the project's setting, else full.")
PythonOpt = typer.Option(None, "--python", "-p", metavar="PYTHON",
                         help="Interpreter to run experiments under (path or name on PATH); repeat to compare several. "
                              "Default: the project's `interpreters` setting, else the one running vaultgen.")
TimeoutOpt = typer.Option(None, "--timeout", metavar="SECONDS",
                          help="Seconds before a hanging experiment is killed (default: the project's `timeout` setting, else 180 full, 60 quick).")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vaultgen {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print vaultgen's version and exit."),
) -> None:
    """vaultgen: measured notes about Python concurrency, regenerated with one command."""


def _project(path: Optional[Path]) -> Project:
    from generator.config import Project
    from generator.errors import UsageError

    if path is None:
        return Project.find()
    if not path.is_dir():
        raise UsageError("no such project folder", path=path.resolve(),
                         hint="pass --project the folder that holds templates/ and experiments/")
    return Project.load(path.resolve())


@app.command()
def build(
    project: Optional[Path] = ProjectOpt,
    profile: Optional[str] = ProfileOpt,
    only: Optional[List[str]] = typer.Option(None, "--only", metavar="NAME",
                                             help="Re-measure just this experiment (repeatable); others keep their results."),
    force: bool = typer.Option(False, "--force", help="Re-measure every experiment even if its cached result is current."),
    python: Optional[List[str]] = PythonOpt,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace notes edited by hand (a backup is written first; keep blocks survive)."),
    check: bool = typer.Option(False, "--check", help="Change nothing: exit 1 and print a unified diff if the vault is not what the templates and results render."),
    timeout: Optional[float] = TimeoutOpt,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only problems (failed experiments, notes that need attention)."),
    as_json: bool = typer.Option(False, "--json", help="Print the build summary as JSON (for CI)."),
) -> None:
    """Run stale experiments, draw charts, render every note into vault/ and check it."""
    from generator import console
    from generator.pipeline import BuildOptions
    from generator.pipeline import build as run_build
    from generator.config import check_profile

    proj = _project(project)
    settings = proj.settings.override(profile=profile, timeout=timeout)
    options = BuildOptions(profile=check_profile(settings.profile), only=tuple(only or ()), force=force,
                           pythons=tuple(python or ()), overwrite=overwrite, check_only=check,
                           timeout=timeout)
    progress = console.RichProgress(enabled=not (quiet or as_json))
    report = run_build(proj, options, progress)
    if check:
        raise typer.Exit(console.print_check(report))
    raise typer.Exit(console.print_build(report, proj, quiet=quiet, as_json=as_json))


@app.command()
def run(
    name: str = typer.Argument(..., metavar="NAME", help="Experiment name (a file in experiments/, without .py)."),
    project: Optional[Path] = ProjectOpt,
    profile: Optional[str] = ProfileOpt,
    python: Optional[str] = typer.Option(None, "--python", "-p", metavar="PYTHON",
                                         help="Interpreter to run it under (default: the first of the project's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result document as JSON instead of a table."),
    timeout: Optional[float] = TimeoutOpt,
) -> None:
    """Run one experiment now and show its output and figures (stores nothing)."""
    from generator import console
    from generator.config import check_profile
    from generator.measure import run_one

    proj = _project(project)
    settings = proj.settings.override(profile=profile, timeout=timeout)
    chosen = check_profile(settings.profile)
    def starting(experiment: Experiment, interp: Interpreter) -> None:
        if not as_json:
            console.err_console.print(f"running {experiment.name} under {interp.label} ({chosen} profile)…")

    outcome = run_one(proj, name, python, chosen, settings.timeout_for(chosen), starting)
    console.print_run(outcome, as_json=as_json)


@app.command("list")
def list_(
    project: Optional[Path] = ProjectOpt,
    profile: Optional[str] = ProfileOpt,
    python: Optional[List[str]] = PythonOpt,
) -> None:
    """List experiments (with the state of their results) and note templates."""
    from generator import console
    from generator.config import check_profile
    from generator.measure import inventory

    proj = _project(project)
    chosen = check_profile(proj.settings.override(profile=profile).profile)
    console.print_inventory(inventory(proj, chosen, tuple(python or ())))


@app.command()
def new(
    title: str = typer.Argument(..., metavar="TITLE", help="The note's title (also its file name in the vault)."),
    experiment: Optional[List[str]] = typer.Option(None, "--experiment", "-e", metavar="NAME",
                                                   help="Experiment whose results the note uses (repeatable)."),
    project: Optional[Path] = ProjectOpt,
) -> None:
    """Create templates/<title>.md.j2 with a filled header; the next build renders it."""
    from generator.console import out_console
    from generator.scaffold import new_template

    proj = _project(project)
    path = new_template(proj, title, list(experiment or []))
    out_console.print(f"created {path.relative_to(proj.root)}; edit it, then run vaultgen build")


@app.command()
def init(
    folder: Path = typer.Argument(Path("."), metavar="DIR", help="Where to create the project (default: here)."),
) -> None:
    """Create a working project: default experiments and templates, an empty vault, settings."""
    from generator.console import out_console
    from generator.scaffold import init_project

    root = init_project(folder)
    shown = os.path.relpath(root) if not os.path.relpath(root).startswith("..") else str(root)
    out_console.print(f"created a vaultgen project in {shown}\n"
                      f"next: cd {shown} && vaultgen build   (then open {shown}/vault in Obsidian)",
                      markup=False, highlight=False)


@app.command()
def config(
    project: Optional[Path] = ProjectOpt,
    profile: Optional[str] = ProfileOpt,
    python: Optional[List[str]] = PythonOpt,
    timeout: Optional[float] = TimeoutOpt,
) -> None:
    """Print the effective settings and where each comes from (flags given here show as overrides)."""
    from generator.console import print_settings

    proj = _project(project)
    proj.check_linter_settings()  # so it shows no setting the linter would then refuse
    print_settings(proj, proj.settings.override(profile=profile, interpreters=tuple(python or ()), timeout=timeout))


@app.command()
def history(
    name: str = typer.Argument(..., metavar="NAME",
                               help="Experiment, or experiment:metric (e.g. cpu_bound:python.threads.2.speedup)."),
    project: Optional[Path] = ProjectOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the series as JSON."),
) -> None:
    """Print how an experiment's headline figures moved across full builds, per machine and interpreter."""
    from generator.console import print_history
    from generator.history import series

    proj = _project(project)
    experiment, _, metric = name.partition(":")
    print_history(series(proj, experiment, metric or None), as_json=as_json)


def entry() -> None:
    """The ``vaultgen`` console script: the app, ending quietly when its reader goes away.

    Help and usage errors are printed before any command runs, outside
    ``VaultgenGroup.invoke``, so a closed pipe is caught here as well.  rich is
    patched here, in the program, not when ``generator.cli`` is imported: a program
    that imports the CLI keeps rich as it is.
    """
    RichConsole.on_broken_pipe = _pipe_closed  # type: ignore[method-assign,assignment]
    try:
        app(prog_name="vaultgen")
    except BrokenPipeError:
        _quiet_stdout_after_broken_pipe()
        sys.exit(EXIT_BROKEN_PIPE)
    except OSError as exc:  # help or --version to a full disk, before any command's handler
        if not output_failed(exc):
            raise
        _quiet_stdout_after_broken_pipe()
        sys.stderr.write(_output_failed_message(exc) + "\n")
        sys.exit(EXIT_INTERNAL)
    except SystemExit as exc:
        # click answers a closed pipe met while parsing (--help, --version) with exit 1,
        # after wrapping stdout in its PacifyFlushWrapper: that wrapper tells the two apart.
        if exc.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
            _quiet_stdout_after_broken_pipe()
            sys.exit(EXIT_BROKEN_PIPE)
        raise


def _register_subcommands() -> None:
    from generator import cli_check
    from generator.export import cli as cli_export

    cli_check.register(app)
    cli_export.register(app)


_register_subcommands()
