"""Which of two figures was ahead: decided by their measured spreads, then sized by their medians.

Where the caller knows both were timed in the same repeats (the experiment runs every variant
back to back in each repeat, so the i-th samples belong together), the per-repeat ratio cancels
what a slow moment of the machine does to both, and a side is ahead when the interquartile range
of those ratios lies wholly on its side of 1; otherwise when the two IQRs do not overlap. Either
way the ratio of the medians must point the same way. A side ahead by at least ``MATERIAL`` is a
winner; a smaller lead is reported as small (README, "Where a note or verdict says …").
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from generator import formatting as f
from generator.results import Metric

Outcome = Literal["faster", "slower", "tie"]

# A lead this size or larger (the ratio of the two medians at least 1.10) can carry a design
# decision; a smaller one that still lies beyond the spread is real on this machine but small,
# and verdicts and notes say so instead of naming a winner.
MATERIAL = 1.10
# Below this many repeats a side is ahead only if every repeat says so.
MIN_REPEATS = 5


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
    # The ratio of the two medians, as prose puts it beside them: how many times faster the faster
    # one was (b / a on a tie). The per-repeat ratios, where they decided, are in ``basis``.
    factor: f.Quotient
    paired: bool
    # The interval the outcome rests on, as prose: "ratio of the medians; 7 per-repeat ratios: median 1.03×, IQR …".
    basis: str

    @property
    def size(self) -> float:
        """How far apart the two medians were, as a factor of at least 1, whichever was ahead."""
        x = self.factor.median
        return max(x, 1 / x) if x > 0 else float("inf")

    @property
    def material(self) -> bool:
        """Apart beyond the spread *and* by at least ``MATERIAL``: a difference to decide by."""
        return self.outcome != "tie" and self.size >= MATERIAL

    @property
    def small(self) -> bool:
        """Apart beyond the spread, but by less than ``MATERIAL``."""
        return self.outcome != "tie" and not self.material


def interval_end(x: float) -> str:
    """An interval end as a ratio, with the digits it needs to show on which side of 1 it lies
    (1.0004 is "1.0004×", not "1.00×", when the sentence says "wholly above 1")."""
    for digits in range(3, 7):
        shown = f.sig(x, digits)
        value = float(shown.replace(",", ""))
        if x == 1 or (value > 1) == (x > 1) and value != 1:
            break
    return f"{shown}×"


def _decided(q1: float, q3: float) -> Outcome:
    """The outcome for ``a`` of an interval of b/a ratios (or of b's IQR against a's)."""
    return "faster" if q1 > 1 else "slower" if q3 < 1 else "tie"


def compare_times(a: Metric, b: Metric, *, paired: bool) -> Comparison:
    """Whether time ``a`` was clearly shorter, clearly longer or not distinguishable from ``b``.

    ``paired``: the caller knows both were timed in the same repeats (sample i of each from repeat
    i), so their per-repeat ratios decide; equal sample counts alone do not make samples pairs.
    A side is ahead only where the medians agree, and with fewer than ``MIN_REPEATS`` repeats
    only if every repeat agrees too: a quartile of two or three numbers says little.
    """
    n = min(a.n, b.n)
    if a.median <= 0 or b.median <= 0:
        return Comparison("tie", f.Quotient(1.0, True), False, "a median of 0 or less, so no ratio")
    medians = f.Quotient(b.median / a.median, f.is_noisy(a) or f.is_noisy(b))  # > 1: a was faster
    ratio = paired_ratio(b, a) if paired else None
    if ratio is not None and min(ratio.samples) > 0:
        outcome = _decided(ratio.q1, ratio.q3)
        if n < MIN_REPEATS and not (min(ratio.samples) > 1 or max(ratio.samples) < 1):
            outcome = "tie"
    else:
        ratio = None
        outcome = "tie" if n < MIN_REPEATS or overlap(a, b) else ("faster" if a.q3 < b.q1 else "slower")
    disagree = outcome != "tie" and (medians.median == 1 or (medians.median > 1) != (outcome == "faster"))
    if disagree:
        outcome = "tie"
    factor = f.Quotient(1 / medians.median, medians.noisy) if outcome == "slower" else medians
    if ratio is not None:
        # Oriented as the factor: the faster one's advantage, or b / a on a tie.
        flip = outcome == "slower"
        median, low, high = (1 / ratio.median, 1 / ratio.q3, 1 / ratio.q1) if flip else (ratio.median, ratio.q1, ratio.q3)
        above = sum(x < 1 for x in ratio.samples) if flip else sum(x > 1 for x in ratio.samples)
        side = "wholly above 1" if low > 1 else "wholly below 1" if high < 1 else "which includes 1"
        basis = (f"ratio of the medians; {ratio.n} per-repeat ratios: median {interval_end(median)}, IQR "
                 f"{interval_end(low)} – {interval_end(high)}, {side}; {above} of {ratio.n} above 1")
    else:
        def show(x: float) -> str:
            return f.auto(Metric(a.name, x, x, x, x, x, 1, a.unit))

        basis = (f"ratio of the medians; IQRs {show(a.q1)} – {show(a.q3)} and "
                 f"{show(b.q1)} – {show(b.q3)} {'overlap' if overlap(a, b) else 'do not overlap'}")
    if n < MIN_REPEATS:
        basis += f"; only {n} repeat{'s' if n != 1 else ''}"
    if disagree and medians.median == 1:
        basis += "; the medians are equal"
    elif disagree:
        basis += ", though the ratio of the medians points the other way"
    return Comparison(outcome, factor, ratio is not None, basis)


def compare_speedups(a: Metric, b: Metric, *, paired: bool) -> Comparison:
    """As ``compare_times`` for figures where higher is better: "faster" means ``a`` was higher."""
    return compare_times(b, a, paired=paired)
