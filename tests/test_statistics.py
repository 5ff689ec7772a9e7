"""The harness's statistics: known samples give known summaries."""

from __future__ import annotations

import importlib.util
import math
import sys
import statistics
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

_EXPERIMENTS = Path(__file__).parent.parent / "experiments"


def _load(name: str):
    """An experiments/ helper module, loaded from its file (the folder is no package)."""
    spec = importlib.util.spec_from_file_location(name, _EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # _harness imports _machine by name
    spec.loader.exec_module(module)
    return module


machine = _load("_machine")
harness = _load("_harness")


def test_summary_of_known_samples():
    s = harness.summarize([5, 1, 4, 2, 3], "s")
    assert (s["median"], s["q1"], s["q3"], s["min"], s["max"], s["n"]) == (3, 2, 4, 1, 5, 5)
    assert s["unit"] == "s" and s["samples"] == [5, 1, 4, 2, 3]
    assert s["noisy"] is True  # IQR 2 over median 3


def test_quartiles_interpolate_like_numpy():
    s = harness.summarize([1, 2, 3, 4], "s")
    assert s["median"] == 2.5 and s["q1"] == 1.75 and s["q3"] == 3.25


def test_stable_samples_are_not_noisy():
    s = harness.summarize([100, 101, 99, 100, 102, 98], "s")
    assert s["noisy"] is False


def test_noise_threshold_is_configurable():
    samples = [100, 104, 96, 100, 108, 92]
    assert harness.summarize(samples, "s", threshold=0.10)["noisy"] is False
    assert harness.summarize(samples, "s", threshold=0.02)["noisy"] is True


def test_single_sample():
    s = harness.summarize([7.5], "B")
    assert s["median"] == s["q1"] == s["q3"] == 7.5 and s["n"] == 1 and not s["noisy"]


@given(st.lists(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), min_size=1, max_size=60))
def test_summary_is_ordered(samples):
    s = harness.summarize(samples, "s")
    assert s["min"] <= s["q1"] <= s["median"] <= s["q3"] <= s["max"]
    assert math.isclose(s["median"], statistics.median(samples), rel_tol=1e-12, abs_tol=1e-9)


def test_measure_stops_early_when_stable(tmp_path):
    ctx = harness.Context("quick", {}, budget=10.0, verbose=False)
    calls = []

    def once():
        calls.append(1)
        return {"x": 1.0}

    ctx.measure(once, {"x": "s"}, warmup=2, min_repeats=5, max_repeats=50)
    assert len(calls) == 2 + 5  # warm-up calls are not recorded
    assert ctx.metrics["x"]["n"] == 5


def test_measure_repeats_noisy_metrics_more():
    ctx = harness.Context("quick", {}, budget=10.0, verbose=False)
    values = iter([1, 3] * 100)
    ctx.measure(lambda: {"x": next(values)}, {"x": "s"}, warmup=0, min_repeats=5, max_repeats=12, budget=5.0)
    assert ctx.metrics["x"]["n"] == 12 and ctx.metrics["x"]["noisy"]


def test_unknown_parameter_is_refused(capsys):
    import pytest

    with pytest.raises(SystemExit):
        harness.parse_args(["--param", "nope=1"], {"quick": {"n": 1}, "full": {"n": 2}})
    assert "unknown parameter" in capsys.readouterr().err


def test_parameter_override_keeps_type():
    args, params = harness.parse_args(["--profile", "quick", "--param", "n=5", "--param", "sizes=1,2"],
                                      {"quick": {"n": 1, "sizes": [3]}, "full": {"n": 2, "sizes": [4]}})
    assert params == {"n": 5, "sizes": [1, 2]}


# -- environment: cgroup quota, usable CPUs, other processes' CPU use ---------


def _cgroup_tree(tmp_path, lines, files):
    proc = tmp_path / "cgroup"
    proc.write_text("\n".join(lines) + "\n")
    for rel, text in files.items():
        f = tmp_path / "fs" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return str(tmp_path / "fs"), str(proc)


