"""Build results documents by hand, for tests of verdicts, notes and charts."""

from __future__ import annotations

from generator.interpreters import Interpreter
from generator.results import Result, ResultSet

INTERPRETER = Interpreter(
    path="/usr/bin/python3", version="3.11.7", implementation="CPython", build="main (Jan 1 2024)",
    compiler="GCC 12", free_threaded=False, gil_enabled=True,
)

FREE_THREADED = Interpreter(
    path="/opt/cpython-3.13t/bin/python3.13t", version="3.13.5", implementation="CPython",
    build="main (Jan 1 2025)", compiler="GCC 12", free_threaded=True, gil_enabled=False,
)

ENVIRONMENT = {
    "cpu_model": "Test CPU @ 2.0GHz", "logical_cores": 2, "affinity": 2, "parallel_capacity": 1.9,
    "cpu_quota": None, "usable_cpus": 2.0, "other_cpu": 0.02, "busy": False, "busy_threshold": 0.10,
    "python_version": "3.11.7", "implementation": "CPython", "gil_enabled": True,
    "switch_interval": 0.005, "start_method": "fork", "start_methods": ["fork", "spawn", "forkserver"],
    "os": "Linux", "kernel": "6.1", "platform": "Linux-6.1-x86_64", "date": "2026-01-01T00:00:00Z",
    "load_before": [0.1, 0.1, 0.1], "load_after": [0.2, 0.1, 0.1], "memory_total": 2**34,
}


# Machines every verdict is tested on (issue 9): the keys of ``machine()``.
MACHINES = {
    "2 cores": {},
    "1 core": {"logical_cores": 1, "affinity": 1, "usable_cpus": 1.0, "parallel_capacity": None},
    "16 cores": {"logical_cores": 16, "affinity": 16, "usable_cpus": 16.0, "parallel_capacity": 1.97},
    "quota 1.5": {"logical_cores": 4, "affinity": 4, "cpu_quota": 1.5, "usable_cpus": 1.5,
                  "parallel_capacity": 1.45},
    "busy": {"other_cpu": 1.2, "busy": True},
}


def machine(name: str = "2 cores", **overrides) -> dict:
    """The environment of one of MACHINES, with ``overrides`` applied."""
    env = dict(ENVIRONMENT, **MACHINES[name])
    if env.get("parallel_capacity") is None:
        env.pop("parallel_capacity", None)
    env.update(overrides)
    return env


def metric(value: float, unit: str = "s", spread: float = 0.02, n: int = 7) -> dict:
    """A metric document whose median is ``value`` and IQR is ``spread`` of it.

    It holds no per-repeat samples, so comparisons with it fall back to the IQRs (unpaired); a test
    about paired comparisons gives its samples (``tests.test_verdict_spreads.m``)."""
    half = abs(value) * spread / 2
    return {"median": value, "q1": value - half, "q3": value + half, "min": value - 2 * half,
            "max": value + 2 * half, "n": n, "unit": unit, "noisy": spread > 0.10}


def result(name: str, metrics: dict, *, facts: dict | None = None, unavailable: dict | None = None,
           outputs: dict | None = None, kind: str = "benchmark", failure: dict | None = None,
           parameters: dict | None = None, environment: dict | None = None, profile: str = "full",
           n: int | None = None, interpreter: Interpreter = INTERPRETER) -> Result:
    """A Result from ``{metric name: value or metric document}``.

    ``profile="quick"`` gives every plain value n = 1, as a quick run does.
    """
    n = n if n is not None else (1 if profile == "quick" else 7)
    docs = {k: v if isinstance(v, dict) else metric(v, unit=_unit(k), n=n) for k, v in metrics.items()}
    env = dict(ENVIRONMENT if environment is None else environment)
    if not interpreter.gil_enabled:
        env.update(gil_enabled=False, python_version=interpreter.version)
    return Result.from_json({
        "schema": 1, "experiment": name, "kind": kind, "profile": profile, "cache_key": "k",
        "interpreter": {"tag": interpreter.tag}, "parameters": parameters or {},
        "environment": env, "metrics": docs, "facts": facts or {},
        "unavailable": unavailable or {}, "outputs": outputs or {}, "run": {"status": "ok"},
        "failure": failure,
    })


def _unit(name: str) -> str:
    if "speedup" in name or "capacity" in name:
        return "x"
    if "rss" in name or "memory" in name or "bytes" in name:
        return "B"
    return "s"


def result_set(*results: Result, interpreter: Interpreter = INTERPRETER) -> ResultSet:
    return ResultSet([interpreter], {interpreter.tag: {r.experiment: r for r in results}})
