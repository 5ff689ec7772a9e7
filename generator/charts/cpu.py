"""Charts of CPU-bound scaling, GIL switching and lost updates (Multithreading vs Multiprocessing)."""

from __future__ import annotations

from generator.charts import ChartData, chart
from generator.charts._draw import footer, iqr_bars, message, reason, unit_ticks

WORKLOADS = (
    ("python", "pure-Python loop (holds the GIL)"),
    ("c", "hashlib.sha256, 1 MiB buffers (releases the GIL)"),
)
MODELS = (
    ("threads", "threads", "o", "C0"),
    ("processes", "processes", "s", "C1"),
)
# (condition, label, interval metric or None)
WAKE_CONDITIONS = (
    ("idle", "no busy\nthread", None),
    ("short", "busy thread,\nshort interval", "interval.short"),
    ("default", "busy thread,\ndefault interval", "interval.default"),
    ("busy2", "2 busy\nthreads", "interval.default"),
    ("busy4", "4 busy\nthreads", "interval.default"),
    ("long", "busy thread,\nlong interval", "interval.long"),
    ("ccall", "one long\nC call", None),
)
RACE_VARIANTS = (
    ("plain", "counter\n+= 1"),
    ("plain_tiny", "+= 1,\nswitch\nevery 1 µs"),
    ("gap", "read; call;\nwrite, switch\nevery 1 µs"),
    ("yield", "read;\nsleep;\nwrite"),
    ("locked", "read;\nsleep; write,\nlocked"),
)
LOCK_COSTS = (
    ("cost.unlocked", "unlocked,\n1 thread"),
    ("cost.unlocked.2threads", "unlocked,\n2 threads"),
    ("cost.locked.uncontended", "locked,\n1 thread"),
    ("cost.locked.2threads", "locked,\n2 threads"),
    ("cost.locked.4threads", "locked,\n4 threads"),
)


def _workers(r, kind: str, model: str) -> list[int]:
    return list(r.sweep(f"{kind}.{model}", "speedup"))


@chart("cpu-speedup", experiments=("cpu_bound",), size=(9.0, 4.4),
       alt="Speedup of threads and processes against the number of workers, for pure-Python and hashlib work")
def cpu_speedup(fig, data: ChartData) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    r = data.get("cpu_bound")
    axes = fig.subplots(1, 2, sharey=True)
    fig.suptitle("CPU-bound work split over N workers: speedup vs sequential", fontsize=10.5)
    env = r.environment if r is not None else {}
    cores = env.get("usable_cpus") or env.get("affinity") or env.get("logical_cores")
    cap = r.metric("capacity.parallel") if r is not None else None
    top = 2.0
    for ax, (kind, title) in zip(axes, WORKLOADS):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("workers (log scale)")
        drawn = False
        all_workers: set[int] = set()
        for model, label, marker, color in MODELS:
            workers = _workers(r, kind, model) if r is not None else []
            if not workers:
                continue
            metrics = [r.metric(f"{kind}.{model}.{w}.speedup") for w in workers]
            ax.errorbar(workers, [m.median for m in metrics], yerr=iqr_bars(metrics), marker=marker,
                        color=color, capsize=4, label=label)
            top = max(top, max(m.q3 for m in metrics))
            all_workers.update(workers)
            drawn = True
        # The free-threaded builds of this build, beside the primary interpreter's threads.
        for interp, other in (data.results.across("cpu_bound") if drawn else []):
            if not interp.free_threaded or interp.tag == data.results.primary_tag:
                continue
            workers = _workers(other, kind, "threads")
            if not workers:
                continue
            metrics = [other.metric(f"{kind}.threads.{w}.speedup") for w in workers]
            ax.errorbar(workers, [m.median for m in metrics], yerr=iqr_bars(metrics), marker="^",
                        color="C4", capsize=4, label=f"threads, {interp.version}t (no GIL)")
            top = max(top, max(m.q3 for m in metrics))
            all_workers.update(workers)
        if not drawn:
            message(ax, f"{title}: " + reason(r, f"{kind}.threads"))
            continue
        ws = sorted(all_workers)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(ws))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([str(w) for w in ws])
        ax.plot(ws, ws, linestyle="--", color="0.6", linewidth=1, label="ideal (linear)")
        if cores:
            ax.plot(ws, [min(w, cores) for w in ws], linestyle=":", color="0.35", linewidth=1.2,
                    label=f"ideal on {cores:g} usable CPUs")
            ax.axvline(cores, color="C3", linestyle=":", linewidth=1, label=f"{cores:g} usable CPUs")
        # One capacity figure per note: the pure-Python repeats' paired probe (the one the note
        # quotes) on both panels; the separate probe else.
        own = r.metric("python.capacity") or cap
        if own is not None:
            ax.axhline(own.median, color="C2", linestyle="-.", linewidth=1.1,
                       label=f"measured capacity {own.median:.2f}×")
            ax.axhspan(own.q1, own.q3, color="C2", alpha=0.12, linewidth=0)
            top = max(top, own.q3)
        if kind == "python" and r is not None and "processes" in " ".join(r.unavailable):
            ax.text(0.02, 0.98, "processes: not available here", transform=ax.transAxes, fontsize=7,
                    va="top", color="0.4")
    axes[0].set_ylabel("speedup (×, higher is better)")
    ymax = max(top, (cores or 2) + 0.3, cap.q3 if cap is not None else 0) * 1.12
    for ax in axes:
        ax.set_ylim(0, ymax)
    handles, labels = axes[0].get_legend_handles_labels()
    if not handles:
        handles, labels = axes[1].get_legend_handles_labels()
    for ax in axes:  # each panel's own capacity figure
        h, lab = ax.get_legend_handles_labels()
        caps = [(hh, ll) for hh, ll in zip(h, lab) if ll.startswith("measured capacity")]
        if caps:
            ax.legend([caps[0][0]], [caps[0][1]], loc="lower right", fontsize=7)
    keep = [(h, lab) for h, lab in zip(handles, labels) if not lab.startswith("measured capacity")]
    if keep:
        fig.legend([h for h, _ in keep], [lab for _, lab in keep], loc="outside right upper",
                   fontsize=7.5, frameon=False)
    extra = ("Pools started before timing (throughput, not start-up); capacity = 2 busy processes "
             "vs 1, probed inside the same repeats")
    footer(fig, data, "cpu_bound", extra)


