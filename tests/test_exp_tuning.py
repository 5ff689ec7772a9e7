"""Hybrid pipeline, pool tuning and IPC payload: experiments, verdicts, charts and notes.

No timing thresholds: the experiments run in the quick profile and are checked for shape
(every documented metric present or listed as unavailable, units, finite positive medians).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from generator import charts, claims, notes, sandbox, templates
from generator.claims import DEPENDS, FAILS, HOLDS, UNMEASURED
from tests import experiment_docs
from tests.factories import metric, result, result_set

REPO = Path(__file__).resolve().parent.parent
EXPERIMENTS = ("hybrid", "pool_tuning", "ipc_payload")


@pytest.fixture(scope="module")
def docs():
    """The three experiments' documents (quick profile), each in a fresh interpreter."""
    return experiment_docs.run_quick(EXPERIMENTS)


def _check(doc, name, unit, positive=True):
    m = doc["metrics"].get(name)
    assert m is not None, f"{doc['experiment']}: metric {name} missing"
    assert m["unit"] == unit, f"{name}: unit {m['unit']!r}, expected {unit!r}"
    assert m["n"] >= 1
    assert math.isfinite(m["median"])
    if positive:
        assert m["median"] > 0, f"{name} median {m['median']}"
    assert m["q1"] <= m["median"] <= m["q3"]


def test_hybrid_document(docs):
    doc = docs["hybrid"]
    assert doc["experiment"] == "hybrid"
    if "capacity.parallel" not in doc["unavailable"]:
        _check(doc, "capacity.parallel", "x")
    if "http" in doc["unavailable"]:
        return
    for name in ("sequential.wall", "sequential.io", "sequential.cpu", "ideal.wall"):
        _check(doc, name, "s")
    _check(doc, "ideal.speedup", "x")
    models = ["threads"] + ([] if "processes" in doc["unavailable"] else
                            ["processes", "processes_wide", "asyncio_pool", "threads_pool"])
    for model in models:
        _check(doc, f"{model}.wall", "s")
        _check(doc, f"{model}.speedup", "x")
        _check(doc, f"{model}.of_ideal", "x")
    assert doc["facts"]["http_status"] == 200
    assert doc["facts"]["items"] == doc["parameters"]["items"]


def test_pool_tuning_document(docs):
    doc = docs["pool_tuning"]
    params = doc["parameters"]
    for w in params["workers"]:
        if f"workers.{w}" in doc["unavailable"]:
            continue
        _check(doc, f"workers.{w}.wall", "s")
        _check(doc, f"workers.{w}.speedup", "x")
        _check(doc, f"workers.{w}.tasks_per_s", "")
    assert doc["metrics"]["workers.1.speedup"]["median"] == 1.0
    _check(doc, "chunksize.inline.per_task", "s")
    for c in params["chunksizes"]:
        _check(doc, f"chunksize.{c}.per_task", "s")
        if c != 1:
            _check(doc, f"chunksize.{c}.gain", "x")
    for method in ("fork", "forkserver", "spawn"):
        if f"startmethod.{method}" not in doc["unavailable"]:
            _check(doc, f"startmethod.{method}.pool_start", "s")
    for name in ("lock.shared.per_op", "lock.own.per_op", "lock.local.per_op"):
        _check(doc, name, "s")
    _check(doc, "lock.sharing.cost", "x")
    _check(doc, "lock.local.speedup", "x")
    assert doc["facts"]["usable_cores"] >= 1


def test_ipc_payload_document(docs):
    doc = docs["ipc_payload"]
    assert "child" not in doc["unavailable"], doc["unavailable"]
    methods = ["queue", "pipe"] + ([] if "shm" in doc["unavailable"] else ["shm"])
    assert doc["facts"]["sizes"] == doc["parameters"]["sizes"]
    for label in doc["parameters"]["sizes"]:
        if f"size.{label}" in doc["unavailable"]:
            continue
        for m in methods:
            _check(doc, f"{m}.{label}.time", "s")
            _check(doc, f"{m}.{label}.throughput", "B/s")
            if m != "queue":
                _check(doc, f"{m}.{label}.speedup", "x")
    # No shared memory block may survive the run.
    shm_dir = Path("/dev/shm")
    if shm_dir.is_dir():
        assert not [p for p in shm_dir.iterdir() if p.name.startswith("psm_") and p.stat().st_size >= 2 ** 20
                    and p.stat().st_mtime > doc_time(doc)]


