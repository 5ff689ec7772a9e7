"""Race conditions: lost updates on a shared counter, and what a lock costs.

Several threads increment one shared counter (an attribute of a shared
object) a fixed number of times each; every update that another thread
overwrote is lost: lost = expected - final value.  Variants:

  plain       `counter += 1`, switch interval left at its default.  On CPython
              3.10+ the interpreter only hands the GIL over at a loop's backward
              jump or a call, never between the load and the store of `+=`, so
              lost updates are rare there (often zero); 3.9 and older, and
              free-threaded builds, lose many.
  plain_tiny  the same with sys.setswitchinterval(1e-6): switches as often as
              the interpreter can, still only at those points.
  property    `counter.value += 1` where `value` is a property: the getter and
              the setter are Python calls, so a switch can fall between the
              read and the write even on 3.10+ with the GIL.
  dict_item   `d["k"] += 1` on a shared dict (built-in type, like plain).
  append      `shared_list.append(1)`: one call into C that holds the list's
              lock (the GIL, or on free-threaded builds the list's own
              per-object lock); nothing should be lost anywhere.
  gap         read-modify-write with a function call between read and write
              (`tmp = counter; f(); counter = tmp + 1`), switch interval 1e-6: a
              switch can fall between read and write, as in real code that does
              anything between reading shared state and writing it back.
  yield       read-modify-write with a deliberate yield point between read and
              write: `time.sleep(yield_sleep)` (10 us), a blocking call that
              releases the GIL.  (`time.sleep(0)` is not a reliable yield on 3.10
              and older: it may take the GIL straight back.)
  locked      the `yield` variant with a threading.Lock held around the whole
              read-modify-write: nothing is lost.

Lock cost (per increment, loop overhead included, one counter):
  unlocked `counter += 1`; locked `with lock: counter += 1` on one thread
  (uncontended) and on 2 and 4 threads sharing the lock (contended; wall time
  divided by all increments).

Metrics (VARIANT is plain, plain_tiny, property, dict_item, append, gap, yield or locked):
  VARIANT.lost              -  updates lost in one run (expected - final)
  VARIANT.lost_pct          %  lost updates as a percentage of expected
  VARIANT.expected          -  increments attempted in one run (threads x per-thread)
  threads                   -  threads incrementing in the lost-update runs
  cost.unlocked             s  time per unlocked increment, 1 thread
  cost.unlocked.2threads    s  time per unlocked increment, 2 threads (GIL hand-overs only)
  cost.locked.uncontended   s  time per locked increment, 1 thread
  cost.locked.2threads      s  time per locked increment, 2 threads sharing the lock
  cost.locked.4threads      s  time per locked increment, 4 threads sharing the lock
  cost.lock.overhead        s  locked.uncontended - unlocked (paired per repeat)
  cost.lock.ratio           x  locked.uncontended / unlocked
  cost.lock.contention      x  locked.2threads / locked.uncontended

Facts: `gil_enabled` (bool), `plain_lost_any` (bool: did plain `+=` lose
anything in any run), `lost_any` ({VARIANT: bool}, the same for every variant),
`switch_interval` default (float).
"""

from __future__ import annotations

import sys
import threading
import time

from _harness import gil_enabled, main


class Counter(object):
    def __init__(self):
        self.value = 0
        self.items = []
        self.d = {"k": 0}


class PropertyCounter(object):
    """A counter whose attribute is a property: every += runs two Python-level calls."""

    def __init__(self):
        self._value = 0

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, v):
        self._value = v


def _dict_item(c, n, lock):
    d = c.d
    for _ in range(n):
        d["k"] += 1


def _append(c, n, lock):
    items = c.items
    for _ in range(n):
        items.append(1)


def _final(c):
    """The count a variant reached, whatever container it used."""
    if isinstance(c, PropertyCounter):
        return c._value
    return c.value or len(c.items) or c.d["k"]


def _nothing():
    return None


def _plain(c, n, lock):
    for _ in range(n):
        c.value += 1


def _gap(c, n, lock):
    f = _nothing
    for _ in range(n):
        tmp = c.value
        f()
        c.value = tmp + 1


YIELD_SLEEP = 1e-5


def _yield(c, n, lock):
    sleep, pause = time.sleep, YIELD_SLEEP
    for _ in range(n):
        tmp = c.value
        sleep(pause)
        c.value = tmp + 1


