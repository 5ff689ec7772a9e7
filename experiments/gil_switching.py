"""GIL switching: threads are preempted, not cooperative.

A CPU-bound thread that never blocks and never yields runs a pure-Python
loop.  Meanwhile the main thread (the "I/O thread") sleeps for a requested
time again and again and measures how late it wakes up: while it sleeps it
has released the GIL; when its sleep ends it must get the GIL back from the
busy thread.  CPython makes the busy thread hand over the GIL once the waiter
has waited one switch interval (sys.getswitchinterval(), 5 ms by default), so
the extra latency tracks the switch interval.  A cooperative scheduler would
never get the waiter back while the busy thread loops.

Conditions:
  idle      no busy thread (baseline: the OS timer and wake-up cost only)
  default   busy thread, switch interval left at its default (5 ms)
  short     busy thread, switch interval set to `short_interval` (0.5 ms)
  long      busy thread, switch interval set to `long_interval` (20 ms)

Second part, preemption counted: two busy threads each run a tight loop
that never yields and note whenever the other thread ran since its own last
step; the number of such hand-overs in a fixed run time, and the mean time
slice between them, show forced switches at about every switch interval.

Metrics (COND is idle, default, short or long; each latency metric's
samples are individual wake-ups, not repeats):
  wakeup.COND.latency       s  actual sleep time minus requested (extra wake-up delay)
  wakeup.COND.actual        s  actual time asleep
  wakeup.requested          s  requested sleep per wake-up
  interval.default          s  the interpreter's switch interval at start
  interval.short            s  the short switch interval used
  interval.long             s  the long switch interval used
  preempt.default.switches  -  hand-overs between two never-yielding busy threads in `preempt_seconds`
  preempt.default.slice     s  mean time one busy thread ran before being preempted
  preempt.short.switches    -  the same at the short switch interval
  preempt.short.slice       s  the same at the short switch interval
  preempt.seconds           s  run time of each preemption count
  busy.default.progress     -  loop steps the busy thread made during the `default` condition (it was not starved)

Facts: `gil_enabled` (bool).  On a free-threaded build (no GIL) the busy
thread does not delay the waiter and the switch interval has no effect.
"""

from __future__ import annotations

import sys
import threading
import time

from _harness import gil_enabled, main


class Busy(threading.Thread):
    """A thread that never blocks, never yields: a pure-Python loop."""

    def __init__(self):
        threading.Thread.__init__(self, daemon=True)
        self.stop = False
        self.steps = 0
        self.running = threading.Event()

    def run(self):
        self.running.set()
        steps = 0
        while not self.stop:
            steps += 1
        self.steps = steps


def wakeups(count, requested, interval=None, busy=True):
    """Sleep ``count`` times for ``requested`` s; return actual durations and busy steps."""
    old = sys.getswitchinterval()
    if interval is not None:
        sys.setswitchinterval(interval)
    worker = None
    try:
        if busy:
            worker = Busy()
            worker.start()
            worker.running.wait()
        actual = []
        for _ in range(count):
            t0 = time.perf_counter()
            time.sleep(requested)
            actual.append(time.perf_counter() - t0)
    finally:
        if worker is not None:
            worker.stop = True
            worker.join()
        sys.setswitchinterval(old)
    return actual, (worker.steps if worker is not None else 0)


def count_switches(seconds, interval):
    """Two never-yielding threads; count how often the GIL moved between them."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    state = {"last": None, "stop": False}
    switches = [0, 0]
    start = threading.Barrier(3)

    def spinner(me):
        start.wait()
        n = 0
        while not state["stop"]:
            if state["last"] != me:
                state["last"] = me
                n += 1
        switches[me] = n

    threads = [threading.Thread(target=spinner, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        time.sleep(seconds)  # the main thread blocks: only the two spinners compete
        state["stop"] = True
        elapsed = time.perf_counter() - t0
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    # Each spinner counts the times it resumed after the other ran; the first
    # entry of each is a start, not a preemption.
    total = max(0, switches[0] + switches[1] - 2)
    return total, elapsed


def run(ctx):
    p = ctx.params
    ctx.fact("gil_enabled", gil_enabled())
    requested = p["sleep"]
    default = sys.getswitchinterval()
    ctx.record("wakeup.requested", requested, "s")
    ctx.record("interval.default", default, "s")
    ctx.record("interval.short", p["short_interval"], "s")
    ctx.record("interval.long", p["long_interval"], "s")

    conditions = (
        ("idle", None, False, p["count"]),
        ("short", p["short_interval"], True, p["count"]),
        ("default", None, True, p["count"]),
        ("long", p["long_interval"], True, p["long_count"]),
    )
    wakeups(5, requested, busy=False)  # warm-up: timer, thread machinery
    for name, interval, busy, count in conditions:
        actual, steps = wakeups(count, requested, interval, busy)
        ctx.record_samples("wakeup.%s.actual" % name, actual, "s")
        ctx.record_samples("wakeup.%s.latency" % name, [a - requested for a in actual], "s")
        if name == "default":
            ctx.record("busy.default.progress", steps, "")

    seconds = p["preempt_seconds"]
    ctx.record("preempt.seconds", seconds, "s")
    for name, interval in (("default", default), ("short", p["short_interval"])):
        counts, slices = [], []
        for _ in range(p["preempt_repeats"]):
            n, elapsed = count_switches(seconds, interval)
            counts.append(n)
            slices.append(elapsed / n if n else elapsed)
        ctx.record_samples("preempt.%s.switches" % name, counts, "")
        ctx.record_samples("preempt.%s.slice" % name, slices, "s")


PARAMS = {
    "quick": {"sleep": 0.001, "count": 10, "long_count": 3, "short_interval": 0.0005,
              "long_interval": 0.02, "preempt_seconds": 0.03, "preempt_repeats": 1},
    "full": {"sleep": 0.001, "count": 150, "long_count": 30, "short_interval": 0.0005,
             "long_interval": 0.02, "preempt_seconds": 0.2, "preempt_repeats": 3},
}

if __name__ == "__main__":
    main(run, __doc__, params=PARAMS, budget={"quick": 1.0, "full": 6.0})
