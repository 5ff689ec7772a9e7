"""Measurement harness shared by every vaultgen benchmark experiment.

Standard library only, and compatible with Python 3.8+, because experiments
run under whatever interpreter the user points vaultgen at.

An experiment module defines a function ``run(ctx)`` and ends with::

    if __name__ == "__main__":
        main(run, __doc__, params={"quick": {...}, "full": {...}})

Run alone it prints a readable table; with ``--json`` it prints the result
document; vaultgen itself passes ``--json-out FILE`` so that output printed
by the experiment (or its child processes) never mixes with the document.

Measurement discipline (after pyperf and pytest-benchmark): warm-up calls
that are not recorded, then repeats until every metric is stable
(IQR/median under the noise threshold) or the time budget is spent, never
fewer than ``min_repeats``.  Each metric keeps its raw samples and is
summarised as median, quartiles, min, max and n.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time

SCHEMA_VERSION = 1
NOISE_THRESHOLD = 0.10
PROFILES = ("quick", "full")


# -- statistics ---------------------------------------------------------------


def quantile(sorted_samples, q):
    """Linear-interpolation quantile (numpy's default) of sorted samples."""
    if not sorted_samples:
        raise ValueError("no samples")
    pos = (len(sorted_samples) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_samples) - 1)
    return sorted_samples[lo] + (sorted_samples[hi] - sorted_samples[lo]) * (pos - lo)


def summarize(samples, unit, threshold=NOISE_THRESHOLD):
    """Median, quartiles, extremes and a noise flag for a list of samples."""
    data = sorted(float(x) for x in samples)
    median = statistics.median(data)
    q1, q3 = quantile(data, 0.25), quantile(data, 0.75)
    spread = (q3 - q1) / abs(median) if median else 0.0
    return {
        "median": median,
        "q1": q1,
        "q3": q3,
        "min": data[0],
        "max": data[-1],
        "n": len(data),
        "unit": unit,
        "noisy": len(data) > 1 and spread > threshold,
        "samples": [float(x) for x in samples],
    }


def relative_iqr(samples):
    data = sorted(samples)
    median = statistics.median(data)
    if not median:
        return 0.0
    return (quantile(data, 0.75) - quantile(data, 0.25)) / abs(median)


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


# -- parallel capacity ----------------------------------------------------------


def spin(iterations):
    """Pure-Python busy loop: the unit of CPU work for capacity probes."""
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


def calibrate_spin(seconds):
    """Iterations of ``spin`` that take about ``seconds`` on this machine.

    The final rate is the best of three timings, so a moment of preemption
    on a busy machine does not shrink the work of a whole run.
    """
    n = 20000
    while True:
        t0 = time.perf_counter()
        spin(n)
        elapsed = time.perf_counter() - t0
        if elapsed > 0.02:
            break
        n *= 2
    n = max(1, int(n * seconds / 2 / elapsed))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        spin(n)
        best = min(best, time.perf_counter() - t0)
    return max(1, int(n * seconds / best))


def thread_stack_facts(ctx):
    """Record what a thread's stack reserves: threading.stack_size() and RLIMIT_STACK."""
    import threading

    ctx.fact("thread_stack_size", threading.stack_size())
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_STACK)[0]
        ctx.fact("rlimit_stack", None if soft == resource.RLIM_INFINITY else soft)
    except (ImportError, OSError, ValueError):
        ctx.fact("rlimit_stack", None)


# -- the run context ------------------------------------------------------------


