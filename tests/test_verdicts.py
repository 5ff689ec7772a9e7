"""The verdict machinery on crafted results from other machines: one core, sixteen cores, a
cgroup quota of 1.5 CPUs, a free-threaded build, a quick run (n = 1), and three interpreters side
by side.  Every claim of the core note is weighed on each."""

from __future__ import annotations

import pytest

from generator.claims import (DEPENDS, ERROR, FAILS, HOLDS, MIN_SAMPLES, NOT_ENOUGH, UNAVAILABLE, evaluate,
                              per_interpreter, Reading, short_reason, Verdict)
from generator.interpreters import Interpreter
from generator.results import ResultSet
from tests.factories import INTERPRETER, metric, result
from tests.test_statistics import harness

CORE_CLAIMS = ("gil_limits_cpu_threads", "true_parallelism_processes", "threads_cooperative",
               "race_conditions", "fault_isolation_threads", "fault_isolation_processes")

FT = Interpreter(path="/opt/py/bin/python3.13t", version="3.13.5", implementation="CPython",
                 build="main", compiler="GCC 12", free_threaded=True, gil_enabled=False)
GIL13 = Interpreter(path="/opt/py/bin/python3.13", version="3.13.5", implementation="CPython",
                    build="main", compiler="GCC 12", free_threaded=False, gil_enabled=True)


def machine(cores, usable=None, gil=True):
    env = {"logical_cores": cores, "affinity": cores, "usable_cpus": usable if usable else float(cores),
           "cpu_quota": usable if usable and usable < cores else None, "gil_enabled": gil}
    return env


def cpu(env, t2, p2, cap, c2=1.0, n=7, **extra):
    metrics = {"python.threads.2.scaling": metric(t2, "x", n=n), "python.threads.2.speedup": metric(t2, "x", n=n),
               "python.processes.2.speedup": metric(p2, "x", n=n), "python.capacity": metric(cap, "x", n=n),
               "c.threads.2.scaling": metric(c2, "x", n=n),
               "python.processes.2.efficiency": metric(p2 / cap, "x", n=n)}
    metrics.update(extra)
    r = result("cpu_bound", metrics)
    r.environment.update(env)
    return r


def gil(env, default=5.1e-3, switches=40, n=150):
    metrics = {"wakeup.idle.latency": metric(7e-5, n=n), "wakeup.default.latency": metric(default, n=n),
               "wakeup.default.p95": metric(default * 2, n=1), "interval.default": metric(5e-3, n=1),
               "preempt.default.switches": metric(switches, "", n=5), "preempt.default.slice": metric(5e-3, n=5)}
    r = result("gil_switching", metrics, facts={"preempt.default.run": {"switches": switches, "elapsed": 0.21}})
    r.environment.update(env)
    return r


def race(env, plain=0.0, prop=50.0, yld=75.0, n=7):
    metrics = {f"{k}.lost_pct": metric(v, "%", spread=0.0, n=n) for k, v in
               (("plain", plain), ("property", prop), ("append", 0.0), ("yield", yld), ("locked", 0.0))}
    metrics["threads"] = metric(4, "", n=1)
    r = result("race_condition", metrics, facts={"lost_any": {"plain": plain > 0, "append": False}})
    r.environment.update(env)
    return r


def faults():
    counts = {"thread_exception.siblings": 3, "thread_exception.finished": 3, "thread_crash.siblings": 3,
              "thread_crash.abort.finished": 0, "process_crash.siblings": 3, "process_crash.finished": 3,
              "pool_crash.tasks": 4, "pool_crash.ok": 0, "pool_crash.broken": 4, "mp_pool.lost": 1,
              "mp_pool.ok": 3, "mp_pool.tasks": 3, "lock_crash.stuck": 1}
    return result("fault_isolation", {k: metric(v, "", spread=0.0, n=1) for k, v in counts.items()})


def one(*results, interpreter=INTERPRETER):
    return ResultSet([interpreter], {interpreter.tag: {r.experiment: r for r in results}})


def v(key, rs):
    return evaluate(key, rs)


def test_one_core_is_undecided_not_false():
    env = machine(1)
    rs = one(cpu(env, t2=1.0, p2=0.98, cap=1.0), gil(env), race(env))
    for key in ("gil_limits_cpu_threads", "true_parallelism_processes"):
        verdict = v(key, rs)
        assert verdict.status == DEPENDS and "only 1 CPU" in verdict.summary, key
    # Preemption and races do not need a second core.
    assert v("threads_cooperative", rs).status == FAILS
    assert v("race_conditions", rs).status == HOLDS


