"""Claims and their verdicts, computed from measured results.

A claim is a statement (usually the seed note's) plus a function that
weighs it against this build's figures.  Templates ask
``verdict("gil_limits_cpu_threads")`` and render the answer as a callout,
so no verdict and no figure in it is ever typed by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

from generator.errors import TemplateError
from generator.results import ResultSet

HOLDS = "holds"
FAILS = "does not hold here"
DEPENDS = "depends"
UNMEASURED = "not measured"

_CALLOUT = {HOLDS: "success", FAILS: "failure", DEPENDS: "warning", UNMEASURED: "note"}


@dataclass(frozen=True)
class Verdict:
    claim: str
    status: str
    summary: str
    evidence: tuple[str, ...] = ()

    @property
    def callout(self) -> str:
        return _CALLOUT[self.status]

    @property
    def label(self) -> str:
        return {HOLDS: "Holds", FAILS: "Does not hold here", DEPENDS: "Depends",
                UNMEASURED: "Not measured"}[self.status]


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    experiments: tuple[str, ...]
    evaluate: Callable[[ResultSet], Verdict]


_REGISTRY: dict[str, Claim] = {}


def claim(key: str, statement: str, experiments: tuple[str, ...]):
    """Register ``fn(results) -> (status, summary, evidence)`` as claim ``key``."""

    def register(fn: Callable) -> Callable:
        def evaluate(results: ResultSet) -> Verdict:
            missing = [n for n in experiments if results.get(n) is None or not results.get(n).metrics]
            if missing:
                return Verdict(statement, UNMEASURED,
                               f"No result yet from {', '.join(missing)}: run `vaultgen build`.")
            status, summary, evidence = fn(results)
            return Verdict(statement, status, summary, tuple(evidence))

        _REGISTRY[key] = Claim(key, statement, tuple(experiments), evaluate)
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
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return dict(_REGISTRY)


def evaluate(key: str, results: ResultSet) -> Verdict:
    claims = registry()
    if key not in claims:
        raise TemplateError(f"unknown claim {key!r}", hint=f"known: {', '.join(sorted(claims))}")
    return claims[key].evaluate(results)
