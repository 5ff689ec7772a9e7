"""The waits and tuning verdicts on crafted results from other machines (issue 9): one core,
sixteen cores, a cgroup quota of 1.5 CPUs, a free-threaded build and a quick run (n = 1)."""

from __future__ import annotations

import pytest

from generator import claims
from generator.claims import DEPENDS, ERROR, FAILS, HOLDS, NOT_ENOUGH
from tests.factories import FREE_THREADED, machine, result, result_set
from tests.test_exp_io import io_result, tva_result
from tests.test_exp_tuning import hybrid_result, ipc_result, pool_result

OURS = ("hybrid_wins", "oversubscription", "processes_scalable", "chunksize_matters", "ipc_cost",
        "lock_contention", "threads_fit_io", "asyncio_scales_further", "blocking_call_stalls_loop")


def on(r, name, **overrides):
    r.environment.clear()
    r.environment.update(machine(name, **overrides))
    return r


def verdict(key, *results, interpreter=None):
    return claims.evaluate(key, result_set(*results) if interpreter is None
                           else result_set(*results, interpreter=interpreter))


def blocking_result(**kwargs):
    t, n = 0.03, 5
    values = {"ideal.wall": 0.03, "serial.wall": n * t, "tasks": n, "pool.size": 6, "executor_over.tasks": 12,
              "blocking.wall": 0.152, "blocking.lag": 0.121, "sleep.wall": 0.031, "sleep.lag": 0.001,
              "executor.wall": 0.032, "executor.lag": 0.002, "executor_over.wall": 0.062,
              "blocking.slowdown": 4.9, "executor.slowdown": 1.03}
    values.update(kwargs)
    return result("blocking_call", values)


def test_one_core_cannot_scale_and_does_not_pretend_to():
    r = on(pool_result({1: 1.0, 2: 0.99, 4: 0.98, 8: 0.97}, capacity=1.0), "1 core")
    v = verdict("processes_scalable", r)
    assert v.status == DEPENDS and "1 usable CPU" in v.summary and "cannot run in parallel" in v.summary
    v = verdict("oversubscription", r)
    assert v.status == HOLDS and "1 usable CPU, 1 workers" in v.summary


def test_one_core_speedup_above_one_is_a_measurement_error():
    r = on(pool_result({1: 1.0, 2: 1.8, 4: 1.8}, capacity=1.0), "1 core")
    assert verdict("processes_scalable", r).status == ERROR


def test_sixteen_cores_compare_each_pool_with_what_its_workers_could_get():
    r = on(pool_result({1: 1.0, 2: 1.96, 4: 3.9, 8: 7.6, 16: 13.6, 32: 13.1}, capacity=1.97), "16 cores")
    v = verdict("processes_scalable", r)
    assert v.status == HOLDS and "16 worker processes" in v.summary and "85.0 %" in v.summary
    assert "More workers than CPUs lost a little: the best of them, 32, reached 13.1×" in v.summary
    assert verdict("oversubscription", r).status == HOLDS


def test_sixteen_cores_without_a_count_beyond_them_says_nothing_about_beyond():
    r = on(pool_result({1: 1.0, 2: 1.96, 4: 3.9, 8: 7.6, 16: 13.6}, capacity=1.97), "16 cores")
    v = verdict("processes_scalable", r)
    assert v.status == HOLDS and "Past" not in v.summary and "beyond" not in v.summary
    v = verdict("oversubscription", r)
    assert v.status == DEPENDS and "could not be tested" in v.summary


def test_sixteen_cores_with_poor_scaling_fails():
    r = on(pool_result({1: 1.0, 2: 1.9, 4: 3.0, 8: 4.0, 16: 5.0}, capacity=1.97), "16 cores")
    assert verdict("processes_scalable", r).status == FAILS