class Context(object):
    """What an experiment's ``run`` receives: parameters and a recorder."""

    def __init__(self, profile, params, budget, verbose):
        self.profile = profile
        self.params = params
        self.budget = budget
        self.verbose = verbose
        self.started = time.perf_counter()
        self.metrics = {}
        self.facts = {}
        self.unavailable_items = {}
        self.outputs = {}
        self.environment_extra = {}

    # Budget: each measure() call may spend a share of what is left.
    def remaining(self):
        return max(0.0, self.budget - (time.perf_counter() - self.started))

    def measure(self, fn, units, warmup=1, min_repeats=5, max_repeats=50, budget=None,
                threshold=NOISE_THRESHOLD):
        """Call ``fn()`` repeatedly; it returns ``{metric: value}`` each time.

        ``units`` maps each metric name to its unit.  Repeats stop once every
        metric is stable and ``min_repeats`` are in, or when ``budget``
        seconds (default: a fifth of what is left) are spent.
        """
        if budget is None:
            budget = self.remaining() / 5.0
        for _ in range(warmup):
            fn()
        samples = {}
        t0 = time.perf_counter()
        n = 0
        while True:
            values = fn()
            n += 1
            for name, value in values.items():
                samples.setdefault(name, []).append(value)
            if n >= max_repeats:
                break
            elapsed = time.perf_counter() - t0
            if n >= min_repeats:
                stable = all(relative_iqr(s) <= threshold for s in samples.values())
                if stable or elapsed >= budget:
                    break
            # Never exceed the budget by more than one more repeat would cost.
            if n >= 3 and elapsed + elapsed / n > budget * 2:
                break
        for name, values in samples.items():
            self.record_samples(name, values, units.get(name, ""))
        return {name: statistics.median(v) for name, v in samples.items()}

    def record_samples(self, name, samples, unit):
        if not samples:
            raise ValueError("metric %r has no samples" % name)
        self.metrics[name] = summarize(samples, unit)
        if self.verbose:
            m = self.metrics[name]
            print("  %-40s %12.6g %-6s (IQR %.3g..%.3g, n=%d)%s" % (
                name, m["median"], unit, m["q1"], m["q3"], m["n"],
                "  NOISY" if m["noisy"] else ""), flush=True)

    def record(self, name, value, unit):
        """A single observation (a count, a limit) rather than a timing."""
        self.record_samples(name, [value], unit)

    def fact(self, name, value):
        """A non-numeric observation: an exception text, a flag, a list."""
        self.facts[name] = value

    def unavailable(self, name, reason):
        """Something this platform cannot do; rendered as 'not available here'."""
        self.unavailable_items[name] = str(reason)
        if self.verbose:
            print("  %-40s not available here: %s" % (name, reason), flush=True)

    def output(self, name, text):
        self.outputs[name] = text

    def measure_capacity(self, workers=2, seconds=0.1, repeats=7):
        """How much faster ``workers`` busy processes finish than one.

        On a shared VM the nominal core count overstates real parallelism;
        speedups are quoted against this measured capacity as well.
        """
        if workers < 2 or (os.cpu_count() or 1) < 2:
            self.unavailable("capacity.parallel", "fewer than two CPUs")
            return None
        iterations = calibrate_spin(seconds)
        ctx = multiprocessing.get_context()
        with ctx.Pool(workers) as pool:
            pool.map(spin, [1000] * workers)

            def probe():
                t0 = time.perf_counter()
                pool.map(spin, [iterations], chunksize=1)
                one = time.perf_counter() - t0
                t0 = time.perf_counter()
                pool.map(spin, [iterations] * workers, chunksize=1)
                many = time.perf_counter() - t0
                return {"capacity.parallel": workers * one / many}

            medians = self.measure(probe, {"capacity.parallel": "x"}, warmup=1,
                                   min_repeats=repeats, max_repeats=repeats * 2,
                                   budget=seconds * (workers + 1) * repeats * 1.5)
        capacity = medians["capacity.parallel"]
        self.environment_extra["parallel_capacity"] = capacity
        return capacity


# -- entry point ------------------------------------------------------------------


def _coerce(text, default):
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    if isinstance(default, (list, tuple)):
        return [_coerce(part, default[0] if default else "") for part in text.split(",")]
    return text


def parse_args(argv, params):
    parser = argparse.ArgumentParser(description="Run this experiment and print its figures.")
    parser.add_argument("--profile", choices=PROFILES, default="full",
                        help="parameter set: quick (seconds, for tests) or full (default)")
    parser.add_argument("--json", action="store_true", help="print the result document as JSON")
    parser.add_argument("--json-out", metavar="FILE", help="write the result document to FILE")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="override one parameter of the profile")
    args = parser.parse_args(argv)
    chosen = dict(params[args.profile])
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or key not in chosen:
            parser.error("unknown parameter %r; known: %s" % (key, ", ".join(sorted(chosen))))
        chosen[key] = _coerce(value, chosen[key])
    return args, chosen


def main(run, doc, params, budget=None, argv=None):
    """Run ``run(ctx)`` with the chosen profile and emit the result document.

    A reader that goes away (``| head``) ends the script quietly: stdout is
    pointed at /dev/null so the final flush cannot fail again (the recipe in
    the docs of the signal module), and the exit status is 128 + SIGPIPE.
    """
    try:
        return _main(run, doc, params, budget, argv)
    except BrokenPipeError:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        sys.exit(141)


def _main(run, doc, params, budget, argv):
    args, chosen = parse_args(sys.argv[1:] if argv is None else argv, params)
    budgets = budget or {"quick": 1.5, "full": 8.0}
    name = os.path.splitext(os.path.basename(sys.modules["__main__"].__file__))[0]
    verbose = not args.json
    if verbose:
        print("%s (%s profile)" % (name, args.profile), flush=True)
    env = environment()
    ctx = Context(args.profile, chosen, float(chosen.get("budget", budgets[args.profile])), verbose)
    t0 = time.perf_counter()
    watch = CpuWatch().start()
    run(ctx)
    env["other_cpu"] = watch.stop()
    env["busy"] = is_busy(env["other_cpu"], env["usable_cpus"])
    env["busy_threshold"] = BUSY_THRESHOLD
    env["load_after"] = _loadavg()
    env.update(ctx.environment_extra)
    env["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = {
        "schema": SCHEMA_VERSION,
        "experiment": name,
        "kind": "benchmark",
        "title": (doc or name).strip().splitlines()[0],
        "profile": args.profile,
        "parameters": chosen,
        "environment": env,
        "metrics": ctx.metrics,
        "facts": ctx.facts,
        "unavailable": ctx.unavailable_items,
        "outputs": ctx.outputs,
        "duration": time.perf_counter() - t0,
    }
    text = json.dumps(document, indent=1, sort_keys=True)
    if args.json_out:
        tmp = args.json_out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.json_out)
    if args.json:
        print(text)
    return document