def test_one_core_speedup_above_one_is_a_measurement_error():
    env = machine(1)
    verdict = v("true_parallelism_processes", one(cpu(env, t2=1.0, p2=1.9, cap=1.9)))
    assert verdict.status == ERROR and verdict.label == "Measurement error"
    assert "1.9" in verdict.summary and "1 usable" in verdict.summary
    assert not verdict.evidence, "an impossible figure must not be stated as a result"


def test_sixteen_cores():
    env = machine(16)
    rs = one(cpu(env, t2=1.01, p2=1.97, cap=1.98, c2=1.95,
                 **{"python.processes.8.speedup": metric(7.6, "x"), "python.threads.8.scaling": metric(0.98, "x")}))
    g = v("gil_limits_cpu_threads", rs)
    assert g.status == HOLDS and "1.95×" in g.summary
    p = v("true_parallelism_processes", rs)
    assert p.status == HOLDS and any("16 usable CPUs" in line for line in p.evidence)


def test_cgroup_quota_of_one_and_a_half_cpus():
    env = machine(4, usable=1.5)
    # 1.4x is as much as 1.5 CPUs allow: parallelism shows.
    rs = one(cpu(env, t2=1.0, p2=1.4, cap=1.45))
    assert v("gil_limits_cpu_threads", rs).status == HOLDS
    p = v("true_parallelism_processes", rs)
    assert p.status == HOLDS and any("1.5 usable CPUs" in line for line in p.evidence)
    # 1.9x cannot happen on 1.5 CPUs, whatever the four logical cores say.
    bad = v("true_parallelism_processes", one(cpu(env, t2=1.0, p2=1.9, cap=1.9)))
    assert bad.status == ERROR and "1.5 usable CPUs" in bad.summary


def test_free_threaded_build():
    env = machine(2, gil=False)
    rs = one(cpu(env, t2=1.93, p2=1.9, cap=1.95), gil(env, default=8e-5, switches=0), race(env, plain=55.0),
             interpreter=FT)
    g = v("gil_limits_cpu_threads", rs)
    assert g.status == FAILS and "free-threaded" in g.summary and "1.93×" in g.summary
    assert v("threads_cooperative", rs).status == FAILS
    r = v("race_conditions", rs)
    assert r.status == HOLDS and "55.0 %" in r.summary and "without the GIL" in r.summary
    # Free-threaded but no second free core: undecided, not "holds".
    assert v("gil_limits_cpu_threads", one(cpu(env, t2=1.05, p2=1.1, cap=1.1), interpreter=FT)).status == DEPENDS


def test_free_threaded_threads_are_also_put_on_the_processes_baseline():
    """On 3.13t one worker thread ran faster than the main thread, so "2 threads vs 1 thread"
    and "2 processes vs the main thread" are not on one baseline: the verdict gives both."""
    env = machine(2, gil=False)
    r = cpu(env, t2=1.75, p2=1.94, cap=1.95, **{"python.threads.2.speedup": metric(1.96, "x"),
                                                "python.threads.1.speedup": metric(1.08, "x")})
    g = v("gil_limits_cpu_threads", one(r, interpreter=FT))
    assert g.status == FAILS and "2 threads ran pure-Python work 1.75× as fast as one" in g.summary
    assert ("but one worker thread ran the loop 1.08× as fast as the main thread; measured against the main "
            "thread, the processes' baseline, 2 threads reached 1.96× and 2 processes 1.94×") in g.summary
    assert any("against the main thread running the loop alone: 1.96×" in line for line in g.evidence)
    same = v("gil_limits_cpu_threads", one(cpu(env, t2=1.93, p2=1.9, cap=1.95), interpreter=FT))
    assert "main thread" not in same.summary  # one baseline already: nothing to add


@pytest.mark.parametrize("key", [k for k in CORE_CLAIMS if not k.startswith("fault")])
def test_quick_run_is_not_enough_data(key):
    env = machine(2)
    rs = one(cpu(env, t2=1.0, p2=1.9, cap=1.9, n=1), gil(env, n=1), race(env, n=1))
    verdict = v(key, rs)
    assert verdict.status == NOT_ENOUGH, key
    assert f"at least {MIN_SAMPLES}" in verdict.summary and verdict.callout == "note"


def test_quick_run_with_an_impossible_figure_says_measurement_error():
    env = machine(2)
    verdict = v("gil_limits_cpu_threads", one(cpu(env, t2=7.35, p2=1.9, cap=12.8, n=1)))
    assert verdict.status == ERROR and "7.35" in verdict.summary and "12.8" in verdict.summary


def test_fault_verdicts_rest_on_behaviour_not_samples():
    # One observation of a crash is a fact, not a statistic: no "not enough data".
    rs = one(faults())
    assert v("fault_isolation_threads", rs).status == DEPENDS
    p = v("fault_isolation_processes", rs)
    assert p.status == DEPENDS and "lock" in p.summary