def doc_time(doc) -> float:
    import datetime

    when = datetime.datetime.strptime(doc["environment"]["date"], "%Y-%m-%dT%H:%M:%SZ")
    return when.replace(tzinfo=datetime.timezone.utc).timestamp() - doc["duration"] - 5


# -- crafted results -----------------------------------------------------------------------------


def hybrid_result(threads=0.24, processes=0.34, asyncio_pool=0.15, threads_pool=0.16, unavailable=None):
    seq = 0.45
    values = {"sequential.wall": seq, "sequential.io": 0.22, "sequential.cpu": 0.22, "ideal.wall": 0.13,
              "ideal.speedup": seq / 0.13, "capacity.parallel": 1.9}
    for k, v in (("threads", threads), ("processes", processes), ("asyncio_pool", asyncio_pool),
                 ("threads_pool", threads_pool)):
        if v is not None:
            values.update({f"{k}.wall": v, f"{k}.speedup": seq / v, f"{k}.of_ideal": v / 0.13})
    return result("hybrid", values, unavailable=unavailable or {},
                  facts={"items": 10, "workers": 2, "usable_cores": 2, "delay": 0.02, "cpu_per_item": 0.02,
                         "models": ["sequential", "threads", "processes", "asyncio_pool", "threads_pool"]})


def pool_result(speedups=None, capacity=1.9, chunks=None, lock_local=7.0, lock_cost=0.95, spread=0.02,
                workers_facts=None):
    speedups = speedups if speedups is not None else {1: 1.0, 2: 1.8, 4: 1.8, 8: 1.75, 16: 1.7}
    chunks = chunks if chunks is not None else {1: 2e-5, 10: 2e-6, 100: 3e-7, 1000: 1e-7}
    values = {"capacity.parallel": metric(capacity, "x", spread)}
    for w, s in speedups.items():
        values[f"workers.{w}.speedup"] = metric(s, "x", spread)
        values[f"workers.{w}.wall"] = 0.2 / s
        values[f"workers.{w}.tasks_per_s"] = metric(32 / (0.2 / s), "")
    values["chunksize.inline.per_task"] = 3e-8
    for c, t in chunks.items():
        values[f"chunksize.{c}.per_task"] = t
        if c != 1:
            values[f"chunksize.{c}.gain"] = metric(chunks[1] / t, "x")
    values.update({"startmethod.fork.pool_start": 0.006, "startmethod.forkserver.pool_start": 0.025,
                   "startmethod.spawn.pool_start": 0.05})
    shared = 1.4e-7
    values.update({"lock.shared.per_op": shared, "lock.own.per_op": shared / lock_cost,
                   "lock.local.per_op": shared / lock_local, "lock.sharing.cost": metric(lock_cost, "x"),
                   "lock.local.speedup": metric(lock_local, "x")})
    return result("pool_tuning", values, facts={
        "usable_cores": 2, "workers": workers_facts or sorted(speedups), "chunksizes": sorted(chunks),
        "tasks": 32, "task_seconds": 0.00625, "tiny_tasks": 20000, "lock_threads": 4, "lock_ops": 400000,
        "start_methods": ["fork", "forkserver", "spawn"]})


