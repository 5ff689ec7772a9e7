"""The hub's decision chart names what the data show, as the notes it links to do (crafted results)."""

from __future__ import annotations

import re

from tests.factories import metric, result, result_set
from tests.render import render_note
from tests.test_exp_tuning import hybrid_result


def _node(hub: str, name: str) -> str:
    return next(line for line in hub.splitlines() if re.search(rf"\| {name}\[", line))


def _front(note: str, key: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in note.splitlines() if line.startswith(key + ":"))


def _with_wide(wall, speedup):
    r = hybrid_result()
    r.metrics.update(result("hybrid", {"processes_wide.wall": wall, "processes_wide.speedup": speedup}).metrics)
    return r


def test_the_per_item_pool_is_named_when_it_was_fastest_as_in_the_hybrid_note():
    # asyncio + pool takes 0.15 s (speedup 3.0×); the per-item pool 0.12 s, 25 % faster.
    rs = result_set(_with_wide(0.12, metric(0.45 / 0.12, "x")))
    hub, hybrid = render_note("Python Concurrency", rs), render_note("Hybrid Concurrency Models", rs)
    assert _front(hybrid, "fastest_model") == "processes_wide"
    line = _node(hub, "H")
    assert "A process pool of one worker per item was fastest here<br/>3.75× vs sequential" in line
    assert "asyncio" not in line


def test_a_lead_under_ten_percent_names_the_runner_up_too():
    # 0.14 s against 0.15 s, each IQR ±1 %: apart, but by 7 %.
    rs = result_set(_with_wide(0.14, metric(0.45 / 0.14, "x")))
    line = _node(render_note("Python Concurrency", rs), "H")
    assert ("A process pool of one worker per item or asyncio + process pool (the first ahead by under 10 %)"
            "<br/>3.21× vs sequential") in line
    # 0.149 s: within the spreads.
    rs = result_set(_with_wide(0.149, metric(0.45 / 0.149, "x")))
    line = _node(render_note("Python Concurrency", rs), "H")
    assert "A process pool of one worker per item or asyncio + process pool (within their spreads)" in line


def test_the_chart_ranks_by_wall_time_and_keeps_the_noise_mark():
    # A noisy paired speedup whose median exceeds the fastest model's: the wall time ranks, as in
    # the Hybrid note's table, and the figure shown carries its ⚠.
    rs = result_set(_with_wide(0.16, metric(3.1, "x", spread=0.3)))
    hub, hybrid = render_note("Python Concurrency", rs), render_note("Hybrid Concurrency Models", rs)
    assert _front(hybrid, "fastest_model") == "asyncio_pool"
    assert ("asyncio + process pool or a process pool of one worker per item (the first ahead by under 10 %)"
            "<br/>3.00× vs sequential") in _node(hub, "H")
    rs = result_set(_with_wide(0.12, metric(3.2, "x", spread=0.3)))
    assert "one worker per item was fastest here<br/>3.20× ⚠ vs sequential" in _node(
        render_note("Python Concurrency", rs), "H")


def test_the_chart_names_the_interpreter_its_figures_come_from():
    hub = render_note("Python Concurrency", result_set(hybrid_result()))
    assert "achieved here (CPython 3.11.7 unless the arrow names" in hub


def _builds(ft_threads, ft_processes, ft_scaling=1.5):
    """3.11 and 3.13t results whose 3.13t threads ran pure Python in parallel (so the chart splits)."""
    from tests.test_notes_free_threaded import _three
    from tests.factories import FREE_THREADED

    rs = _three()
    cpu = rs.by_tag[FREE_THREADED.tag]["cpu_bound"]
    cpu.metrics.update(result("cpu_bound", {"python.threads.2.speedup": ft_threads,
                                            "python.processes.2.speedup": ft_processes,
                                            "python.threads.2.scaling": metric(ft_scaling, "x")}).metrics)
    return rs


def test_the_free_threaded_node_compares_figures_with_one_baseline():
    # 2 threads against the main thread 1.90× (IQR ±15 %), processes 1.94×: no winner is named, and
    # the threads' figure is the speedup over the main thread, not the scaling over one worker thread.
    hub = render_note("Python Concurrency", _builds(metric(1.90, "x", spread=0.3), metric(1.94, "x")))
    line = _node(hub, "F")
    assert line.split('F["', 1)[1].startswith("Threads or processes (within their spreads)<br/>")
    assert "2 threads: 1.90× ⚠<br/>2 processes: 1.94×" in line and "1.50×" not in line


def test_the_free_threaded_node_names_processes_when_they_were_clearly_ahead():
    hub = render_note("Python Concurrency", _builds(metric(1.5, "x"), metric(1.9, "x"), ft_scaling=1.6))
    assert 'F["Processes<br/>2 threads: 1.50×<br/>2 processes: 1.90×"]' in _node(hub, "F")
    # The GIL build's node: 2 threads 1.00× against 1.90× for processes.
    assert 'P["Processes<br/>2 threads: 1.00×<br/>2 processes: 1.90×"]' in _node(hub, "P")
