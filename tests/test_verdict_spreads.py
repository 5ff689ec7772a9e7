"""Wins and ties decided by the measured spreads, not by a fixed margin (crafted per-repeat samples)."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from generator import claims
from generator.claims import DEPENDS, FAILS, HOLDS
from generator.claims.compare import compare_times, paired_ratio
from generator.results import Metric
from tests.factories import result_set
from tests.test_exp_tuning import hybrid_result, pool_result
from tests.test_statistics import harness


def doc(samples, unit="s"):
    """A metric document summarised from ``samples`` exactly as the harness does, order kept."""
    return harness.summarize(samples, unit)


def m(samples, name="x.wall", unit="s"):
    return Metric.from_json(name, doc(samples, unit))


def hybrid(wide, pool, **kwargs):
    """The hybrid result with the per-item pool's and asyncio + pool's repeats given."""
    r = hybrid_result(**kwargs)
    seq = [0.45] * len(wide)
    for key, samples in (("processes_wide", wide), ("asyncio_pool", pool)):
        r.metrics[f"{key}.wall"] = Metric.from_json(f"{key}.wall", doc(samples))
        r.metrics[f"{key}.speedup"] = Metric.from_json(f"{key}.speedup",
                                                       doc([s / w for s, w in zip(seq, samples)], "x"))
    return r


def verdict(key, r):
    return claims.evaluate(key, result_set(r))


# As measured on 3.11 (results/…/cpython-3.11.7/hybrid.json): IQRs 117–118 ms and 124–126 ms.
WIDE = [0.1182, 0.1178, 0.1192, 0.1174, 0.1139]
POOL = [0.1238, 0.1335, 0.1257, 0.1244, 0.1231]


def test_a_five_percent_gap_with_one_percent_spreads_is_real_but_small():
    v = verdict("hybrid_wins", hybrid(WIDE, POOL))
    assert v.status == DEPENDS, v.summary
    assert "one worker per item finished 1.06× faster than asyncio + a process pool" in v.summary
    assert "per-repeat ratios" in v.summary and "wholly above 1" in v.summary
    assert "a difference beyond the spread, but under the 10.0 %" in v.summary
    assert "5 of 5 above 1" in v.summary
    assert "could not be told apart" not in v.summary


def test_the_single_model_ahead_by_more_than_ten_percent_fails():
    pool = [w * 1.15 for w in WIDE]
    v = verdict("hybrid_wins", hybrid(WIDE, pool))
    assert v.status == FAILS, v.summary
    assert "one worker per item alone finished 1.15× faster" in v.summary


def test_the_combination_ahead_in_every_repeat_holds_even_when_the_walls_overlap():
    # A slow moment hits both models of the same repeat: the walls' IQRs overlap, the ratios do not.
    wide = [0.110, 0.150, 0.120, 0.170, 0.135]
    pool = [w * 0.88 for w in wide]
    a, b = m(pool), m(wide)
    assert a.q1 <= b.q3 and b.q1 <= a.q3  # unpaired, they would be a tie
    v = verdict("hybrid_wins", hybrid(wide, pool))
    assert v.status == HOLDS, v.summary
    assert "asyncio + a process pool finished 1.14× ⚠ faster" in v.summary  # ⚠: the walls' own spread


def test_the_combination_ahead_by_four_percent_in_every_repeat_depends():
    wide = [0.110, 0.130, 0.120, 0.140, 0.125]
    pool = [w * 0.96 for w in wide]
    v = verdict("hybrid_wins", hybrid(wide, pool))
    assert v.status == DEPENDS, v.summary
    assert "asyncio + a process pool finished 1.04× faster than a process pool of one worker per item, " \
           "the best single model" in v.summary


def test_a_ratio_end_just_above_one_is_shown_with_the_digits_that_say_so():
    a = m([0.100, 0.100, 0.100, 0.100, 0.100])
    b = m([0.10004, 0.10004, 0.1050, 0.1050, 0.1052])
    c = compare_times(a, b, paired=True)
    assert c.outcome == "faster" and c.small and not c.material
    assert "IQR 1.0004× – 1.05×, wholly above 1" in c.basis


def test_ratios_on_both_sides_of_one_are_a_tie_that_says_so():
    wide = [0.120, 0.120, 0.120, 0.120, 0.120]
    pool = [0.110, 0.118, 0.121, 0.124, 0.130]
    v = verdict("hybrid_wins", hybrid(wide, pool))
    assert v.status == DEPENDS, v.summary
    assert "could not be told apart" in v.summary and "which includes 1" in v.summary


def test_without_paired_samples_the_interquartile_ranges_decide():
    a = Metric("a", 0.100, 0.099, 0.101, 0.098, 0.102, 5, "s")
    b = Metric("b", 0.103, 0.1015, 0.104, 0.100, 0.105, 5, "s")
    c = compare_times(a, b, paired=True)
    assert (c.outcome, c.paired) == ("faster", False) and "do not overlap" in c.basis
    wide = Metric("b", 0.103, 0.1005, 0.104, 0.100, 0.105, 5, "s")
    c = compare_times(a, wide, paired=True)
    assert c.outcome == "tie" and "overlap" in c.basis


def test_per_repeat_ratios_and_medians_that_disagree_name_no_side():
    # a is ahead in 4 of 5 repeats, but one very fast repeat of b puts b's median below a's.
    a, b = m([1.0, 2.0, 3.0, 4.0, 5.0]), m([1.1, 2.2, 3.3, 4.4, 0.1])
    c = compare_times(a, b, paired=True)
    assert c.outcome == "tie" and "the ratio of the medians points the other way" in c.basis
    assert not c.material and not c.small


def test_edge_cases_name_no_side_and_never_crash():
    zero = Metric("z", 0.0, 0.0, 0.0, 0.0, 0.0, 5, "B")
    some = Metric("s", 900.0, 890.0, 910.0, 880.0, 920.0, 5, "B")
    for a, b in ((zero, some), (some, zero), (zero, zero)):
        for paired in (True, False):
            assert compare_times(a, b, paired=paired).outcome == "tie"
    # One or two repeats: a zero-width IQR is no evidence, unless every repeat agrees (paired).
    one, other = m([1.00]), m([1.12])
    assert compare_times(one, other, paired=False).outcome == "tie"
    assert "only 1 repeat" in compare_times(one, other, paired=False).basis
    mixed = compare_times(m([1.0, 1.0]), m([0.95, 1.5]), paired=True)
    assert mixed.outcome == "tie"
    assert compare_times(m([1.0, 1.0]), m([1.2, 1.3]), paired=True).outcome == "faster"
    # Equal medians, though three of five repeats favour a: no side.
    c = compare_times(m([1.0, 1.0, 1.0, 1.0, 1.0]), m([1.0, 1.0, 1.0, 1.1, 1.2]), paired=True)
    assert c.outcome == "tie"


def test_a_tie_after_the_override_keeps_the_ratio_the_right_way_up():
    # Per repeat a was slower in 4 of 5 (b / a about 0.9-0.98), but one very slow repeat of b puts
    # b's median above a's: no side, and both figures are given as b / a.
    c = compare_times(m([1.0, 2.0, 3.0, 4.0, 5.0]), m([10.0, 1.8, 2.7, 3.9, 4.9]), paired=True)
    assert c.outcome == "tie" and "points the other way" in c.basis
    assert abs(c.factor.median - 3.9 / 3.0) < 1e-12
    assert "5 per-repeat ratios: median 0.975×, IQR 0.900× – 0.980×, wholly below 1" in c.basis


def test_equal_sample_counts_are_paired_only_when_the_caller_says_so():
    a, b = m([0.100, 0.120, 0.110, 0.130, 0.105]), m([0.104, 0.125, 0.114, 0.135, 0.109])
    assert compare_times(a, b, paired=True).outcome == "faster"
    unpaired = compare_times(a, b, paired=False)
    assert unpaired.outcome == "tie" and not unpaired.paired and "ratio of the medians" in unpaired.basis


def test_paired_ratio_needs_the_same_repeats():
    assert paired_ratio(m([1.0, 2.0, 3.0]), m([1.0, 2.0])) is None
    assert paired_ratio(m([1.0]), m([1.0])) is None
    assert paired_ratio(Metric("a", 1, 1, 1, 1, 1, 5, "s"), Metric("b", 1, 1, 1, 1, 1, 5, "s")) is None


@given(st.lists(st.tuples(st.floats(0.01, 10), st.floats(0.01, 10)), min_size=2, max_size=30))
def test_paired_ratio_summarises_like_the_harness(pairs):
    a, b = m([x for x, _ in pairs]), m([y for _, y in pairs])
    ratio = paired_ratio(a, b)
    expected = harness.summarize([x / y for x, y in pairs], "x")
    for key in ("median", "q1", "q3", "min", "max"):
        assert abs(getattr(ratio, key) - expected[key]) <= 1e-9 * max(1.0, abs(expected[key])), key
    assert ratio.noisy == expected["noisy"] and ratio.n == len(pairs)
    assert ratio.median == statistics.median(ratio.samples)


def _sharing(samples, **environment):
    r = pool_result()
    r.environment.update(environment)
    r.metrics["lock.sharing.cost"] = Metric.from_json("lock.sharing.cost", doc(samples, "x"))
    return verdict("lock_contention", r)


FEW_PERCENT = [1.059, 1.053, 1.080, 1.041, 1.027]
NONE_AT_ALL = [1.019, 1.007, 1.0, 0.9996, 0.9998]


def test_a_sharing_cost_of_a_few_percent_is_measured_not_called_little():
    v = _sharing(FEW_PERCENT, gil_enabled=False, python_version="3.13.5")
    assert "sharing the Lock and counter made each addition take 1.05× as long" in v.summary
    assert "wholly above 1; under 10.0 %): the price of contention on this build" in v.summary
    assert "biased reference counting" in v.summary
    assert "counts that change and, on this build, the sharing as well as the dropped lock" in v.summary
    assert not any("GIL" in line for line in v.evidence)
    v = _sharing(NONE_AT_ALL, gil_enabled=False, python_version="3.13.5")
    assert "not wholly above 1): these repeats do not show sharing costing more" in v.summary and "biased" not in v.summary


def test_a_gil_build_that_cannot_contend_never_calls_a_difference_waiting():
    """On a GIL build of 3.10-3.13 no thread finds the Lock taken: a ratio above 1 is something else."""
    v = _sharing(FEW_PERCENT, gil_enabled=True, python_version="3.11.7")
    assert "is not threads waiting for it" in v.summary and "price of contention" not in v.summary
    assert "counts that change as well as the dropped lock" in v.summary
    assert any("__exit__" in line for line in v.evidence)
    v = _sharing(NONE_AT_ALL, gil_enabled=True, python_version="3.11.7")
    assert "not the sharing" in v.summary and any("__exit__" in line for line in v.evidence)


def test_the_with_block_explanation_is_given_only_for_the_versions_it_holds_for():
    # 3.14 enters a with block through CALL (gh-120507): a switch may follow __enter__ there.
    for version, explained in (("3.9.18", False), ("3.10.13", True), ("3.13.5", True), ("3.14.0", False)):
        v = _sharing(NONE_AT_ALL, gil_enabled=True, python_version=version)
        assert any("__exit__" in line for line in v.evidence) is explained, version
        v = _sharing(FEW_PERCENT, gil_enabled=True, python_version=version)
        assert ("is not threads waiting for it" in v.summary) is explained, version
        assert ("a thread switched out while it holds the Lock" in v.summary) is not explained, version


def _files(samples):
    from tests.test_exp_io import io_result

    r = io_result()
    r.metrics["file.threads.speedup"] = Metric.from_json("file.threads.speedup", doc(samples, "x"))
    return verdict("threads_fit_io", r)


def test_file_io_is_worded_from_its_interval():
    # The three interpreters' figures of the committed vault: 1.22× (IQR 1.15–1.25), 0.893× (IQR
    # 0.808–0.949), 1.53× (IQR 0.669–1.80).
    gained = _files([1.10, 1.15, 1.22, 1.25, 1.30])
    assert gained.status == DEPENDS
    assert "File writes and reads gained on threads: 1.22× the speed (IQR 1.15× – 1.25×, wholly above 1)" \
        in gained.summary
    lost = _files([0.70, 0.808, 0.893, 0.949, 1.02])
    assert "lost on threads: 0.893× ⚠ the speed (IQR 0.808× – 0.949×, wholly below 1)" in lost.summary
    unclear = _files([0.5, 0.669, 1.53, 1.80, 1.9])
    assert "showed no clear difference on threads: 1.53× ⚠ the speed (IQR 0.669× – 1.80×, which includes 1)" \
        in unclear.summary
    for v in (gained, lost, unclear):
        assert "served from the page cache" in v.summary and "memory copies, not waits" in v.summary
        assert "did not clearly gain" not in v.summary


def sweep(samples: dict[int, list[float]]):
    """The pool sweep with each worker count's per-repeat speedups given (repeat i in place i)."""
    r = pool_result({w: statistics.median(xs) for w, xs in samples.items()})
    for w, xs in samples.items():
        r.metrics[f"workers.{w}.speedup"] = m(xs, f"workers.{w}.speedup", "x")
    return r


