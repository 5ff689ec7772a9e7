"""How measured numbers read in prose: units, significant digits, ratios.

Used as Jinja filters and by verdicts, so a figure reads the same wherever
it appears.  ``None`` (a figure that could not be measured) reads as "n/a".
A measured figure whose IQR exceeds ``NOISE`` of its median carries ``⚠``
in every format, so no template or verdict can show it without the mark.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

NA = "n/a"
NOISE = 0.10  # the harness's noise threshold: IQR over median
NOISY_MARK = " ⚠"


def _value(x):
    """Accept a Metric (use its median) or a plain number."""
    return getattr(x, "median", x)


def is_noisy(x) -> bool:
    """Whether ``x`` is a measured figure whose IQR exceeds NOISE of its median."""
    median = getattr(x, "median", None)
    if median is None or getattr(x, "n", 1) < 2:
        return False
    return bool(getattr(x, "noisy", False)) or (median != 0 and (x.q3 - x.q1) / abs(median) > NOISE)


def _marked(fn):
    """Wrap a formatter so that a noisy Metric's text ends with the ⚠ mark."""
    def formatter(x, *args, **kwargs):
        text = fn(x, *args, **kwargs)
        return text + NOISY_MARK if is_noisy(x) else text
    formatter.__name__, formatter.__doc__ = fn.__name__, fn.__doc__
    return formatter


@_marked
def sig(x, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, without exponent for ordinary sizes."""
    x = _value(x)
    if x is None:
        return NA
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    magnitude = math.floor(math.log10(abs(x)))
    # 0.9997 to 3 digits is 1.00, not 1.000: rounding may carry into the next magnitude.
    if math.floor(math.log10(abs(round(x, digits - 1 - magnitude)))) > magnitude:
        magnitude += 1
    decimals = max(0, digits - 1 - magnitude)
    return f"{x:,.{decimals}f}"


@_marked
def duration(seconds, digits: int = 3) -> str:
    """12.3 ms, 1.20 s, 850 µs, 42 ns."""
    s = _value(seconds)
    if s is None:
        return NA
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if abs(s) >= scale or unit == "ns":
            return f"{sig(float(s) / scale, digits)} {unit}"
    return f"{sig(s, digits)} s"  # pragma: no cover - loop always returns


@_marked
def size(n, digits: int = 3) -> str:
    """Bytes in binary (IEC) units, the one convention of notes and charts: 863 B, 8.00 KiB, 1.50 MiB."""
    n = _value(n)
    if n is None:
        return NA
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        # 1023.7 B rounds to 1,024 B: say 1.00 KiB instead.
        if round(abs(n)) < 1024 or unit == "TiB":
            return f"{int(round(n))} B" if unit == "B" else f"{sig(n, digits)} {unit}"
        n /= 1024
    return NA  # pragma: no cover


def cpus(n) -> str:
    """A count of usable CPUs, fractional under a cgroup quota: '2 usable CPUs', '1.5 usable CPUs'."""
    n = float(_value(n))
    text = f"{int(n)}" if n.is_integer() else sig(n, 2)
    return f"{text} usable CPU" + ("" if n == 1 else "s")


def size_label(n: int) -> str:
    """A round byte count as a short axis label in the same IEC units: 1 KiB, 16 MiB, 1.5 MiB."""
    n = int(n)
    for power, unit in ((4, "TiB"), (3, "GiB"), (2, "MiB"), (1, "KiB")):
        if abs(n) >= 1024 ** power:
            return f"{n / 1024 ** power:g} {unit}"
    return f"{n} B"


@_marked
def ratio(x, digits: int = 3) -> str:
    """A speedup or slowdown factor: 1.93×."""
    x = _value(x)
    return NA if x is None else f"{sig(float(x), digits)}×"


@_marked
def percent(x, digits: int = 3) -> str:
    """A fraction as a percentage: 0.125 → 12.5 %."""
    x = _value(x)
    return NA if x is None else f"{sig(float(x) * 100, digits)} %"


@_marked
def count(x) -> str:
    x = _value(x)
    return NA if x is None else f"{int(round(x)):,}"


@dataclass(frozen=True)
class Quotient:
    """The ratio of two figures' medians, as prose states it beside them ("1.70 ms against 146 µs:
    11.6×"). It has no spread of its own, but it is as unreliable as the noisier of the two, so it
    carries ⚠ when either does."""

    median: float
    noisy: bool
    n: int = 2
    unit: str = "x"

    @property
    def q1(self) -> float:
        return self.median

    @property
    def q3(self) -> float:
        return self.median


def quotient(a, b):
    """``a / b`` from their medians, marked noisy when either is; None when either is missing or b is 0."""
    x, y = _value(a), _value(b)
    if x is None or y is None or not y:
        return None
    return Quotient(float(x) / float(y), is_noisy(a) or is_noisy(b))


def spread(metric) -> str:
    """How a figure was obtained: median of n, IQR range, noise flag."""
    if metric is None:
        return NA
    unit_fmt = {"s": duration, "B": size, "x": ratio}.get(metric.unit, lambda v: sig(v))
    text = f"median of {metric.n}, IQR {unit_fmt(metric.q1)} – {unit_fmt(metric.q3)}"
    return text + (", noisy" if is_noisy(metric) else "")


def auto(metric, digits: int = 3) -> str:
    """A metric in its own unit."""
    if metric is None:
        return NA
    unit = getattr(metric, "unit", "")
    if unit == "s":
        return duration(metric, digits)
    if unit == "B":
        return size(metric, digits)
    if unit == "B/s":
        return size(metric, digits).replace(NOISY_MARK, "") + "/s" + (NOISY_MARK if is_noisy(metric) else "")
    if unit == "x":
        return ratio(metric, digits)
    if unit in ("", "count") and float(_value(metric)).is_integer():
        return count(metric)
    text = sig(_value(metric), digits)
    return f"{text} {unit}".strip() + (NOISY_MARK if is_noisy(metric) else "")


def property_number(x, digits: int = 4):
    """A number fit for a note property: rounded so that YAML stays readable."""
    x = _value(x)
    if x is None:
        return None
    if isinstance(x, int) or float(x).is_integer() and abs(x) < 1e15:
        return int(x)
    if x == 0 or not math.isfinite(x):
        return float(x)
    decimals = digits - 1 - math.floor(math.log10(abs(x)))
    return int(round(x)) if decimals <= 0 else round(float(x), decimals)


def fenced(text: str, lang: str = "") -> str:
    """``text`` as a fenced code block whose fence no line of it can close."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{lang}\n{body}{fence}"


def yesno(flag) -> str:
    return NA if flag is None else ("yes" if flag else "no")


FILTERS = {
    "yesno": yesno,
    "fenced": fenced,
    "sig": sig,
    "dur": duration,
    "size": size,
    "ratio": ratio,
    "pct": percent,
    "count": count,
    "cpus": cpus,
    "spread": spread,
    "fmt": auto,
    "over": quotient,
}
