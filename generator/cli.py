"""Command line: parse, call the library, print.  No logic lives here."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from generator.errors import VaultgenError

app = typer.Typer(
    name="vaultgen",
    help="Run Python concurrency experiments and render them into a measured Obsidian vault.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}

ProjectOpt = typer.Option(None, "--project", "-C", help="Project folder (default: the nearest one above the current folder).")
ProfileOpt = typer.Option("full", "--profile", help="Parameter set: 'full' (default, a minute or two) or 'quick' (seconds, for tests).")
PythonOpt = typer.Option(None, "--python", "-p", help="Interpreter to run experiments under (path or name on PATH); repeat to compare several. Default: the one running vaultgen.")
TimeoutOpt = typer.Option(None, "--timeout", help="Seconds before a hanging experiment is killed (default: 120 full, 60 quick).")


@app.callback()
def main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    """vaultgen: measured notes about Python concurrency, regenerated with one command."""
    _state["debug"] = debug


def friendly(fn):
    """Turn a VaultgenError into one red line and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except VaultgenError as exc:
            if _state["debug"]:
                raise
            from generator.console import err_console

            err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            from generator.console import err_console

            err_console.print("[yellow]interrupted: the vault was left as it was[/yellow]")
            raise typer.Exit(130) from None

    return wrapper


def _project(path: Optional[Path]):
    from generator.config import Project
    from generator.errors import UsageError

    if path is None:
        return Project.find()
    if not path.is_dir():
        raise UsageError("no such project folder", path=path.resolve(),
                         hint="pass --project the folder that holds templates/ and experiments/")
    return Project(path.resolve())


def _check_profile(profile: str) -> str:
    from generator.config import PROFILES
    from generator.errors import UsageError

    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}", hint=f"use one of: {', '.join(PROFILES)}")
    return profile


@app.command()
@friendly
def build(
    project: Optional[Path] = ProjectOpt,
    profile: str = ProfileOpt,
    only: Optional[List[str]] = typer.Option(None, "--only", help="Re-measure just this experiment (repeatable); others keep their results."),
    force: bool = typer.Option(False, "--force", help="Re-measure every experiment even if its cached result is current."),
    python: Optional[List[str]] = PythonOpt,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace notes edited by hand (a backup is written first; keep blocks survive)."),
    check: bool = typer.Option(False, "--check", help="Change nothing: exit 1 and show a diff if the vault is not what the templates and results render."),
    timeout: Optional[float] = TimeoutOpt,
) -> None:
    """Run stale experiments, draw charts, render every note into vault/ and check it."""
    from generator.build import BuildOptions
    from generator.build import build as run_build
    from generator.console import RichProgress, build_summary, err_console, out_console

    options = BuildOptions(profile=_check_profile(profile), only=tuple(only or ()), force=force,
                           pythons=tuple(python or ()), overwrite=overwrite, check_only=check, timeout=timeout)
    report = run_build(_project(project), options, RichProgress())
    if check:
        stale = report.out_of_date
        for change in stale:
            out_console.print(f"[yellow]{change.action}[/yellow] {change.path}")
            if change.diff:
                out_console.print(change.diff, markup=False, highlight=False)
        if stale:
            err_console.print(f"[red]{len(stale)} file(s) out of date[/red]: run vaultgen build")
            raise typer.Exit(1)
        out_console.print("vault is up to date")
        return
    written = report.written
    if not report.failed and all(s.state == "cached" for s in report.experiments) and written is not None \
            and not (written.changed or written.messages or report.warnings):
        # Nothing happened: one line says so better than a table of zeros.
        out_console.print(f"vault up to date: {len(report.experiments)} experiments cached, "
                          f"{len(written.unchanged)} files unchanged ({report.duration * 1000:.0f} ms)")
        return
    out_console.print(build_summary(report))
    if report.written is not None:
        for message in report.written.messages:
            err_console.print(f"[yellow]{message}[/yellow]")
    if report.failed:
        err_console.print(f"[red]{len(report.failed)} experiment(s) failed[/red]; their notes show the last good figures. "
                          "See `vaultgen run NAME` for the full output.")
        raise typer.Exit(1)


