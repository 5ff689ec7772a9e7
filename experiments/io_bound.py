"""I/O-bound waits: sequential vs threads vs asyncio vs processes (sleep, local HTTP, files).

`n` tasks (40 in the full profile) each wait `delay` seconds (50 ms), run four
ways: one after another in the main thread, on n threads, as n asyncio tasks,
and on a pool of n worker processes.  Three kinds of wait:

  sleep  time.sleep(delay) (asyncio: await asyncio.sleep(delay)).
  http   a real HTTP GET to a local server on 127.0.0.1 that this experiment
         starts on a port the OS picks (http.server.ThreadingHTTPServer in a
         background thread, its handler threads pre-started in a pool of n,
         listen backlog 128 so that n connections can queue at once); the
         server answers every request after sleeping `delay`.  Threads and processes use http.client; asyncio
         uses asyncio.open_connection with a minimal HTTP/1.0 request.
  file   each task overwrites its own pre-created temporary file of
         `file_bytes` bytes in place (no truncation, no fsync) and reads it
         back.  The data stays in the OS page cache, so this is memory-copy
         and system-call work, not waiting for a disk: there is no "ideal"
         wait time, and concurrency helps only as far as the copies run in
         parallel on the cores (the GIL is released during read/write).
         (Rewriting with truncation was tried: ext4 then starts writeback on
         close and the next truncation waits for the disk, which mixes real
         disk waits into some runs and not others.)
         asyncio has no non-blocking file API: its variant hands each task to
         the loop's default thread pool (loop.run_in_executor).

Timed regions: this is a throughput question, so a pool of n threads
(concurrent.futures.ThreadPoolExecutor) and a pool of n processes
(multiprocessing.Pool, default start method) are started and warmed up
OUTSIDE the timed region; their start-up is reported separately as
threads.pool_start and processes.pool_start (the `overhead` experiment
measures one start+join).  asyncio tasks are created inside the timed region,
on an event loop created once outside it.  (Starting threads inside the
timed region was tried: Thread.start() waits until the new thread runs, so
on a busy shared VM 40 starts in a row added up to 60 ms of scheduling delay.)

The sequential runs of sleep and http take n * delay each (2 s in the full
profile), so they run `seq_repeats` times (1 in the full profile); every
concurrent repeat's speedup divides that sequential median by the repeat's
own wall time, so a speedup's IQR is the spread of the concurrent runs.
The file variants are all timed in every repeat and their speedups paired.

Metrics (KIND is sleep, http or file; MODEL is threads, asyncio or processes):
  ideal.wall                  s  one wait's duration (`delay`): the best any concurrent model can do
  KIND.sequential.wall        s  the n tasks one after another in the main thread
  KIND.MODEL.wall             s  the n tasks run concurrently with MODEL
  KIND.MODEL.speedup          x  sequential wall / MODEL wall
  sleep.MODEL.over_ideal      x  MODEL wall / ideal.wall (1.0 is perfect)
  http.MODEL.over_ideal       x  the same for HTTP
  threads.pool_start          s  starting the pool of n threads (n short tasks make it start them all)
  processes.pool_start        s  starting the pool of n processes and running one round of no-op tasks
  tasks                       -  n, the number of concurrent tasks
  file.bytes                  B  bytes each file task writes and reads back

Facts: `start_method` of the pool, `http_server` (how the server is set up),
`asyncio_file` (how asyncio does file I/O), `default_executor_workers`.
Unavailable keys: `http` (no local server could be bound or a request
failed; no http.* metric then), `processes` (no process pool could start;
no *.processes.* metric then).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import multiprocessing
import os
import shutil
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from _harness import main

MODELS = ("threads", "asyncio", "processes")


# -- the tasks (module level: picklable for the process pool) ------------------


def sleep_task(delay):
    time.sleep(delay)
    return delay


def http_task(port):
    """One HTTP GET to the local server; returns the body length."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError("HTTP status %d" % response.status)
        return len(body)
    finally:
        conn.close()


_DATA = {}


def file_task(path, size):
    """Overwrite the existing file at ``path`` in place with ``size`` bytes, read them back."""
    data = _DATA.get(size)
    if data is None:
        data = _DATA[size] = b"\x5a" * size
    fd = os.open(path, os.O_WRONLY)
    try:
        written = os.write(fd, data)  # no O_TRUNC: no block freeing, no writeback on close
    finally:
        os.close(fd)
    with open(path, "rb") as f:
        back = f.read()
    if written != size or len(back) != size:
        raise RuntimeError("short write or read")
    return len(back)


def noop(x):
    return x


# -- asyncio versions -------------------------------------------------------------


async def http_get_async(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        data = await reader.read()  # HTTP/1.0: the server closes after the body
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, AttributeError):
            pass
    status_line = data.split(b"\r\n", 1)[0]
    if b" 200 " not in status_line + b" ":
        raise RuntimeError("bad response %r" % status_line[:60])
    return len(data)