@chart("gil-switching", experiments=("gil_switching",), size=(9.5, 4.4),
       alt="Wake-up delay of a sleeping thread beside a CPU-bound thread, and time slices against the switch interval")
def gil_switching(fig, data: ChartData) -> None:
    r = data.get("gil_switching")
    left, right = fig.subplots(1, 2, width_ratios=(4, 2))
    fig.suptitle("A CPU-bound thread that never yields, and the GIL switch interval", fontsize=10.5)
    left.set_title("Wake-up delay of a thread sleeping 1 ms", fontsize=9)
    left.set_ylabel("delay past the requested sleep (log scale)")
    present = []
    if r is not None:
        for cond, label, interval in WAKE_CONDITIONS:
            m = r.metric(f"wakeup.{cond}.latency")
            if m is not None:
                present.append((cond, label, interval, m))
    if not present:
        message(left, "Wake-up latency " + reason(r, "wakeup"))
    else:
        xs = list(range(len(present)))
        samples = [[max(s, 1e-6) * 1e3 for s in (m.samples or (m.median,))] for _, _, _, m in present]
        left.boxplot(samples, positions=xs, widths=0.5, whis=(5, 95), showfliers=False,
                     medianprops={"color": "C1", "linewidth": 1.6})
        left.set_yscale("log")
        unit_ticks(left.yaxis, "ms")
        left.set_xticks(xs)
        left.set_xticklabels([label for _, label, _, _ in present], fontsize=6.5)
        marked = False
        for x, (_, _, interval, m) in zip(xs, present):
            left.annotate(f"{m.median * 1e3:.2g} ms", (x, m.median * 1e3), xytext=(30, 0),
                          textcoords="offset points", fontsize=7, va="center")
            iv = r.metric(interval) if interval else None
            if iv is not None:
                left.plot([x - 0.35, x + 0.35], [iv.median * 1e3] * 2, color="C3", linewidth=1.2,
                          linestyle="--", label=None if marked else "switch interval")
                marked = True
        if marked:
            left.legend(loc="upper left", fontsize=7)
    right.set_title("Two busy threads: run time\nbefore a forced switch", fontsize=9)
    right.set_ylabel("mean time slice (ms)")
    bars = []
    if r is not None:
        for cond, label in (("short", "short\ninterval"), ("default", "default\ninterval")):
            m = r.metric(f"preempt.{cond}.slice")
            iv = r.metric(f"interval.{cond}")
            if m is not None:
                bars.append((label, m, iv, r.facts.get(f"preempt.{cond}.run")))
    if not bars:
        message(right, "Preemption count " + reason(r, "preempt"))
    else:
        xs = list(range(len(bars)))
        metrics = [m for _, m, _, _ in bars]
        right.bar(xs, [m.median * 1e3 for m in metrics], yerr=iqr_bars(metrics, 1e3), color="C0",
                  width=0.55, capsize=4, label="measured slice")
        marked = False
        for x, (_, m, iv, sw) in zip(xs, bars):
            if iv is not None:
                right.plot([x - 0.35, x + 0.35], [iv.median * 1e3] * 2, color="C3", linestyle="--",
                           linewidth=1.2, label=None if marked else "switch interval")
                marked = True
            if sw:  # one whole run: its switches and its own elapsed time, never mixed
                right.annotate(f"{sw['switches']} in {sw['elapsed'] * 1e3:.0f} ms\n(median run)",
                               (x, m.q3 * 1e3), xytext=(0, 3), textcoords="offset points", ha="center",
                               fontsize=7)
        right.set_xticks(xs)
        right.set_xticklabels([label for label, _, _, _ in bars], fontsize=7.5)
        right.set_ylim(0, max(max(m.q3 for m in metrics), max((iv.median for _, _, iv, _ in bars
                                                                if iv is not None), default=0)) * 1e3 * 1.3)
        right.legend(loc="upper left", fontsize=7)
    footer(fig, data, "gil_switching",
            "Left: boxes = IQR of individual wake-ups, whiskers 5th–95th percentile; "
            "right: bars = median of runs, error bars IQR")


