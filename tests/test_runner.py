"""The runner: every way a script can end is reported, none stops vaultgen."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.experiments import discover
from generator.runner import OUTPUT_LIMIT, run_script
from generator.interpreters import resolve
from tests.conftest import no_hang


def _run(folder: Path, name: str, source: str, timeout: float = 20.0):
    (folder / f"{name}.py").write_text(source)
    experiment = discover(folder)[name]
    return run_script(experiment, resolve(None), profile="quick", timeout=timeout)


def test_example_output_of_child_processes_is_captured(tmp_path):
    source = (Path(__file__).parent.parent / "experiments" / "process_example.py").read_text()
    outcome = _run(tmp_path, "process_example", source)
    assert outcome.ok and outcome.exit_code == 0
    assert sorted(outcome.stdout.splitlines()) == [f"Task {i} is running" for i in range(5)]
    assert outcome.wall > 0 and outcome.cpu > 0 and outcome.peak_rss > 0


def test_exit_code_and_stderr_are_reported(tmp_path):
    outcome = _run(tmp_path, "fails", "import sys\nsys.stderr.write('bad thing happened\\n')\nsys.exit(3)\n")
    assert outcome.status == "failed" and outcome.exit_code == 3
    assert "bad thing happened" in outcome.message


def test_signal_death_is_reported(tmp_path):
    outcome = _run(tmp_path, "segv", "import os, signal, resource\n"
                   "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    assert outcome.status == "crashed" and outcome.signal == "SIGSEGV"


def test_hang_is_killed_with_its_children(tmp_path):
    source = ("import subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              "print(child.pid, flush=True)\ntime.sleep(60)\n")
    outcome = _run(tmp_path, "hangs", source, timeout=1.0)
    assert outcome.status == "timeout" and "timeout" in outcome.message
    child = int(outcome.stdout.split()[0])
    assert not _alive(child)  # the grandchild was killed with the session


def _alive(pid: int) -> bool:
    """Running or sleeping; a zombie waiting for its reaper counts as dead."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_flood_of_output_is_capped(tmp_path):
    outcome = _run(tmp_path, "flood", "import sys\nchunk = 'x' * 1048575 + '\\n'\n"
                   "for _ in range(10):\n    sys.stdout.write(chunk)\n")
    assert outcome.ok and outcome.truncated
    assert len(outcome.stdout) < OUTPUT_LIMIT + 100 and "bytes cut" in outcome.stdout


def test_output_that_would_fill_the_disk_stops_the_run(tmp_path, monkeypatch):
    """Only 256 KiB of output are kept, yet a print loop filled $TMPDIR at 160 MB/s until the timeout."""
    from generator import runner

    monkeypatch.setattr(runner, "DISK_OUTPUT_LIMIT", 4 * 1024 * 1024)
    outcome = _run(tmp_path, "endless", "import sys\nchunk = 'x' * 65535 + '\\n'\nwhile True:\n    sys.stdout.write(chunk)\n")
    assert outcome.status == "failed" and "more than 4 MiB of output" in outcome.message
    assert outcome.truncated and "bytes cut" in outcome.stdout


_EXPERIMENTS = Path(__file__).parent.parent / "experiments"


def _copy_harness(folder: Path) -> None:
    """The harness and the helper module it imports."""
    for name in ("_harness.py", "_machine.py"):
        (folder / name).write_text((_EXPERIMENTS / name).read_text())


def test_benchmark_without_document_is_invalid(tmp_path):
    _copy_harness(tmp_path)
    outcome = _run(tmp_path, "nodoc", "import _harness\nprint('forgot to call main')\n")
    assert outcome.status == "invalid" and "no result document" in outcome.message


def test_benchmark_with_broken_document_is_invalid(tmp_path):
    _copy_harness(tmp_path)
    source = ("import sys\nimport _harness\nout = sys.argv[sys.argv.index('--json-out') + 1]\n"
              "open(out, 'w').write('{not json')\n")
    outcome = _run(tmp_path, "badjson", source)
    assert outcome.status == "invalid" and "invalid result document" in outcome.message


