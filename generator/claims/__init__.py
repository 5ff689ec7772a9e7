"""Claims and their verdicts, computed from measured results.

A claim is a statement (usually the seed note's) plus a function that
weighs it against this build's figures.  Templates ask
``verdict("gil_limits_cpu_threads")`` and render the answer as a callout,
so no verdict and no figure in it is ever typed by hand.

The registry wraps every claim function in the same three guards, so no
claim can forget them:

- a claim is weighed under *each* interpreter the build measured, and the
  verdict says where it holds ("holds on 3.11 and 3.13; does not hold on
  3.13t"), because the answer to several claims depends on the build;
- its headline figures need at least ``MIN_SAMPLES`` samples, otherwise the
  verdict is "not enough data" (a quick-profile run proves nothing);
- a speedup or capacity above what the usable CPUs allow is physically
  impossible: the verdict reports a measurement error and states no result.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, replace
from typing import Callable, Literal

from generator import formatting
from generator.errors import TemplateError
from generator.results import ResultSet

Status = Literal["holds", "does not hold here", "depends", "not measured", "not enough data",
                 "measurement error", "not available"]
HOLDS: Status = "holds"
FAILS: Status = "does not hold here"
DEPENDS: Status = "depends"
UNMEASURED: Status = "not measured"
NOT_ENOUGH: Status = "not enough data"
ERROR: Status = "measurement error"
# The experiment ran and recorded that it can measure nothing under this interpreter ("not
# available here": a package not installed, a platform without fork). That is a fact about the
# interpreter, not a doubt about the claim, so it never turns a verdict into "depends".
UNAVAILABLE: Status = "not available"

# Below five repeats a median and its quartiles are not worth a conclusion (pyperf's default
# is 20 values; five is the least that still gives an interquartile range of three points).
MIN_SAMPLES = 5
# A speedup may exceed the usable CPUs by this much before it is called impossible: the paired
# ratio of two noisy timings scatters by a few percent even on a quiet machine.
IMPOSSIBLE_MARGIN = 1.05

_CALLOUT = {HOLDS: "success", FAILS: "failure", DEPENDS: "warning", UNMEASURED: "note",
            NOT_ENOUGH: "note", ERROR: "bug", UNAVAILABLE: "note"}
_LABEL = {HOLDS: "Holds", FAILS: "Does not hold here", DEPENDS: "Depends", UNMEASURED: "Not measured",
          NOT_ENOUGH: "Not enough data", ERROR: "Measurement error", UNAVAILABLE: "Not available here"}
# How a status reads when it is given per interpreter: "holds on 3.11; does not hold on 3.13t".
_ON = {HOLDS: "holds", FAILS: "does not hold", DEPENDS: "depends", UNMEASURED: "not measured",
       NOT_ENOUGH: "not enough data", ERROR: "measurement error", UNAVAILABLE: "not available"}


@dataclass(frozen=True)
class Reading:
    """The verdict under one interpreter."""

    interpreter: str
    status: Status
    summary: str
    # Why the experiment could not measure under this interpreter, short ("dask is not installed there").
    why: str = ""

    @property
    def label(self) -> str:
        return _LABEL[self.status]


@dataclass(frozen=True)
class Verdict:
    claim: str
    status: Status
    summary: str
    evidence: tuple[str, ...] = ()
    readings: tuple[Reading, ...] = ()
    # A claim about CPython itself (threads are preemptive), not about this machine: its
    # "does not hold" is not qualified with "here".
    general: bool = False
    why: str = ""

    @property
    def mixed(self) -> bool:
        """True when interpreters read differently: the label then names each."""
        return len({r.status for r in self.readings}) > 1

    @property
    def callout(self) -> str:
        """Warning-coloured only where measured interpreters disagree: one on which the experiment
        was not available says nothing about the claim, so it leaves the others' colour alone."""
        measured = {r.status for r in self.readings if r.status != UNAVAILABLE}
        if len(measured) > 1:
            return _CALLOUT[DEPENDS]
        return _CALLOUT[measured.pop() if measured else self.status]

    @property
    def label(self) -> str:
        if not self.mixed:
            return "Does not hold" if self.general and self.status == FAILS else _LABEL[self.status]
        text = per_interpreter(self.readings)
        return text[0].upper() + text[1:]


