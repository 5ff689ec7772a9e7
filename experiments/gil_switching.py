"""GIL switching: threads are preempted, not cooperative.

A CPU-bound thread that never blocks and never yields runs a pure-Python
loop.  Meanwhile the main thread (the "I/O thread") sleeps for a requested
time again and again and measures how late it wakes up: while it sleeps it
has released the GIL; when its sleep ends it must get the GIL back from the
busy thread.  CPython makes the busy thread hand over the GIL once the waiter
has waited one switch interval (sys.getswitchinterval(), 5 ms by default), so
the extra latency tracks the switch interval.  A cooperative scheduler would
never get the waiter back while the busy thread loops.

How the hand-off works (Python/ceval_gil.c): a thread that wants the GIL
waits one switch interval on a condition variable, then sets a drop request;
the holder drops the GIL at its next eval-breaker check (a call, a function
entry, a backward jump), which can come arbitrarily late inside one long C
call; and the OS, not CPython, picks which waiting thread runs next, so with
several busy threads one wake-up can take several intervals.

Conditions:
  idle      no busy thread (baseline: the OS timer and wake-up cost only)
  default   1 busy thread, switch interval left at its default (5 ms)
  busy2     2 busy threads, default interval
  busy4     4 busy threads, default interval
  short     1 busy thread, switch interval set to `short_interval` (0.5 ms)
  long      1 busy thread, switch interval set to `long_interval` (20 ms)
  ccall     1 thread inside one long C call that never checks the eval
            breaker (`sum(range(ccall_n))`, calibrated to `ccall_seconds`)

Second part, preemption counted: two busy threads each run a tight loop
that never yields and note whenever the other thread ran since its own last
step.  Each run's hand-overs are divided by that run's own measured elapsed
time (never by the nominal `preempt_seconds`), so a count and its slice
always come from the same run.  On a free-threaded build both spinners run
at once and the "hand-overs" count interleavings, not GIL switches.

Metrics (COND is idle, default, busy2, busy4, short, long or ccall; each
latency metric's samples are individual wake-ups, not repeats):
  wakeup.COND.latency       s  actual sleep time minus requested (extra wake-up delay)
  wakeup.COND.actual        s  actual time asleep
  wakeup.COND.p95           s  95th percentile of the extra delay (the tail)
  ccall.seconds             s  how long the long C call takes alone (no other thread)
  wakeup.requested          s  requested sleep per wake-up
  interval.default          s  the interpreter's switch interval at start
  interval.short            s  the short switch interval used
  interval.long             s  the long switch interval used
  preempt.default.switches  -  hand-overs between two never-yielding busy threads in one run
  preempt.default.elapsed   s  that run's measured elapsed time
  preempt.default.slice     s  mean time one busy thread ran before being preempted (the run's
                               elapsed / its switches)
  preempt.short.switches    -  the same at the short switch interval
  preempt.short.elapsed     s  the same at the short switch interval
  preempt.short.slice       s  the same at the short switch interval
  preempt.seconds           s  requested run time of each preemption count
  busy.default.progress     -  loop steps the busy thread made during the `default` condition (it was not starved)

Facts: `gil_enabled` (bool), `preempt.default.run` / `preempt.short.run`
({switches, elapsed} of the run with the median rate: one real run, quoted whole).  On a free-threaded build (no GIL) the busy
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


class CCall(Busy):
    """A thread that spends its time inside single long C calls: no eval-breaker check inside."""

    def __init__(self, n):
        Busy.__init__(self)
        self.n = n

    def run(self):
        self.running.set()
        steps = 0
        while not self.stop:
            sum(range(self.n))
            steps += 1
        self.steps = steps


def wakeups(count, requested, interval=None, busy=1, ccall_n=0):
    """Sleep ``count`` times for ``requested`` s beside ``busy`` busy threads; return durations, steps."""
    old = sys.getswitchinterval()
    if interval is not None:
        sys.setswitchinterval(interval)
    workers = []
    try:
        for _ in range(busy):
            worker = CCall(ccall_n) if ccall_n else Busy()
            worker.start()
            worker.running.wait()
            workers.append(worker)
        actual = []
        for _ in range(count):
            t0 = time.perf_counter()
            time.sleep(requested)
            actual.append(time.perf_counter() - t0)
    finally:
        for worker in workers:
            worker.stop = True
        for worker in workers:
            worker.join()
        sys.setswitchinterval(old)
    return actual, sum(w.steps for w in workers)


def calibrate_ccall(seconds):
    """``n`` such that ``sum(range(n))`` takes about ``seconds`` alone."""
    n = 100000
    while True:
        t0 = time.perf_counter()
        sum(range(n))
        elapsed = time.perf_counter() - t0
        if elapsed > 0.01:
            return max(1, int(n * seconds / elapsed))
        n *= 4


def p95(samples):
    data = sorted(samples)
    return data[min(len(data) - 1, int(round(0.95 * (len(data) - 1))))]


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

    ccall_n = calibrate_ccall(p["ccall_seconds"])
    t0 = time.perf_counter()
    sum(range(ccall_n))
    ctx.record("ccall.seconds", time.perf_counter() - t0, "s")
    conditions = (
        ("idle", None, 0, p["count"], 0),
        ("short", p["short_interval"], 1, p["count"], 0),
        ("default", None, 1, p["count"], 0),
        ("busy2", None, 2, p["count_many"], 0),
        ("busy4", None, 4, p["count_many"], 0),
        ("long", p["long_interval"], 1, p["long_count"], 0),
        ("ccall", None, 1, p["ccall_count"], ccall_n),
    )
    wakeups(5, requested, busy=0)  # warm-up: timer, thread machinery
    for name, interval, busy, count, n in conditions:
        actual, steps = wakeups(count, requested, interval, busy, n)
        late = [a - requested for a in actual]
        ctx.record_samples("wakeup.%s.actual" % name, actual, "s")
        ctx.record_samples("wakeup.%s.latency" % name, late, "s")
        ctx.record("wakeup.%s.p95" % name, p95(late), "s")
        if name == "default":
            ctx.record("busy.default.progress", steps, "")

    seconds = p["preempt_seconds"]
    ctx.record("preempt.seconds", seconds, "s")
    for name, interval in (("default", default), ("short", p["short_interval"])):
        runs = [count_switches(seconds, interval) for _ in range(p["preempt_repeats"])]
        rates = [n / elapsed for n, elapsed in runs]
        ctx.record_samples("preempt.%s.switches" % name, [n for n, _ in runs], "")
        ctx.record_samples("preempt.%s.elapsed" % name, [e for _, e in runs], "s")
        ctx.record_samples("preempt.%s.slice" % name, [e / n if n else e for n, e in runs], "s")
        middle = sorted(range(len(runs)), key=lambda i: rates[i])[len(runs) // 2]
        ctx.fact("preempt.%s.run" % name, {"switches": runs[middle][0], "elapsed": runs[middle][1]})


PARAMS = {
    "quick": {"sleep": 0.001, "count": 10, "count_many": 5, "long_count": 3, "short_interval": 0.0005,
              "long_interval": 0.02, "ccall_seconds": 0.02, "ccall_count": 3,
              "preempt_seconds": 0.03, "preempt_repeats": 1},
    "full": {"sleep": 0.001, "count": 150, "count_many": 60, "long_count": 30, "short_interval": 0.0005,
             "long_interval": 0.02, "ccall_seconds": 0.2, "ccall_count": 10,
             "preempt_seconds": 0.2, "preempt_repeats": 5},
}

if __name__ == "__main__":
    main(run, __doc__, params=PARAMS, budget={"quick": 1.0, "full": 12.0})
