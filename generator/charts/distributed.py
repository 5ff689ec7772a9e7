"""Charts of dask.distributed against a process pool on one machine ("Beyond One Machine")."""

from __future__ import annotations

from generator.charts import ChartData, chart
from generator.charts._draw import footer, iqr_bars, message, reason, unit_ticks

EXPERIMENT = "dask_cluster"
ENGINES = (("dask", "dask.distributed LocalCluster", "C0"), ("pool", "ProcessPoolExecutor", "C1"))
# (label, dask metric, pool metric)
COSTS = (
    ("no-op task,\nround trip", "roundtrip.dask", "roundtrip.pool"),
    ("tiny task,\none per item", "tiny.dask.per_task", "tiny.pool.per_task"),
    ("tiny task,\nbatched", "tiny.dask_batched.per_task", "tiny.pool_chunked.per_task"),
    ("large payload\nwith every task", "data.dask_inline.per_task", "data.pool.per_task"),
    ("start-up\n(ready workers)", "startup.dask", "startup.pool"),
)


def _costs(ax, r) -> bool:
    rows = [(label, r.metric(d), r.metric(p)) for label, d, p in COSTS]
    rows = [row for row in rows if row[1] is not None and row[2] is not None]
    if not rows:
        return False
    xs = list(range(len(rows)))
    width = 0.38
    for i, (key, label, color) in enumerate(ENGINES):
        ms = [row[1 + i] for row in rows]
        ax.bar([x + (i - 0.5) * width for x in xs], [m.median * 1e3 for m in ms], width=width,
               yerr=iqr_bars(ms, 1e3), capsize=3, color=color, ecolor="0.2", label=label)
    ax.set_yscale("log")
    unit_ticks(ax.yaxis, "ms")  # "1 ms", not 10⁰: an exponent is drawn at 0.7× the label's size
    ax.set_xticks(xs)
    ax.set_xticklabels([row[0] for row in rows], fontsize=7.5)
    ax.set_ylabel("time per step (log scale, lower is better)")
    ax.set_title("What each step costs", fontsize=9.5)
    ax.legend(loc="upper left", fontsize=7.5)
    return True


def _speedup(ax, r) -> bool:
    w = r.facts.get("workers") or 1
    sizes = sorted({1, w})
    present = [(k, key) for k in sizes for key, _, _ in ENGINES if r.metric(f"cpu.{key}.{k}.speedup") is not None]
    if not present:
        return False
    width = 0.38
    for i, (key, label, color) in enumerate(ENGINES):
        ks = [k for k in sizes if r.metric(f"cpu.{key}.{k}.speedup") is not None]
        ms = [r.metric(f"cpu.{key}.{k}.speedup") for k in ks]
        ax.bar([sizes.index(k) + (i - 0.5) * width for k in ks], [m.median for m in ms], width=width,
               yerr=iqr_bars(ms), capsize=3, color=color, ecolor="0.2", label=label)
    ax.axhline(1.0, color="0.45", linestyle="--", linewidth=1, label="serial, in the parent process")
    cap = r.metric("capacity.parallel")
    if cap is not None:
        ax.axhline(cap.median, color="C2", linestyle="-.", linewidth=1.2,
                   label=f"measured parallel capacity {cap.median:.2f}×")
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([f"{k} worker{'s' if k > 1 else ''}" for k in sizes])
    ax.set_ylabel("speedup vs serial (×, higher is better)")
    tasks, secs = r.facts.get("cpu_tasks"), r.facts.get("task_seconds")
    title = "CPU-bound tasks"
    if tasks and secs:
        title += f" ({tasks} × {secs * 1e3:.0f} ms)"
    ax.set_title(title, fontsize=9.5)
    top = max([r.metric(f"cpu.{key}.{k}.speedup").q3 for k, key in present] + [cap.median if cap else 1.0])
    ax.set_ylim(0, top * 1.35)
    ax.legend(loc="upper left", fontsize=7.5)
    return True


@chart("dask-vs-pool", experiments=(EXPERIMENT,), size=(9.0, 4.4),
       alt="dask.distributed on a LocalCluster against a process pool doing the same work")
def dask_vs_pool(fig, data: ChartData) -> None:
    r = data.get(EXPERIMENT)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    fig.suptitle("dask.distributed (LocalCluster, worker processes) against a process pool, same work")
    drawn = r is not None and r.metrics and _costs(left, r)
    drawn = bool(r is not None and r.metrics and _speedup(right, r)) or drawn
    if not drawn:
        for ax in (left, right):
            ax.set_xticks([])
            ax.set_yticks([])
        message(left, "dask " + reason(r, "engine", "no figures recorded"))
        footer(fig, data, EXPERIMENT)
        return
    extra = ""
    size = r.facts.get("payload_bytes")
    if size:
        extra = f"Large payload: {size / 2 ** 20:.0f} MiB of bytes. Both engines: {r.facts.get('workers', '?')} worker processes"
    footer(fig, data, EXPERIMENT, extra)