def _yield_locked(c, n, lock):
    sleep, pause = time.sleep, YIELD_SLEEP
    for _ in range(n):
        with lock:
            tmp = c.value
            sleep(pause)
            c.value = tmp + 1


def _locked(c, n, lock):
    for _ in range(n):
        with lock:
            c.value += 1


def race(body, threads, per_thread, interval=None, factory=Counter):
    """Run ``body`` on ``threads`` threads at once; return (final count, wall time)."""
    c = factory()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def worker():
        start.wait()
        body(c, per_thread, lock)

    old = sys.getswitchinterval()
    if interval is not None:
        sys.setswitchinterval(interval)
    try:
        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in pool:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        sys.setswitchinterval(old)
    return _final(c), wall


def run(ctx):
    p = ctx.params
    ctx.fact("gil_enabled", gil_enabled())
    ctx.fact("switch_interval", sys.getswitchinterval())
    nthreads = p["threads"]
    ctx.record("threads", nthreads, "")
    variants = (
        ("plain", _plain, p["n_plain"], None, Counter),
        ("plain_tiny", _plain, p["n_plain"], 1e-6, Counter),
        ("property", _plain, p["n_plain"], None, PropertyCounter),
        ("dict_item", _dict_item, p["n_plain"], None, Counter),
        ("append", _append, p["n_plain"], None, Counter),
        ("gap", _gap, p["n_gap"], 1e-6, Counter),
        ("yield", _yield, p["n_yield"], None, Counter),
        ("locked", _yield_locked, p["n_yield"], None, Counter),
    )
    race(_plain, 2, 1000)  # warm-up: thread start, code paths
    lost_any = {}
    budget = ctx.remaining() * p["race_share"]
    for name, body, n, interval, factory in variants:
        expected = nthreads * n
        ctx.record(name + ".expected", expected, "")

        def once(body=body, n=n, interval=interval, expected=expected, name=name, factory=factory):
            final, _ = race(body, nthreads, n, interval, factory)
            lost = expected - final
            return {name + ".lost": lost, name + ".lost_pct": 100.0 * lost / expected}

        ctx.measure(once, {name + ".lost": "", name + ".lost_pct": "%"}, warmup=0,
                    min_repeats=p["min_repeats"], max_repeats=p["max_repeats"],
                    budget=budget / len(variants))
        lost_any[name] = any(v > 0 for v in ctx.metrics[name + ".lost"]["samples"])
    ctx.fact("plain_lost_any", lost_any["plain"])
    ctx.fact("lost_any", lost_any)

    ops = p["n_cost"]

    def cost():
        out = {}
        _, wall = race(_plain, 1, ops)
        out["cost.unlocked"] = wall / ops
        _, wall = race(_plain, 2, ops // 2)
        out["cost.unlocked.2threads"] = wall / ops
        _, wall = race(_locked, 1, ops)
        out["cost.locked.uncontended"] = wall / ops
        _, wall = race(_locked, 2, ops // 2)
        out["cost.locked.2threads"] = wall / ops
        _, wall = race(_locked, 4, ops // 4)
        out["cost.locked.4threads"] = wall / ops
        out["cost.lock.overhead"] = out["cost.locked.uncontended"] - out["cost.unlocked"]
        out["cost.lock.ratio"] = out["cost.locked.uncontended"] / out["cost.unlocked"]
        out["cost.lock.contention"] = out["cost.locked.2threads"] / out["cost.locked.uncontended"]
        return out

    units = {"cost.lock.ratio": "x", "cost.lock.contention": "x"}
    for key in ("cost.unlocked", "cost.unlocked.2threads", "cost.locked.uncontended",
                "cost.locked.2threads", "cost.locked.4threads", "cost.lock.overhead"):
        units[key] = "s"
    ctx.measure(cost, units, warmup=1, min_repeats=p["min_repeats"], max_repeats=p["max_repeats"],
                budget=ctx.remaining() * 0.6)


PARAMS = {
    "quick": {"threads": 4, "n_plain": 5000, "n_gap": 2000, "n_yield": 30, "n_cost": 20000,
              "min_repeats": 1, "max_repeats": 2, "race_share": 0.5},
    "full": {"threads": 4, "n_plain": 100000, "n_gap": 50000, "n_yield": 300, "n_cost": 200000,
             "min_repeats": 5, "max_repeats": 15, "race_share": 0.5},
}

if __name__ == "__main__":
    main(run, __doc__, params=PARAMS, budget={"quick": 0.8, "full": 5.0})