def test_cgroup_v2_quota_of_one_and_a_half_cpus(tmp_path):
    root, proc = _cgroup_tree(tmp_path, ["0::/box"], {"box/cpu.max": "150000 100000\n", "cpu.max": "max 100000\n"})
    assert machine.cpu_quota(root, proc) == 1.5


def test_cgroup_v2_without_quota(tmp_path):
    root, proc = _cgroup_tree(tmp_path, ["0::/"], {"cpu.max": "max 100000\n"})
    assert machine.cpu_quota(root, proc) is None


def test_cgroup_v2_container_sees_its_cgroup_at_the_root(tmp_path):
    # The path named in /proc/self/cgroup is not mounted inside the container.
    root, proc = _cgroup_tree(tmp_path, ["0::/docker/abc"], {"cpu.max": "50000 100000\n"})
    assert machine.cpu_quota(root, proc) == 0.5


def test_cgroup_v1_cfs_quota(tmp_path):
    root, proc = _cgroup_tree(tmp_path, ["4:memory:/x", "3:cpu,cpuacct:/job"],
                              {"cpu,cpuacct/job/cpu.cfs_quota_us": "200000\n",
                               "cpu,cpuacct/job/cpu.cfs_period_us": "100000\n",
                               "cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                               "cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    assert machine.cpu_quota(root, proc) == 2.0


def test_no_cgroup_files_means_no_quota(tmp_path):
    assert machine.cpu_quota(str(tmp_path), str(tmp_path / "missing")) is None


def test_usable_cpus_is_the_smaller_of_affinity_and_quota():
    assert machine.usable_cpus(16, None) == 16.0
    assert machine.usable_cpus(16, 1.5) == 1.5
    assert machine.usable_cpus(1, 4.0) == 1.0


def test_other_processes_cpu_from_proc_stat(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    # user nice system idle iowait irq softirq steal
    stat.write_text("cpu  0 0 0 0 0 0 0 0\ncpu0 100 0 50 900 0 0 0 0\ncpu1 10 0 0 990 0 0 0 0\n")
    clock = iter([0.0, 2.0])
    own = iter([1.0, 2.0])
    monkeypatch.setattr(machine.time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(machine, "own_cpu_seconds", lambda: next(own))
    monkeypatch.setattr(machine.os, "sysconf", lambda name: 100)
    watch = machine.CpuWatch(cpus=[0], stat=str(stat)).start()
    # 2 s later cpu0 gained 300 busy ticks (3 s); our own tree used 1 s of it.
    stat.write_text("cpu  0 0 0 0 0 0 0 0\ncpu0 300 0 100 950 0 0 0 50\ncpu1 500 0 0 990 0 0 0 0\n")
    assert watch.stop() == 1.0  # cpu1 is not ours: its 4.9 s are ignored


def test_busy_threshold_scales_with_usable_cpus():
    assert machine.is_busy(0.15, 2.0) is False and machine.is_busy(0.25, 2.0) is True
    assert machine.is_busy(0.15, 0.5) is True  # below one CPU the threshold stays 0.1 of a core
    assert machine.is_busy(None, 2.0) is None


def test_environment_reports_usable_cpus():
    env = harness.environment()
    assert env["usable_cpus"] <= env["affinity"] and "cpu_quota" in env


def test_a_sweep_is_the_metrics_named_prefix_n_suffix_by_n():
    """Six hand-written parsers of such names had drifted apart (one skipped the digit check)."""
    from tests.factories import result

    r = result("pool_tuning", {"workers.4.speedup": 3.0, "workers.1.speedup": 1.0, "workers.16.speedup": 3.5,
                               "workers.x.speedup": 9.0, "workers.2.speedup.extra": 9.0, "workers.2.wall": 9.0,
                               "chunksize.10.per_task": 0.001})
    assert list(r.sweep("workers", "speedup")) == [1, 4, 16]
    assert r.sweep("workers", "speedup")[4].median == 3.0
    assert list(r.sweep("chunksize", "per_task")) == [10] and r.sweep("workers", "cpu") == {}
