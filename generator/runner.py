"""Run one experiment script in a watched subprocess, whatever it does.

The script runs in its own session with a timeout; its output is captured at
the file-descriptor level; every process of the run is killed when it ends,
times out, or vaultgen is interrupted.  The outcome says what happened, never
raises for what the script did.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR

from generator.cpuwatch import OthersWatch
from generator.errors import ExperimentError
from generator.experiments import Experiment
from generator.interpreters import Interpreter
from generator.writer.fsops import parse_json

# Captured output beyond this is cut (head and tail kept): an experiment
# that floods stdout must not flood memory or the vault.
OUTPUT_LIMIT = 256 * 1024


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def parse_document(text: str):
    """JSON as the standard defines it: NaN and Infinity are refused, not read as floats."""
    return parse_json(text, parse_constant=_reject_constant)


@dataclass
class RunOutcome:
    """What happened when a script ran, whatever happened."""

    experiment: str
    status: str  # ok | failed | timeout | crashed | invalid
    exit_code: int | None
    signal: str | None
    wall: float
    cpu: float
    peak_rss: int
    stdout: str
    stderr: str
    truncated: bool = False
    document: dict | None = None
    message: str = ""
    command: list[str] = field(default_factory=list)
    other_cpu: float | None = None  # cores' worth used outside the run meanwhile (see cpuwatch)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def summary(self) -> dict:
        """The run facts stored beside a result (output kept separately)."""
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "wall": self.wall,
            "cpu": self.cpu,
            "peak_rss": self.peak_rss,
            "message": self.message,
        }


def _read_capped(path: Path) -> tuple[str, bool]:
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size <= OUTPUT_LIMIT:
            return f.read().decode("utf-8", "replace"), False
        head = f.read(OUTPUT_LIMIT // 2)
        f.seek(size - OUTPUT_LIMIT // 2)
        tail = f.read()
    cut = size - len(head) - len(tail)
    text = head.decode("utf-8", "replace") + f"\n[… {cut} bytes cut …]\n" + tail.decode("utf-8", "replace")
    return text, True


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the same clean-up runs on the way out."""


@contextmanager
def signals_as_interrupts():
    """Within the block, SIGTERM raises ``Terminated`` (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_SUBREAPER: list[bool] = []


def _become_subreaper() -> bool:
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
class _Proc:
    pid: int
    ppid: int
    sid: int
    state: bytes
    rss: int


def _processes():
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
        yield _Proc(int(entry), int(fields[1]), int(fields[3]), fields[0], int(fields[21]) * page)


def _session_rss(sid: int) -> int:
    """Resident memory of every process in session ``sid`` (Linux; else 0)."""
    return sum(p.rss for p in _processes() if p.sid == sid)


def _has_token(pid: int, token: bytes) -> bool:
    name, _, value = token.decode().partition("=")
    return _env_value(pid, name) == value


def _children() -> set[int]:
    me = os.getpid()
    return {p.pid for p in _processes() if p.ppid == me}


def _strays(sid: int, token: bytes, known_children: set[int]) -> list[_Proc]:
    """The run's processes still alive: its session, whatever carries its token, orphans adopted since."""
    me = os.getpid()
    found = []
    for proc in _processes():
        if proc.pid == me or proc.state in (b"Z", b"X") and proc.ppid != me:
            continue
        adopted = proc.ppid == me and proc.pid not in known_children
        if proc.sid == sid or adopted or _has_token(proc.pid, token):
            found.append(proc)
    return found


def _kill_run(sid: int, token: bytes, known_children: set[int], wait: float = 2.0) -> None:
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


