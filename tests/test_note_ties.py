"""Two figures of a note are called alike only within their measured spreads (crafted results)."""

from __future__ import annotations

import dataclasses

from tests.factories import metric, result, result_set
from tests.render import render_note


def _timed(name, samples, unit="s"):
    """A metric with its per-repeat samples, summarised as the harness does."""
    from tests.test_statistics import harness
    from generator.results import Metric

    return Metric.from_json(name, harness.summarize(samples, unit))


def test_thread_vs_asyncio_compares_per_repeat_and_names_small_differences():
    from tests.test_exp_io import io_result, tva_result

    tva, io = tva_result(), io_result()
    # 10 waits: asyncio ahead in some repeats, behind in others: about the same.
    tva.metrics["threads.10.wall"] = _timed("threads.10.wall", [0.101, 0.102, 0.100, 0.101, 0.103])
    tva.metrics["asyncio.10.wall"] = _timed("asyncio.10.wall", [0.100, 0.103, 0.101, 0.100, 0.102])
    # Sleeps: asyncio 1.4 % ahead in every repeat: real, but small.
    st = [0.0516, 0.0519, 0.0514, 0.0530, 0.0517]
    io.metrics["sleep.threads.wall"] = _timed("sleep.threads.wall", st)
    io.metrics["sleep.asyncio.wall"] = _timed("sleep.asyncio.wall", [x / 1.014 for x in st])
    # HTTP: asyncio 1.25x ahead in every repeat, though a slow repeat makes the walls' IQRs overlap.
    ht = [0.060, 0.090, 0.070, 0.100, 0.080]
    io.metrics["http.threads.wall"] = _timed("http.threads.wall", ht)
    io.metrics["http.asyncio.wall"] = _timed("http.asyncio.wall", [x / 1.25 for x in ht])
    note = render_note("Thread vs Asyncio", result_set(tva, io))
    assert "**At 10 waits**: about the same (threads 101 ms, asyncio 101 ms; ratio of the medians; 5 per-repeat ratios: median" in note
    assert "which includes 1; 2 of 5 above 1); the ideal is" in note
    assert ("- Sleeps: about the same: asyncio 1.01× faster, beyond the spread but by under 10 % (51.0 ms vs "
            "51.7 ms; ratio of the medians; 5 per-repeat ratios: median 1.01×, IQR 1.01× – 1.01×, wholly above 1; 5 of 5 above 1).") in note
    assert "- HTTP: **asyncio**, 1.25× ⚠ faster (64.0 ms ⚠ vs 80.0 ms ⚠; ratio of the medians; 5 per-repeat ratios: median" in note
    assert "asyncio was ahead by 10 % or more on HTTP requests only" in note
    # Without per-repeat samples the IQRs decide, and the sentence says which rule it used.
    io.metrics["http.asyncio.wall"] = dataclasses.replace(io.metrics["http.asyncio.wall"], samples=())
    note = render_note("Thread vs Asyncio", result_set(tva, io))
    assert "- HTTP: about the same (threads 80.0 ms ⚠, asyncio 64.0 ms ⚠; ratio of the medians; IQRs" in note
    # 25 % apart at the median, but within the spreads: no "within 10 %" either.
    assert "neither model was ahead by 10 % or more beyond the spread" in note


def test_figures_from_separate_runs_are_never_paired():
    from tests.test_exp_io import overhead_result, tva_result

    o = overhead_result()
    # Thread and task children run in separate loops: equal sample counts are no pairs.
    o.metrics["memory.thread"] = _timed("memory.thread", [16000, 17000, 16500, 15000, 18000], "B")
    o.metrics["memory.task"] = _timed("memory.task", [900, 800, 860, 870, 850], "B")
    note = render_note("Thread vs Asyncio", result_set(tva_result(), o))
    line = next(x for x in note.splitlines() if x.startswith("Memory per idle worker:"))
    assert "**asyncio tasks**" in line and "ratio of the medians; IQRs" in line and "per-repeat" not in line


def test_the_hub_names_a_model_alone_only_when_it_is_ahead_by_ten_percent():
    from tests.test_exp_core import cpu

    rs = cpu()
    r = rs.get("cpu_bound")
    seq = [1.00, 1.02, 0.99, 1.05, 1.01]
    r.metrics["c.threads.2.speedup"] = _timed("c.threads.2.speedup", [1.95 * x for x in seq], "x")
    r.metrics["c.processes.2.speedup"] = _timed("c.processes.2.speedup", [1.85 * x for x in seq], "x")
    hub = render_note("Python Concurrency", rs)
    assert 'C["Threads or processes (threads ahead by under 10 %)<br/>2 threads: 1.97×<br/>2 processes: 1.87×"]' in hub
    r.metrics["c.processes.2.speedup"] = _timed("c.processes.2.speedup", [1.60 * x for x in seq], "x")
    assert 'C["Threads<br/>2 threads: 1.97×' in render_note("Python Concurrency", rs)
    r.metrics["c.processes.2.speedup"] = _timed("c.processes.2.speedup", [1.90, 2.00, 1.96, 2.01, 1.99], "x")
    assert 'C["Threads or processes (within their spreads)<br/>' in render_note("Python Concurrency", rs)


def test_single_thread_cost_is_slower_only_beyond_both_spreads():
    from tests.factories import FREE_THREADED
    from tests.test_notes_free_threaded import GIL13, _three

    rs = _three()
    note = render_note("Free-Threaded Python", rs)
    assert "ran the loop 1.33× as long as CPython 3.13.5\n(slower;" in note
    # 32 against 30 million steps a second, each IQR ±10 %: they overlap.
    rs.by_tag[GIL13.tag]["free_threading"].metrics["single.rate"] = result(
        "free_threading", {"single.rate": metric(32.0, "", spread=0.2)}).metrics["single.rate"]
    rs.by_tag[FREE_THREADED.tag]["free_threading"].metrics["single.rate"] = result(
        "free_threading", {"single.rate": metric(30.0, "", spread=0.2)}).metrics["single.rate"]
    note = render_note("Free-Threaded Python", rs)
    assert "ran the loop 1.07× as long as CPython 3.13.5\n(within the spreads of both, the run-to-run noise;" in note
