"""Which of two timings was faster, decided by their measured spreads rather than a fixed margin.

Where both figures were timed in the same repeats (the experiment runs every variant back to back
in each repeat, so the i-th samples belong together), the per-repeat ratio cancels what a slow
moment of the machine does to both; a side "wins" when the interquartile range of those ratios lies
wholly on its side of 1. Without paired samples, it wins when the two IQRs do not overlap.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from generator import formatting as f
from generator.results import Metric

Outcome = Literal["faster", "slower", "tie"]


def paired_ratio(a: Metric, b: Metric) -> Metric | None:
    """``a / b`` repeat by repeat, summarised as the harness summarises a metric (median, linear
    quartiles, noise flag); None unless both hold the same number (at least 2) of samples."""
    if len(a.samples) != len(b.samples) or len(a.samples) < 2 or len(a.samples) != a.n or b.n != a.n:
        return None
    if any(y == 0 for y in b.samples):
        return None
    ratios = [x / y for x, y in zip(a.samples, b.samples)]
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return Metric(name=f"{a.name} / {b.name}", median=median, q1=q1, q3=q3, min=min(ratios),
                  max=max(ratios), n=len(ratios), unit="x",
                  noisy=bool(median) and (q3 - q1) / abs(median) > f.NOISE, samples=tuple(ratios))


def overlap(a: Metric, b: Metric) -> bool:
    """Whether the interquartile ranges of ``a`` and ``b`` overlap."""
    return a.q1 <= b.q3 and b.q1 <= a.q3


@dataclass(frozen=True)
class Comparison:
    """Wall time ``a`` against wall time ``b``: ``outcome`` is a's ("faster": a took less time)."""

    outcome: Outcome
    factor: object  # how many times faster the faster one was (a Metric or a Quotient), 1-ish on a tie
    paired: bool
    # The interval the outcome rests on, as prose: "per-repeat ratios 1.05× – 1.08×".
    basis: str


def compare_times(a: Metric, b: Metric) -> Comparison:
    """Whether time ``a`` was clearly shorter, clearly longer or not distinguishable from ``b``."""
    ratio = paired_ratio(b, a)  # > 1: a was faster
    if ratio is not None:
        if ratio.q1 > 1:
            outcome: Outcome = "faster"
        elif ratio.q3 < 1:
            outcome = "slower"
        else:
            outcome = "tie"
        factor = ratio
        if outcome == "slower":
            reverse = paired_ratio(a, b)
            assert reverse is not None  # the same per-repeat samples as ratio's
            factor = reverse
        low, high = (factor.q1, factor.q3)
        side = {"faster": "wholly above 1", "slower": "wholly above 1", "tie": "which includes 1"}[outcome]
        basis = (f"median of {ratio.n} per-repeat ratios, IQR {f.ratio(low)} – {f.ratio(high)}, {side}")
        return Comparison(outcome, factor, True, basis)
    if a.q3 < b.q1:
        outcome = "faster"
    elif b.q3 < a.q1:
        outcome = "slower"
    else:
        outcome = "tie"
    factor = f.quotient(b, a) if outcome != "slower" else f.quotient(a, b)
    show = f.duration if a.unit == "s" else f.ratio if a.unit == "x" else f.sig
    basis = (f"ratio of the medians; IQRs {show(a.q1)} – {show(a.q3)} and "
             f"{show(b.q1)} – {show(b.q3)} {'overlap' if outcome == 'tie' else 'do not overlap'}")
    return Comparison(outcome, factor, False, basis)


def compare_speedups(a: Metric, b: Metric) -> Comparison:
    """As ``compare_times`` for figures where higher is better: "faster" means ``a`` was higher."""
    return compare_times(b, a)
