"""Never hang, never orphan a process (issue 11 §C).

The process-leak test runs the real CLI in a subprocess on a project whose
experiment starts two worker processes and a double-forked ``setsid``
daemon, sends SIGINT or SIGTERM at a random moment of the build, and then
checks: the exit code and message, that no process of that run is alive
(every process in /proc whose environment names the project), that no
staging or ``vaultgen-run-*`` folder is left, and that the next build writes
exactly what an uninterrupted build writes from the same results.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.experiments import Experiment
from generator.runner import run_script
from generator.interpreters import resolve
from tests.faultkit import snapshot

LEAKY = '''\
"""Starts workers and a daemon that escapes its session, then finishes."""
import multiprocessing, os, sys, time


def spin(seconds):
    end = time.time() + seconds
    while time.time() < end:
        pass


def daemon():
    if os.fork():
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    time.sleep(60)  # a daemon that would outlive everything
    os._exit(0)


if __name__ == "__main__":
    daemon()
    workers = [multiprocessing.Process(target=spin, args=(SECONDS,)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print("workers done")
'''

NOTE = '''\
{#---
title: Leaky
experiments: [leaky]
---#}
# Leaky

{% set r = result("leaky") %}
Output: {{ r.output.strip() if r else "none" }}
'''


def _project(root: Path, seconds: float) -> Path:
    (root / "experiments").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "experiments" / "leaky.py").write_text(LEAKY.replace("SECONDS", repr(seconds)))
    (root / "templates" / "Leaky.md.j2").write_text(NOTE)
    return root


def _env(tmp: Path, project: Path) -> dict[str, str]:
    # A private TMPDIR shows whether this run's vaultgen-run-* folder is left;
    # the marker lets /proc tell this run's processes from everyone else's.
    return dict(os.environ, TMPDIR=str(tmp), VAULTGEN_TEST_PROJECT=str(project))


def _alive_of(project: Path) -> list[int]:
    marker = f"VAULTGEN_TEST_PROJECT={project}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ and state not in (b"Z", b"X"):
            found.append(int(entry))
    return found


def _cli(project: Path) -> list[str]:
    return [sys.executable, "-m", "generator", "build", "-C", str(project), "--profile", "quick"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="scans /proc")
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_at_a_random_moment_leaves_no_process_and_no_trace(tmp_path, sig, seed):
    project = _project(tmp_path / "proj", seconds=1.0)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = _env(tmp, project)
    proc = subprocess.Popen(_cli(project), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while len(_alive_of(project)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # until the experiment runs (vaultgen, the script, its workers)
    time.sleep(random.Random(seed).uniform(0.0, 1.6))  # measuring, or rendering and writing
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    expected = 130 if sig == signal.SIGINT else 143
    if proc.returncode == 0 or "vaultgen build" in out:  # the build won the race: done before the signal
        assert "vault" in out and proc.returncode in (0, expected, -sig)
    else:
        assert proc.returncode == expected, (out, err)
        word = "interrupted" if sig == signal.SIGINT else "terminated"
        assert word in err and "Traceback" not in err, err
    deadline = time.monotonic() + 5
    while _alive_of(project) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive_of(project) == [], "processes of the interrupted run are still alive"
    assert not (project / "vault" / ".vaultgen" / "staging").exists()
    assert list(tmp.glob("vaultgen-run-*")) == []
    # The next build completes; from the same results an uninterrupted build writes the same vault.
    done = subprocess.run(_cli(project), env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "workers done" in (project / "vault" / "Leaky.md").read_text()
    assert _alive_of(project) == []
    reference = _project(tmp_path / "reference", seconds=1.0)
    shutil.copytree(project / "results", reference / "results")
    ref = subprocess.run(_cli(reference), env=env, capture_output=True, text=True, timeout=60)
    assert ref.returncode == 0, ref.stderr
    assert snapshot(reference / "results") == snapshot(project / "results")  # rendered, not re-measured
    strip = {".vaultgen/manifest.json"}
    assert {k: v for k, v in snapshot(project / "vault").items() if k not in strip} == \
           {k: v for k, v in snapshot(reference / "vault").items() if k not in strip}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="scans /proc")
def test_double_forked_daemon_is_reaped_after_a_normal_run(tmp_path):
    """Not interrupted at all: the daemon that left the session still dies with the run."""
    project = _project(tmp_path / "proj", seconds=0.1)
    os.environ["VAULTGEN_TEST_PROJECT"] = str(project)
    try:
        path = project / "experiments" / "leaky.py"
        experiment = Experiment("leaky", path, "example", "Leaky", path.read_text())
        outcome = run_script(experiment, resolve(None), profile="quick", timeout=30)
        assert outcome.ok and "workers done" in outcome.stdout
        assert _alive_of(project) == []
    finally:
        del os.environ["VAULTGEN_TEST_PROJECT"]


_CTRL_C_WHILE_IMPORTING = '''
import sys


class CtrlC:
    """Raises what SIGINT raises, at the moment the CLI imports typer."""

    def find_spec(self, name, path=None, target=None):
        if name == "typer":
            raise KeyboardInterrupt
        return None


sys.meta_path.insert(0, CtrlC())
from generator.launch import main

main()
'''


def test_ctrl_c_while_the_cli_is_still_importing_is_one_line_and_130():
    done = subprocess.run([sys.executable, "-c", _CTRL_C_WHILE_IMPORTING], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130
    assert done.stderr == "interrupted while starting: nothing was read or written\n"
