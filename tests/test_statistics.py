"""The harness's statistics: known samples give known summaries."""

from __future__ import annotations

import importlib.util
import math
import statistics
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

_spec = importlib.util.spec_from_file_location("_harness", Path(__file__).parent.parent / "experiments" / "_harness.py")
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)


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
