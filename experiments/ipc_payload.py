"""Cost of handing a payload to another process: Queue and Pipe (copying) vs shared memory.

A child process is started once, before timing, and attaches a shared memory block big enough
for the largest payload (created once and reused, as a program would: its creation is not
timed).  For each payload size the parent hands a ``bytes`` payload to the child in three ways,
and the child reads every byte of what it received (``zlib.crc32`` over a memoryview: no copy)
and answers with a short acknowledgement:

  queue   ``multiprocessing.Queue.put(payload)``: pickled, copied through a pipe by the queue's
          feeder thread, unpickled in the child
  pipe    ``Connection.send_bytes(payload)``: copied through the pipe, no pickling
  shm     ``SharedMemory``: the parent copies the payload into the shared block
          (``shm.buf[:n] = payload``), sends a tiny "ready" message on a pipe, the child reads
          the block in place through a ``memoryview``

Time per transfer runs from the start of the hand-over to the child's acknowledgement (a round
trip with the payload one way).  Small payloads are sent many times per repeat.  The order of
the three methods rotates from repeat to repeat, so none always runs first or after another.
Queue and Pipe send the same payload object each time; the Queue pickles it afresh on every
put, and every receiver builds a fresh ``bytes``.

Metrics (S is a size label from the parameter `sizes`: 1K = 1024 B, 64K, 1M, 16M, 64M):
  <method>.<S>.time        s    time per transfer, method in queue, pipe, shm
  <method>.<S>.throughput  B/s  payload bytes / time per transfer
  shm.<S>.speedup          x    queue.<S>.time / shm.<S>.time, same repeat
  pipe.<S>.speedup         x    queue.<S>.time / pipe.<S>.time, same repeat

Facts: sizes (labels in order), size_bytes (label -> bytes), child_reads (what the child reads),
transfers (label -> transfers per repeat).
Unavailable keys: shm (multiprocessing.shared_memory missing, Python < 3.8, or no /dev/shm),
size.<S> (not enough free memory for that payload), child (the child process failed).
"""

from __future__ import annotations

import multiprocessing
import time
import zlib

from _harness import main

UNITS = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}


def parse_size(label):
    return int(label[:-1]) * UNITS[label[-1]] if label[-1] in UNITS else int(label)


def touch(view, n):
    """Read every byte of the payload in place (C speed, no copy), as a consumer of it would."""
    return zlib.crc32(view[:n])


def _child(ctl, data_conn, queue, shm_name):
    shm = None
    if shm_name:
        from multiprocessing import shared_memory

        try:
            shm = shared_memory.SharedMemory(name=shm_name, track=False)  # 3.13+
        except TypeError:
            shm = shared_memory.SharedMemory(name=shm_name)
    try:
        while True:
            cmd = ctl.recv()
            if cmd is None:
                break
            method, n, k = cmd
            for _ in range(k):
                if method == "queue":
                    data = queue.get()
                elif method == "pipe":
                    data = data_conn.recv_bytes()
                else:
                    ctl.recv_bytes()
                    data = None
                view = shm.buf[:n] if data is None else memoryview(data)
                try:
                    total = touch(view, n)
                finally:
                    view.release()
                del data
                ctl.send_bytes(b"%d" % total)
    finally:
        if shm is not None:
            shm.close()