def test_three_interpreters_side_by_side():
    env_gil, env_ft = machine(2), machine(2, gil=False)
    interps = [INTERPRETER, GIL13, FT]
    by_tag = {
        INTERPRETER.tag: {"cpu_bound": cpu(env_gil, t2=1.0, p2=1.9, cap=1.9)},
        GIL13.tag: {"cpu_bound": cpu(env_gil, t2=1.02, p2=1.88, cap=1.9)},
        FT.tag: {"cpu_bound": cpu(env_ft, t2=1.94, p2=1.9, cap=1.9)},
    }
    verdict = v("gil_limits_cpu_threads", ResultSet(interps, by_tag))
    assert verdict.status == HOLDS  # the primary interpreter's answer
    assert [r.interpreter for r in verdict.readings] == ["3.11", "3.13", "3.13t"]
    assert verdict.label == "Holds on 3.11 and 3.13; does not hold on 3.13t"
    assert verdict.mixed and verdict.callout == "warning"
    # The same, agreeing: one plain label.
    by_tag[FT.tag] = {"cpu_bound": cpu(env_gil, t2=1.0, p2=1.9, cap=1.9)}
    agreed = v("gil_limits_cpu_threads", ResultSet(interps, by_tag))
    assert agreed.label == "Holds" and not agreed.mixed


def test_per_interpreter_wording():
    readings = [Reading("3.11", HOLDS, ""), Reading("3.13t", FAILS, ""), Reading("3.14", NOT_ENOUGH, "")]
    assert per_interpreter(readings) == "holds on 3.11; does not hold on 3.13t; not enough data on 3.14"


def test_not_available_is_named_with_its_reason_and_leaves_the_colour():
    gone = "dask is not installed there"
    readings = (Reading("3.11", HOLDS, ""), Reading("3.13", UNAVAILABLE, "", gone),
                Reading("3.13t", UNAVAILABLE, "", gone), Reading("3.14", UNAVAILABLE, "", "no fork on this platform"))
    assert per_interpreter(readings) == ("holds on 3.11; not available on 3.13 and 3.13t: dask is not installed "
                                         "there; not available on 3.14: no fork on this platform")
    assert Verdict("c", HOLDS, "", readings=readings).callout == "success"
    assert Verdict("c", FAILS, "", readings=readings[:2] + (Reading("3.14", FAILS, ""),)).callout == "warning"
    assert Verdict("c", UNAVAILABLE, "", readings=readings[1:]).callout == "note"
    assert short_reason("install x (ModuleNotFoundError: No module named 'distributed.core')") == \
        "distributed is not installed there"
    assert short_reason("no os.fork on this platform.") == "no os.fork on this platform"


def shared(env, t2, p2, n=7):
    """``t2``/``p2``: a median (every repeat alike) or the repeats themselves."""
    def doc(x):
        return harness.summarize(x, "x") if isinstance(x, list) else metric(x, "x", n=n)
    r = result("free_threading", {"shared.threads.2.speedup": doc(t2), "shared.processes.2.speedup": doc(p2)})
    r.environment.update(env)
    return r


@pytest.mark.parametrize("env, t2, p2, status", [
    (machine(2, gil=False), 1.9, 1.4, HOLDS),      # free-threaded: threads win
    (machine(2), 0.98, 1.6, FAILS),                # GIL build: processes win
    # Per repeat, threads ahead in some and behind in others: a tie.
    (machine(16, gil=False), [1.90, 1.95, 1.92, 1.88, 1.94, 1.93, 1.91],
     [1.93, 1.88, 1.90, 1.92, 1.87, 1.91, 1.94], DEPENDS),
    (machine(1), 1.0, 0.9, DEPENDS),               # one core: nothing runs in parallel either way
])
def test_threads_beat_processes(env, t2, p2, status):
    assert v("threads_beat_processes", one(shared(env, t2, p2))).status == status


def test_threads_beat_processes_quick_and_quota():
    assert v("threads_beat_processes", one(shared(machine(2), 1.0, 1.6, n=1))).status == NOT_ENOUGH
    assert v("threads_beat_processes", one(shared(machine(4, usable=1.5), 1.9, 1.2))).status == ERROR


def sweep(env, speedups, cap=1.9, n=7):
    values = {"capacity.parallel": metric(cap, "x", n=n)}
    values.update({f"workers.{w}.speedup": metric(s, "x", n=n) for w, s in speedups.items()})
    r = result("pool_tuning", values)
    r.environment.update(env)
    return r


