"""The core experiments (cpu_bound, gil_switching, race_condition, fault_isolation, free_threading,
thread_behaviour), their verdicts and their charts.  No timing thresholds: the physics is checked by people looking at
full-profile runs; here we check documents, behaviour that does not depend on speed, and that
every verdict flips where its threshold says."""

from __future__ import annotations

import math
import sys

import pytest

from generator.charts import registry as chart_registry
from generator.charts import render
from generator.claims import DEPENDS, FAILS, HOLDS, UNMEASURED, core, evaluate
from generator.results import Result
from tests import experiment_docs
from tests.factories import metric, result, result_set

REPO_EXPERIMENTS = experiment_docs.EXPERIMENTS_DIR
EXPERIMENTS = ("cpu_bound", "gil_switching", "race_condition", "fault_isolation", "free_threading",
               "thread_behaviour")
PLACEHOLDERS = {
    "KIND": ("python", "c"),
    "N": ("1", "2", "4", "8"),
    "COND": ("idle", "default", "busy2", "busy4", "short", "long", "ccall"),
    "VARIANT": ("plain", "plain_tiny", "property", "dict_item", "append", "gap", "yield", "locked"),
}
def documented(name: str) -> dict[str, str]:
    return experiment_docs.documented(name, PLACEHOLDERS)


