"""How measured numbers read in prose: units, significant digits, ratios.

Used as Jinja filters and by verdicts, so a figure reads the same wherever
it appears.  ``None`` (a figure that could not be measured) reads as "n/a".
"""

from __future__ import annotations

import math
import re

NA = "n/a"


def _value(x):
    """Accept a Metric (use its median) or a plain number."""
    return getattr(x, "median", x)


def sig(x, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, without exponent for ordinary sizes."""
    x = _value(x)
    if x is None:
        return NA
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    magnitude = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{x:,.{decimals}f}"


def duration(seconds, digits: int = 3) -> str:
    """12.3 ms, 1.20 s, 850 µs, 42 ns."""
    s = _value(seconds)
    if s is None:
        return NA
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if abs(s) >= scale or unit == "ns":
            return f"{sig(s / scale, digits)} {unit}"
    return f"{sig(s, digits)} s"  # pragma: no cover - loop always returns


def size(n, digits: int = 3) -> str:
    """Bytes in binary units: 8.00 KiB, 1.50 MiB."""
    n = _value(n)
    if n is None:
        return NA
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{int(n)} B" if unit == "B" else f"{sig(n, digits)} {unit}"
        n /= 1024
    return NA  # pragma: no cover


def ratio(x, digits: int = 3) -> str:
    """A speedup or slowdown factor: 1.93×."""
    x = _value(x)
    return NA if x is None else f"{sig(x, digits)}×"


def percent(x, digits: int = 3) -> str:
    """A fraction as a percentage: 0.125 → 12.5 %."""
    x = _value(x)
    return NA if x is None else f"{sig(x * 100, digits)} %"


def count(x) -> str:
    x = _value(x)
    return NA if x is None else f"{int(round(x)):,}"


def spread(metric) -> str:
    """How a figure was obtained: median of n, IQR range, noise flag."""
    if metric is None:
        return NA
    unit_fmt = {"s": duration, "B": size}.get(metric.unit, lambda v: sig(v))
    text = f"median of {metric.n}, IQR {unit_fmt(metric.q1)} – {unit_fmt(metric.q3)}"
    return text + (" ⚠ noisy" if metric.noisy else "")


def auto(metric, digits: int = 3) -> str:
    """A metric in its own unit."""
    if metric is None:
        return NA
    unit = getattr(metric, "unit", "")
    if unit == "s":
        return duration(metric, digits)
    if unit == "B":
        return size(metric, digits)
    if unit == "x":
        return ratio(metric, digits)
    if unit == "%":
        return f"{sig(metric, digits)} %"
    if unit in ("", "count") and float(_value(metric)).is_integer():
        return count(metric)
    text = sig(metric, digits)
    return f"{text} {unit}".strip()


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
    "spread": spread,
    "fmt": auto,
}