TWO = [1.80, 1.78, 1.82, 1.79, 1.81]


def test_oversubscription_is_decided_per_repeat_and_by_size():
    # 4 workers ahead in every repeat by 4 %: real, but under the 10 % that would make it worth it.
    small = sweep({1: [1.0] * 5, 2: TWO, 4: [x * 1.04 for x in TWO]})
    v = verdict("oversubscription", small)
    assert v.status == DEPENDS and "a gain beyond the spread" in v.summary and "wholly above 1" in v.summary
    v = verdict("processes_scalable", small)
    assert "Past the CPUs it gained a little: 4 workers reached 1.87×, 1.04× the speedup of 2" in v.summary
    assert "under 10.0 %" in v.summary
    # Ahead by 15 % in every repeat: oversubscribing paid.
    big = sweep({1: [1.0] * 5, 2: TWO, 4: [x * 1.15 for x in TWO]})
    assert verdict("oversubscription", big).status == FAILS
    # A higher median, but the per-repeat ratios straddle 1: inconclusive.
    mixed = sweep({1: [1.0] * 5, 2: TWO, 4: [1.86, 1.74, 1.84, 1.77, 1.83]})
    v = verdict("oversubscription", mixed)
    assert v.status == DEPENDS and "within the spread" in v.summary and "which includes 1" in v.summary
    v = verdict("processes_scalable", mixed)
    assert "More workers than CPUs gained nothing measurable: the best of them, 4, reached 1.83×" in v.summary
    # Behind in every repeat by 4 %: did not help, and the scalability verdict says it lost a little.
    lost = sweep({1: [1.0] * 5, 2: TWO, 4: [x * 0.96 for x in TWO]})
    v = verdict("oversubscription", lost)
    assert v.status == HOLDS and "did not help" in v.summary
    v = verdict("processes_scalable", lost)
    assert "More workers than CPUs lost a little: the best of them, 4, reached 1.73×; 2 workers were 1.04× " \
           "faster" in v.summary and "under 10.0 %" in v.summary
    # By 15 %: lost ground.
    v = verdict("processes_scalable", sweep({1: [1.0] * 5, 2: TWO, 4: [x * 0.85 for x in TWO]}))
    assert "More workers than CPUs lost ground: the best of them, 4, reached 1.53×" in v.summary
    assert "gained nothing" not in v.summary


