"""A busy machine is said before measuring and flagged in the build summary (issue 9, section 3)."""

from __future__ import annotations

import io

from rich.console import Console

from generator import syscheck
from generator.pipeline import BuildReport
from generator.console import RichProgress, build_summary
from tests.factories import machine, result, result_set


def _stat(tmp_path, busy_ticks):
    path = tmp_path / "stat"
    path.write_text(f"cpu  0 0 0 0 0 0 0 0\ncpu0 {busy_ticks} 0 0 500 0 0 0 0\ncpu1 0 0 0 500 0 0 0 0\n")
    return path


def test_busy_machine_is_detected_from_proc_stat(tmp_path, monkeypatch):
    path = _stat(tmp_path, 0)
    monkeypatch.setattr(syscheck, "_cpus", lambda: [0, 1])
    # Another process takes 90 ticks (0.9 s of CPU at 100 Hz) while the check sleeps.
    monkeypatch.setattr(syscheck.time, "sleep", lambda s: path.write_text(path.read_text().replace("cpu0 0 ", "cpu0 90 ")))
    monkeypatch.setattr(syscheck.time, "perf_counter", iter([0.0, 1.0]).__next__)
    monkeypatch.setattr(syscheck.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(syscheck.os, "times", lambda: (0.0, 0.0, 0.0, 0.0, 0.0))
    found = syscheck.check(seconds=1.0, stat=str(path))
    assert found.busy and abs(found.other_cpu - 0.9) < 1e-9
    assert "0.90 of the 2 CPUs" in found.warning() and "build again" in found.warning()


def test_quiet_machine_says_nothing(tmp_path, monkeypatch):
    path = _stat(tmp_path, 0)
    monkeypatch.setattr(syscheck, "_cpus", lambda: [0, 1])
    monkeypatch.setattr(syscheck.time, "sleep", lambda s: None)
    found = syscheck.check(seconds=0.0, stat=str(path))
    assert not found.busy and found.warning() is None


def test_without_proc_stat_nothing_is_claimed(tmp_path):
    assert syscheck.check(seconds=0.0, stat=str(tmp_path / "missing")).other_cpu is None


def test_busy_results_are_listed_in_the_build_summary():
    rs = result_set(result("hybrid", {"x.wall": 0.1}, environment=machine("busy")),
                    result("pool_tuning", {"x.wall": 0.1}))
    report = BuildReport(busy=syscheck.busy_results(rs))
    assert report.busy == ["hybrid (cpython-3.11.7): others used 1.20 of 2.0 CPUs"]
    out = io.StringIO()
    Console(file=out, width=200).print(build_summary(report))
    assert "measured on a busy machine" in out.getvalue() and "hybrid (cpython-3.11.7)" in out.getvalue()


def test_the_warning_is_printed_before_measuring():
    out = io.StringIO()
    RichProgress(Console(file=out, width=200)).warn("the machine is busy: test")
    assert "warning: the machine is busy: test" in out.getvalue()
