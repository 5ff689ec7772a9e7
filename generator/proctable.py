"""The processes of a run, as Linux's /proc shows them, and how a run is killed.

Everything here reads /proc; on another system there are no processes to
find and killing falls back to the run's process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass


_SUBREAPER: list[bool] = []


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``), once per process.

    A worker that double-forks and calls ``setsid`` leaves the experiment's
    session and would be reparented to init, out of reach; as a subreaper,
    vaultgen becomes its parent instead, so it can be found, killed and reaped.
    """
    if not _SUBREAPER:
        ok = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                libc = ctypes.CDLL(None, use_errno=True)
                ok = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
            except (OSError, AttributeError):
                ok = False
        _SUBREAPER.append(ok)
    return _SUBREAPER[0]


_PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    sid: int
    state: bytes
    rss: int


def processes():
    """Every process visible in /proc (Linux; elsewhere none)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # the process ended between listdir and open
        fields = stat[stat.rfind(b")") + 2 :].split()
        # fields 3, 4, 6 and 24 of stat: state, ppid, session id, rss in pages
        yield Proc(int(entry), int(fields[1]), int(fields[3]), fields[0], int(fields[21]) * page)


def session_rss(sid: int) -> int:
    """Resident memory of every process in session ``sid`` (Linux; else 0)."""
    return sum(p.rss for p in processes() if p.sid == sid)


def _has_token(pid: int, token: bytes) -> bool:
    name, _, value = token.decode().partition("=")
    return _env_value(pid, name) == value


def children() -> set[int]:
    me = os.getpid()
    return {p.pid for p in processes() if p.ppid == me}


def _strays(sid: int, token: bytes, known_children: set[int]) -> list[Proc]:
    """The run's processes still alive: its session, whatever carries its token, orphans adopted since."""
    me = os.getpid()
    found = []
    for proc in processes():
        if proc.pid == me or proc.state in (b"Z", b"X") and proc.ppid != me:
            continue
        adopted = proc.ppid == me and proc.pid not in known_children
        if proc.sid == sid or adopted or _has_token(proc.pid, token):
            found.append(proc)
    return found


def kill_run(sid: int, token: bytes, known_children: set[int], wait: float = 2.0) -> None:
    """SIGKILL every process of the run and wait until each is dead (and reaped, if ours).

    SIGKILL is delivered asynchronously: without the wait, a dying worker could
    still hold a core when the next experiment starts.
    """
    deadline = time.monotonic() + wait
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, signal.SIGKILL)
    while True:
        strays = _strays(sid, token, known_children)
        me = os.getpid()
        for proc in strays:
            if proc.state not in (b"Z", b"X"):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(proc.pid, signal.SIGKILL)
            if proc.ppid == me and proc.pid != sid:  # adopted: ours to reap (the experiment itself is waited on)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(proc.pid, os.WNOHANG)
        if not [p for p in strays if p.state not in (b"Z", b"X")] or time.monotonic() > deadline:
            return
        time.sleep(0.005)


def environ(pid: int) -> dict[str, str]:
    """The environment process ``pid`` started with ({} if it cannot be read)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            entries = f.read().split(b"\0")
    except OSError:
        return {}
    found: dict[str, str] = {}
    for entry in entries:
        name, equals, value = entry.decode(errors="replace").partition("=")
        if equals:
            found.setdefault(name, value)  # the first of a name given twice, as getenv reads it
    return found


def _env_value(pid: int, name: str) -> str | None:
    return environ(pid).get(name)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs: a killed vaultgen stays a zombie until its parent reaps it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to judge
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :][:1] not in (b"Z", b"X")


def owner_uid(pid: int) -> int | None:
    """The user id process ``pid`` runs as (None if it is gone)."""
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
