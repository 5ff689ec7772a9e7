"""The build's vocabulary: its options, each experiment's outcome, the report and the progress hooks.

Kept apart from ``generator.pipeline`` (which sequences the stages) so that the CLI, the console
and the tests can name these without the stages; ``generator.pipeline`` re-exports them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from generator.config import Profile

if TYPE_CHECKING:
    from generator.config import Project
    from generator.experiments import Experiment
    from generator.history import Shift
    from generator.interpreters import Interpreter
    from generator.lint import Finding
    from generator.writer.stage import FileChange, WriteReport


@dataclass(frozen=True)
class BuildOptions:
    """One build's choices; what is left unset comes from the project's settings."""

    profile: Profile = "full"
    only: tuple[str, ...] = ()
    force: bool = False
    pythons: tuple[str, ...] = ()  # empty: the project's `interpreters` setting
    overwrite: bool = False
    check_only: bool = False
    timeout: float | None = None  # None: the project's `timeout` for the profile


# "not current": left out by --only, with no current result of its own (never measured, killed, or stale).
RunState = Literal["ran", "cached", "failed", "not current"]
# ok: built; unchanged: nothing to measure or write; failed: an experiment
# failed (the rest was built); checked / out of date: the two answers of --check.
BuildStatus = Literal["ok", "unchanged", "failed", "checked", "out of date"]


@dataclass
class ExperimentStatus:
    name: str
    interpreter: str  # its tag
    state: RunState
    wall: float = 0.0
    message: str = ""
    shifts: tuple[Shift, ...] = ()  # headline figures that moved beyond the noise since the last full run


@dataclass
class BuildReport:
    experiments: list[ExperimentStatus] = field(default_factory=list)
    written: WriteReport | None = None
    changes: list[FileChange] = field(default_factory=list)  # for --check
    warnings: list[Finding] = field(default_factory=list)  # check findings that do not block
    notices: list[str] = field(default_factory=list)  # said once, not errors (a missing interpreter)
    check_only: bool = False
    busy: list[str] = field(default_factory=list)  # results measured on a busy machine
    system_warning: str | None = None  # said before measuring: the machine was busy
    duration: float = 0.0

    @property
    def failed(self) -> list[ExperimentStatus]:
        return [e for e in self.experiments if e.state == "failed"]

    @property
    def shifts(self) -> list[Shift]:
        return [shift for s in self.experiments for shift in s.shifts]

    @property
    def out_of_date(self) -> list[FileChange]:
        """What ``--check`` fails on: files a build would change, and hand edits or conflicts it would keep."""
        return [c for c in self.changes if c.changes_vault or c.action in ("modified", "conflict")]

    @property
    def status(self) -> BuildStatus:
        if self.check_only:
            return "out of date" if self.out_of_date else "checked"
        if self.failed:
            return "failed"
        written = self.written
        if all(s.state == "cached" for s in self.experiments) and written is not None \
                and not (written.changed or written.messages or self.warnings):
            return "unchanged"
        return "ok"

    def to_json(self, project: Project) -> dict[str, Any]:
        """The summary for CI (``vaultgen build --json``)."""
        files: dict[str, list[str]] = {}
        if self.written is not None:
            for label in ("created", "updated", "unchanged", "modified", "conflicts", "removed",
                          "kept_removed", "backed_up"):
                files[label] = list(getattr(self.written, label))
        return {
            "status": self.status,
            "vault": str(project.vault),
            "experiments": [asdict(s) for s in self.experiments],
            "files": files,
            "messages": list(self.written.messages) if self.written else [],
            "warnings": [{"path": w.path, "line": w.line, "code": w.code, "message": w.message}
                         for w in self.warnings],
            "notices": list(self.notices),
            "shifts": [{"experiment": s.experiment, "interpreter": s.interpreter, "metric": s.metric,
                        "before": s.before.median, "after": s.after.median, "unit": s.after.unit,
                        "direction": s.direction, "message": s.message} for s in self.shifts],
            "duration": round(self.duration, 3),
        }


class Progress(Protocol):
    def plan(self, runs: list[tuple[Experiment, Interpreter, float | None]]) -> None: ...
    def begin(self, experiment: Experiment, interpreter: Interpreter) -> None: ...
    def end(self, status: ExperimentStatus) -> None: ...
    def stage(self, text: str) -> None: ...
    def waiting(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...


class SilentProgress:
    def plan(self, runs): pass
    def begin(self, experiment, interpreter): pass
    def end(self, status): pass
    def stage(self, text): pass
    def waiting(self, text): pass
    def warn(self, text): pass