@app.command()
@friendly
def run(
    name: str = typer.Argument(..., help="Experiment name (a file in experiments/, without .py)."),
    project: Optional[Path] = ProjectOpt,
    profile: str = ProfileOpt,
    python: Optional[str] = typer.Option(None, "--python", "-p", help="Interpreter to run it under (default: this one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result document as JSON instead of a table."),
    timeout: Optional[float] = TimeoutOpt,
) -> None:
    """Run one experiment now and show its output and figures (stores nothing)."""
    from generator import experiments as exp_mod
    from generator.config import DEFAULT_TIMEOUT
    from generator.console import err_console, out_console, run_table
    from generator.errors import ExperimentError, UsageError
    from generator.interpreters import resolve
    from generator.results import Result, cache_key, document_from_run

    proj = _project(project)
    profile = _check_profile(profile)
    found = exp_mod.discover(proj.experiments)
    if name not in found:
        raise UsageError(f"unknown experiment {name!r}", hint=f"known: {', '.join(sorted(found))}")
    interp = resolve(python, proj.cache)
    experiment = found[name]
    if not as_json:
        err_console.print(f"running {name} under {interp.label} ({profile} profile)…")
    outcome = exp_mod.run_script(experiment, interp, profile=profile, timeout=timeout or DEFAULT_TIMEOUT[profile])
    if not outcome.ok:
        sys.stderr.write(outcome.stderr[-4000:])
        raise ExperimentError(outcome.message, path=experiment.path, hint="its error output is above")
    doc = document_from_run(outcome, experiment, interp, profile, cache_key(experiment, interp, profile))
    if as_json:
        typer.echo(json.dumps(doc, indent=1, sort_keys=True))
        return
    if experiment.kind == "example":
        out_console.print(outcome.stdout, markup=False, highlight=False, end="")
    out_console.print(run_table(Result.from_json(doc)))


@app.command("list")
@friendly
def list_(
    project: Optional[Path] = ProjectOpt,
    profile: str = ProfileOpt,
    python: Optional[List[str]] = PythonOpt,
) -> None:
    """List experiments (with the state of their results) and note templates."""
    from rich.table import Table

    from generator import experiments as exp_mod
    from generator import templates as tpl_mod
    from generator.console import out_console
    from generator.interpreters import resolve
    from generator.results import ResultStore, cache_key

    proj = _project(project)
    profile = _check_profile(profile)
    found = exp_mod.discover(proj.experiments)
    interps = [resolve(p, proj.cache) for p in (python or [None])]
    store = ResultStore(proj.results, profile)
    table = Table(title="experiments", header_style="bold")
    for column in ("name", "kind", "title", *[i.tag for i in interps]):
        table.add_column(column)
    for name, exp in found.items():
        states = []
        for interp in interps:
            doc = store.load_raw(interp.tag, name)
            if doc is None:
                states.append("[yellow]not run[/yellow]")
            elif doc.get("failure"):
                states.append(f"[red]failed[/red]: {doc['failure'].get('message', '')}")
            elif doc.get("cache_key") == cache_key(exp, interp, profile):
                states.append(f"[green]current[/green] ({(doc.get('run') or {}).get('wall', 0):.1f} s)")
            else:
                states.append("[yellow]stale[/yellow]")
        table.add_row(name, exp.kind, exp.title, *states)
    out_console.print(table)
    notes = Table(title="note templates", header_style="bold")
    for column in ("title", "template", "experiments"):
        notes.add_column(column)
    for note in tpl_mod.discover(proj.templates, set(found)):
        notes.add_row(note.title, note.path.name, ", ".join(note.experiments) or "—")
    out_console.print(notes)


@app.command()
@friendly
def new(
    title: str = typer.Argument(..., help="The note's title (also its file name in the vault)."),
    experiment: Optional[List[str]] = typer.Option(None, "--experiment", "-e", help="Experiment whose results the note uses (repeatable)."),
    project: Optional[Path] = ProjectOpt,
) -> None:
    """Create templates/<title>.md.j2 with a filled header; the next build renders it."""
    from generator.console import out_console
    from generator.scaffold import new_template

    proj = _project(project)
    path = new_template(proj, title, list(experiment or []))
    out_console.print(f"created {path.relative_to(proj.root)}; edit it, then run vaultgen build")


def _register_subcommands() -> None:
    from generator import cli_check
    from generator.export import cli as cli_export

    cli_check.register(app)
    cli_export.register(app)


_register_subcommands()
