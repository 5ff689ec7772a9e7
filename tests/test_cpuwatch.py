"""The runner's view of other processes' CPU use (generator/cpuwatch.py)."""

from __future__ import annotations

from pathlib import Path

from generator.cpuwatch import busy_ticks, correct_environment

STAT = """\
cpu  900 10 300 5000 40 5 6 7 0 0
cpu0 400 5 100 2500 20 2 3 4 0 0
cpu1 500 5 200 2500 20 3 3 3 0 0
intr 12345
"""


def test_busy_ticks_counts_only_the_given_cpus_and_no_idle_or_iowait(tmp_path: Path):
    stat = tmp_path / "stat"
    stat.write_text(STAT)
    assert busy_ticks({0}, stat) == 400 + 5 + 100 + 2 + 3 + 4
    assert busy_ticks({0, 1}, stat) == (400 + 5 + 100 + 2 + 3 + 4) + (500 + 5 + 200 + 3 + 3 + 3)
    assert busy_ticks({0}, tmp_path / "missing") is None


def test_runner_figure_replaces_the_harness_estimate_and_decides_busy():
    env = {"other_cpu": 0.38, "busy": True, "busy_threshold": 0.1, "usable_cpus": 2.0}
    correct_environment(env, 0.02)
    assert env == {"other_cpu": 0.02, "other_cpu_inside": 0.38, "busy": False,
                   "busy_threshold": 0.1, "usable_cpus": 2.0}
    correct_environment(env, 0.5)
    assert env["busy"] is True and env["other_cpu_inside"] == 0.02


def test_nothing_changes_without_a_runner_figure_or_a_harness_field():
    env = {"other_cpu": 0.38, "busy": True}
    correct_environment(env, None)
    assert env == {"other_cpu": 0.38, "busy": True}
    old = {"cpu_model": "x"}
    correct_environment(old, 0.1)
    assert old == {"cpu_model": "x"}
