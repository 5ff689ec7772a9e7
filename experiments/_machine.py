"""Where and under what conditions an experiment measured: the machine, the
interpreter, the CPUs it may use and what other processes took of them.

Part of the measurement harness (``_harness.py`` imports it); standard
library only and Python 3.8+ for the same reason.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import time



# -- environment --------------------------------------------------------------


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory_total():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


# -- CPUs this process may use, and what others took of them ---------------------

# Other processes used more than this share of the CPUs the experiment could
# use: the same 10 % as the noise flag, because a figure can shift by about that.
BUSY_THRESHOLD = 0.10


def _read_first(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _cgroup_dirs(mount, path):
    """``mount``/``path`` and each of its parents up to ``mount``.

    In a container the path in /proc/self/cgroup often is not visible and the
    container's own cgroup is mounted at the root, so every level is tried.
    """
    parts = [p for p in path.strip("/").split("/") if p]
    for i in range(len(parts), -1, -1):
        yield os.path.join(mount, *parts[:i])


def cpu_quota(root="/sys/fs/cgroup", proc_cgroup="/proc/self/cgroup"):
    """CPUs the cgroup CPU quota allows (e.g. 1.5), or None without a quota.

    cgroup v2 ``cpu.max`` holds "QUOTA PERIOD" or "max PERIOD"; v1 has
    ``cpu.cfs_quota_us`` (-1: none) and ``cpu.cfs_period_us``.  Every level of
    the hierarchy applies, so the smallest quota found wins.
    """
    text = _read_first(proc_cgroup) or ""
    found = []
    for line in text.splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        hierarchy, controllers, path = fields
        if hierarchy == "0" and controllers == "":
            mounts = [root]
            files = ("cpu.max", None)
        elif "cpu" in controllers.split(","):
            mounts = [os.path.join(root, controllers), os.path.join(root, "cpu")]
            files = ("cpu.cfs_quota_us", "cpu.cfs_period_us")
        else:
            continue
        for mount in mounts:
            for directory in _cgroup_dirs(mount, path):
                quota = _quota_in(directory, files)
                if quota is not None:
                    found.append(quota)
    return min(found) if found else None


def _quota_in(directory, files):
    first = _read_first(os.path.join(directory, files[0]))
    if not first:
        return None
    try:
        if files[1] is None:
            quota, period = (first.split() + ["100000"])[:2]
            return None if quota == "max" else int(quota) / int(period)
        period = _read_first(os.path.join(directory, files[1]))
        quota = int(first)
        return None if quota < 0 or not period else quota / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def affinity_cpus():
    """The CPU numbers this process may run on (all of them without affinity support)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def usable_cpus(affinity, quota):
    """How many CPUs' worth of time this process can get: min(affinity, quota)."""
    return float(affinity) if quota is None else min(float(affinity), quota)


def cpu_ticks(cpus, stat="/proc/stat"):
    """Busy ticks summed over ``cpus`` from /proc/stat, or None off Linux.

    Busy is user + nice + system + irq + softirq + steal: steal is time the
    hypervisor gave to other guests, which this machine did not get either.
    Guest time is already part of user time.
    """
    text = _read_first(stat)
    if text is None:
        return None
    wanted = set("cpu%d" % c for c in cpus)
    busy = 0
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] in wanted:
            values = [int(v) for v in fields[1:9]] + [0] * 8
            user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
            busy += user + nice + system + irq + softirq + steal
    return busy


def own_cpu_seconds():
    """CPU time of this process and of every child it has waited for."""
    t = os.times()
    return t[0] + t[1] + t[2] + t[3]


class CpuWatch(object):
    """CPU time other processes used on our CPUs between start() and stop().

    Our own process tree's time (this process and reaped children) is
    subtracted, so the result is what the rest of the machine took.
    """

    def __init__(self, cpus=None, stat="/proc/stat"):
        self.cpus = affinity_cpus() if cpus is None else cpus
        self.stat = stat
        self._start = None

    def start(self):
        self._start = (cpu_ticks(self.cpus, self.stat), own_cpu_seconds(), time.perf_counter())
        return self

    def stop(self):
        """Cores' worth of CPU other processes used meanwhile (e.g. 0.4), or None."""
        ticks0, own0, wall0 = self._start
        ticks1 = cpu_ticks(self.cpus, self.stat)
        wall = time.perf_counter() - wall0
        if ticks0 is None or ticks1 is None or wall <= 0:
            return None
        try:
            hz = os.sysconf("SC_CLK_TCK")
        except (AttributeError, ValueError, OSError):
            hz = 100
        machine = (ticks1 - ticks0) / float(hz)
        return max(0.0, (machine - (own_cpu_seconds() - own0)) / wall)


def is_busy(other_cpu, usable):
    """Whether others took more than BUSY_THRESHOLD of the CPUs we could use."""
    if other_cpu is None:
        return None
    return other_cpu > BUSY_THRESHOLD * max(1.0, usable)


def gil_enabled():
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def free_threaded_build():
    """Built without the GIL (Py_GIL_DISABLED), even if the GIL was re-enabled at run time."""
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def environment():
    """Where and under what conditions the figures were measured."""
    affinity = None
    if hasattr(os, "sched_getaffinity"):
        affinity = len(os.sched_getaffinity(0))
    quota = cpu_quota()
    build_no, build_date = platform.python_build()
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "affinity": affinity,
        "cpu_quota": quota,
        "usable_cpus": usable_cpus(affinity or os.cpu_count() or 1, quota),
        "memory_total": _memory_total(),
        "machine": platform.machine(),
        "os": platform.system(),
        "kernel": platform.release(),
        "platform": platform.platform(),
        "python_version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "python_build": "%s (%s)" % (build_no, build_date),
        "compiler": platform.python_compiler(),
        "gil_enabled": gil_enabled(),
        "free_threaded_build": free_threaded_build(),
        "switch_interval": sys.getswitchinterval(),
        "start_method": multiprocessing.get_context().get_start_method(),
        "start_methods": multiprocessing.get_all_start_methods(),
        "load_before": _loadavg(),
    }
