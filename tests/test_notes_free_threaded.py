"""The notes' build-dependent prose on crafted results: one GIL interpreter alone, and three
interpreters (3.11, 3.13 and 3.13t) side by side.  Sentences that depend on the build come from
the measured verdicts, so each is checked both ways."""

from __future__ import annotations

from generator.interpreters import Interpreter
from generator.results import ResultSet
from tests.factories import FREE_THREADED, INTERPRETER, machine, metric, result
from tests.test_notes import _render

GIL13 = Interpreter(path="/opt/cpython-3.13/bin/python3.13", version="3.13.5", implementation="CPython",
                    build="main (Jan 1 2025)", compiler="GCC 12", free_threaded=False, gil_enabled=True)


def _cpu(t2, p2, gil=True):
    r = result("cpu_bound", {
        "python.threads.1.scaling": metric(1.0, "x"), "python.threads.2.scaling": metric(t2, "x"),
        "python.threads.4.scaling": metric(t2, "x"), "c.threads.2.scaling": metric(1.9, "x"),
        "python.threads.2.speedup": t2, "python.processes.2.speedup": p2,
        "python.capacity": 1.95, "python.processes.2.efficiency": p2 / 1.95, "capacity.parallel": 1.95,
    })
    r.environment.update(machine(gil_enabled=gil))
    return r


def _free(t2, p2, rate, gil=True, warning=""):
    facts = {"gil.xgil0": "GIL enabled: False" if not gil else "refused: Fatal Python error: no",
             "lambda.fork": "ran", "lambda.spawn": "AttributeError: Can't get local object",
             "default_start_method": "fork"}
    if warning:
        facts.update({"extension.warning": warning, "extension.gil_after_import": True})
    r = result("free_threading", {"shared.threads.2.speedup": metric(t2, "x"),
                                  "shared.processes.2.speedup": metric(p2, "x"),
                                  "single.rate": metric(rate, "")}, facts=facts,
               unavailable={"shared.interpreters": "needs Python 3.14"})
    r.environment.update(machine(gil_enabled=gil))
    return r


def _three():
    by_tag = {
        INTERPRETER.tag: {"cpu_bound": _cpu(1.0, 1.9), "free_threading": _free(0.98, 1.6, 30.0)},
        GIL13.tag: {"cpu_bound": _cpu(1.02, 1.88), "free_threading": _free(0.97, 1.6, 32.0)},
        FREE_THREADED.tag: {"cpu_bound": _cpu(1.94, 1.9, gil=False),
                            "free_threading": _free(1.9, 1.5, 24.0, gil=False,
                                                    warning="RuntimeWarning: The global interpreter lock (GIL) has been enabled")},
    }
    return ResultSet([INTERPRETER, GIL13, FREE_THREADED], by_tag)


def test_three_interpreters_change_the_build_dependent_prose(tmp_path):
    notes = _render(tmp_path, _three())
    seed = notes["Multithreading vs Multiprocessing.md"]
    assert "measured here on 3.11, 3.13) only one thread executes Python bytecode at a time" in seed
    assert "free-threaded build measured here (3.13t) threads ran Python bytecode in parallel" in seed
    assert "Holds on 3.11 and 3.13; does not hold on 3.13t" in seed
    gil_section = seed.split("**The Global Interpreter Lock (GIL).**", 1)[1].split("**Race conditions.**", 1)[0]
    assert "| CPython 3.13.5 free-threaded, GIL disabled | disabled | 1.94× |" in gil_section
    when = seed.split("## When to Use Multiprocessing", 1)[1].split("##", 1)[0]
    assert "(3.11, 3.13 here)" in when and "[[Free-Threaded Python#Threads against processes on shared data]]" in when
    hub = notes["Python Concurrency.md"]
    assert '"Which build?"' in hub and "free-threaded (3.13.5t)" in hub and "2 threads: 1.94×" in hub
    ft = notes["Free-Threaded Python.md"]
    assert "No free-threaded interpreter was measured" not in ft
    assert "| CPython 3.13.5 free-threaded, GIL disabled | disabled | n/a | 1.94× | 1.94× | 1.94× | 1.90× |" in ft
    assert "RuntimeWarning: The global interpreter lock (GIL) has been enabled" in ft
    # Single-thread cost, from the two 3.13.5 builds' medians: 32 / 24.
    assert "ran the loop 1.33× as long as CPython 3.13.5" in ft
    assert "Does not hold on 3.11 and 3.13; holds on 3.13t: Threads beat processes" in ft
    assert "Not available here: needs Python 3.14" in ft