def ipc_result(big_ratio=40.0, shm=True):
    sizes = ["1K", "64K", "1M", "16M", "64M"]
    nbytes = {"1K": 1024, "64K": 65536, "1M": 2 ** 20, "16M": 2 ** 24, "64M": 2 ** 26}
    values = {}
    for s in sizes:
        q = 5e-5 + nbytes[s] / 5e8
        t = {"queue": q, "pipe": q / 1.5, "shm": (q / big_ratio if s == "64M" else q / 5)}
        for m, v in t.items():
            if m == "shm" and not shm:
                continue
            values[f"{m}.{s}.time"] = v
            values[f"{m}.{s}.throughput"] = metric(nbytes[s] / v, "B/s")
            if m != "queue":
                values[f"{m}.{s}.speedup"] = metric(q / v, "x")
    unavailable = {} if shm else {"shm": "multiprocessing.shared_memory is missing"}
    return result("ipc_payload", values, unavailable=unavailable,
                  facts={"sizes": sizes, "size_bytes": nbytes, "page_stride": 4096})


def verdict(key, *results):
    return claims.evaluate(key, result_set(*results))


# -- verdicts --------------------------------------------------------------------------------------


def test_hybrid_wins_flips():
    assert verdict("hybrid_wins", hybrid_result()).status == HOLDS
    # threads alone far ahead of every combination (e.g. a free-threaded build)
    v = verdict("hybrid_wins", hybrid_result(threads=0.10, asyncio_pool=0.15, threads_pool=0.16))
    assert v.status == FAILS and "threads" in v.summary
    # threads' repeats on both sides of the combination's: a tie (tests/test_verdict_spreads.py has more)
    r = hybrid_result(threads=0.155, asyncio_pool=0.15, threads_pool=0.16)
    r.metrics["threads.wall"] = result("hybrid", {"threads.wall": {
        "median": 0.155, "q1": 0.1475, "q3": 0.1625, "min": 0.14, "max": 0.17, "n": 7, "unit": "s",
        "samples": [0.14, 0.145, 0.15, 0.155, 0.16, 0.165, 0.17]}}).metrics["threads.wall"]
    v = verdict("hybrid_wins", r)
    assert v.status == DEPENDS and "could not be told apart" in v.summary
    v = verdict("hybrid_wins", hybrid_result(processes=None, asyncio_pool=None, threads_pool=None,
                                             unavailable={"processes": "no pool"}))
    assert v.status == UNMEASURED and "no pool" in v.summary


def test_oversubscription_flips():
    assert verdict("oversubscription", pool_result()).status == HOLDS
    v = verdict("oversubscription", pool_result({1: 1.0, 2: 1.5, 4: 1.9, 8: 1.9, 16: 1.9}))
    assert v.status == FAILS
    # Without per-repeat samples the IQRs decide: at ±25 % they overlap, so it is inconclusive.
    wide = pool_result({1: 1.0, 2: 1.5, 4: 1.9}, spread=0.5)
    for name in [k for k in wide.metrics if k.endswith(".speedup")]:
        wide.metrics[name] = dataclasses.replace(wide.metrics[name], samples=())
    v = verdict("oversubscription", wide)
    assert v.status == DEPENDS and "IQRs" in v.summary and "overlap" in v.summary
    assert verdict("oversubscription", pool_result({1: 1.0, 2: 1.8})).status == DEPENDS


def test_processes_scalable_flips():
    assert verdict("processes_scalable", pool_result()).status == HOLDS
    assert verdict("processes_scalable", pool_result({1: 1.0, 2: 1.2, 4: 1.2}, capacity=1.9)).status == FAILS
    v = verdict("processes_scalable", pool_result({1: 1.0, 2: 1.1, 4: 1.1}, capacity=1.1))
    assert v.status == DEPENDS and "1.10×" in v.summary


def test_chunksize_matters_flips():
    assert verdict("chunksize_matters", pool_result()).status == HOLDS
    flat = {1: 2e-5, 10: 1.9e-5, 100: 1.8e-5}
    assert verdict("chunksize_matters", pool_result(chunks=flat)).status == FAILS
    middle = {1: 2e-5, 10: 1e-5}
    assert verdict("chunksize_matters", pool_result(chunks=middle)).status == DEPENDS


def test_ipc_cost_flips():
    v = verdict("ipc_cost", ipc_result())
    assert v.status == HOLDS and "64.0 MiB" in v.summary
    assert verdict("ipc_cost", ipc_result(big_ratio=1.2)).status == DEPENDS
    v = verdict("ipc_cost", ipc_result(shm=False))
    assert v.status == DEPENDS and "could not be compared" in v.summary


