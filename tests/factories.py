"""Build results documents by hand, for tests of verdicts, notes and charts."""

from __future__ import annotations

from generator.interpreters import Interpreter
from generator.results import Result, ResultSet

INTERPRETER = Interpreter(
    path="/usr/bin/python3", version="3.11.7", implementation="CPython", build="main (Jan 1 2024)",
    compiler="GCC 12", free_threaded=False, gil_enabled=True,
)

ENVIRONMENT = {
    "cpu_model": "Test CPU @ 2.0GHz", "logical_cores": 2, "affinity": 2, "parallel_capacity": 1.9,
    "python_version": "3.11.7", "implementation": "CPython", "gil_enabled": True,
    "switch_interval": 0.005, "start_method": "fork", "start_methods": ["fork", "spawn", "forkserver"],
    "os": "Linux", "kernel": "6.1", "platform": "Linux-6.1-x86_64", "date": "2026-01-01T00:00:00Z",
    "load_before": [0.1, 0.1, 0.1], "load_after": [0.2, 0.1, 0.1], "memory_total": 2**34,
}


def metric(value: float, unit: str = "s", spread: float = 0.02, n: int = 7) -> dict:
    """A metric document whose median is ``value`` and IQR is ``spread`` of it."""
    half = abs(value) * spread / 2
    return {"median": value, "q1": value - half, "q3": value + half, "min": value - 2 * half,
            "max": value + 2 * half, "n": n, "unit": unit, "noisy": spread > 0.10,
            "samples": [value] * n}


def result(name: str, metrics: dict, *, facts: dict | None = None, unavailable: dict | None = None,
           outputs: dict | None = None, kind: str = "benchmark", failure: dict | None = None,
           parameters: dict | None = None) -> Result:
    """A Result from ``{metric name: value or metric document}``."""
    docs = {k: v if isinstance(v, dict) else metric(v, unit=_unit(k)) for k, v in metrics.items()}
    return Result.from_json({
        "schema": 1, "experiment": name, "kind": kind, "profile": "full", "cache_key": "k",
        "interpreter": {"tag": INTERPRETER.tag}, "parameters": parameters or {},
        "environment": dict(ENVIRONMENT), "metrics": docs, "facts": facts or {},
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
