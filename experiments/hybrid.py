"""A mixed pipeline (network I/O, then CPU work, per item) under five concurrency models.

Each item first fetches a response from a real HTTP server on 127.0.0.1 (started by this
experiment in its own process on port 0, answering every request after a fixed delay), then
does pure-Python CPU work on it.  The same items run sequentially, with one thread per item,
with a process pool of one worker per usable core and with a process pool of one worker per
item (each worker doing fetch + work: the per-item pool is the single model at its best, since
every fetch can be in flight at once), with asyncio fetching and the per-core process pool
computing (``loop.run_in_executor``), and with threads fetching and the same process pool
computing.  Process pools are started before timing; the thread pools (one thread per item)
are created inside the timed region, as a program that starts them per batch would.  Speedups
are paired (sequential and model timed in the same repeat).

Metrics:
  sequential.wall          s   wall time of the whole pipeline, one item after another
  sequential.io            s   time the sequential run spent fetching (sum over items)
  sequential.cpu           s   time the sequential run spent computing (sum over items)
  threads.wall             s   one thread per item, fetch + work in the thread
  processes.wall           s   process pool (usable cores workers), fetch + work in the worker
  processes_wide.wall      s   process pool of one worker per item, fetch + work in the worker
  asyncio_pool.wall        s   asyncio fetches all items, CPU work via run_in_executor(process pool)
  threads_pool.wall        s   threads fetch, CPU work submitted to the same process pool
  <model>.speedup          x   sequential.wall / <model>.wall, same repeat (model as above)
  ideal.wall               s   critical path: one fetch + all CPU work spread over the usable
                               cores (from the same repeat's sequential fetch and work times)
  ideal.speedup            x   sequential.wall / ideal.wall
  <model>.of_ideal         x   <model>.wall / ideal.wall (1.0 = as good as the critical path)
  capacity.parallel        x   measured parallel capacity (2 busy processes vs 1)

Facts: items, workers (per-core process pool size), wide_workers (per-item pool size), usable_cores, delay (server delay per response, s),
cpu_per_item (target CPU seconds per item), models (names in display order), http_status,
pool_start_method (forkserver where the platform has it, else its default: the second pool's
workers start while the first pool's manager thread runs, and fork must not start them then).
Unavailable keys: http (the local server could not start or answer: every pipeline metric),
processes (a process pool could not start: processes, processes_wide, asyncio_pool, threads_pool).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import time

from _harness import calibrate_spin, main, spin


MODELS = ("threads", "processes", "processes_wide", "asyncio_pool", "threads_pool")


# -- the local HTTP server (runs in its own process, so it never competes for our GIL) -----------


def _serve(conn, delay, queue_size):
    """Child process: serve GET requests on 127.0.0.1:0, each answered after ``delay`` s."""
    try:
        from http.server import BaseHTTPRequestHandler, HTTPServer
        from socketserver import ThreadingMixIn

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                time.sleep(delay)
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingMixIn, HTTPServer):
            daemon_threads = True
            request_queue_size = queue_size
            allow_reuse_address = True

        server = Server(("127.0.0.1", 0), Handler)
    except Exception as exc:  # a blocked port or missing permission: report, don't crash
        conn.send(("error", "%s: %s" % (type(exc).__name__, exc)))
        return
    conn.send(("ok", server.server_address[1]))
    server.serve_forever(poll_interval=0.05)


def start_server(delay, queue_size=256, timeout=10.0):
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=_serve, args=(child, delay, queue_size), daemon=True)
    proc.start()
    if not parent.poll(timeout):
        proc.terminate()
        raise OSError("the HTTP server did not report its port within %.0f s" % timeout)
    status, value = parent.recv()
    if status != "ok":
        proc.join(1.0)
        raise OSError(value)
    return proc, value


# -- one item: fetch, then compute ---------------------------------------------------------------


def fetch(port):
    """Blocking HTTP GET of the local server; returns the status code."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/item")
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


