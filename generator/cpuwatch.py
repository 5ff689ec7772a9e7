"""How much CPU the rest of the machine took while one experiment ran.

The harness measures this from inside the experiment, but it can only
subtract the time of processes it waited for itself: a forkserver's
children or dask's worker processes are grandchildren it never reaps, so
their work looked like "other processes" and flagged a quiet machine as
busy.  vaultgen runs the experiment as a subreaper and reaps every process
of the run, so its own ``RUSAGE_CHILDREN`` covers the whole tree once the
run is over; busy ticks in /proc/stat minus that (and vaultgen's own time)
is what everything else on the machine used.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")


def busy_ticks(cpus: set[int], stat: Path = PROC_STAT) -> int | None:
    """Busy ticks (user, nice, system, irq, softirq, steal) summed over ``cpus``; None off Linux."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    total = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        fields = [int(x) for x in rest.split()]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        total += user + nice + system + irq + softirq + steal
    return total


def _tree_cpu() -> float:
    """CPU seconds of vaultgen itself and of every descendant it (or they) waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class OthersWatch:
    """Start before the experiment, ``stop()`` after every process of the run was reaped."""

    cpus: set[int]
    ticks: int | None
    tree: float
    wall: float

    @classmethod
    def start(cls) -> OthersWatch:
        cpus = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
        return cls(cpus, busy_ticks(cpus), _tree_cpu(), time.perf_counter())

    def stop(self) -> float | None:
        """Cores' worth of CPU that processes outside this run used meanwhile (e.g. 0.4), or None."""
        ticks = busy_ticks(self.cpus)
        wall = time.perf_counter() - self.wall
        if self.ticks is None or ticks is None or wall <= 0:
            return None
        machine = (ticks - self.ticks) / os.sysconf("SC_CLK_TCK")
        return max(0.0, (machine - (_tree_cpu() - self.tree)) / wall)


def correct_environment(environment: dict, other_cpu: float | None) -> None:
    """Replace the harness's estimate with the runner's, keeping the harness's for reference."""
    if other_cpu is None or "other_cpu" not in environment:
        return
    environment["other_cpu_inside"] = environment["other_cpu"]
    environment["other_cpu"] = other_cpu
    usable = environment.get("usable_cpus") or environment.get("affinity") or 1.0
    threshold = environment.get("busy_threshold", 0.1)
    environment["busy"] = other_cpu > threshold * max(1.0, float(usable))
