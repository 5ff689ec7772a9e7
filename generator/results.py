"""Result documents: schema, storage, cache keys and the view templates get.

One JSON file per experiment and interpreter, ``results/<machine>/<tag>/<name>.json``
(``<tag>-<profile>/`` for a profile other than full),
written deterministically (sorted keys) and only when an experiment ran, so
a vault in git changes only when a measurement did.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from generator.cpuwatch import correct_environment
from generator.errors import ResultError
from generator.experiments import Experiment
from generator.runner import RunOutcome, parse_document
from generator.interpreters import Interpreter
from generator.machine import Machine
from generator.packages import versions

if TYPE_CHECKING:
    from generator.config import Project
    from generator.othermachines import MachineResults
from generator.writer.fsops import atomic_write, os_error, read_state, real_folder

SCHEMA_VERSION = 1

# What a stored result is worth to the build: reused, re-measured, or reported.
ResultState = Literal["current", "stale", "unreadable", "failed", "not run"]
# A benchmark's metrics, an example's output, or the record of a run that failed.
ResultKind = Literal["benchmark", "example", "failed"]


def cache_key(experiment: Experiment, interpreter: Interpreter, profile: str) -> str:
    """Everything that could change the figures, hashed."""
    digest = hashlib.sha256()
    parts = {
        "schema": SCHEMA_VERSION,
        "profile": profile,
        "params": {},  # no run takes parameters any more; kept, so that every committed key still holds
        "interpreter": interpreter.identity(),
        "machine": Machine.here().fingerprint,
    }
    packages = versions(experiment.imported_packages(), interpreter.site_dirs)
    if packages:  # only then: keys of experiments that import none stay what they were
        parts["packages"] = packages
    digest.update(json.dumps(parts, sort_keys=True).encode())
    for path in [experiment.path, *experiment.local_imports()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Metric:
    """One measured quantity: its distribution over repeats."""

    name: str
    median: float
    q1: float
    q3: float
    min: float
    max: float
    n: int
    unit: str
    noisy: bool = False
    samples: tuple[float, ...] = ()

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def spread(self) -> float:
        """IQR relative to the median."""
        return self.iqr / abs(self.median) if self.median else 0.0

    @classmethod
    def from_json(cls, name: str, data: dict) -> Metric:
        numbers = [data[k] for k in ("median", "q1", "q3", "min", "max")] + list(data.get("samples", ()))
        for value in numbers:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"metric {name!r} holds {value!r}, not a finite number")
        return cls(
            name=name,
            median=float(data["median"]),
            q1=float(data["q1"]),
            q3=float(data["q3"]),
            min=float(data["min"]),
            max=float(data["max"]),
            n=int(data["n"]),
            unit=str(data.get("unit", "")),
            noisy=bool(data.get("noisy", False)),
            samples=tuple(float(x) for x in data.get("samples", ())),
        )


@dataclass(frozen=True)
class Result:
    """A stored result, as templates, charts and verdicts see it."""

    experiment: str
    kind: ResultKind
    interpreter: str
    profile: str
    cache_key: str
    parameters: dict
    environment: dict
    metrics: dict[str, Metric]
    facts: dict
    unavailable: dict[str, str]
    outputs: dict[str, str]
    run: dict
    failure: dict | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def output(self) -> str:
        """Captured stdout of an example script."""
        return self.outputs.get("stdout", "")

    def metric(self, name: str) -> Metric | None:
        return self.metrics.get(name)

    def sweep(self, prefix: str, suffix: str) -> dict[int, Metric]:
        """{N: metric} of a swept figure, the metrics named ``<prefix>.<N>.<suffix>`` (N a whole
        number: a worker count, a chunksize), in ascending N."""
        head, tail = prefix + ".", "." + suffix
        found = {}
        for name, metric in self.metrics.items():
            middle = name[len(head): -len(tail)] if name.startswith(head) and name.endswith(tail) else ""
            if middle.isdigit() and middle.isascii():
                found[int(middle)] = metric
        return dict(sorted(found.items()))

    def has(self, name: str) -> bool:
        return name in self.metrics

    def fastest(self, models, figure: str = "wall") -> str | None:
        """The model of ``models`` whose ``<model>.<figure>`` has the smallest median (the first on
        equal medians); None when none was measured. The one ranking every note and verdict uses."""
        timed = [k for k in models if f"{k}.{figure}" in self.metrics]
        return min(timed, key=lambda k: self.metrics[f"{k}.{figure}"].median) if timed else None

    @classmethod
    def from_json(cls, data: dict, path: Path | None = None) -> Result:
        try:
            if data.get("schema") != SCHEMA_VERSION:
                raise ResultError(
                    f"result schema {data.get('schema')!r} is not {SCHEMA_VERSION}",
                    path=path, hint="run vaultgen build --force to re-measure",
                )
            return cls(
                experiment=data["experiment"],
                kind=data.get("kind", "benchmark"),
                interpreter=data["interpreter"]["tag"],
                profile=data.get("profile", "full"),
                cache_key=data["cache_key"],
                parameters=data.get("parameters", {}),
                environment=data.get("environment", {}),
                metrics={k: Metric.from_json(k, v) for k, v in data["metrics"].items()},
                facts=data.get("facts", {}),
                unavailable=data.get("unavailable", {}),
                outputs=data.get("outputs", {}),
                run=data.get("run", {}),
                failure=data.get("failure"),
                path=path,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ResultError(
                f"result document is malformed ({type(exc).__name__}: {exc})",
                path=path, hint="delete the file or run vaultgen build --force",
            ) from exc


def document_problem(document: dict) -> str | None:
    """Why a new result document must not replace the stored one, or None.

    Checked before saving: a document that could not be read back would block
    every later build (``--force`` included) and lose the last good figures.
    """
    try:
        Result.from_json(document)
        json.dumps(document, allow_nan=False)
    except ResultError as exc:
        return exc.message
    except ValueError as exc:
        return str(exc)
    return None


def document_from_run(outcome: RunOutcome, experiment: Experiment, interpreter: Interpreter,
                      profile: str, key: str) -> dict:
    """The stored document for a successful run of either kind of script."""
    if experiment.kind == "benchmark" and outcome.document is not None:
        doc = dict(outcome.document)
        if isinstance(doc.get("environment"), dict):
            doc["environment"] = dict(doc["environment"])
            correct_environment(doc["environment"], outcome.other_cpu)
    else:
        doc = {
            "experiment": experiment.name,
            "kind": "example",
            "title": experiment.title,
            "parameters": {},
            "environment": dict(Machine.here().fingerprint, python_version=interpreter.version),
            "metrics": {
                "wall": _single(outcome.wall, "s"),
                "cpu": _single(outcome.cpu, "s"),
                "peak_rss": _single(outcome.peak_rss, "B"),
            },
            "facts": {},
            "unavailable": {},
            "outputs": {"stdout": outcome.stdout, "stderr": outcome.stderr},
        }
    doc.update(
        schema=SCHEMA_VERSION,
        profile=profile,
        cache_key=key,
        interpreter={"tag": interpreter.tag, "label": interpreter.label, **interpreter.identity()},
        run=outcome.summary(),
    )
    doc.pop("failure", None)
    return doc


def _single(value: float, unit: str) -> dict:
    return {"median": value, "q1": value, "q3": value, "min": value, "max": value,
            "n": 1, "unit": unit, "noisy": False, "samples": [value]}


class ResultStore:
    """Reads and writes ``results/<machine>/<interpreter tag>/<experiment>.json``.

    Each machine has its own folder (generator.machine), so a build on
    another machine adds a folder and never rewrites this one's figures.
    Results of the ``full`` profile (the committed ones) live under the bare
    tag; other profiles get a suffix (``cpython-3.11.7-quick``), so a quick
    trial build never overwrites the careful figures.
    """

    def __init__(self, root: Path, profile: str = "full", machine: Machine | None = None) -> None:
        self.root = root
        self.profile = profile
        self.machine = machine or Machine.here()

    @property
    def folder(self) -> Path:
        return self.root / self.machine.slug

    def path(self, tag: str, name: str) -> Path:
        folder = tag if self.profile == "full" else f"{tag}-{self.profile}"
        return self.folder / folder / f"{name}.json"

    def load_raw(self, tag: str, name: str) -> dict | None:
        path = self.path(tag, name)
        try:
            text = read_state(path)
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ResultError(f"cannot read result: {exc}", path=path,
                              hint="delete the file or run vaultgen build --force") from exc
        try:
            data = parse_document(text)
        except json.JSONDecodeError as exc:
            raise ResultError(f"corrupt result file: {exc.msg}", path=path, line=exc.lineno,
                              hint="delete the file or run vaultgen build --force") from exc
        except ValueError as exc:
            raise ResultError(f"corrupt result file: {exc}", path=path,
                              hint="delete the file or run vaultgen build --force") from exc
        if not isinstance(data, dict):
            raise ResultError("result file is not a JSON object", path=path,
                              hint="delete the file or run vaultgen build --force")
        return data

    def load(self, tag: str, name: str) -> Result | None:
        data = self.load_raw(tag, name)
        return None if data is None else Result.from_json(data, self.path(tag, name))

    def save(self, tag: str, name: str, document: dict) -> Path:
        path = self.path(tag, name)
        data = (json.dumps(document, indent=1, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")
        try:
            real_folder(path.parent, "the results folder", base=self.root.parent)
            atomic_write(path, data)
        except OSError as exc:
            raise os_error(exc, path, "save the result", ResultError) from None
        return path

    def record_failure(self, tag: str, name: str, outcome: RunOutcome, key: str) -> None:
        """Keep the last good figures; note the failure beside them.

        With no good result yet, a stub document records the failure so the
        note can say what went wrong instead of silently lacking figures.
        """
        failure = dict(outcome.summary(), cache_key=key, stderr_tail=outcome.stderr[-2000:])
        doc = None
        try:
            doc = self.load_raw(tag, name)
        except ResultError:
            doc = None  # a corrupt old result is replaced by the failure stub
        if doc is None:
            doc = {"schema": SCHEMA_VERSION, "experiment": name, "kind": "failed",
                   "interpreter": {"tag": tag}, "cache_key": "", "metrics": {},
                   "environment": {}, "parameters": {}, "run": {}}
        doc["failure"] = failure
        self.save(tag, name, doc)

    @classmethod
    def for_project(cls, project: Project, profile: str = "full", machine: Machine | None = None) -> ResultStore:
        return cls(project.results, profile, machine)

    def state(self, tag: str, name: str, key: str) -> tuple[ResultState, str]:
        """The stored result's state, and a detail: its run time, why it failed, or why it cannot be read."""
        try:
            data = self.load_raw(tag, name)
        except ResultError as exc:
            return "unreadable", exc.message
        if not data:
            return "not run", ""
        if data.get("failure"):
            return "failed", str(data["failure"].get("message", ""))
        if data.get("cache_key") != key:
            return "stale", ""
        wall = (data.get("run") or {}).get("wall")
        return "current", f"{wall:.1f} s" if isinstance(wall, (int, float)) else ""

    def previous_wall(self, tag: str, name: str) -> float | None:
        """Last run's duration, for the progress bar's ETA."""
        try:
            data = self.load_raw(tag, name)
        except ResultError:
            return None
        run = (data or {}).get("run") or {}
        return run.get("wall")


