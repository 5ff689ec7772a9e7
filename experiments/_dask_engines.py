"""The engines of the dask_cluster experiment: a dask cluster, its client and process pools.

Imports nothing beyond the standard library at module level, because the spawned workers of both
engines re-import the experiment script and with it this module; dask is handed in by the caller.
Everything started here is closed by ``Engines.close_all`` with timeouts, and any worker process
that outlives its close is killed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import time


def pid_after(delay):
    time.sleep(delay)
    return os.getpid()


def process_cpu(pid):
    """utime + stime of one process from /proc, in seconds (None off Linux)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def package_version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited: it only waits for its parent to reap it
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class Engines(object):
    """The cluster, its client and the pools, closed together in every path."""

    def __init__(self, dd, p):
        self.dd = dd
        self.p = p
        self.timeout = p["close_timeout"]
        self.clusters = []  # (cluster, client)
        self.pools = []
        self.pids = set()  # every worker and nanny process seen, for the final sweep
        # Workers' scratch space and the scheduler file go here, not into /tmp directly: a worker
        # killed on close cannot clean up after itself, and close_all removes the whole folder.
        self.scratch = tempfile.mkdtemp(prefix="vaultgen-dask-")
        import dask

        # Every dask server (scheduler, nanny, worker) makes its scratch space in this folder: the
        # config reaches this process and its nannies' workers, the variable dask's spec subprocesses.
        dask.config.set({"temporary-directory": self.scratch})
        os.environ["DASK_TEMPORARY_DIRECTORY"] = self.scratch

    def start_local(self, workers):
        """A LocalCluster: worker processes, the scheduler inside this process."""
        return self._start(workers, lambda: self.dd.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            scheduler_port=0, dashboard_address=None, worker_dashboard_address=None,
            silence_logs=logging.ERROR))

    def start_subprocess(self, workers):
        """dask's experimental SubprocessCluster: scheduler and workers each in a process of its own."""
        from distributed.deploy.subprocess import SubprocessCluster

        return self._start(workers, lambda: SubprocessCluster(
            host="127.0.0.1", n_workers=workers, threads_per_worker=1, dashboard_address=None,
            silence_logs=logging.ERROR,
            scheduler_kwargs={"scheduler_file": os.path.join(self.scratch, "scheduler.json")},
            worker_kwargs={"dashboard_address": None}))

    def _start(self, workers, make):
        """(cluster, client, seconds until every worker ran a task); nothing is left open on failure."""
        t0 = time.perf_counter()
        cluster = make()
        client = None
        try:
            client = self.dd.Client(cluster, timeout=self.p["start_timeout"])
            self._ready(client, workers)
        except BaseException:
            self._close(cluster, client)
            raise
        elapsed = time.perf_counter() - t0
        self.clusters.append((cluster, client))
        return cluster, client, elapsed

    def _ready(self, client, workers):
        client.wait_for_workers(workers, timeout=self.p["start_timeout"])
        for addr in self.worker_addresses(client):
            # os.getpid, not a function of this script: dask's spec subprocesses may not import it.
            client.submit(os.getpid, workers=[addr], pure=False).result(timeout=self.p["start_timeout"])
        self.pids.add(client.run_on_scheduler(os.getpid))
        self.pids.update(client.run(os.getpid).values())
        try:
            self.pids.update(client.run(os.getppid, nanny=False).values())
        except Exception:
            pass
        self.pids.discard(os.getpid())

    @staticmethod
    def worker_addresses(client):
        return sorted(client.scheduler_info()["workers"])

    def close_cluster(self, cluster, client):
        t0 = time.perf_counter()
        self._close(cluster, client)
        self.clusters = [(c, k) for c, k in self.clusters if c is not cluster]
        return time.perf_counter() - t0

    def _close(self, cluster, client):
        try:
            if client is not None:
                client.close(timeout=self.timeout)
        except Exception:
            pass
        finally:
            try:
                cluster.close(timeout=self.timeout)
            except Exception:
                pass

    def start_pool(self, workers):
        from concurrent.futures import ProcessPoolExecutor

        mp = multiprocessing.get_context(self.start_method())
        t0 = time.perf_counter()
        pool = ProcessPoolExecutor(workers, mp_context=mp)
        try:
            # The executor starts its processes on demand: submit a round of short tasks until each
            # of them has run one.
            seen = set()
            while len(seen) < workers:
                seen.update(pool.map(pid_after, [0.01] * workers, timeout=self.p["start_timeout"]))
            self.pids.update(seen)
        except BaseException:
            pool.shutdown(wait=True)
            raise
        self.pools.append(pool)
        return pool, time.perf_counter() - t0

    def close_pool(self, pool):
        t0 = time.perf_counter()
        pool.shutdown(wait=True)
        self.pools.remove(pool)
        return time.perf_counter() - t0

    def start_method(self):
        import dask

        return dask.config.get("distributed.worker.multiprocessing-method", "spawn")

    def close_all(self):
        """Close everything still open; kill any worker process that outlived its close."""
        for cluster, client in list(self.clusters):
            self._close(cluster, client)
        self.clusters = []
        for pool in list(self.pools):
            try:
                pool.shutdown(wait=True, cancel_futures=True)
            except Exception:
                pass
        self.pools = []
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and any(alive(pid) for pid in self.pids):
            time.sleep(0.05)
        leftover = [pid for pid in self.pids if alive(pid)]
        for pid in leftover:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.scratch, ignore_errors=True)
        return len(leftover)