def run_script(
    experiment: Experiment,
    interpreter: Interpreter,
    *,
    profile: str,
    timeout: float,
    params: dict[str, str] | None = None,
) -> RunOutcome:
    """Run one experiment in a fresh process session and watch it.

    stdout and stderr go to files, not pipes, so output of grandchildren
    (worker processes) is captured at the file-descriptor level and a
    flood cannot block or exhaust memory.  Every process of the run (its
    session, anything carrying its token in the environment, orphans adopted
    as a subreaper) is killed on timeout, on Ctrl-C or SIGTERM, and after it
    ends, so no stray worker or daemon outlives it.
    """
    _become_subreaper()
    token_value = os.urandom(8).hex()
    token = f"{_RUN_TOKEN}={token_value}".encode()
    # The owner's pid in the name: a SIGKILLed vaultgen cannot remove its
    # folder, and the next build tells it by that pid (remove_orphan_folders).
    with tempfile.TemporaryDirectory(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-") as tmp:
        tmpdir = Path(tmp)
        out_path, err_path, doc_path = tmpdir / "stdout", tmpdir / "stderr", tmpdir / "result.json"
        # Examples run exactly as their note says (`python x.py`); benchmarks
        # unbuffered, so a killed one still leaves its last words.
        command = [interpreter.path, str(experiment.path)]
        if experiment.kind == "benchmark":
            command[1:1] = ["-u"]
            command += ["--profile", profile, "--json-out", str(doc_path)]
            for key, value in sorted((params or {}).items()):
                command += ["--param", f"{key}={value}"]
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
        # An inherited PYTHONUNBUFFERED would make each print two writes, so
        # the example's worker processes could run their lines together: the
        # note promises the output of a plain `python x.py`.
        env.pop("PYTHONUNBUFFERED", None)
        env[_RUN_TOKEN] = token_value
        env[_OWNER] = str(os.getpid())
        env[_FOLDER] = str(experiment.path.parent.resolve())
        known_children = _children()
        proc = None
        try:
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                started = time.perf_counter()
                others = OthersWatch.start()
                try:
                    proc = subprocess.Popen(
                        command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                        cwd=experiment.path.parent, env=env, start_new_session=True,
                    )
                except OSError as exc:
                    raise ExperimentError(f"cannot start: {exc}", path=experiment.path) from exc
                status, rusage, peak, timed_out = _watch(proc.pid, started, timeout, token, known_children)
                wall = time.perf_counter() - started
        except KeyboardInterrupt as exc:
            if proc is not None:
                _kill_run(proc.pid, token, known_children)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(proc.pid, 0)
            setattr(exc, "vaultgen_context", (  # read by the CLI's one interrupt handler
                f"while measuring {experiment.name} under {interpreter.tag}: it and every process it started were "
                "stopped; results measured before are kept and the vault was left as it was"))
            raise
        _kill_run(proc.pid, token, known_children)
        other_cpu = others.stop()
        stdout, cut_out = _read_capped(out_path)
        stderr, cut_err = _read_capped(err_path)
        outcome = RunOutcome(
            experiment=experiment.name,
            status="ok",
            exit_code=None,
            signal=None,
            wall=wall,
            cpu=rusage.ru_utime + rusage.ru_stime,
            peak_rss=max(peak, rusage.ru_maxrss * 1024),
            stdout=stdout,
            stderr=stderr,
            truncated=cut_out or cut_err,
            command=command,
            other_cpu=other_cpu,
        )
        _classify(outcome, status, timed_out, timeout, doc_path, experiment)
        return outcome


# Set in each experiment's environment: its descendants inherit it, so they
# can be found even after leaving its session.
_RUN_TOKEN = "VAULTGEN_RUN"
# The pid of the vaultgen that started a run: a run whose owner is gone (killed with
# SIGKILL, which nothing can catch) is an orphan the next build stops (reap_orphans).
_OWNER = "VAULTGEN_OWNER"


# The experiments folder a run's script came from: reap_orphans stops only its own project's.
_FOLDER = "VAULTGEN_EXPERIMENTS"


@dataclass
class Orphans:
    """Experiment processes of killed vaultgens, by what ``reap_orphans`` did with them."""

    stopped: list[int] = field(default_factory=list)  # this project's: killed
    elsewhere: dict[str, list[int]] = field(default_factory=dict)  # other projects' (by experiments folder, "" unknown): left


def reap_orphans(experiments: Path) -> Orphans:
    """Stop what a killed vaultgen left running of the experiments in ``experiments``.

    Only this user's processes whose environment names a run token *and* an owner pid
    that no longer exists: a concurrent build's runs, whose owner lives, are left alone,
    and so are another project's, which are only reported (they take CPU all the same).
    """
    found = Orphans()
    me, uid, mine = os.getpid(), os.geteuid(), str(experiments.resolve())
    for proc in _processes():
        if proc.pid == me or _uid(proc.pid) != uid:
            continue
        env = _environ(proc.pid)
        owner = env.get(_OWNER, "")
        if not owner.isdigit() or _RUN_TOKEN not in env or _alive(int(owner)):
            continue
        folder = env.get(_FOLDER, "")  # "": started by a vaultgen too old to say
        if folder != mine:
            found.elsewhere.setdefault(folder, []).append(proc.pid)
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, signal.SIGKILL)
            found.stopped.append(proc.pid)
    return found


