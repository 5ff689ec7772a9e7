"""How the CLI shows things: progress bar, summaries, tables, the diff of --check.

Each ``print_*`` function prints one command's answer and returns its exit
code where the answer decides one.  Tables are laid out for 80 columns.
"""

from __future__ import annotations

import errno
import io
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, cast

from rich.console import Console
from rich.table import Table
from rich.text import Text

from generator import formatting, stdout

if TYPE_CHECKING:
    from generator.pipeline import BuildReport, ExperimentStatus
    from generator.config import Project, Settings
    from generator.measure import Inventory, RunReport


class _ClosedStdout(io.TextIOBase):
    """Where the answer goes when the program started with stdout closed (``>&-``)."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


class _AnswerConsole(Console):
    """The console for commands' answers.  With stdout closed, rich writes to a
    null file and the answer is lost without a word (exit 0); here writing it
    fails instead, which the CLI answers with exit 3, as ``check`` and ``graph``
    do.  A command that prints nothing (``build --quiet``) still runs."""

    @property
    def file(self) -> IO[str]:
        if self._file is None and sys.stdout is None:
            return _CLOSED_STDOUT
        return Console.file.fget(self)  # type: ignore[attr-defined]

    @file.setter
    def file(self, new_file: IO[str]) -> None:
        self._file = new_file


_CLOSED_STDOUT = cast("IO[str]", _ClosedStdout())
err_console = Console(stderr=True, highlight=False)
out_console = _AnswerConsole(highlight=False)


def _progress(console: Console):
    """A progress bar whose ETA comes from the previous run's durations.

    Experiments differ tenfold in length, so rich's speed-based estimate
    would swing wildly; last time's durations are a far better guide.
    (rich.progress is imported here: a build with nothing to run never needs it.)
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn

    class EtaColumn(ProgressColumn):
        def render(self, task) -> Text:
            eta_at = task.fields.get("eta_at")
            if eta_at is None:
                return Text("ETA ?", style="progress.remaining")
            left = eta_at - time.monotonic()
            if left < 0:  # longer than last time: say by how much rather than sit at 0:00
                over = -left
                return Text(f"{int(over) // 60}:{int(over) % 60:02d} over", style="progress.remaining")
            return Text(f"ETA {int(left) // 60}:{int(left) % 60:02d}", style="progress.remaining")

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), EtaColumn(), console=console, transient=True)


class RichProgress:
    """Build progress on a terminal; silent otherwise (CI logs, pipes)."""

    def __init__(self, console: Console = err_console, enabled: bool = True) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.progress: Any = None  # rich.progress.Progress while experiments run
        self.task: Any = None
        self.expected: dict[tuple[str, str], float] = {}
        self.remaining_expected = 0.0

    def plan(self, runs) -> None:
        if not runs or not self.enabled:
            return
        default = 5.0  # a guess for an experiment never run before
        self.expected = {(e.name, i.tag): (w if w else default) for e, i, w in runs}
        self.remaining_expected = sum(self.expected.values())
        self.progress = _progress(self.console)
        self.progress.start()
        self.task = self.progress.add_task("experiments", total=len(runs),
                                           eta_at=time.monotonic() + self.remaining_expected)

    def begin(self, experiment, interpreter) -> None:
        if self.progress is not None:
            expected = self.expected.get((experiment.name, interpreter.tag), 5.0)
            self.progress.update(self.task, description=f"running {experiment.name} ({interpreter.tag})",
                                 eta_at=time.monotonic() + self.remaining_expected)
            self.remaining_expected -= expected

    def end(self, status) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)
            self.progress.update(self.task, eta_at=time.monotonic() + self.remaining_expected)
        if status.state == "failed":  # as it happens: a CI log shows it even if the build dies later
            self.console.print(f"[red]✗ {status.name} ({status.interpreter}): {status.message}[/red]")

    def waiting(self, text: str) -> None:
        """Another build holds the vault: say so (even in a CI log) rather than seem to hang."""
        self.console.print(text, style="yellow", markup=False, soft_wrap=True)

    def stage(self, text: str) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def warn(self, text: str) -> None:
        """Said before measuring, on a terminal or not: the figures about to be taken are suspect."""
        self.console.print(f"[yellow]warning: {text}[/yellow]")




def _listing(names: Sequence[str], limit: int = 6) -> str:
    """A few names, then how many more: a summary must fit on a screen."""
    shown = ", ".join(names[:limit])
    return shown + (f" … and {len(names) - limit} more" if len(names) > limit else "")


def _by_interpreter(statuses: Sequence[ExperimentStatus], detail: bool, limit: int) -> str:
    """``tag: a (1.2 s), b (3.4 s)`` per interpreter, each interpreter named once."""
    groups: dict[str, list[str]] = {}
    for s in statuses:
        text = s.name
        if detail:
            text += f" ({formatting.duration(s.wall, 2)}{': ' + s.message if s.message else ''})"
        groups.setdefault(s.interpreter, []).append(text)
    return "\n".join(f"{tag}: {_listing(names, limit)}" for tag, names in groups.items())