def per_interpreter(readings) -> str:
    """``holds on 3.11 and 3.13; does not hold on 3.13t``, in the order first seen.

    Where the experiment was not available, the reason follows:
    ``holds on 3.11; not available on 3.13 and 3.13t: dask is not installed there``.
    """
    groups: dict[tuple[Status, str], list[str]] = {}
    for r in readings:
        groups.setdefault((r.status, r.why if r.status == UNAVAILABLE else ""), []).append(r.interpreter)
    parts = []
    for (status, why), names in groups.items():
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        parts.append(f"{_ON[status]} on {joined}" + (f": {why}" if why else ""))
    return "; ".join(parts)


_NO_MODULE = re.compile(r"No module named '([\w.]+)'")


def short_reason(reason: str) -> str:
    """An experiment's "not available here" reason, short enough for a verdict's label."""
    found = _NO_MODULE.search(reason)
    if found:
        return f"{found.group(1).split('.')[0]} is not installed there"
    return reason.rstrip(".")


def _unavailable(results: ResultSet, experiments) -> tuple[str, str] | None:
    """(summary, short reason) when an experiment ran but could measure nothing here.

    Its result has no figure at all and says why ("not available here"). A result with no
    figure and no reason is simply missing, and a failed run is a failure, not this.
    """
    for name in experiments:
        r = results.get(name)
        if r is None or r.metrics or not r.unavailable or r.failure:
            continue
        reason = "; ".join(text for _, text in sorted(r.unavailable.items()))
        return (f"`{name}` could not measure anything under this interpreter: {reason}.",
                short_reason(reason))
    return None


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    experiments: tuple[str, ...]
    evaluate: Callable[[ResultSet], Verdict]
    headline: tuple[str, ...] | Callable = ()


_MARK = "vaultgen_claim"

# A measured capacity (2 busy processes against 1) below this says the machine gave little
# parallelism while the run went on: a verdict names that as the reason, not Python.
CAPACITY_MIN = 1.5
# Workers "scale" when they reach 80 % of what the CPUs, or the measured capacity, allow:
# the remaining 20 % covers task dispatch, pickling and noise.
CAPACITY_SHARE = 0.80


def usable_cpus(r) -> float | None:
    """CPUs this run could use: the harness's min(affinity, cgroup quota), else the affinity."""
    env = r.environment if r is not None else {}
    for key in ("usable_cpus", "affinity", "logical_cores"):
        value = env.get(key)
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    return None


_WORKERS = re.compile(r"\.(\d+)\.")


def _parallel_limit(name: str, cpus: float) -> float | None:
    """The most a speedup or capacity named ``name`` could physically reach."""
    if not any(word in name for word in ("speedup", "scaling", "capacity")):
        return None
    found = _WORKERS.search(f".{name}.")
    workers = int(found.group(1)) if found else 2  # a capacity probe races 2 processes
    return min(float(workers), cpus)


def checked_ratio(r, name: str, m) -> str:
    """``m`` as a ratio, or a measurement-error mark where it exceeds what the usable CPUs allow.

    Evidence lines and tables show more figures than a claim's headline: an impossible one among
    them must not read as a result either.
    """
    cpus = usable_cpus(r)
    limit = _parallel_limit(name, cpus) if (cpus and m is not None) else None
    if limit is not None and m.median > limit * IMPOSSIBLE_MARGIN:
        return f"✗ measurement error ({m.median:.3g}×, above the {limit:g}× {cpus:g} usable CPUs allow)"
    return formatting.ratio(m)


def _guard(results: ResultSet, experiments, headline) -> tuple[Status, str] | None:
    """Not enough data, or an impossible figure, among the claim's headline metrics."""
    few, impossible = [], []
    for exp in experiments:
        r = results.get(exp)
        cpus = usable_cpus(r)
        for name in (headline(r) if callable(headline) and r is not None else () if callable(headline) else headline):
            m = r.metric(name) if r is not None else None
            if m is None:
                continue
            limit = _parallel_limit(name, cpus) if cpus else None
            if limit is not None and m.median > limit * IMPOSSIBLE_MARGIN:
                impossible.append((name, m.median, limit, cpus))
            elif m.n < MIN_SAMPLES:
                few.append((name, m.n))
    if impossible:
        text = "; ".join(f"`{name}` came out at {value:.3g}×, above the {limit:g}× that {cpus:g} usable "
                         f"CPUs allow" for name, value, limit, cpus in impossible)
        return ERROR, (f"Measurement error, not a result: {text}. The machine was probably busy or "
                       f"the timing broken; re-measure on a quiet machine.")
    if few:
        text = ", ".join(f"`{name}` has {n} sample{'s' if n != 1 else ''}" for name, n in few)
        return NOT_ENOUGH, (f"Not enough data to conclude: {text}, and a verdict needs at least "
                            f"{MIN_SAMPLES} (the quick profile takes one or two). Re-measure with "
                            f"`vaultgen build --profile full`.")
    return None