async def afetch(port):
    """The same GET with asyncio streams (no third-party client)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /item HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (AttributeError, OSError):
            pass
    return int(data.split(b" ", 2)[1])


def fetch_and_compute(port, iterations):
    """A whole item, as a process-pool worker runs it."""
    status = fetch(port)
    spin(iterations)
    return status


# -- the models ------------------------------------------------------------------------------------


def run_sequential(port, items, iterations):
    io = cpu = 0.0
    t_start = time.perf_counter()
    for _ in range(items):
        t0 = time.perf_counter()
        fetch(port)
        t1 = time.perf_counter()
        spin(iterations)
        t2 = time.perf_counter()
        io += t1 - t0
        cpu += t2 - t1
    return time.perf_counter() - t_start, io, cpu


def run_threads(port, items, iterations):
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=items) as tpool:
        list(tpool.map(lambda _: fetch_and_compute(port, iterations), range(items)))
    return time.perf_counter() - t0


def run_processes(ppool, port, items, iterations):
    t0 = time.perf_counter()
    list(ppool.map(fetch_and_compute, [port] * items, [iterations] * items))
    return time.perf_counter() - t0


def run_asyncio_pool(ppool, port, items, iterations):
    async def item(loop):
        await afetch(port)
        return await loop.run_in_executor(ppool, spin, iterations)

    async def pipeline():
        loop = asyncio.get_event_loop()
        await asyncio.gather(*(item(loop) for _ in range(items)))

    t0 = time.perf_counter()
    asyncio.run(pipeline())
    return time.perf_counter() - t0


def run_threads_pool(ppool, port, items, iterations):
    def item(_):
        fetch(port)
        return ppool.submit(spin, iterations).result()

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=items) as tpool:
        list(tpool.map(item, range(items)))
    return time.perf_counter() - t0


def usable_cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run(ctx):
    p = ctx.params
    items, delay = p["items"], p["delay"]
    cores = usable_cores()
    workers = max(1, min(cores, items))
    ctx.fact("items", items)
    ctx.fact("delay", delay)
    ctx.fact("cpu_per_item", p["cpu"])
    ctx.fact("usable_cores", cores)
    ctx.fact("workers", workers)
    ctx.fact("wide_workers", items)
    ctx.fact("models", ["sequential"] + list(MODELS))

    # The capacity probe and the server fork before this process has any thread.
    ctx.measure_capacity(seconds=p["capacity_seconds"], repeats=p["capacity_repeats"])
    try:
        server, port = start_server(delay)
    except Exception as exc:
        ctx.unavailable("http", "the local HTTP server could not start: %s" % exc)
        return
    ppool = wide = None
    # A pool's first submit starts its manager thread: the next pool's workers would be forked
    # from a process with threads (the deadlock risk 3.12+ warns about), so neither pool forks.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None
    mp_context = multiprocessing.get_context(method)
    ctx.fact("pool_start_method", mp_context.get_start_method())
    try:
        try:
            ppool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=mp_context)
            wide = concurrent.futures.ProcessPoolExecutor(max_workers=items, mp_context=mp_context)
            # Start every worker now (some versions spawn on demand): overlapping tasks.
            list(ppool.map(time.sleep, [0.05] * workers))
            list(wide.map(time.sleep, [0.05] * items))
        except Exception as exc:
            ctx.unavailable("processes", "a process pool could not start: %s" % exc)
            ppool = wide = None
        iterations = calibrate_spin(p["cpu"])

        try:
            status = fetch(port)
            ctx.fact("http_status", status)
            # Warm-up: one small round of every model (connections, pool workers, event loop).
            run_sequential(port, 1, iterations)
            run_threads(port, 2, iterations)
            if ppool is not None:
                run_processes(ppool, port, workers, iterations)
                run_processes(wide, port, items, iterations)
                run_asyncio_pool(ppool, port, 2, iterations)
                run_threads_pool(ppool, port, 2, iterations)
        except Exception as exc:
            ctx.unavailable("http", "the local HTTP server did not answer: %s: %s"
                            % (type(exc).__name__, exc))
            return

        def once():
            seq, io, cpu = run_sequential(port, items, iterations)
            ideal = io / items + cpu / workers
            walls = {"threads": run_threads(port, items, iterations)}
            if ppool is not None:
                walls["processes"] = run_processes(ppool, port, items, iterations)
                walls["processes_wide"] = run_processes(wide, port, items, iterations)
                walls["asyncio_pool"] = run_asyncio_pool(ppool, port, items, iterations)
                walls["threads_pool"] = run_threads_pool(ppool, port, items, iterations)
            values = {"sequential.wall": seq, "sequential.io": io, "sequential.cpu": cpu,
                      "ideal.wall": ideal, "ideal.speedup": seq / ideal}
            for model, wall in walls.items():
                values[model + ".wall"] = wall
                values[model + ".speedup"] = seq / wall
                values[model + ".of_ideal"] = wall / ideal
            return values

        units = {"sequential.wall": "s", "sequential.io": "s", "sequential.cpu": "s",
                 "ideal.wall": "s", "ideal.speedup": "x"}
        for model in MODELS:
            units.update({model + ".wall": "s", model + ".speedup": "x", model + ".of_ideal": "x"})
        try:
            # One full, unrecorded repeat: warms everything and tells what a repeat costs, so the
            # number of repeats can be fitted to the budget on a busy machine (never below 3).
            t0 = time.perf_counter()
            once()
            cost = time.perf_counter() - t0
            fit = int((ctx.remaining() - p["reserve"] - cost) / cost)
            repeats = max(min(3, p["min_repeats"]), min(p["min_repeats"], fit))
            ctx.measure(once, units, warmup=0, min_repeats=repeats, max_repeats=p["max_repeats"],
                        budget=max(0.1, ctx.remaining() - p["reserve"] - cost))
        except Exception as exc:
            ctx.unavailable("http", "the pipeline failed: %s: %s" % (type(exc).__name__, exc))
    finally:
        for pool in (ppool, wide):
            if pool is not None:
                pool.shutdown(wait=True)
        server.terminate()
        server.join(2.0)


if __name__ == "__main__":
    main(run, __doc__,
         params={
             "quick": {"items": 4, "delay": 0.01, "cpu": 0.004, "min_repeats": 2, "max_repeats": 3,
                       "capacity_seconds": 0.01, "capacity_repeats": 3, "reserve": 0.3},
             "full": {"items": 8, "delay": 0.02, "cpu": 0.02, "min_repeats": 5, "max_repeats": 15,
                      "capacity_seconds": 0.05, "capacity_repeats": 5, "reserve": 0.8},
         },
         budget={"quick": 1.5, "full": 20.0})