def test_processes_scalable_on_sixteen_cores_uses_the_worker_count_not_a_two_process_probe():
    env = machine(16)
    ok = v("processes_scalable", one(sweep(env, {1: 1.0, 2: 1.95, 8: 7.5, 16: 14.0})))
    assert ok.status == HOLDS and "16 worker processes" in ok.summary and "ideal 16×" in ok.summary
    assert "beyond" not in ok.summary.lower(), "no worker count exceeded the cores"
    weak = v("processes_scalable", one(sweep(env, {1: 1.0, 2: 1.95, 16: 6.0})))
    assert weak.status == FAILS


def test_processes_scalable_beyond_the_cores_and_under_a_quota():
    two = v("processes_scalable", one(sweep(machine(2), {1: 1.0, 2: 1.85, 4: 1.8, 8: 1.75})))
    assert two.status == HOLDS and "More workers than CPUs lost a little" in two.summary
    quota = v("processes_scalable", one(sweep(machine(4, usable=1.5), {1: 1.0, 2: 1.9, 4: 1.9})))
    assert quota.status == ERROR  # 1.9x on 1.5 CPUs
    fair = v("processes_scalable", one(sweep(machine(4, usable=1.5), {1: 1.0, 2: 1.4, 4: 1.4}, cap=1.45)))
    assert fair.status == HOLDS and "1.5 usable CPUs" in fair.summary
    assert "More workers than CPUs gained nothing measurable" in fair.summary  # 1.4x at both counts
    single = v("processes_scalable", one(sweep(machine(1), {1: 1.0, 2: 0.98})))
    assert single.status == DEPENDS
    quick = v("processes_scalable", one(sweep(machine(2), {1: 1.0, 2: 1.85}, n=1)))
    assert quick.status == NOT_ENOUGH


def test_a_general_fact_does_not_say_here():
    env = machine(2)
    coop = v("threads_cooperative", one(gil(env)))
    assert coop.status == FAILS and coop.label == "Does not hold"
    machine_bound = v("gil_limits_cpu_threads", one(cpu(env, t2=1.6, p2=1.9, cap=1.9)))
    assert machine_bound.status == FAILS and machine_bound.label == "Does not hold here"


def test_impossible_evidence_figure_is_flagged_not_stated():
    """8 threads at 3.9x on 2 CPUs is not a result, even outside the headline metrics."""
    env = machine(2)
    r = cpu(env, t2=1.0, p2=1.9, cap=1.9, **{"python.threads.8.scaling": metric(3.9, "x")})
    g = v("gil_limits_cpu_threads", one(r))
    line = next(e for e in g.evidence if "8 threads" in e)
    assert "measurement error" in line and "above the 2× 2 usable CPUs allow" in line


def test_long_c_call_conclusion_needs_a_wakeup_that_waited_for_it():
    env = machine(2)

    held = gil(env)
    held.metrics.update(result("x", {"wakeup.ccall.latency": dict(metric(0.1, n=5), max=0.19),
                                      "ccall.seconds": metric(0.2, n=1)}).metrics)
    text = " ".join(v("threads_cooperative", one(held)).evidence)
    assert "cannot cut a C call short" in text
    between = gil(env)
    between.metrics.update(result("x", {"wakeup.ccall.latency": dict(metric(7e-5, n=5), max=0.006),
                                         "ccall.seconds": metric(0.2, n=1)}).metrics)
    text = " ".join(v("threads_cooperative", one(between)).evidence)
    assert "does not show the C call holding it" in text and "cannot cut" not in text


@pytest.mark.parametrize("key, experiment, metrics", [
    ("threads_low_overhead", "overhead", {"thread.start": 1e-4, "process.start": 4e-3,
                                          "memory.thread": metric(17e3, "B"), "memory.process.uss": metric(2e6, "B")}),
    ("threads_fit_io", "io_bound", {"ideal.wall": 0.02, "sleep.threads.wall": 0.021, "sleep.sequential.wall": 0.16,
                                    "sleep.threads.speedup": metric(7.9, "x"), "sleep.threads.over_ideal": metric(1.05, "x")}),
    ("lock_contention", "pool_tuning", {"lock.shared.per_op": 2e-7, "lock.local.per_op": 2e-8,
                                        "lock.local.speedup": metric(10.0, "x")}),
])
def test_quick_runs_conclude_nothing_beyond_the_core_claims(key, experiment, metrics):
    """n = 1 (the quick profile) is 'not enough data' for every measured claim, not only the GIL's."""
    quick = {k: dict(m, n=1) if isinstance(m, dict) else metric(m, n=1) for k, m in metrics.items()}
    verdict = v(key, one(result(experiment, quick, profile="quick")))
    assert verdict.status == NOT_ENOUGH, verdict.summary
