"""Two figures of a note are called alike only within their measured spreads (crafted results)."""

from __future__ import annotations

from tests.factories import metric, result, result_set
from tests.render import render_note


def test_thread_vs_asyncio_calls_two_waits_alike_only_within_their_spreads():
    from tests.test_exp_io import io_result, tva_result

    tva, io = tva_result(), io_result()
    # 10 waits: threads 101 ms, asyncio 100 ms, each IQR ±1 %: they overlap, so about the same.
    # Sleeps: threads 51.6 ms, asyncio 50.9 ms, each IQR ±0.1 %: 1.4 % apart is beyond the noise.
    io.metrics.update(result("io_bound", {"sleep.threads.wall": metric(0.0516, spread=0.002),
                                          "sleep.asyncio.wall": metric(0.0509, spread=0.002)}).metrics)
    note = render_note("Thread vs Asyncio", result_set(tva, io))
    assert "**At 10 waits**: about the same, within their spreads (threads 101 ms, asyncio 100 ms)" in note
    assert "- Sleeps: **asyncio**, 1.01× faster (50.9 ms vs 51.6 ms, beyond both spreads)." in note
    assert "the two models differ beyond their spreads on sleeps only" in note  # HTTP: within their spreads


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