def test_scalable_says_nothing_about_a_capacity_it_does_not_quote():
    for capacity in (1.2 * 1.5, 1.99):  # one that "differs" from the speedup, one that agrees
        v = verdict("processes_scalable", pool_result({1: 1.0, 2: 1.9, 4: 1.85}, capacity=capacity))
        assert v.status == HOLDS and "capacity" not in v.summary and "the machine gave" not in v.summary


def test_scalable_blames_the_machine_only_with_the_measured_capacity():
    v = verdict("processes_scalable", pool_result({1: 1.0, 2: 1.12, 4: 1.1}, capacity=1.15))
    assert v.status == DEPENDS
    assert "Two busy processes of the same run got only 1.15× the work of one done" in v.summary
    assert "`pool_tuning`'s capacity probe, median of 7, IQR" in v.summary


def test_dask_scalable_says_what_a_cluster_adds_is_not_measured():
    from tests.test_exp_distributed import dask_result

    v = claims.evaluate("scalable_beyond_one_machine", result_set(dask_result()))
    assert "by connecting to a cluster (not measured here)" in v.summary
    v = claims.evaluate("scalable_beyond_one_machine", result_set(dask_result(capacity=1.1)))
    assert v.status == DEPENDS and "(capacity 1.10×)" in v.summary