def test_discover_tells_examples_from_benchmarks(tmp_path):
    _copy_harness(tmp_path)
    (tmp_path / "a.py").write_text('"""Plain example."""\nprint(1)\n')
    (tmp_path / "b.py").write_text('"""Bench."""\nfrom _harness import main\n')
    found = discover(tmp_path)
    assert set(found) == {"a", "b"}
    assert found["a"].kind == "example" and found["a"].title == "Plain example."
    assert found["b"].kind == "benchmark" and found["b"].local_imports() == [tmp_path / "_harness.py", tmp_path / "_machine.py"]


def test_the_next_build_stops_experiments_a_killed_vaultgen_left_running():
    """A SIGKILLed build cannot stop its experiment; the next one finds it by its owner's pid."""
    import os
    import subprocess
    import sys
    import time

    from generator import orphans

    from pathlib import Path

    here = Path(__file__).resolve().parent / "no-such-experiments"  # this test's own "project": no one else's runs
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer exists: the killed vaultgen
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # killed, not yet reaped by its parent
    env = dict(os.environ, VAULTGEN_RUN="t", VAULTGEN_OWNER=str(gone.pid), VAULTGEN_EXPERIMENTS=str(here))
    sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
    strays = [subprocess.Popen(sleep, env=env), subprocess.Popen(sleep, env=dict(env, VAULTGEN_OWNER=str(zombie.pid)))]
    kept = subprocess.Popen(sleep, env=dict(env, VAULTGEN_OWNER=str(os.getpid())))  # a live build's run
    other = subprocess.Popen(sleep, env=dict(env, VAULTGEN_EXPERIMENTS=str(here) + "-other"))  # another project's
    try:
        # Until each has exec'd (its environment shows the token) and the zombie has exited.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            zombie.poll() is not None
            and all(b"VAULTGEN_RUN=t" in Path(f"/proc/{proc.pid}/environ").read_bytes() for proc in (*strays, kept, other))
        ):
            time.sleep(0.01)
        found = orphans.reap_orphans(here)
        assert sorted(found.stopped) == sorted(proc.pid for proc in strays)
        assert found.elsewhere == {str(here) + "-other": [other.pid]}
        assert [proc.wait(timeout=10) for proc in strays] == [-9, -9]
        assert kept.poll() is None and other.poll() is None
    finally:
        for proc in (*strays, kept, other):
            proc.kill()
            proc.wait()
        zombie.wait()


def test_the_next_build_removes_the_run_folders_of_a_killed_vaultgen(tmp_path, monkeypatch):
    """A SIGKILLed build leaves its vaultgen-run-<pid>-* folder; only a dead owner's folder goes."""
    import os
    import subprocess
    import sys
    import tempfile

    from generator import orphans

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    left = tmp_path / f"vaultgen-run-{gone.pid}-abc123"
    left.mkdir()
    (left / "stdout").write_text("output of the killed run")
    mine = tmp_path / f"vaultgen-run-{os.getpid()}-def456"  # a running build's folder
    mine.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("x")
    link = tmp_path / f"vaultgen-run-{gone.pid}-link"
    link.symlink_to(outside)
    other = tmp_path / "vaultgen-run-notapid"
    other.mkdir()

    assert orphans.remove_orphan_folders() == 1
    assert not left.exists() and mine.is_dir() and other.is_dir()
    assert link.is_symlink() and (outside / "precious").read_text() == "x"


@pytest.mark.parametrize("plant", [
    "os.mkfifo(out)",                  # reading it waited forever
    "os.symlink('/dev/zero', out)",   # reading it took all memory
    "os.symlink(os.path.abspath(__file__), out)",  # a link, even to a real file
])
def test_a_result_document_that_is_no_regular_file_is_invalid_not_a_hang(tmp_path, plant):
    source = ("import os, sys\nif False:\n    import _harness\n"
              f"out = sys.argv[sys.argv.index('--json-out') + 1]\n{plant}\n")
    with no_hang():
        outcome = _run(tmp_path, "planted", source)
    assert outcome.status == "invalid" and "left no readable result document" in outcome.message


def test_an_output_file_the_run_replaced_is_not_waited_on(tmp_path):
    source = ("import os, sys\nout = os.path.join(os.path.dirname(sys.argv[sys.argv.index('--json-out') + 1]), 'stdout')\n"
              "if False:\n    import _harness\nos.unlink(out)\nos.mkfifo(out)\n")
    with no_hang():
        outcome = _run(tmp_path, "replaced", source)
    assert "the output file was replaced by the run" in outcome.stdout