def test_one_gil_interpreter_keeps_the_classic_advice(tmp_path):
    rs = ResultSet([INTERPRETER], {INTERPRETER.tag: {"cpu_bound": _cpu(1.0, 1.9),
                                                     "free_threading": _free(0.98, 1.6, 30.0)}})
    notes = _render(tmp_path, rs)
    assert "No free-threaded interpreter was measured" in notes["Free-Threaded Python.md"]
    assert '"Which build?"' not in notes["Python Concurrency.md"]
    seed = notes["Multithreading vs Multiprocessing.md"]
    assert "measured here on 3.11.7) only one thread executes Python bytecode at a time" in seed
    assert "free-threaded builds (3.13t and later) run it in parallel" in seed


def test_impossible_speedup_is_flagged_in_the_table(tmp_path):
    rs = _three()
    rs.by_tag[FREE_THREADED.tag]["cpu_bound"] = _cpu(3.5, 1.9, gil=False)
    ft = _render(tmp_path, rs)["Free-Threaded Python.md"]
    assert "✗ measurement error (3.50× on 2 CPUs)" in ft


def _waits(virtual_gib: float, memory_mib: float, peak: int) -> object:
    top = 10_000
    metrics = {"ideal.wall": metric(0.2), "threads.10.wall": metric(0.2), "asyncio.10.wall": metric(0.2),
               f"threads.{top}.wall": metric(1.6), f"asyncio.{top}.wall": metric(0.3),
               f"threads.{top}.create": metric(1.5), f"asyncio.{top}.create": metric(0.05),
               f"threads.{top}.peak_concurrent": metric(peak, "", spread=0), f"asyncio.{top}.peak_concurrent": metric(top, "", spread=0),
               f"threads.{top}.virtual": metric(virtual_gib * 2**30, "B"), f"asyncio.{top}.virtual": metric(2**24, "B"),
               f"threads.{top}.memory": metric(memory_mib * 2**20, "B"), f"asyncio.{top}.memory": metric(2**24, "B")}
    return result("thread_vs_asyncio", metrics, facts={"levels": [10, top], "rlimit_stack": 8 * 2**20})


def test_a_finished_threads_stack_is_kept_until_join_from_3_13_and_the_note_says_so(tmp_path):
    """Up to 3.12 CPython detaches its threads; 3.13 keeps an exited thread's stack until join()
    (gh-110829), so the 10,000-thread figures mean something else there."""
    rs = ResultSet([INTERPRETER, GIL13], {INTERPRETER.tag: {"thread_vs_asyncio": _waits(9.5, 31.7, 1_097)},
                                          GIL13.tag: {"thread_vs_asyncio": _waits(79.1, 108.0, 1_415)}})
    note = _render(tmp_path, rs)["Thread vs Asyncio.md"]
    assert "which covers the threads alive at that moment, not all 10,000: a median of 1,097 were" in note  # 3.11's run
    assert "**From 3.13 a finished thread keeps its stack until `join()`.**" in note
    assert ("under CPython 3.13.5 the threads' address space grew by 79.1 GiB and their resident memory by "
            "108 MiB (10,000 stacks of 8.00 MiB are 78.1 GiB of each; the rest is other mappings), "
            "against 9.50 GiB and 31.7 MiB under CPython 3.11.7") in note
    (tmp_path / "alone").mkdir()
    (tmp_path / "primary").mkdir()
    alone = _render(tmp_path / "alone", ResultSet([INTERPRETER], {INTERPRETER.tag: {"thread_vs_asyncio": _waits(9.5, 31.7, 1_097)}}))
    assert "From 3.13 a finished thread" not in alone["Thread vs Asyncio.md"]
    primary = _render(tmp_path / "primary", ResultSet([GIL13], {GIL13.tag: {"thread_vs_asyncio": _waits(79.1, 108.0, 1_415)}}))
    text = primary["Thread vs Asyncio.md"]
    assert "From 3.13 a finished thread keeps its stack" in text and "covers the threads alive at that moment" not in text