_FILE_ROWS = ("created", "updated", "unchanged", "modified", "conflicts", "removed", "renamed", "kept_removed",
              "backed_up")
# Each of these needs the user's attention, so every file is named.
_IN_FULL = ("modified", "conflicts", "kept_removed")


def build_summary(report: BuildReport, vault: str = "vault") -> Table:
    table = Table(title=f"vaultgen build → {vault}", show_header=True, header_style="bold", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("details", overflow="fold")
    for state in ("ran", "failed", "cached", "not current"):
        statuses = [s for s in report.experiments if s.state == state]
        if statuses:
            detail = _by_interpreter(statuses, detail=state not in ("cached", "not current"),
                                     limit=len(statuses) if state not in ("cached", "not current") else 4)
            table.add_row(f"experiments {state}", str(len(statuses)), Text(detail, style="red" if state == "failed" else ""))
    written = report.written
    if written is not None:
        for label in _FILE_ROWS:
            items: list[str] = getattr(written, label, [])
            if items:
                shown = "" if label == "unchanged" else _listing(items, limit=len(items) if label in _IN_FULL else 6)
                table.add_row(f"files {label.replace('_', ' ')}", str(len(items)), shown)
    if report.shifts:
        # The rule is asv's (history.py): medians >10 % apart and the two runs' IQRs disjoint.
        table.add_row("beyond noise", str(len(report.shifts)),
                      Text("\n".join(s.message for s in report.shifts), style="yellow"))
    if report.busy:
        # Listed in full: each is a figure the reader should not trust as much as the others.
        table.add_row("measured on a busy machine", str(len(report.busy)),
                      Text("; ".join(report.busy), style="yellow"))
    if report.warnings:
        table.add_row("check warnings", str(len(report.warnings)),
                      "; ".join(f"{w.path}: {w.message}" for w in report.warnings[:3]))
    table.add_row("time taken", "", formatting.duration(report.duration, 3))
    return table


def _open_hint(project: Project) -> str:
    from urllib.parse import quote

    return (f"open it in Obsidian: Open folder as vault → {project.vault} "
            f"(or obsidian://open?path={quote(str(project.vault))})")


def print_build(report: BuildReport, project: Project, *, quiet: bool = False, as_json: bool = False) -> int:
    """The build's summary; exit 1 if an experiment failed."""
    code = 1 if report.failed else 0
    if as_json:
        stdout.write(json.dumps(report.to_json(project), indent=1, sort_keys=True) + "\n")
        return code
    for notice in report.notices:
        err_console.print(f"note: {notice}", style="yellow", markup=False)
    vault = _shown(project.vault)
    if not quiet:
        if report.status == "unchanged":
            # Nothing happened: one line says so better than a table of zeros.
            out_console.print(f"vault up to date: {len(report.experiments)} experiments cached, "
                              f"{len(report.written.unchanged) if report.written else 0} files unchanged "
                              f"in {vault} ({report.duration * 1000:.0f} ms)", markup=False, soft_wrap=True)
        else:
            out_console.print(build_summary(report, vault))
            out_console.print(_open_hint(project), markup=False, soft_wrap=True)
    elif report.shifts:
        for shift in report.shifts:
            err_console.print(f"beyond noise: {shift.message}", style="yellow", markup=False, soft_wrap=True)
    if report.written is not None:
        for message in report.written.messages:
            err_console.print(message, style="yellow", markup=False, soft_wrap=True)
    if report.failed:
        err_console.print(f"{len(report.failed)} experiment(s) failed; their notes show the last good figures. "
                          "See `vaultgen run NAME` for the full output.", style="red", markup=False, soft_wrap=True)
    return code


def print_check(report: BuildReport) -> int:
    """``build --check``: a unified diff on stdout (``patch -p1 -d vault`` applies it), exit 1 if any."""
    stale = report.out_of_date
    kept = [change for change in stale if change.action in ("modified", "conflict")]
    for change in stale:
        why = " (edited by hand: the diff is what --overwrite would write)" if change in kept else ""
        err_console.print(f"{change.action} {change.path}{why}", style="yellow", markup=False, soft_wrap=True)
        if change.diff:
            # Written raw: rich would wrap long lines, and a continuation line
            # without its +/- prefix is no longer a diff.
            stdout.write(change.diff)
    if len(stale) > len(kept):
        err_console.print(f"{len(stale) - len(kept)} file(s) out of date: run vaultgen build", style="red", markup=False)
    if kept:
        # A build keeps these as they are, so "run vaultgen build" would never make the check pass.
        err_console.print(f"{len(kept)} file(s) edited by hand differ from what the templates render, and a build "
                          "keeps them: move the edit into the template or between keep markers, or run "
                          "vaultgen build --overwrite (it backs up the edited file)", style="red", markup=False,
                          soft_wrap=True)
    if stale:
        return 1
    err_console.print("vault is up to date", markup=False)
    return 0


def _shown(path: Any) -> str:
    """A path relative to the current folder when it is below it."""
    import os

    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


def run_table(report: RunReport) -> Table:
    """A result's figures, one metric a row, its description from the docstring beneath its name."""
    result = report.result
    table = Table(title=f"{result.experiment} ({report.interpreter.label})", header_style="bold",
                  title_justify="left")
    table.add_column("metric", overflow="fold", ratio=1)
    for column in ("median", "IQR", "n"):
        table.add_column(column, justify="right", no_wrap=True)
    for name in sorted(result.metrics):
        m = result.metrics[name]
        fmt = formatting.auto
        label = Text(name + (" ⚠" if m.noisy else ""))
        if report.descriptions.get(name):
            label.append("\n" + report.descriptions[name], style="dim")
        iqr = "" if m.n < 2 else f"{fmt(_scaled(m, m.q1))} – {fmt(_scaled(m, m.q3))}"
        table.add_row(label, fmt(m), iqr, str(m.n))
    for key, reason in sorted(result.unavailable.items()):
        table.add_row(Text(key + "\n" + reason, style="dim"), "n/a", "", "")
    return table


def print_run(report: RunReport, *, as_json: bool = False) -> None:
    if as_json:
        stdout.write(json.dumps(report.document, indent=1, sort_keys=True) + "\n")
        return
    if report.experiment.kind == "example":
        stdout.write(report.outcome.stdout)
    out_console.print(run_table(report))


_STATE_STYLE = {"current": "green", "stale": "yellow", "unreadable": "red", "failed": "red", "not run": "yellow"}


def _fit_path(path: str, width: int) -> str:
    """``path`` with the home folder as ``~``, its middle elided when it is still wider than ``width``."""
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        path = "~" + path[len(home):]
    if len(path) <= width:
        return path
    keep = width - 1
    return path[: keep // 3] + "…" + path[len(path) - (keep - keep // 3):]


def print_inventory(inv: Inventory) -> None:
    """Experiments and their result states; each interpreter named once, above the table."""
    letters = [chr(ord("A") + i) for i in range(len(inv.interpreters))]
    for letter, interp in zip(letters, inv.interpreters):
        out_console.print(f"{letter} = {interp.tag} ({interp.label})", markup=False, highlight=False)
        out_console.print(f"    {_fit_path(interp.path, 76)}", markup=False, highlight=False, soft_wrap=True)
    table = Table(title="experiments", header_style="bold", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    for letter in letters:
        table.add_column(letter, overflow="fold")
    for row in inv.experiments:
        cells = [Text(f"{state} {detail}".strip() if state != "failed" else f"failed: {detail}",
                      style=_STATE_STYLE[state]) for state, detail in row.states]
        table.add_row(row.name, row.kind, *cells)
    out_console.print(table)
    notes = Table(title="note templates", header_style="bold", title_justify="left")
    notes.add_column("title", no_wrap=True)
    notes.add_column("experiments", overflow="fold")
    for title, _template, experiments in inv.notes:
        notes.add_row(title, ", ".join(experiments) or "—")
    out_console.print(notes)


def print_settings(project: Project, settings: Settings) -> None:
    table = Table(title=f"settings of {project.root}", header_style="bold", title_justify="left")
    table.add_column("setting", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("from", overflow="fold")
    for key, value, source in settings.rows():
        table.add_row(key, Text(value), Text(source))
    out_console.print(table)


def _scaled(metric: Any, value: float) -> Any:
    from dataclasses import replace

    return replace(metric, median=value)


def print_history(found: Sequence[Any], *, as_json: bool = False) -> None:
    """``vaultgen history``: each series, one run a row, a move beyond the noise marked."""
    from generator.history import direction, sparkline

    if as_json:
        data = [{"machine": s.machine, "interpreter": s.interpreter, "metric": s.metric,
                 "points": [vars(p) for p in s.points], "shifts": list(s.shifts)} for s in found]
        stdout.write(json.dumps(data, indent=1, sort_keys=True) + "\n")
        return
    for s in found:
        fmt = formatting.auto
        table = Table(title=f"{s.metric}  {sparkline([p.median for p in s.points])}\n{s.machine} · {s.interpreter}",
                      header_style="bold", title_justify="left")
        for column in ("date", "median", "IQR", "n", ""):
            table.add_column(column, justify="left" if column in ("date", "") else "right")
        for i, p in enumerate(s.points):
            metric = _as_metric(p)
            flag = ""
            if i in s.shifts:
                flag = f"beyond noise: {direction(s.points[i - 1], p)}"
            table.add_row(p.date[:16].replace("T", " "), fmt(metric),
                          f"{fmt(_scaled(metric, p.q1))} – {fmt(_scaled(metric, p.q3))}", str(p.n),
                          Text(flag, style="red" if "regression" in flag else "yellow"))
        out_console.print(table)


def _as_metric(point: Any) -> Any:
    from generator.results import Metric

    return Metric("", point.median, point.q1, point.q3, point.q1, point.q3, point.n, point.unit)
