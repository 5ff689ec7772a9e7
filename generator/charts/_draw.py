"""Drawing helpers every chart module shares: error bars, the footer, gaps, readable text."""

from __future__ import annotations

import textwrap

from generator.charts import ChartData

# Obsidian's readable line length: a chart embedded as ![[x.svg|700]] is
# shown this wide, and every text in it must stay at least MIN_TEXT_PX tall.
NOTE_WIDTH_PX = 700
MIN_TEXT_PX = 9.0


def min_font_pt(fig) -> float:
    """The smallest font size (pt) that shows MIN_TEXT_PX tall at NOTE_WIDTH_PX.

    The SVG is ``width_in * 72`` pt wide, scaled to NOTE_WIDTH_PX pixels; a
    hair of margin keeps rounding in the browser on the right side.
    """
    return MIN_TEXT_PX * fig.get_figwidth() * 72 / NOTE_WIDTH_PX * 1.01


def readable_at_note_width(fig) -> None:
    """Raise every text below ``min_font_pt`` to it, tick labels to come included.

    Run after drawing and before saving: the constrained layout then makes
    room for the larger text.  Chart modules keep choosing relative sizes.
    """
    from matplotlib.text import Text

    floor = min_font_pt(fig)
    fig.draw_without_rendering()  # creates the tick labels
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            for which, ticks in (("major", axis.get_major_ticks()), ("minor", axis.get_minor_ticks())):
                if ticks and ticks[0].label1.get_fontsize() < floor:
                    ax.tick_params(axis=name, which=which, labelsize=floor)
    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < floor:
            text.set_fontsize(floor)


def metric_of(r, name: str):
    """A result's metric, or None when there is no result at all."""
    return r.metric(name) if r is not None else None


def iqr_bars(metrics, scale: float = 1.0) -> list[list[float]]:
    """Error-bar lengths (below, above) from medians to quartiles."""
    return [[max(0.0, (m.median - m.q1) * scale) for m in metrics],
            [max(0.0, (m.q3 - m.median) * scale) for m in metrics]]


def footer(fig, data: ChartData, name: str, extra: str = "") -> None:
    """Where and how the figures were measured, under the whole figure."""
    r = data.get(name)
    n = ""
    if r is not None and r.metrics:
        counts = sorted({m.n for m in r.metrics.values() if m.n > 1} or {1})
        n = f" (n = {counts[0]})" if len(counts) == 1 else f" (n = {counts[0]}–{counts[-1]})"
    text = f"Measured on {data.machine((name,))}; medians of repeated runs{n}, error bars: IQR"
    if extra:
        text += f".\n{extra}"
    # Wrapped to the figure's width at the size the text will have (see readable_at_note_width).
    size = max(7.0, min_font_pt(fig))
    columns = int(fig.get_figwidth() * 72 / (size * 0.6))
    text = "\n".join(textwrap.fill(line, columns) for line in text.split("\n"))
    # supxlabel takes part in the constrained layout, so it never overlaps the axis label.
    fig.supxlabel(text, x=0.01, ha="left", fontsize=size, color="0.35")


def message(ax, text: str, fontsize: float = 9) -> None:
    """Say in the plot area why there is nothing to draw."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=fontsize,
            color="0.4", wrap=True)


def reason(r, key: str, fallback: str = "no figures recorded") -> str:
    """Why ``key`` has no figure: the experiment's own unavailable reason when it gave one."""
    if r is None:
        return "no result yet: run vaultgen build"
    if r.failure and not r.metrics:
        return "the experiment failed: " + str(r.failure.get("message", "see the run log"))
    for k, why in sorted(r.unavailable.items()):
        if key == k or key.startswith(k + ".") or k.startswith(key + "."):
            return "not available here: " + why
    return "not available here: " + fallback


_TICK_SCALE = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9, "B": 1.0}


def _tick_label(value: float, unit: str) -> str:
    from generator.formatting import duration, size

    amount = value * _TICK_SCALE[unit]
    text = size(amount, 2) if unit == "B" else duration(amount, 2)
    number, _, suffix = text.partition(" ")
    if "." in number:  # 1.0 KiB -> 1 KiB, 2.5 ms stays
        number = number.rstrip("0").rstrip(".")
    return f"{number} {suffix}"


def unit_ticks(axis, unit: str) -> None:
    """Ticks of a log axis in readable units ("10 µs", "1 ms", "32 KiB"), not powers of ten.

    ``unit`` is what the plotted numbers are in: "s", "ms", "µs", "ns" or "B".
    Bytes get ticks at powers of 32 (1 KiB, 32 KiB, 1 MiB, ...), times at
    powers of ten, with 2 and 5 in between when the axis spans few decades.
    """
    import math

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    low, high = sorted(axis.get_view_interval())
    decades = math.log10(high / low) if low > 0 and high > 0 else 9
    if unit == "B":
        locator = LogLocator(base=32, subs=(1.0,), numticks=12)
    else:
        locator = LogLocator(base=10, subs=(1.0,) if decades > 2 else (1.0, 2.0, 5.0), numticks=12)
    axis.set_major_locator(locator)
    axis.set_major_formatter(FuncFormatter(lambda value, _: _tick_label(value, unit)))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())
