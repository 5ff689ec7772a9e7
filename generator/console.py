"""How the CLI shows things: progress bar, summary tables, errors."""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table
from rich.text import Text

from generator import formatting

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)


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
            left = max(0.0, eta_at - time.monotonic())
            return Text(f"ETA {int(left) // 60}:{int(left) % 60:02d}", style="progress.remaining")

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), EtaColumn(), console=console, transient=True)


class RichProgress:
    """Build progress on a terminal; silent otherwise (CI logs, pipes)."""

    def __init__(self, console: Console = err_console) -> None:
        self.console = console
        self.enabled = console.is_terminal
        self.progress = None
        self.task = None
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
        if status.state == "failed":
            self.console.print(f"[red]✗ {status.name} ({status.interpreter}): {status.message}[/red]")

    def stage(self, text: str) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _listing(names: list[str], limit: int = 6) -> str:
    """A few names, then how many more: a summary must fit on a screen."""
    shown = ", ".join(names[:limit])
    return shown + (f" … and {len(names) - limit} more" if len(names) > limit else "")


def build_summary(report) -> Table:
    table = Table(title="vaultgen build", show_header=True, header_style="bold")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("details")
    by_state: dict[str, list] = {}
    for status in report.experiments:
        by_state.setdefault(status.state, []).append(status)
    for state in ("ran", "cached", "failed"):
        items = by_state.get(state, [])
        detail = _listing([f"{s.name} ({formatting.duration(s.wall, 2)})" if state != "cached" else s.name
                           for s in items], limit=len(items) if state != "cached" else 6)
        style = "red" if state == "failed" and items else ""
        table.add_row(f"experiments {state}", str(len(items)), Text(detail, style=style))
    written = report.written
    if written is not None:
        for label in ("created", "updated", "unchanged", "modified", "conflicts", "removed", "kept_removed", "backed_up"):
            items = getattr(written, label, [])
            if items or label in ("created", "updated", "unchanged"):
                # Modified files and conflicts are listed in full: each needs the user's attention.
                full = label in ("modified", "conflicts", "kept_removed")
                shown = "" if label == "unchanged" else _listing(items, limit=len(items) if full else 6)
                table.add_row(f"files {label.replace('_', ' ')}", str(len(items)), shown)
    if report.warnings:
        table.add_row("check warnings", str(len(report.warnings)),
                      "; ".join(f"{w.path}: {w.message}" for w in report.warnings[:3]))
    table.add_row("time taken", "", formatting.duration(report.duration, 3))
    return table


def run_table(result) -> Table:
    """A result document's figures, one metric a row."""
    table = Table(title=f"{result.experiment} ({result.interpreter})", header_style="bold")
    for column in ("metric", "median", "IQR", "min – max", "n"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name in sorted(result.metrics):
        m = result.metrics[name]
        fmt = formatting.auto
        table.add_row(
            name + (" ⚠" if m.noisy else ""),
            fmt(m),
            f"{fmt(_scaled(m, m.q1))} – {fmt(_scaled(m, m.q3))}",
            f"{fmt(_scaled(m, m.min))} – {fmt(_scaled(m, m.max))}",
            str(m.n),
        )
    for key, reason in sorted(result.unavailable.items()):
        table.add_row(key, "not available here", reason, "", "")
    return table


def _scaled(metric, value):
    from dataclasses import replace

    return replace(metric, median=value)
