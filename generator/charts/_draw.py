"""Drawing helpers every chart module shares: error bars, the footer, gaps."""

from __future__ import annotations

from generator.charts import ChartData


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
    # supxlabel takes part in the constrained layout, so it never overlaps the axis label.
    fig.supxlabel(text, x=0.01, ha="left", fontsize=7, color="0.35")


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