@pytest.fixture(scope="module")
def docs():
    """Each experiment run once in the quick profile, as vaultgen would (a fresh interpreter)."""
    return experiment_docs.run_quick(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_documented_metric_is_present_with_its_unit(docs, name):
    doc = docs[name]
    expected = documented(name)
    assert len(expected) >= 5, "the docstring's metric table was not parsed"
    for key, unit in expected.items():
        if key in doc["metrics"]:
            m = doc["metrics"][key]
            assert m["unit"] == unit, key
            assert m["n"] >= 1, key
            assert math.isfinite(m["median"]), key
        else:
            assert any(key.startswith(u) for u in doc["unavailable"]), f"{key} neither measured nor unavailable"
    undocumented = set(doc["metrics"]) - set(expected)
    assert not undocumented, f"metrics missing from the docstring: {sorted(undocumented)}"


def test_cpu_bound_figures_are_positive(docs):
    m = docs["cpu_bound"]["metrics"]
    for key, value in m.items():
        if key.endswith((".wall", ".speedup", ".cores", ".capacity", ".efficiency")) or key.startswith("work."):
            assert value["median"] > 0, key
    assert docs["cpu_bound"]["facts"]["workers"] == [1, 2, 4, 8]


def test_gil_switching_figures(docs):
    m = docs["gil_switching"]["metrics"]
    for cond in ("idle", "default", "short", "long"):
        assert m[f"wakeup.{cond}.actual"]["median"] > 0
        assert m[f"wakeup.{cond}.actual"]["n"] >= 3  # samples are individual wake-ups
    assert m["interval.short"]["median"] == docs["gil_switching"]["parameters"]["short_interval"]
    assert m["busy.default.progress"]["median"] > 0


def test_race_condition_lock_loses_nothing(docs):
    m = docs["race_condition"]["metrics"]
    assert m["locked.lost"]["max"] == 0
    for v in ("plain", "plain_tiny", "gap", "yield", "locked"):
        assert 0 <= m[f"{v}.lost"]["median"] <= m[f"{v}.expected"]["median"]
    for key in ("cost.unlocked", "cost.locked.uncontended", "cost.locked.2threads"):
        assert m[key]["median"] > 0


def test_fault_isolation_behaviour(docs):
    doc = docs["fault_isolation"]
    m, facts = doc["metrics"], doc["facts"]
    # An exception ends one thread only; the siblings always finish.
    assert m["thread_exception.finished"]["median"] == m["thread_exception.siblings"]["median"]
    assert facts["thread_exception.type"] == "ValueError"
    # A hard crash in a thread kills the interpreter before main can report.
    assert facts["thread_crash.abort.main_survived"] is False
    if sys.platform != "win32":
        assert facts["thread_crash.abort.signal"] == "SIGABRT"
        assert facts["process_crash.signal"] == "SIGABRT"
        if "thread_crash.segv" not in doc["unavailable"]:
            assert facts["thread_crash.segv.signal"] == "SIGSEGV"
    # A crashed child process leaves its siblings and the parent alone.
    assert m["process_crash.finished"]["median"] == m["process_crash.siblings"]["median"]
    assert "BrokenProcessPool" in facts["pool_crash.exception"]
    assert m["pool_crash.broken"]["median"] >= 1


def test_free_threading_facts(docs):
    doc = docs["free_threading"]
    facts = doc["facts"]
    assert facts["free_threaded_build"] is False and facts["gil_enabled"] is True  # the test interpreter
    # A GIL build accepts -X gil=1 and refuses to disable the GIL (3.13+), or ignores it (older).
    assert facts["gil.xgil1"].startswith("GIL enabled: True")
    # A lambda cannot be pickled for spawn; fork runs it.
    assert "pickle" in facts["lambda.spawn"].lower() or "local object" in facts["lambda.spawn"]
    if "fork" in facts.get("default_start_method", ""):
        assert facts["lambda.fork"] == "ran"
    assert "shared.interpreters" in doc["unavailable"] or "shared.interpreters.2.speedup" in doc["metrics"]


def test_thread_behaviour_facts(docs):
    doc = docs["thread_behaviour"]
    facts, metrics = doc["facts"], doc["metrics"]
    assert facts["signals.keyboard_interrupt_in"] == "MainThread"
    assert facts["signals.worker_signal"].startswith("ValueError")
    assert facts["daemon.finally_ran"] is False
    assert facts["cancel.running"] is False and facts["cancel.queued"] is True
    assert facts["futures.exception"].startswith("ValueError") and facts["futures.excepthook_called"] is False
    # maxtasksperchild=2 with 8 tasks: at least 4 worker processes, each initialised once.
    assert metrics["pool.workers"]["median"] >= 4 and facts["pool.initializer_once_per_worker"] is True
    # The unguarded spawn script: each child raises RuntimeError once, nothing recurses.
    assert metrics["unguarded.errors"]["median"] == 1 and metrics["unguarded.child_exit"]["median"] == 1
    assert "bootstrapping phase" in facts["unguarded.message"]
    assert metrics["prints.lines"]["median"] > 0


def test_no_core_dumps_left(docs):
    assert not list(REPO_EXPERIMENTS.glob("core*"))


# -- verdicts --------------------------------------------------------------------------------------


def cpu(t2=1.02, p2=1.95, c2=1.9, cap=1.9, eff=None, gil=True, **extra):
    metrics = {"python.threads.2.speedup": t2, "python.processes.2.speedup": p2,
               "c.threads.2.speedup": c2, "python.capacity": cap, "capacity.parallel": cap,
               "python.threads.4.speedup": t2, "python.processes.4.speedup": p2}
    metrics["python.processes.2.efficiency"] = metric(p2 / cap if eff is None else eff, unit="x")
    metrics.update(extra)
    r = result("cpu_bound", metrics)
    r.environment["gil_enabled"] = gil
    return result_set(r)


def verdict(key, rs):
    return evaluate(key, rs)


def test_gil_verdict_holds_for_python_code_and_names_c_code():
    v = verdict("gil_limits_cpu_threads", cpu())
    assert v.status == HOLDS and "1.02×" in v.summary and "1.90×" in v.summary
    assert "GIL builds" in v.summary and "free-threaded" in v.summary


def test_gil_verdict_holds_when_c_threads_do_not_scale_either():
    assert verdict("gil_limits_cpu_threads", cpu(c2=1.1)).status == HOLDS


def test_gil_verdict_fails_when_threads_scale():
    assert verdict("gil_limits_cpu_threads", cpu(t2=core.THREADS_GIL_MAX + 0.3)).status == FAILS
    assert verdict("gil_limits_cpu_threads", cpu(t2=1.9, gil=False)).status == FAILS


def test_gil_verdict_threshold_edges():
    below = verdict("gil_limits_cpu_threads", cpu(t2=core.THREADS_GIL_MAX - 0.01, c2=1.0))
    above = verdict("gil_limits_cpu_threads", cpu(t2=core.THREADS_GIL_MAX + 0.01, c2=1.0))
    assert below.status == HOLDS and above.status == FAILS


def test_gil_verdict_undecided_without_free_cores():
    v = verdict("gil_limits_cpu_threads", cpu(p2=1.05, cap=core.NO_SECOND_CORE - 0.2))
    assert v.status == DEPENDS and "capacity" in v.summary


def test_true_parallelism_holds_fails_depends():
    assert verdict("true_parallelism_processes", cpu(p2=1.9, cap=1.95)).status == HOLDS
    assert verdict("true_parallelism_processes",
                   cpu(p2=1.55, cap=1.95, eff=core.CAPACITY_SHARE - 0.01)).status == FAILS
    assert verdict("true_parallelism_processes",
                   cpu(p2=1.55, cap=1.95, eff=core.CAPACITY_SHARE + 0.01)).status == HOLDS
    # Processes got all the machine offered, but it offered little.
    assert verdict("true_parallelism_processes", cpu(p2=1.15, cap=1.2)).status == DEPENDS
    # A contended machine: even the capacity probe found little parallelism -> undecided, not false.
    v = verdict("true_parallelism_processes", cpu(p2=0.92, cap=core.PARALLEL_MIN - 0.1, eff=0.7))
    assert v.status == DEPENDS and "Undecided" in v.summary


def test_true_parallelism_without_paired_probe_uses_capacity():
    r = result("cpu_bound", {"python.processes.2.speedup": 1.5, "capacity.parallel": 2.0})
    v = verdict("true_parallelism_processes", result_set(r))
    assert v.status == FAILS and "75" in v.summary


def test_true_parallelism_unmeasured_without_processes():
    r = result("cpu_bound", {"python.threads.2.speedup": 1.0},
               unavailable={"python.processes": "no process pool here: OSError"})
    v = verdict("true_parallelism_processes", result_set(r))
    assert v.status == UNMEASURED and "OSError" in v.summary


def gil(switches=40, idle=7e-5, default=5.1e-3, **extra):
    metrics = {"preempt.default.switches": metric(switches, unit=""), "preempt.default.slice": 5e-3,
               "preempt.seconds": 0.2, "interval.default": 5e-3, "interval.short": 5e-4,
               "wakeup.idle.latency": idle, "wakeup.default.latency": default,
               "wakeup.short.latency": 6e-4}
    metrics.update(extra)
    return result_set(result("gil_switching", metrics))


def test_cooperative_claim_fails_with_preemption():
    v = verdict("threads_cooperative", gil())
    assert v.status == FAILS and "preemptive" in v.summary and "5.10 ms" in v.summary


def test_cooperative_claim_holds_if_nothing_preempted():
    r = result("gil_switching", {"preempt.default.switches": metric(0, unit=""),
                                 "preempt.default.slice": 0.2, "preempt.seconds": 0.2})
    assert verdict("threads_cooperative", result_set(r)).status == HOLDS


def race(plain=0.0, gap=55.0, yld=75.0, locked=0.0, plain_any=False, spread=0.0):
    metrics = {f"{k}.lost_pct": metric(v, unit="%", spread=spread) for k, v in
               (("plain", plain), ("gap", gap), ("yield", yld), ("locked", locked))}
    metrics.update({"plain.lost": metric(plain * 4000, unit="", spread=0.0), "threads": metric(4, unit=""),
                    "cost.unlocked": 2e-8, "cost.locked.uncontended": 1.3e-7, "cost.locked.2threads": 1.3e-7})
    return result_set(result("race_condition", metrics, facts={"plain_lost_any": plain_any}))


def test_race_claim():
    v = verdict("race_conditions", race())
    assert v.status == HOLDS and "lost nothing" in v.summary
    v = verdict("race_conditions", race(plain=12.0, plain_any=True))
    assert v.status == HOLDS and "12.0 %" in v.summary
    assert verdict("race_conditions", race(gap=0.0, yld=0.0)).status == DEPENDS
    # A noisy share of lost updates keeps its mark in the summary (finding 15).
    v = verdict("race_conditions", race(plain=12.0, plain_any=True, spread=0.4))
    assert "lost 12.0 % ⚠ of its updates" in v.summary and "(75.0 % ⚠ with a blocking call" in v.summary


def faults(exc_finished=3, abort_finished=0, proc_finished=3, broken=4, ok=0, mp_lost=1):
    metrics = {k: metric(v, unit="", spread=0.0) for k, v in {
        "thread_exception.siblings": 3, "thread_exception.finished": exc_finished,
        "thread_crash.siblings": 3, "thread_crash.abort.finished": abort_finished,
        "thread_crash.segv.finished": abort_finished,
        "process_crash.siblings": 3, "process_crash.finished": proc_finished,
        "pool_crash.tasks": 4, "pool_crash.ok": ok, "pool_crash.broken": broken,
        "mp_pool.lost": mp_lost, "mp_pool.ok": 3, "mp_pool.tasks": 3}.items()}
    facts = {"thread_exception.text": "ValueError: boom", "thread_crash.abort.signal": "SIGABRT",
             "process_crash.signal": "SIGABRT", "process_crash.exitcodes": [-6, 0, 0, 0],
             "pool_crash.exception": "BrokenProcessPool", "pool_crash.submit_after": "BrokenProcessPool"}
    return result_set(result("fault_isolation", metrics, facts=facts))


def test_thread_fault_claim():
    assert verdict("fault_isolation_threads", faults()).status == DEPENDS
    assert verdict("fault_isolation_threads", faults(exc_finished=1)).status == HOLDS
    assert verdict("fault_isolation_threads", faults(abort_finished=3)).status == FAILS


def test_process_fault_claim():
    v = verdict("fault_isolation_processes", faults())
    assert v.status == DEPENDS and "BrokenProcessPool" in v.summary and "gh-96062" in v.summary
    assert verdict("fault_isolation_processes", faults(proc_finished=2)).status == FAILS
    v = verdict("fault_isolation_processes", faults(broken=0, ok=3, mp_lost=0))
    assert v.status == HOLDS and "BrokenProcessPool" not in v.summary


@pytest.mark.parametrize("key", ["gil_limits_cpu_threads", "true_parallelism_processes", "threads_cooperative",
                                 "race_conditions", "fault_isolation_threads", "fault_isolation_processes"])
def test_claims_without_results_are_unmeasured(key):
    assert verdict(key, result_set()).status == UNMEASURED
    # A result with unrelated metrics only must not crash the claim either.
    name = {"gil_limits_cpu_threads": "cpu_bound", "true_parallelism_processes": "cpu_bound",
            "threads_cooperative": "gil_switching", "race_conditions": "race_condition"}.get(key, "fault_isolation")
    v = verdict(key, result_set(result(name, {"unrelated": 1.0})))
    assert v.status in (UNMEASURED, DEPENDS)


# -- charts ----------------------------------------------------------------------------------------

CHARTS = ("cpu-speedup", "gil-switching", "race-lost-updates")


def full_results(docs):
    """The quick-profile documents as stored results."""
    out = []
    for doc in docs.values():
        stored = dict(doc, cache_key="k", interpreter={"tag": "cpython-3.11.7"})
        out.append(Result.from_json(stored))
    return result_set(*out)


@pytest.mark.parametrize("name", CHARTS)
def test_chart_renders_deterministically(docs, name):
    spec = chart_registry()[name]
    rs = full_results(docs)
    svg = render(spec, rs)
    assert svg.startswith(b"<?xml") and b"<svg" in svg and svg.rstrip().endswith(b"</svg>")
    assert render(spec, rs) == svg


@pytest.mark.parametrize("name", CHARTS)
def test_chart_copes_with_missing_data(name):
    spec = chart_registry()[name]
    for rs in (result_set(), result_set(result(spec.experiments[0], {"unrelated": 1.0},
                                               unavailable={"python.processes": "no pool"}))):
        svg = render(spec, rs)
        assert b"<svg" in svg


def test_cpu_chart_with_crafted_figures():
    metrics = {}
    for kind in ("python", "c"):
        for model, base in (("threads", 1.0 if kind == "python" else 1.9), ("processes", 1.9)):
            for n in (1, 2, 4, 8):
                metrics[f"{kind}.{model}.{n}.speedup"] = 1.0 if n == 1 else base
        metrics[f"{kind}.capacity"] = 1.9
    metrics["capacity.parallel"] = 1.85
    svg = render(chart_registry()["cpu-speedup"], result_set(result("cpu_bound", metrics)))
    assert b"<svg" in svg