def _uid(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


_FOLDER_PREFIX = "vaultgen-run-"


def remove_orphan_folders() -> int:
    """Remove the run folders (captured output) of killed vaultgens; how many.

    Only real folders of this user's whose name carries the pid of a
    vaultgen that no longer runs; a link is left alone, never followed.
    """
    removed = 0
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return 0
    for entry in entries:
        owner = entry.name[len(_FOLDER_PREFIX):].split("-", 1)[0]
        if not entry.name.startswith(_FOLDER_PREFIX) or not owner.isdigit() or _alive(int(owner)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
            shutil.rmtree(entry.path, ignore_errors=True)  # does not follow links inside
            removed += 1
    return removed


def _environ(pid: int) -> dict[str, str]:
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
    return _environ(pid).get(name)


def _alive(pid: int) -> bool:
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


def _watch(pid: int, started: float, timeout: float, token: bytes, known_children: set[int]):
    peak, delay, next_sample = 0, 0.002, 0.0
    while True:
        done, status, rusage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, rusage, peak, False
        now = time.perf_counter()
        if now - started > timeout:
            _kill_run(pid, token, known_children)
            _, status, rusage = os.wait4(pid, 0)
            return status, rusage, peak, True
        # Sampling /proc costs CPU the experiment would otherwise get, so
        # sample sparsely; wait4's ru_maxrss backs it up for the main process.
        if now >= next_sample:
            peak = max(peak, _session_rss(pid))
            next_sample = now + 0.25
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _classify(outcome: RunOutcome, status: int, timed_out: bool, timeout: float,
              doc_path: Path, experiment: Experiment) -> None:
    if timed_out:
        outcome.status = "timeout"
        outcome.message = f"killed after the {timeout:g} s timeout"
        return
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        outcome.signal = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        outcome.status = "crashed"
        outcome.message = f"died from signal {outcome.signal}"
        return
    outcome.exit_code = os.WEXITSTATUS(status)
    if outcome.exit_code != 0:
        outcome.status = "failed"
        last = (outcome.stderr.strip().splitlines() or ["(no error output)"])[-1]
        outcome.message = f"exited with code {outcome.exit_code}: {last}"
        return
    if experiment.kind == "example":
        return
    try:
        outcome.document = parse_document(doc_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        outcome.status = "invalid"
        outcome.message = "wrote no result document (does it call _harness.main?)"
        return
    except ValueError as exc:
        outcome.status = "invalid"
        outcome.message = f"wrote an invalid result document: {exc}"
        return
    if not isinstance(outcome.document, dict) or not isinstance(outcome.document.get("metrics"), dict):
        outcome.status = "invalid"
        outcome.message = "result document has no metrics mapping"
        outcome.document = None