def short_name(interp, everyone) -> str:
    """``3.13t``; the full version where two interpreters share a minor version."""
    minor = ".".join(interp.version.split(".")[:2])
    suffix = "t" if interp.free_threaded else ""
    same = [i for i in everyone if ".".join(i.version.split(".")[:2]) == minor
            and i.free_threaded == interp.free_threaded]
    return (interp.version if len(same) > 1 else minor) + suffix


def _as_primary(results: ResultSet, interp) -> ResultSet:
    others = [i for i in results.interpreters if i.tag != interp.tag]
    return ResultSet([interp, *others], results.by_tag)


def claim(key: str, statement: str, experiments: tuple[str, ...],
          headline: tuple[str, ...] | Callable = (), general: bool = False):
    """Register ``fn(results) -> (status, summary, evidence)`` as claim ``key``.

    ``headline`` names the metrics the status rests on: they must have enough samples and be
    physically possible before ``fn``'s answer is believed.  It may be a function of one result
    that returns the names, for a claim whose metrics depend on what was swept.  ``general``
    marks a claim about CPython rather than about this machine.
    """

    def register(fn: Callable) -> Callable:
        def one(results: ResultSet) -> Verdict:
            unavailable = _unavailable(results, experiments)
            if unavailable is not None:
                return Verdict(statement, UNAVAILABLE, unavailable[0], why=unavailable[1])
            missing = [n for n in experiments if not getattr(results.get(n), "metrics", None)]
            if missing:
                return Verdict(statement, UNMEASURED,
                               f"No result yet from {', '.join(missing)}: run `vaultgen build`.")
            status, summary, evidence = fn(results)
            guarded = _guard(results, experiments, headline) if status != UNMEASURED else None
            if guarded is not None and guarded[0] == ERROR:
                return Verdict(statement, ERROR, guarded[1])
            if guarded is not None:
                return Verdict(statement, NOT_ENOUGH, guarded[1], tuple(evidence))
            return Verdict(statement, status, summary, tuple(evidence))

        def evaluate(results: ResultSet) -> Verdict:
            primary = replace(one(results), general=general)
            measured = [i for i in results.interpreters
                        if all(results.get(n, i.tag) is not None for n in experiments)]
            if len(measured) < 2:
                return primary
            readings = []
            for interp in measured:
                v = primary if interp.tag == results.primary_tag else one(_as_primary(results, interp))
                readings.append(Reading(short_name(interp, results.interpreters), v.status, v.summary, v.why))
            return replace(primary, readings=tuple(readings), general=general)

        setattr(fn, _MARK, Claim(key, statement, tuple(experiments), evaluate,
                                 headline if callable(headline) else tuple(headline)))
        return fn

    return register


def metric_of(r, name: str):
    """A result's metric, or None when there is no result at all."""
    return r.metric(name) if r is not None else None


def unavailable_reason(r, *keys: str, default: str = "no figure was recorded") -> str:
    """The experiment's own reason why one of ``keys`` (or a key under it) has no figure."""
    for key in keys:
        for k, reason in sorted(r.unavailable.items()):
            if key == k or key.startswith(k + ".") or k.startswith(key + "."):
                return reason
    return default


def registry() -> dict[str, Claim]:
    """Every claim defined in this package's modules, collected now (no state filled by imports)."""
    found: dict[str, Claim] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            claim_ = getattr(value, _MARK, None)
            if not isinstance(claim_, Claim) or getattr(value, "__module__", None) != module.__name__:
                continue
            if claim_.key in found and found[claim_.key] is not claim_:
                raise TemplateError(f"claim {claim_.key!r} is defined twice", path=getattr(module, "__file__", None))
            found[claim_.key] = claim_
    return found


def evaluate(key: str, results: ResultSet) -> Verdict:
    claims = registry()
    if key not in claims:
        raise TemplateError(f"unknown claim {key!r}", hint=f"known: {', '.join(sorted(claims))}")
    return claims[key].evaluate(results)
