"""Is the machine quiet enough to measure?  Checked before a build measures anything.

In the manner of pyperf's ``system check``: a short look at the machine, and
a warning with what to do rather than a refusal.  The figure is the one the
harness records for every experiment (``environment.other_cpu``): CPU time
other processes took on the CPUs this process may use, from ``/proc/stat``
minus our own, in CPUs' worth.  The threshold is the harness's: 10 % of the
usable CPUs (at least 0.1 of one), the same share as the noise flag, because
a figure can move by about that much when others take it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

BUSY_THRESHOLD = 0.10  # keep equal to experiments/_machine.py BUSY_THRESHOLD


@dataclass(frozen=True)
class SystemCheck:
    other_cpu: float | None  # CPUs' worth other processes used during the check
    usable_cpus: float
    seconds: float

    @property
    def busy(self) -> bool:
        return self.other_cpu is not None and self.other_cpu > BUSY_THRESHOLD * max(1.0, self.usable_cpus)

    def warning(self) -> str | None:
        if not self.busy:
            return None
        return (f"the machine is busy: other processes used {self.other_cpu:.2f} of the "
                f"{self.usable_cpus:g} CPUs this build may use over {self.seconds:.1f} s "
                f"(threshold {BUSY_THRESHOLD:.0%}); figures measured now will be flagged as measured on a busy "
                f"machine. Stop other work (`top` shows what runs) and build again for reliable figures.")


def _cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _busy_ticks(cpus: list[int], stat: str) -> int | None:
    try:
        with open(stat) as f:
            text = f.read()
    except OSError:
        return None
    wanted = {f"cpu{c}" for c in cpus}
    total = 0
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] in wanted:
            user, nice, system, _idle, _iowait, irq, softirq, steal = ([int(v) for v in fields[1:9]] + [0] * 8)[:8]
            total += user + nice + system + irq + softirq + steal
    return total


def check(seconds: float = 0.3, usable_cpus: float | None = None, stat: str = "/proc/stat") -> SystemCheck:
    """Watch the machine for ``seconds``; ``usable_cpus`` defaults to the affinity count."""
    cpus = _cpus()
    usable = float(usable_cpus if usable_cpus is not None else len(cpus))
    t0, own0, ticks0 = time.perf_counter(), sum(os.times()[:4]), _busy_ticks(cpus, stat)
    time.sleep(seconds)
    wall, own1, ticks1 = time.perf_counter() - t0, sum(os.times()[:4]), _busy_ticks(cpus, stat)
    if ticks0 is None or ticks1 is None:
        return SystemCheck(None, usable, wall)
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    other = max(0.0, ((ticks1 - ticks0) / hz - (own1 - own0)) / wall)
    return SystemCheck(other, usable, wall)


def busy_results(results) -> list[str]:
    """'name (interpreter): 1.2 of 2 CPUs' for every loaded result measured on a busy machine."""
    out = []
    for tag, by_name in sorted(results.by_tag.items()):
        for name, r in sorted(by_name.items()):
            env = r.environment or {}
            if env.get("busy"):
                out.append(f"{name} ({tag}): others used {env.get('other_cpu', 0):.2f} of "
                           f"{env.get('usable_cpus', '?')} CPUs")
    return out
