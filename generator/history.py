"""How the figures moved: an append-only history per machine and interpreter.

Every full measurement that succeeds appends one line to
``results/<machine>/<interpreter>/history.jsonl``: the experiment, when it
ran, its cache key, and each metric's median, quartiles and count.  Quick
runs are not recorded: their figures are not comparable.

A change beyond the noise is flagged the way asv's ``compare`` does: the
medians differ by more than ``FACTOR`` (10 %) *and* the two runs'
interquartile ranges do not overlap.  Either rule alone misleads: a 10 %
move inside a wide spread is noise, and disjoint IQRs around a 1 % move
are a tight measurement of nothing that matters.  The direction (worse or
better) follows the unit: times and sizes are better lower, speedups and
rates better higher.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from generator import formatting
from generator.errors import ResultError
from generator.headline import headline
from generator.writer.fsops import append_state, parse_json, read_state

if TYPE_CHECKING:
    from generator.config import Project
    from generator.results import ResultSet

HISTORY_FILE = "history.jsonl"
FACTOR = 1.10
MIN_SAMPLES = 3
MIN_POINTS_FOR_TREND = 3

Direction = Literal["regression", "improvement", "change"]
_LOWER_IS_BETTER = {"s", "B"}
_HIGHER_IS_BETTER = {"x", "B/s", "/s"}


@dataclass(frozen=True)
class Point:
    """One metric in one recorded run."""

    date: str
    median: float
    q1: float
    q3: float
    n: int
    unit: str


def _point(date: str, data: Any) -> Point | None:
    try:
        return Point(date, float(data["median"]), float(data["q1"]), float(data["q3"]), int(data["n"]),
                     str(data.get("unit", "")))
    except (KeyError, TypeError, ValueError):
        return None


def entry(document: dict[str, Any]) -> dict[str, Any]:
    """The history line of one result document."""
    metrics = {name: {k: m[k] for k in ("median", "q1", "q3", "n", "unit") if k in m}
               for name, m in sorted(document.get("metrics", {}).items())}
    return {"experiment": document.get("experiment"), "date": document.get("environment", {}).get("date", ""),
            "cache_key": document.get("cache_key", ""), "metrics": metrics}


def append(folder: Path, document: dict[str, Any]) -> None:
    """Add one full measurement to ``folder``'s history (append-only; one JSON object a line)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / HISTORY_FILE
    try:
        append_state(path, json.dumps(entry(document), sort_keys=True, separators=(",", ":")) + "\n")
    except OSError as exc:
        raise ResultError(f"cannot append to the history: {exc.strerror or exc}", path=path,
                          hint="make it a regular file (vaultgen never writes through a symlink)") from exc


def read(folder: Path, experiment: str, *, strict: bool = False) -> list[dict[str, Any]]:
    """The recorded runs of ``experiment`` in ``folder``, oldest first; a damaged line is skipped.

    A history that cannot be read is none to a note or a build (they go on without trends);
    ``strict`` (the ``history`` command, which would otherwise say there is none) says why.
    """
    path = folder / HISTORY_FILE
    try:
        lines = read_state(path).splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        if strict:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ResultError(f"cannot read the history: {why}", path=path,
                              hint="make it a regular UTF-8 file, or delete it to start the history again") from None
        return []
    runs = []
    for line in lines:
        try:
            data = parse_json(line)
        except ValueError:
            continue  # a line cut short by a kill: the rest of the history still counts
        if isinstance(data, dict) and data.get("experiment") == experiment and isinstance(data.get("metrics"), dict):
            runs.append(data)
    return runs


def points(runs: list[dict[str, Any]], metric: str) -> list[Point]:
    found = (_point(str(run.get("date", "")), run["metrics"].get(metric)) for run in runs)
    return [p for p in found if p is not None]


@dataclass(frozen=True)
class Shift:
    """A headline figure that moved beyond the noise between two full runs."""

    experiment: str
    interpreter: str
    metric: str
    before: Point
    after: Point
    direction: Direction

    @property
    def ratio(self) -> float:
        return self.after.median / self.before.median if self.before.median else float("inf")

    @property
    def message(self) -> str:
        fmt = _formatter(self.after.unit)
        return (f"{self.experiment} {self.metric} ({self.interpreter}): {fmt(self.before.median)} → "
                f"{fmt(self.after.median)} ({self.ratio:.2f}×; IQRs {fmt(self.before.q1)}–{fmt(self.before.q3)} "
                f"and {fmt(self.after.q1)}–{fmt(self.after.q3)} do not overlap): {self.direction}")


def shifted(before: Point, after: Point) -> bool:
    """asv's rule: the medians differ by more than FACTOR and the IQRs are disjoint.

    A figure of fewer than MIN_SAMPLES runs has no spread to speak of (one
    sample's IQR is a point), so it is never flagged.
    """
    if before.median == 0 or after.median == 0 or min(before.n, after.n) < MIN_SAMPLES:
        return False
    ratio = after.median / before.median
    big = ratio > FACTOR or ratio < 1 / FACTOR
    disjoint = after.q1 > before.q3 or after.q3 < before.q1
    return big and disjoint


