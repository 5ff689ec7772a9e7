"""``vaultgen run`` and ``vaultgen list`` as library calls.

``run_one`` is the build's discover → resolve → run → document sequence for
one experiment, storing nothing; ``inventory`` says, per experiment and
interpreter, what state its stored result is in, by the same rule the
build uses to decide what to re-measure (``ResultStore.state``).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING

from generator import experiments as exp_mod
from generator import runner
from generator.config import DEFAULT_INTERPRETER, Profile, Project
from generator.errors import ExperimentError, InterpreterError, UsageError
from generator.interpreters import Interpreter, resolve
from generator.metricnames import description
from generator.results import Result, ResultState, ResultStore, cache_key, document_from_run

if TYPE_CHECKING:
    from generator.experiments import Experiment
    from generator.runner import RunOutcome


def _experiment(found: dict[str, Experiment], name: str) -> Experiment:
    if name not in found:
        raise UsageError(f"unknown experiment {name!r}", hint=f"known: {', '.join(sorted(found))}")
    return found[name]


def _interpreter(project: Project, name: str | None) -> Interpreter:
    """``name``, or the first of the project's interpreters that exists here."""
    if name is not None:
        return resolve(name, project.cache)
    for configured in project.settings.interpreters:
        try:
            return resolve(None if configured == DEFAULT_INTERPRETER else configured, project.cache)
        except InterpreterError:
            continue
    return resolve(None, project.cache)


@dataclass(frozen=True)
class RunReport:
    """One experiment run in the terminal: what it printed and its result document."""

    experiment: Experiment
    interpreter: Interpreter
    outcome: RunOutcome
    document: dict
    descriptions: dict[str, str]  # metric name -> its line in the experiment's docstring

    @property
    def result(self) -> Result:
        return Result.from_json(self.document)


def run_one(project: Project, name: str, python: str | None, profile: Profile, timeout: float,
            starting: Callable[[Experiment, Interpreter], None] | None = None) -> RunReport:
    """Run experiment ``name`` once; ``starting`` hears of it once the name and interpreter are known to be good."""
    experiment = _experiment(exp_mod.discover(project.experiments), name)
    interp = _interpreter(project, python)
    if starting is not None:
        starting(experiment, interp)
    outcome = runner.run_script(experiment, interp, profile=profile, timeout=timeout)
    if not outcome.ok:
        raise ExperimentError(f"{outcome.message}\n{outcome.stderr[-4000:].rstrip()}", path=experiment.path,
                              hint="its error output is above")
    doc = document_from_run(outcome, experiment, interp, profile, cache_key(experiment, interp, profile))
    descriptions = {m: d for m in doc.get("metrics", {}) if (d := description(experiment.source, m))}
    return RunReport(experiment, interp, outcome, doc, descriptions)


@dataclass(frozen=True)
class ExperimentRow:
    name: str
    kind: str
    title: str
    states: tuple[tuple[ResultState, str], ...]  # per interpreter: state and a detail (duration, failure)


@dataclass(frozen=True)
class Inventory:
    interpreters: tuple[Interpreter, ...]
    experiments: tuple[ExperimentRow, ...]
    notes: tuple[tuple[str, str, tuple[str, ...]], ...]  # title, template file, experiments


def inventory(project: Project, profile: Profile, pythons: tuple[str, ...] = ()) -> Inventory:
    from generator import templates as tpl_mod
    from generator.pipeline import select_interpreters

    found = exp_mod.discover(project.experiments)
    interps, _ = select_interpreters(project, pythons)
    store = ResultStore.for_project(project, profile)
    rows = []
    for name, experiment in found.items():
        states = tuple(store.state(i.tag, name, cache_key(experiment, i, profile)) for i in interps)
        rows.append(ExperimentRow(name, experiment.kind, experiment.title, states))
    notes = tuple((n.title, n.path.name, tuple(n.experiments)) for n in tpl_mod.discover(project.templates, set(found)))
    return Inventory(tuple(interps), tuple(rows), notes)