@dataclass
class ResultSet:
    """Every result of one build: per interpreter, the first one primary."""

    interpreters: list[Interpreter]
    by_tag: dict[str, dict[str, Result]]
    machine: str = ""  # this machine's slug: the folder the primary figures come from
    root: Path | None = None  # the results folder (for the history); None for results made in memory
    others: tuple[MachineResults, ...] = ()  # other machines' committed results

    @property
    def primary_tag(self) -> str:
        return self.interpreters[0].tag

    @property
    def primary(self) -> dict[str, Result]:
        return self.by_tag.get(self.primary_tag, {})

    def get(self, name: str, tag: str | None = None) -> Result | None:
        return self.by_tag.get(tag or self.primary_tag, {}).get(name)

    def across(self, name: str) -> list[tuple[Interpreter, Result]]:
        """The same experiment under each interpreter that has a result."""
        return [(i, self.by_tag[i.tag][name]) for i in self.interpreters
                if name in self.by_tag.get(i.tag, {})]

    def environment(self, names: tuple[str, ...] | list[str] = ()) -> dict:
        """The richest environment among the named (else all) primary results."""
        candidates = [self.primary[n] for n in (names or sorted(self.primary)) if n in self.primary]
        benchmarks = [r for r in candidates if r.kind == "benchmark" and r.environment]
        chosen = benchmarks or [r for r in candidates if r.environment]
        return dict(chosen[0].environment) if chosen else {}