def test_cgroup_quota_of_one_and_a_half_cpus():
    r = on(pool_result({1: 1.0, 2: 1.44, 4: 1.43, 8: 1.41}, capacity=1.45), "quota 1.5")
    v = verdict("processes_scalable", r)
    assert v.status == HOLDS and "1.5 usable CPUs" in v.summary
    v = verdict("oversubscription", r)
    assert v.status == HOLDS and "2 workers can keep them all busy" in v.summary


def test_a_speedup_beyond_the_quota_is_a_measurement_error():
    r = on(pool_result({1: 1.0, 2: 1.44, 4: 1.9}, capacity=1.45), "quota 1.5")
    v = verdict("oversubscription", r)
    assert v.status == ERROR and "1.5 usable CPUs" in v.summary


def test_free_threaded_build_threads_alone_can_win_the_hybrid():
    r = hybrid_result(threads=0.09, processes=0.34, asyncio_pool=0.15, threads_pool=0.16)
    r.environment.update(gil_enabled=False)
    v = verdict("hybrid_wins", r, interpreter=FREE_THREADED)
    assert v.status == FAILS and v.summary.startswith("Fetching") and "threads alone" in v.summary


def test_free_threaded_lock_evidence_does_not_blame_the_gil():
    r = pool_result()
    r.environment.update(gil_enabled=False)
    v = verdict("lock_contention", r, interpreter=FREE_THREADED)
    assert not any("GIL" in line for line in v.evidence)
    assert any("GIL" in line for line in verdict("lock_contention", pool_result()).evidence)


def test_per_item_pool_is_the_single_model_at_its_best():
    # Finding 3: the per-core pool overlaps only 2 fetches; one worker per item comes close to the hybrid.
    r = hybrid_result(threads=0.30, processes=0.34, asyncio_pool=0.15, threads_pool=0.16)
    assert verdict("hybrid_wins", r).status == HOLDS
    wide = hybrid_result(threads=0.30, processes=0.34, asyncio_pool=0.15, threads_pool=0.16)
    wide.metrics.update(result("hybrid", {"processes_wide.wall": 0.158, "processes_wide.speedup": 0.45 / 0.158}).metrics)
    v = verdict("hybrid_wins", wide)
    # 0.158 against 0.15 s with 2 % spreads: apart by more than the noise, but by 5 %, under the
    # 10 % a design choice needs: the per-item pool is named as the close second, no winner.
    assert v.status == DEPENDS and "one worker per item" in v.summary
    assert "a difference beyond the spread, but under the 10.0 %" in v.summary


@pytest.mark.parametrize("key", OURS)
def test_quick_run_is_not_enough_data(key):
    made = {"hybrid_wins": hybrid_result, "oversubscription": pool_result, "processes_scalable": pool_result,
            "chunksize_matters": pool_result, "ipc_cost": ipc_result, "lock_contention": pool_result,
            "threads_fit_io": io_result, "asyncio_scales_further": tva_result,
            "blocking_call_stalls_loop": blocking_result}[key]()
    quick = result(made.experiment, {k: m.median for k, m in made.metrics.items()}, facts=made.facts,
                   profile="quick")
    for k, m in made.metrics.items():  # keep units; only the sample count changes
        quick.metrics[k] = type(m)(**{**m.__dict__, "n": 1})
    assert verdict(key, made).status not in (NOT_ENOUGH, ERROR)
    v = verdict(key, quick)
    assert v.status == NOT_ENOUGH and "Not enough data" in v.summary


def test_io_claim_on_a_quota_names_the_usable_cpus():
    r = on(io_result(file_speedup=0.9), "quota 1.5")
    v = verdict("threads_fit_io", r)
    assert v.status == DEPENDS and "1.5 usable CPUs" in v.summary


def test_blocking_call_on_every_machine():
    for name in ("1 core", "16 cores", "quota 1.5"):
        assert verdict("blocking_call_stalls_loop", on(blocking_result(), name)).status == HOLDS
    # the executor did not help: a one-thread default pool, say
    assert verdict("blocking_call_stalls_loop", blocking_result(**{"executor.wall": 0.15})).status == DEPENDS