def direction(before: Point, after: Point) -> Direction:
    worse_if_higher = after.unit in _LOWER_IS_BETTER
    if after.unit not in _LOWER_IS_BETTER | _HIGHER_IS_BETTER:
        return "change"
    higher = after.median > before.median
    return "regression" if higher == worse_if_higher else "improvement"


def compare(experiment: str, interpreter: str, previous: dict[str, Any] | None,
            document: dict[str, Any]) -> list[Shift]:
    """The headline figures of ``document`` that moved beyond the noise since ``previous``."""
    if previous is None:
        return []
    new = entry(document)
    shifts = []
    for metric in headline(experiment, new["metrics"]):
        before = _point(str(previous.get("date", "")), previous["metrics"].get(metric))
        after = _point(new["date"], new["metrics"][metric])
        if before is not None and after is not None and shifted(before, after):
            shifts.append(Shift(experiment, interpreter, metric, before, after, direction(before, after)))
    return shifts


def record(folder: Path, experiment: str, interpreter: str, document: dict[str, Any]) -> list[Shift]:
    """Append a full run to the history; return what moved beyond the noise since the last one."""
    runs = read(folder, experiment)
    shifts = compare(experiment, interpreter, runs[-1] if runs else None, document)
    append(folder, document)
    return shifts


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """A small chart in text: one bar per run, scaled between the series' extremes."""
    low, high = min(values), max(values)
    span = high - low
    return "".join(_BARS[int((v - low) / span * (len(_BARS) - 1)) if span else 0] for v in values)


def _formatter(unit: str) -> Any:
    return {"s": formatting.duration, "B": formatting.size, "x": formatting.ratio}.get(unit, formatting.sig)


@dataclass(frozen=True)
class Trend:
    """A headline figure across the recorded full runs, for a note."""

    experiment: str
    metric: str
    points: tuple[Point, ...]

    @property
    def chart(self) -> str:
        return sparkline([p.median for p in self.points])

    @property
    def summary(self) -> str:
        fmt = _formatter(self.points[-1].unit)
        first, last = self.points[0], self.points[-1]
        return f"{fmt(first.median)}{_on(first)} → {fmt(last.median)}{_on(last)}, {len(self.points)} runs"


def _on(point: Point) -> str:
    """" (2026-12-02)", or nothing for a run that recorded no date (an example script's)."""
    return f" ({point.date[:10]})" if point.date else ""


def trends(results_root: Path, machine: str, tag: str, names: list[str] | tuple[str, ...]) -> list[Trend]:
    """The headline figures of ``names`` with at least MIN_POINTS_FOR_TREND recorded runs."""
    folder = results_root / machine / tag
    out = []
    for name in names:
        runs = read(folder, name)
        if len(runs) < MIN_POINTS_FOR_TREND:
            continue
        for metric in headline(name, runs[-1]["metrics"]):
            series = points(runs, metric)
            if len(series) >= MIN_POINTS_FOR_TREND:
                out.append(Trend(name, metric, tuple(series)))
    return out


@dataclass(frozen=True)
class Series:
    """``vaultgen history``: one metric's runs on one machine under one interpreter."""

    machine: str
    interpreter: str
    metric: str
    points: tuple[Point, ...]
    shifts: tuple[int, ...]  # indexes of points that moved beyond the noise from the one before


def series(project: Project, experiment: str, metric: str | None = None) -> list[Series]:
    """Every recorded series of ``experiment`` (its headline metrics, or ``metric``), per machine and interpreter."""
    from generator.errors import UsageError

    out = []
    recorded: set[str] = set()  # every metric of the experiment's runs, for the error below
    root = project.results
    for history in sorted(root.glob(f"*/*/{HISTORY_FILE}")) if root.is_dir() else ():
        runs = read(history.parent, experiment, strict=True)
        if not runs:
            continue
        recorded.update(name for run in runs for name in run["metrics"])
        names = [metric] if metric else list(headline(experiment, runs[-1]["metrics"]))
        for name in names:
            pts = points(runs, name)
            if pts:
                moved = tuple(i for i in range(1, len(pts)) if shifted(pts[i - 1], pts[i]))
                out.append(Series(history.parent.parent.name, history.parent.name, name, tuple(pts), moved))
    if not out:
        from generator.experiments import discover

        known = discover(project.experiments)
        if experiment not in known:
            raise UsageError(f"unknown experiment {experiment!r}", hint=f"known: {', '.join(sorted(known))}")
        if recorded:
            shown = sorted(recorded)
            more = f", … ({len(shown)} in all)" if len(shown) > 12 else ""
            raise UsageError(f"{experiment} has no recorded metric {metric!r}", path=root,
                             hint=f"its metrics: {', '.join(shown[:12])}{more}")
        raise UsageError(f"no recorded history for {experiment}{':' + metric if metric else ''}",
                         path=root, hint="history is kept for full builds: run vaultgen build (no --profile quick)")
    return out


def note_trends(results: ResultSet, names: list[str] | tuple[str, ...]) -> list[Trend]:
    """The trends a note shows: this machine, the primary interpreter."""
    if results.root is None or not results.machine:
        return []
    return trends(results.root, results.machine, results.primary_tag, names)