@chart("race-lost-updates", experiments=("race_condition",), size=(8.0, 4.2),
       alt="Share of lost updates to a shared counter with and without a lock, and the cost of one increment")
def race_lost_updates(fig, data: ChartData) -> None:
    r = data.get("race_condition")
    left, right = fig.subplots(1, 2)
    threads = r.metric("threads") if r is not None else None
    who = f"{threads.median:.0f} threads" if threads is not None else "several threads"
    fig.suptitle(f"One shared counter, {who}: lost updates and the price of a lock", fontsize=10.5)
    left.set_title("Updates lost without (and with) a lock", fontsize=9)
    left.set_ylabel("lost updates (% of increments)")
    present = [(label, r.metric(f"{key}.lost_pct")) for key, label in RACE_VARIANTS] if r else []
    present = [(label, m) for label, m in present if m is not None]
    if not present:
        message(left, "Lost updates " + reason(r, "plain"))
    else:
        xs = list(range(len(present)))
        metrics = [m for _, m in present]
        colors = ["C2" if "locked" in label else "C3" for label, _ in present]
        left.bar(xs, [m.median for m in metrics], yerr=iqr_bars(metrics), color=colors, width=0.6,
                 capsize=4)
        for x, m in zip(xs, metrics):
            left.annotate(f"{m.median:.3g} %", (x, m.q3), xytext=(0, 3), textcoords="offset points",
                          ha="center", fontsize=7)
        left.set_xticks(xs)
        left.set_xticklabels([label for label, _ in present], fontsize=7)
        left.set_ylim(0, max(100.0, max(m.q3 for m in metrics)) * 1.1)
    right.set_title("Cost of one increment", fontsize=9)
    right.set_ylabel("time per increment (ns, lower is better)")
    costs = [(label, r.metric(key)) for key, label in LOCK_COSTS] if r else []
    costs = [(label, m) for label, m in costs if m is not None]
    if not costs:
        message(right, "Lock cost " + reason(r, "cost"))
    else:
        xs = list(range(len(costs)))
        metrics = [m for _, m in costs]
        colors = ["C3" if label.startswith("unlocked") else "C2" for label, _ in costs]  # as on the left
        right.bar(xs, [m.median * 1e9 for m in metrics], yerr=iqr_bars(metrics, 1e9), color=colors,
                  width=0.6, capsize=4)
        for x, m in zip(xs, metrics):
            right.annotate(f"{m.median * 1e9:.3g}", (x, m.q3 * 1e9), xytext=(0, 3),
                           textcoords="offset points", ha="center", fontsize=7)
        right.set_xticks(xs)
        right.set_xticklabels([label for label, _ in costs], fontsize=7)
        right.set_ylim(0, max(m.q3 for m in metrics) * 1e9 * 1.2)
    footer(fig, data, "race_condition",
           "Both panels: red, no lock; green, the same code with a threading.Lock (a bar at 0 % lost no update)")