def free_memory():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def run(ctx):
    p = ctx.params
    labels = list(p["sizes"])
    sizes = {label: parse_size(label) for label in labels}
    ctx.fact("sizes", labels)
    ctx.fact("size_bytes", sizes)
    ctx.fact("child_reads", "every byte, in place (zlib.crc32 over a memoryview)")

    # Peak memory of one transfer: payload, pickle buffer, received copy, unpickled copy, shm block.
    avail = free_memory()
    usable = []
    for label in labels:
        if avail is not None and 6 * sizes[label] > avail / 2:
            ctx.unavailable("size.%s" % label, "not enough free memory for a %s payload" % label)
        else:
            usable.append(label)
    if not usable:
        return

    try:
        from multiprocessing import shared_memory
    except ImportError as exc:
        shared_memory = None
        ctx.unavailable("shm", "multiprocessing.shared_memory is missing (Python 3.8+): %s" % exc)
    shm = None
    if shared_memory is not None:
        try:
            shm = shared_memory.SharedMemory(create=True, size=max(sizes[s] for s in usable))
        except Exception as exc:
            ctx.unavailable("shm", "a shared memory block could not be created: %s: %s"
                            % (type(exc).__name__, exc))

    methods = ["queue", "pipe"] + (["shm"] if shm is not None else [])
    ctl, child_ctl = multiprocessing.Pipe()
    data_recv, data_send = multiprocessing.Pipe(duplex=False)
    queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_child, daemon=True,
                                    args=(child_ctl, data_recv, queue, shm.name if shm else None))
    try:
        child.start()

        def transfer(method, payload, n, k):
            ctl.send((method, n, k))
            t0 = time.perf_counter()
            for _ in range(k):
                if method == "queue":
                    queue.put(payload)
                elif method == "pipe":
                    data_send.send_bytes(payload)
                else:
                    shm.buf[:n] = payload
                    ctl.send_bytes(b"go")
                deadline = time.perf_counter() + 30
                while not ctl.poll(0.2):
                    if not child.is_alive():
                        raise RuntimeError("the child exited with code %s" % child.exitcode)
                    if time.perf_counter() > deadline:
                        raise RuntimeError("the child did not acknowledge within 30 s")
                ctl.recv_bytes()
            return (time.perf_counter() - t0) / k

        transfers = {}
        for i, label in enumerate(usable):
            n = sizes[label]
            k = max(1, min(p["max_transfers"], int(p["bytes_per_repeat"] // n)))
            transfers[label] = k
            payload = (b"0123456789abcdef" * (n // 16 + 1))[:n]

            turn = [0]

            def once(payload=payload, n=n, k=k, label=label, turn=turn):
                # Rotate the order: whichever method runs first or second pays for the page
                # cache and allocator state the previous one left.
                start = turn[0] % len(methods)
                turn[0] += 1
                times = {}
                for m in methods[start:] + methods[:start]:
                    times[m] = transfer(m, payload, n, k)
                values = {}
                for m, t in times.items():
                    values["%s.%s.time" % (m, label)] = t
                    values["%s.%s.throughput" % (m, label)] = n / t
                    if m != "queue":
                        values["%s.%s.speedup" % (m, label)] = times["queue"] / t
                return values

            units = {}
            for m in methods:
                units["%s.%s.time" % (m, label)] = "s"
                units["%s.%s.throughput" % (m, label)] = "B/s"
                if m != "queue":
                    units["%s.%s.speedup" % (m, label)] = "x"
            share = max(0.05, (ctx.remaining() - p["reserve"]) / (len(usable) - i))
            try:
                ctx.measure(once, units, warmup=1, min_repeats=p["min_repeats"],
                            max_repeats=p["max_repeats"], budget=share)
            except Exception as exc:
                ctx.unavailable("child", "transfer of %s failed: %s: %s" % (label, type(exc).__name__, exc))
                break
            finally:
                del payload
        ctx.fact("transfers", transfers)
    finally:
        try:
            if child.is_alive():
                ctl.send(None)
                child.join(5)
            if child.is_alive():
                child.terminate()
                child.join(2)
        finally:
            queue.close()
            queue.join_thread()
            if shm is not None:
                shm.close()
                shm.unlink()


if __name__ == "__main__":
    main(run, __doc__,
         params={
             "quick": {"sizes": ["1K", "64K", "1M"], "bytes_per_repeat": 2 ** 20, "max_transfers": 20,
                       "min_repeats": 3, "max_repeats": 5, "reserve": 0.3},
             "full": {"sizes": ["1K", "64K", "1M", "16M", "64M"], "bytes_per_repeat": 8 * 2 ** 20,
                      "max_transfers": 200, "min_repeats": 5, "max_repeats": 20, "reserve": 2.0},
         },
         budget={"quick": 1.5, "full": 10.0})
