"""Run one experiment script in a watched subprocess, whatever it does.

The script runs in its own session with a timeout; its output is captured at
the file-descriptor level; every process of the run is killed when it ends,
times out, or vaultgen is interrupted.  The outcome says what happened, never
raises for what the script did.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from generator.cpuwatch import OthersWatch
from generator.errors import ExperimentError
from generator.experiments import Experiment
from generator.interpreters import Interpreter
from generator.orphans import FOLDER, FOLDER_PREFIX, OWNER, RUN_TOKEN
from generator.proctable import become_subreaper, children, kill_run, session_rss
from generator.writer.fsops import open_regular, parse_json, read_regular

# Captured output beyond this is cut (head and tail kept): an experiment
# that floods stdout must not flood memory or the vault.
OUTPUT_LIMIT = 256 * 1024
# Output on disk beyond this stops the run: far more than any experiment prints.
DISK_OUTPUT_LIMIT = 64 * 1024 * 1024
# Far beyond any real result document (the largest here are tens of KiB).
DOCUMENT_LIMIT = 64 * 1024 * 1024


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def parse_document(text: str):
    """JSON as the standard defines it: NaN and Infinity are refused, not read as floats."""
    return parse_json(text, parse_constant=_reject_constant)


# ok, or how it went wrong: a non-zero exit, the timeout, a signal, no or a bad result document.
RunStatus = Literal["ok", "failed", "timeout", "crashed", "invalid"]


@dataclass
class RunOutcome:
    """What happened when a script ran, whatever happened."""

    experiment: str
    status: RunStatus
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
    """The captured output, its middle cut beyond OUTPUT_LIMIT.  Opened without following a
    link or waiting on a FIFO: the run could have replaced the file it wrote to."""
    try:
        fd = open_regular(path, follow=False)
    except OSError as exc:
        return f"[the output file was replaced by the run: {exc.strerror}]", True
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        if size <= OUTPUT_LIMIT:
            return f.read(OUTPUT_LIMIT).decode("utf-8", "replace"), False
        head = f.read(OUTPUT_LIMIT // 2)
        f.seek(size - OUTPUT_LIMIT // 2)
        tail = f.read(OUTPUT_LIMIT // 2)
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


def run_script(
    experiment: Experiment,
    interpreter: Interpreter,
    *,
    profile: str,
    timeout: float,
) -> RunOutcome:
    """Run one experiment in a fresh process session and watch it.

    stdout and stderr go to files, not pipes, so output of grandchildren
    (worker processes) is captured at the file-descriptor level and a
    flood cannot block or exhaust memory.  Every process of the run (its
    session, anything carrying its token in the environment, orphans adopted
    as a subreaper) is killed on timeout, on Ctrl-C or SIGTERM, and after it
    ends, so no stray worker or daemon outlives it.
    """
    become_subreaper()
    token_value = os.urandom(8).hex()
    token = f"{RUN_TOKEN}={token_value}".encode()
    # The owner's pid in the name: a SIGKILLed vaultgen cannot remove its
    # folder, and the next build tells it by that pid (remove_orphan_folders).
    with tempfile.TemporaryDirectory(prefix=f"{FOLDER_PREFIX}{os.getpid()}-") as tmp:
        tmpdir = Path(tmp)
        out_path, err_path, doc_path = tmpdir / "stdout", tmpdir / "stderr", tmpdir / "result.json"
        command = _command(experiment, interpreter, profile, doc_path)
        env = _environment(experiment, token_value)
        known_children = children()
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
                status, rusage, peak, stopped = _watch(proc.pid, started, timeout, token, known_children, (out, err))
                wall = time.perf_counter() - started
        except KeyboardInterrupt as exc:
            if proc is not None:
                kill_run(proc.pid, token, known_children)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(proc.pid, 0)
            setattr(exc, "vaultgen_context", (  # read by the CLI's one interrupt handler
                f"while measuring {experiment.name} under {interpreter.tag}: it and every process it started were "
                "stopped; results measured before are kept and the vault was left as it was"))
            raise
        kill_run(proc.pid, token, known_children)
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
        _classify(outcome, status, stopped, timeout, doc_path, experiment)
        return outcome


def _command(experiment: Experiment, interpreter: Interpreter, profile: str, doc_path: Path) -> list[str]:
    """Examples run exactly as their note says (``python x.py``); benchmarks unbuffered, so a
    killed one still leaves its last words, and told where to write their result document."""
    if experiment.kind == "example":
        return [interpreter.path, str(experiment.path)]
    return [interpreter.path, "-u", str(experiment.path), "--profile", profile, "--json-out", str(doc_path)]


def _environment(experiment: Experiment, token: str) -> dict[str, str]:
    """The run's environment: vaultgen's, made reproducible, and marked so that its processes
    can be found (``RUN_TOKEN``), and told from a killed vaultgen's (``OWNER``, ``FOLDER``)."""
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    # An inherited PYTHONUNBUFFERED would make each print two writes, so the example's worker
    # processes could run their lines together: the note promises the output of `python x.py`.
    env.pop("PYTHONUNBUFFERED", None)
    env[RUN_TOKEN] = token
    env[OWNER] = str(os.getpid())
    env[FOLDER] = str(experiment.path.parent.resolve())
    return env


def _watch(pid: int, started: float, timeout: float, token: bytes, known_children: set[int], outputs):
    """Wait for the run: (status, rusage, peak RSS, why it was stopped: "timeout", "output" or None)."""
    peak, delay, next_sample = 0, 0.002, 0.0
    while True:
        done, status, rusage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, rusage, peak, None
        now = time.perf_counter()
        stop = "timeout" if now - started > timeout else None
        # Sampling /proc costs CPU the experiment would otherwise get, so
        # sample sparsely; wait4's ru_maxrss backs it up for the main process.
        if stop is None and now >= next_sample:
            peak = max(peak, session_rss(pid))
            next_sample = now + 0.25
            # Only OUTPUT_LIMIT of it is kept; a print loop must not fill the disk meanwhile.
            if any(os.fstat(f.fileno()).st_size > DISK_OUTPUT_LIMIT for f in outputs):
                stop = "output"
        if stop is not None:
            kill_run(pid, token, known_children)
            _, status, rusage = os.wait4(pid, 0)
            return status, rusage, peak, stop
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _classify(outcome: RunOutcome, status: int, stopped: str | None, timeout: float,
              doc_path: Path, experiment: Experiment) -> None:
    if stopped == "timeout":
        outcome.status = "timeout"
        outcome.message = f"killed after the {timeout:g} s timeout"
        return
    if stopped == "output":
        outcome.status = "failed"
        outcome.message = (f"killed after writing more than {DISK_OUTPUT_LIMIT // 2**20} MiB of output "
                           f"(the first and last {OUTPUT_LIMIT // 2048} KiB are kept)")
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
        outcome.document = parse_document(read_regular(doc_path, follow=False, at_most=DOCUMENT_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        outcome.status = "invalid"
        outcome.message = "wrote no result document (does it call _harness.main?)"
        return
    except OSError as exc:  # a link, a FIFO, a device, or far too large: never followed, waited on or held
        outcome.status = "invalid"
        outcome.message = f"left no readable result document: {exc.strerror or exc}"
        return
    except ValueError as exc:
        outcome.status = "invalid"
        outcome.message = f"wrote an invalid result document: {exc}"
        return
    if not isinstance(outcome.document, dict) or not isinstance(outcome.document.get("metrics"), dict):
        outcome.status = "invalid"
        outcome.message = "result document has no metrics mapping"
        outcome.document = None