def test_lock_contention_flips():
    v = verdict("lock_contention", pool_result())
    assert v.status == HOLDS and "faster" in v.summary and "not the sharing" in v.summary
    v = verdict("lock_contention", pool_result(lock_local=1.2, lock_cost=2.0))
    assert v.status == DEPENDS and "2.00× as long" in v.summary


def test_missing_results_are_unmeasured():
    for key in ("hybrid_wins", "oversubscription", "processes_scalable", "chunksize_matters", "ipc_cost",
                "lock_contention"):
        assert claims.evaluate(key, result_set()).status == UNMEASURED


# -- charts ----------------------------------------------------------------------------------------

CHARTS = ("hybrid-pipeline", "pool-workers", "pool-chunksize", "ipc-payload")


@pytest.mark.parametrize("name", CHARTS)
def test_chart_renders_deterministically(name):
    spec = charts.registry()[name]
    rs = result_set(hybrid_result(), pool_result(), ipc_result())
    first = charts.render(spec, rs)
    assert first.lstrip().startswith(b"<?xml") and b"<svg" in first
    assert charts.render(spec, rs) == first


@pytest.mark.parametrize("name", CHARTS)
def test_chart_without_results(name):
    spec = charts.registry()[name]
    svg = charts.render(spec, result_set())
    assert b"<svg" in svg


def test_charts_with_unavailable_items():
    rs = result_set(hybrid_result(processes=None, asyncio_pool=None, threads_pool=None,
                                  unavailable={"processes": "no pool"}), ipc_result(shm=False))
    for name in ("hybrid-pipeline", "ipc-payload"):
        assert b"<svg" in charts.render(charts.registry()[name], rs)


# -- notes -----------------------------------------------------------------------------------------

NOTES = ("Hybrid Concurrency Models", "Concurrency Performance Optimization")


def _render(title, rs):
    folder = REPO / "templates"
    note = templates.read_template(folder / f"{title}.md.j2")
    env = sandbox.make_jinja(folder)
    return notes.render_note(env, note, rs, {}, set(charts.registry())).text


def _prose(text):
    """The note without its fenced code blocks (code may say None)."""
    import re

    return re.sub(r"```.*?```", "", text, flags=re.S)


@pytest.mark.parametrize("title", NOTES)
def test_note_renders_with_results(title):
    text = _render(title, result_set(hybrid_result(), pool_result(), ipc_result()))
    assert text.startswith("---\n")
    assert "None" not in _prose(text)
    assert "[!success]" in text
    assert "## Explore Next" in text


@pytest.mark.parametrize("title", NOTES)
def test_note_renders_without_results(title):
    text = _render(title, result_set())
    assert "None" not in _prose(text)
    assert "No result from" in text


@pytest.mark.parametrize("threads, said", [
    (0.15, "plain threads computed in parallel as well (0.620× the time of that build's CPU work"),
    (0.40, "plain threads did not compute measurably in parallel here"),
])
def test_the_free_threaded_hybrid_bullet_is_decided_by_the_same_test_as_the_gil_builds(threads, said):
    """It said "plain threads compute in parallel as well" for any free-threaded build."""
    import dataclasses

    from generator.interpreters import Interpreter
    from generator.results import ResultSet
    from tests.factories import INTERPRETER
    from tests.render import render_note

    ft = Interpreter(path="/opt/py/bin/python3.13t", version="3.13.5", implementation="CPython",
                     build="main", compiler="GCC 12", free_threaded=True, gil_enabled=False)
    gil = hybrid_result()
    free = dataclasses.replace(hybrid_result(threads=threads), interpreter=ft.tag,
                               environment={**gil.environment, "gil_enabled": False})
    note = render_note("Hybrid Concurrency Models", ResultSet([INTERPRETER, ft], {INTERPRETER.tag: {"hybrid": gil},
                                                                                 ft.tag: {"hybrid": free}}))
    assert "- **Without the GIL**" in note and said in note, note[note.find("Without the GIL") - 10:][:400]