def _shared(threads, processes, seq=(0.6, 0.7, 0.6, 0.8, 0.65), gil=False):
    from tests.factories import result

    values = {"shared.sequential.wall": doc(list(seq)), "shared.threads.2.wall": doc(threads),
              "shared.processes.2.wall": doc(processes),
              "shared.threads.2.speedup": doc([s / t for s, t in zip(seq, threads)], "x"),
              "shared.processes.2.speedup": doc([s / p for s, p in zip(seq, processes)], "x")}
    r = result("free_threading", values)
    r.environment.update(gil_enabled=not gil)
    return verdict("threads_beat_processes", r)


def test_threads_beat_processes_by_their_paired_walls_and_by_ten_percent():
    # A slow machine moment hits both in the same repeat; processes take 15 % longer every time.
    threads = [0.52, 0.60, 0.50, 0.66, 0.55]
    v = _shared(threads, [t * 1.15 for t in threads])
    assert v.status == HOLDS and "threads ran it 1.15× as fast as processes" in v.summary
    assert "wholly above 1" in v.summary
    # 4 % longer every time: real, but too small to call a win.
    v = _shared(threads, [t * 1.04 for t in threads])
    assert v.status == DEPENDS and "threads were ahead, but by less than 10.0 %" in v.summary
    assert "threads ran it 1.04× as fast as processes" in v.summary and "wholly above 1" in v.summary
    v = _shared(threads, [t * k for t, k in zip(threads, (0.97, 1.05, 1.0, 0.98, 1.04))])
    assert v.status == DEPENDS and "could not be told apart" in v.summary and "which includes 1" in v.summary
    v = _shared(threads, [t * 0.8 for t in threads], gil=True)
    assert v.status == FAILS and "processes ran it 1.25× as fast as threads" in v.summary