async def timed_gather(make_coroutines):
    """Wall time of creating and gathering the coroutines (loop already running)."""
    t0 = time.perf_counter()
    await asyncio.gather(*make_coroutines())
    return time.perf_counter() - t0


# -- the local HTTP server ----------------------------------------------------------


class DelayedHandler(BaseHTTPRequestHandler):
    """Answers every GET after sleeping the server's delay (HTTP/1.0: one request per connection)."""

    def do_GET(self):
        time.sleep(self.server.delay)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    timeout = 30  # socket timeout: a stuck client cannot hold a handler forever

    def log_message(self, format, *args):  # keep the experiment's output clean
        pass


class DelayServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose handler threads come from a pre-started pool.

    Stock ThreadingHTTPServer starts a new thread per request, one after
    another in its accept loop, and Thread.start() waits until the new
    thread runs: on a busy VM that serial start-up delays the 40th response
    of a burst.  A pool warmed up before timing keeps the server's own
    start-up out of the client models' figures.
    """

    daemon_threads = True      # if anything falls back to a thread per request
    request_queue_size = 128   # listen backlog: the default 5 would refuse bursts of 40

    def __init__(self, address, handler, delay, handler_threads):
        ThreadingHTTPServer.__init__(self, address, handler)
        self.delay = delay
        self.handler_pool = concurrent.futures.ThreadPoolExecutor(max_workers=handler_threads)
        list(self.handler_pool.map(sleep_task, [0.02] * handler_threads))  # start them all

    def process_request(self, request, client_address):
        self.handler_pool.submit(self.process_request_thread, request, client_address)

    def server_close(self):
        ThreadingHTTPServer.server_close(self)
        pool = getattr(self, "handler_pool", None)  # absent when binding failed
        if pool is not None:
            pool.shutdown(wait=True)


def start_server(delay, handler_threads):
    server = DelayServer(("127.0.0.1", 0), DelayedHandler, delay, handler_threads)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="http-server", daemon=True)
    thread.start()
    return server, thread


# -- the four ways to run n tasks ------------------------------------------------


def run_sequential(fn, args_list):
    t0 = time.perf_counter()
    for args in args_list:
        fn(*args)
    return time.perf_counter() - t0


def run_threads(executor, fn, args_list):
    t0 = time.perf_counter()
    futures = [executor.submit(fn, *a) for a in args_list]
    for f in futures:
        f.result()  # re-raises a task's exception: a failed request must not look fast
    return time.perf_counter() - t0


def run_processes(pool, fn, args_list):
    t0 = time.perf_counter()
    pool.starmap(fn, args_list, chunksize=1)
    return time.perf_counter() - t0


def run(ctx):
    p = ctx.params
    n, delay, size = p["tasks"], p["delay"], p["file_bytes"]
    repeats = p["repeats"]
    ctx.record("ideal.wall", delay, "s")
    ctx.record("tasks", n, "")
    ctx.record("file.bytes", size, "B")

    loop = asyncio.new_event_loop()
    ctx.fact("default_executor_workers", min(32, (os.cpu_count() or 1) + 4))

    # The pool first: forking before the server thread exists keeps fork safe.
    pool = None
    mp = multiprocessing.get_context()
    ctx.fact("start_method", mp.get_start_method())
    try:
        t0 = time.perf_counter()
        pool = mp.Pool(n)
        pool.map(noop, range(n), chunksize=1)
        ctx.record("processes.pool_start", time.perf_counter() - t0, "s")
    except (OSError, RuntimeError, ValueError) as exc:
        ctx.unavailable("processes", "a pool of %d processes could not start: %s" % (n, exc))
        pool = None

    # ThreadPoolExecutor starts a thread per submit while none is idle:
    # n overlapping short sleeps make it start all n.
    t0 = time.perf_counter()
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=n)
    list(executor.map(sleep_task, [0.02] * n))
    ctx.record("threads.pool_start", time.perf_counter() - t0 - 0.02, "s")

    tmpdir = tempfile.mkdtemp(prefix="vaultgen-io-")
    try:
        measure_sleep(ctx, loop, executor, pool, n, delay, repeats)
        measure_http(ctx, loop, executor, pool, n, delay, repeats)
        measure_files(ctx, loop, executor, pool, n, size, repeats, tmpdir)
    finally:
        executor.shutdown(wait=True)
        shutil.rmtree(tmpdir, ignore_errors=True)
        if pool is not None:
            pool.terminate()
            pool.join()
        try:
            loop.run_until_complete(loop.shutdown_default_executor())
        except AttributeError:  # Python 3.8
            pass
        loop.close()


def _concurrent_repeat(kind, seq, ideal, runners):
    """One repeat of every concurrent model: wall, speedup and distance from ideal."""
    values = {}
    for model, runner in runners:
        wall = runner()
        values["%s.%s.wall" % (kind, model)] = wall
        values["%s.%s.speedup" % (kind, model)] = seq / wall
        if ideal:
            values["%s.%s.over_ideal" % (kind, model)] = wall / ideal
    return values


def _units(kind, models, ideal=True):
    units = {}
    for model in models:
        units["%s.%s.wall" % (kind, model)] = "s"
        units["%s.%s.speedup" % (kind, model)] = "x"
        if ideal:
            units["%s.%s.over_ideal" % (kind, model)] = "x"
    return units


def measure_sleep(ctx, loop, executor, pool, n, delay, repeats):
    args = [(delay,)] * n
    seqs = [run_sequential(sleep_task, args) for _ in range(ctx.params["seq_repeats"])]
    ctx.record_samples("sleep.sequential.wall", seqs, "s")
    seq = statistics.median(seqs)
    runners = [
        ("threads", lambda: run_threads(executor, sleep_task, args)),
        ("asyncio", lambda: loop.run_until_complete(
            timed_gather(lambda: [asyncio.sleep(delay) for _ in range(n)]))),
    ]
    if pool is not None:
        runners.append(("processes", lambda: run_processes(pool, sleep_task, args)))
    ctx.measure(lambda: _concurrent_repeat("sleep", seq, delay, runners),
                _units("sleep", [m for m, _ in runners]), min_repeats=repeats,
                budget=ctx.params["concurrent_budget"])


def measure_http(ctx, loop, executor, pool, n, delay, repeats):
    try:
        server, thread = start_server(delay, n)
    except OSError as exc:
        ctx.unavailable("http", "no local HTTP server could listen on 127.0.0.1: %s" % exc)
        return
    port = server.server_address[1]
    ctx.fact("http_server", "ThreadingHTTPServer on 127.0.0.1 (OS-chosen port) answering on a "
             "pre-started pool of %d handler threads, listen backlog %d, each response delayed "
             "%g s, HTTP/1.0 (one request per connection)"
             % (n, DelayServer.request_queue_size, delay))
    args = [(port,)] * n
    try:
        http_task(port)  # the server answers before anything is timed
        seqs = [run_sequential(http_task, args) for _ in range(ctx.params["seq_repeats"])]
        seq = statistics.median(seqs)
        runners = [
            ("threads", lambda: run_threads(executor, http_task, args)),
            ("asyncio", lambda: loop.run_until_complete(
                timed_gather(lambda: [http_get_async(port) for _ in range(n)]))),
        ]
        if pool is not None:
            runners.append(("processes", lambda: run_processes(pool, http_task, args)))
        ctx.record_samples("http.sequential.wall", seqs, "s")
        ctx.measure(lambda: _concurrent_repeat("http", seq, delay, runners),
                    _units("http", [m for m, _ in runners]), min_repeats=repeats,
                    budget=ctx.params["concurrent_budget"])
    except (OSError, RuntimeError, http.client.HTTPException, asyncio.TimeoutError) as exc:
        for name in [k for k in ctx.metrics if k.startswith("http.")]:
            del ctx.metrics[name]
        ctx.unavailable("http", "an HTTP request to the local server failed: %s: %s"
                        % (type(exc).__name__, exc))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def measure_files(ctx, loop, executor, pool, n, size, repeats, tmpdir):
    args = [(os.path.join(tmpdir, "f%03d.bin" % i), size) for i in range(n)]
    for path, nbytes in args:  # allocated once, outside the timed region
        with open(path, "wb") as f:
            f.write(b"\0" * nbytes)
    ctx.fact("asyncio_file", "asyncio has no non-blocking file API: each task runs file_task in the "
             "loop's default thread pool via loop.run_in_executor")

    def asyncio_files():
        return loop.run_until_complete(timed_gather(
            lambda: [loop.run_in_executor(None, file_task, *a) for a in args]))

    def once():
        seq = run_sequential(file_task, args)
        runners = [("threads", lambda: run_threads(executor, file_task, args)), ("asyncio", asyncio_files)]
        if pool is not None:
            runners.append(("processes", lambda: run_processes(pool, file_task, args)))
        values = _concurrent_repeat("file", seq, None, runners)
        values["file.sequential.wall"] = seq
        return values

    units = _units("file", MODELS if pool is not None else MODELS[:2], ideal=False)
    units["file.sequential.wall"] = "s"
    ctx.measure(once, units, min_repeats=repeats, budget=ctx.params["concurrent_budget"])


if __name__ == "__main__":
    main(run, __doc__, params={
        "quick": {"tasks": 8, "delay": 0.02, "file_bytes": 1 << 16, "repeats": 3,
                  "seq_repeats": 1, "concurrent_budget": 0.15},
        "full": {"tasks": 40, "delay": 0.05, "file_bytes": 1 << 22, "repeats": 7,
                 "seq_repeats": 1, "concurrent_budget": 1.2},
    }, budget={"quick": 1.5, "full": 12.0})
