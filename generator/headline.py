"""The headline figures: those the notes' verdicts and properties quote.

They are what the "Other machines" table compares, what the history
charts and the regression check follow, and what ``bench/bench_build.py
--agreement`` holds to its targets.  A name an experiment no longer
produces is skipped, never an error: the metric-name contract test is what
catches a rename.
"""

from __future__ import annotations

from collections.abc import Iterable

HEADLINE: dict[str, tuple[str, ...]] = {
    "cpu_bound": ("python.threads.2.speedup", "python.processes.2.speedup", "c.threads.2.speedup",
                  "python.capacity"),
    "overhead": ("thread.start", "task.start", "process.fork.start", "process.forkserver.start",
                 "process.spawn.start", "memory.thread", "memory.task", "memory.process.fork.uss",
                 "process_vs_thread.start"),
    "io_bound": ("sleep.threads.speedup", "sleep.asyncio.speedup", "http.threads.speedup",
                 "http.asyncio.speedup", "sleep.threads.over_ideal", "http.threads.over_ideal"),
    "thread_vs_asyncio": ("threads.10000.wall", "asyncio.10000.wall", "threads.1000.memory_per_worker",
                          "asyncio.1000.memory_per_worker"),
    "blocking_call": ("blocking.wall", "sleep.wall", "executor.wall", "blocking.lag"),
    "gil_switching": ("wakeup.default.latency", "wakeup.idle.latency"),
    "race_condition": ("gap.lost_pct", "cost.unlocked", "cost.locked.uncontended"),
    "ipc_payload": ("queue.64M.time", "shm.64M.time", "shm.64M.speedup"),
    "pool_tuning": ("workers.2.speedup", "chunksize.1.per_task", "chunksize.1000.per_task"),
    "hybrid": ("threads.speedup", "processes.speedup", "asyncio_pool.speedup"),
    # threads_beat_processes rests on the shared task; the note's single-thread cost on single.rate.
    "free_threading": ("shared.threads.2.speedup", "shared.processes.2.speedup", "single.rate"),
    # No verdict rests on it: the counts the seed note's prose quotes.
    "thread_behaviour": ("prints.merged.buffered", "prints.merged.unbuffered", "unguarded.errors"),
    # The verdicts' headline metrics and the Beyond One Machine note's properties (2 workers).
    "dask_cluster": ("tiny.ratio", "roundtrip.ratio", "cpu.dask.1.vs_pool", "cpu.dask.2.vs_pool",
                     "data.inline_vs_scatter", "placement.inprocess.per_task",
                     "placement.subprocess.per_task", "cpu.pool.2.speedup", "cpu.dask.2.speedup",
                     "roundtrip.dask", "roundtrip.pool", "tiny.dask.per_task", "tiny.pool.per_task",
                     "startup.dask", "startup.pool"),
}


def headline(experiment: str, produced: Iterable[str]) -> tuple[str, ...]:
    """Those of ``produced`` (a result's metric names) that are headline figures.

    An experiment not listed here (a user's own) is followed by every metric it has.
    """
    names = tuple(produced)
    listed = HEADLINE.get(experiment)
    if listed is None:
        return tuple(sorted(names))
    return tuple(n for n in listed if n in names)
