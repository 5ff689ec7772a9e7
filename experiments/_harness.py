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
import statistics
import sys
import time

# Re-exported: experiments import these from the harness.
from _machine import (  # noqa: F401
    BUSY_THRESHOLD,
    CpuWatch,
    _loadavg,
    environment,
    free_threaded_build,
    gil_enabled,
    is_busy,
)

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
