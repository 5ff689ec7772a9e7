"""Charts of I/O-bound concurrency, start-up and memory cost, threads vs asyncio, blocking calls."""

from __future__ import annotations

from generator.charts import ChartData, chart
from generator.charts._draw import footer, iqr_bars, message, metric_of, reason, unit_ticks
from generator.formatting import duration, ratio, size

IO_KINDS = (
    ("sleep", "time.sleep / asyncio.sleep"),
    ("http", "HTTP GET, local server"),
    ("file", "file write + read (page cache)"),
)
IO_MODELS = (
    ("sequential", "sequential", "0.55"),
    ("threads", "threads", "C0"),
    ("asyncio", "asyncio", "C2"),
    ("processes", "processes", "C1"),
)
START_KINDS = (
    ("task.start", "asyncio task", "C2"),
    ("thread.start", "thread", "C0"),
    ("process.fork.start", "process (fork)", "C1"),
    ("process.forkserver.start", "process (forkserver)", "C1"),
    ("process.spawn.start", "process (spawn)", "C1"),
)
MEMORY_KINDS = (
    ("memory.task", "asyncio task\n(RSS growth)", "C2"),
    ("memory.thread", "thread\n(RSS growth)", "C0"),
    ("memory.process.fork.uss", "process, fork\n(USS)", "C1"),
    ("memory.process.forkserver.uss", "process,\nforkserver (USS)", "C1"),
    ("memory.process.spawn.uss", "process, spawn\n(USS)", "C1"),
)
WAIT_MODELS = (("threads", "threads", "o", "C0"), ("asyncio", "asyncio tasks", "s", "C2"))
BLOCK_CASES = (
    ("blocking", "time.sleep\nin coroutine", "C3"),
    ("sleep", "await\nasyncio.sleep", "C2"),
    ("executor", "run_in_executor\n(N ≤ pool)", "C0"),
    ("executor_over", "run_in_executor\n(N > pool)", "C9"),
)


# -- helpers ------------------------------------------------------------------------------------


def _versus_sequential(speedup) -> str:
    """"3.2× faster" or "1.5× slower", never "0.67× faster"."""
    value = speedup.median
    if 0.95 <= value <= 1.05:
        return "about as\nfast"
    # Two lines: neighbouring bars' labels must not run into each other at note width.
    return f"{ratio(value, 2)}\nfaster" if value > 1 else f"{ratio(1 / value, 2)}\nslower"


# -- io-concurrency -----------------------------------------------------------------------------


@chart("io-concurrency", experiments=("io_bound",), size=(9.5, 4.4),
       alt="Wall time of sleeps, HTTP requests and file I/O run sequentially, with threads, asyncio and processes")
def io_concurrency(fig, data: ChartData) -> None:
    r = data.get("io_bound")
    axes = fig.subplots(1, len(IO_KINDS), sharey=True)
    tasks = metric_of(r, "tasks")
    ideal = metric_of(r, "ideal.wall")
    what = f"{int(tasks.median)} concurrent tasks" if tasks else "concurrent tasks"
    fig.suptitle(f"I/O-bound work, {what}: wall time per model (log scale, lower is better)",
                 fontsize=10.5)
    axes[0].set_ylabel("wall time (log scale)")
    for ax, (kind, title) in zip(axes, IO_KINDS):
        ax.set_title(title, fontsize=9)
        labels, metrics, colors = [], [], []
        for model, label, color in IO_MODELS:
            m = metric_of(r, f"{kind}.{model}.wall")
            if m is not None:
                labels.append(label)
                metrics.append(m)
                colors.append(color)
        if not metrics:
            message(ax, reason(r, kind))
            ax.set_xticks([])
            continue
        xs = list(range(len(metrics)))
        ax.bar(xs, [m.median for m in metrics], yerr=iqr_bars(metrics), color=colors, capsize=3,
               width=0.65)
        ax.set_yscale("log")
        unit_ticks(ax.yaxis, "s")
        ax.set_xticks(xs)
        ax.set_xticklabels(labels, rotation=20, fontsize=8)
        for x, label, m in zip(xs, labels, metrics):
            speed = metric_of(r, f"{kind}.{label}.speedup") if label != "sequential" else None
            text = duration(m, 2) + (f"\n{_versus_sequential(speed)}" if speed else "")
            ax.annotate(text, (x, m.q3), textcoords="offset points", xytext=(0, 3), ha="center",
                        fontsize=6.5)
        if ideal is not None and kind in ("sleep", "http"):
            ax.axhline(ideal.median, color="0.3", linestyle="--", linewidth=1,
                       label=f"ideal: one wait, {duration(ideal.median, 2)}")
            ax.legend(fontsize=7, loc="upper right")
        missing = [label for model, label, _ in IO_MODELS if label not in labels]
        if missing:
            ax.text(0.02, 0.02, "not available here: " + ", ".join(missing), transform=ax.transAxes,
                    fontsize=6.5, color="0.4")
    nbytes = metric_of(r, "file.bytes")
    extra = ("Thread and process pools started before timing; asyncio file I/O runs in the "
             "loop's default thread pool")
    if nbytes is not None:
        extra += f"; each file task writes and reads {size(nbytes.median)} (no fsync)"
    footer(fig, data, "io_bound", extra)


# -- startup-cost --------------------------------------------------------------------------------


@chart("startup-cost", experiments=("overhead",), size=(7.5, 3.8),
       alt="Time to start and join an asyncio task, a thread and a process by start method, on a log scale")
def startup_cost(fig, data: ChartData) -> None:
    r = data.get("overhead")
    ax = fig.add_subplot()
    ax.set_title("Cost to start and join one worker running a no-op (log scale, lower is better)",
                 fontsize=10)
    ys, names, drawn = [], [], []
    for i, (key, label, color) in enumerate(START_KINDS):
        ys.append(i)
        names.append(label)
        m = metric_of(r, key)
        if m is None:
            ax.text(1e-6, i, "  " + reason(r, key), va="center", fontsize=7, color="0.4")
            continue
        drawn.append(m)
        ax.barh(i, m.median, xerr=iqr_bars([m]), color=color, capsize=3, height=0.6)
        ax.annotate(duration(m, 2), (m.q3, i), textcoords="offset points", xytext=(4, 0),
                    va="center", fontsize=7.5)
    ax.set_yticks(ys)
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("time per start + join (log scale)")
    if drawn:
        lo = min(m.min for m in drawn)
        hi = max(m.max for m in drawn)
        ax.set_xlim(min(lo, 1e-6) / 2, hi * 8)
    else:
        ax.set_xlim(1e-6, 1.0)
    unit_ticks(ax.xaxis, "s")
    default = (r.facts.get("default_start_method") if r is not None else None)
    footer(fig, data, "overhead", f"Default start method here: {default}" if default else "")


# -- memory-per-worker -------------------------------------------------------------------------


@chart("memory-per-worker", experiments=("overhead",), size=(7.5, 4.0),
       alt="Memory of one idle asyncio task, thread and process by start method, on a log scale")
def memory_per_worker(fig, data: ChartData) -> None:
    r = data.get("overhead")
    ax = fig.add_subplot()
    ax.set_title("Memory of one idle worker (log scale, lower is better)", fontsize=10)
    xs, names = [], []
    top = 1.0
    pss_label = "PSS (private + share of shared pages)"
    pss_drawn = False
    for i, (key, label, color) in enumerate(MEMORY_KINDS):
        xs.append(i)
        names.append(label)
        m = metric_of(r, key)
        if m is None:
            why = reason(r, key.rsplit(".", 1)[0] if key.startswith("memory.process") else key)
            ax.text(i, 1.5, why.replace(": ", ":\n", 1), ha="center", fontsize=6, color="0.4",
                    rotation=90, va="bottom")
            continue
        ax.bar(i, m.median, yerr=iqr_bars([m]), color=color, capsize=3, width=0.6)
        ax.annotate(size(m, 2), (i, m.median), textcoords="offset points", xytext=(0, -12),
                    ha="center", fontsize=7.5, color="white", fontweight="bold")
        top = max(top, m.q3)
        if key.startswith("memory.process"):
            pss = metric_of(r, key.replace(".uss", ".pss"))
            if pss is not None:
                ax.plot([i], [pss.median], marker="_", markersize=30, markeredgewidth=2,
                        color="0.2", linestyle="none", label=None if pss_drawn else pss_label)
                pss_drawn = True
                top = max(top, pss.median)
    ax.set_xticks(xs)
    ax.set_xticklabels(names, fontsize=7.5)
    ax.set_yscale("log")
    ax.set_ylim(100, top * 6)
    unit_ticks(ax.yaxis, "B")
    ax.set_ylabel("memory per worker (log scale)")
    if pss_drawn:  # above the plot, beside the title: inside it would cover the bars
        fig.legend(fontsize=7, loc="outside upper right", frameon=False)
    footer(fig, data, "overhead",
            "Threads and tasks: resident-set growth per worker in a fresh interpreter; processes: "
            "/proc/PID/smaps_rollup of an idle child")


# -- wait-scaling --------------------------------------------------------------------------------


def _levels(r, model: str) -> list[int]:
    found = set()
    prefix = model + "."
    for name in r.metrics:
        if name.startswith(prefix) and name.endswith(".wall"):
            try:
                found.add(int(name[len(prefix):].split(".")[0]))
            except ValueError:
                continue
    return sorted(found)


@chart("wait-scaling", experiments=("thread_vs_asyncio",), size=(9.5, 4.4),
       alt="Wall time and memory of 10 to 10,000 concurrent waits with threads and with asyncio tasks")
def wait_scaling(fig, data: ChartData) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    r = data.get("thread_vs_asyncio")
    ax_wall, ax_mem = fig.subplots(1, 2)
    ideal = metric_of(r, "ideal.wall")
    each = f"each waiting {duration(ideal.median, 2)}" if ideal else "each waiting"
    fig.suptitle(f"N concurrent waits ({each}): threads vs asyncio tasks", fontsize=10.5)
    ax_wall.set_title("wall time, creation included (lower is better)", fontsize=9)
    ax_mem.set_title("peak resident memory growth (lower is better)", fontsize=9)
    all_levels: set[int] = set()
    for model, label, marker, color in WAIT_MODELS:
        levels = _levels(r, model) if r is not None else []
        if not levels:
            continue
        all_levels.update(levels)
        walls = [r.metric(f"{model}.{n}.wall") for n in levels]
        ax_wall.errorbar(levels, [m.median for m in walls], yerr=iqr_bars(walls), marker=marker,
                         color=color, capsize=3, label=label)
        mem_levels = [n for n in levels if r.metric(f"{model}.{n}.memory") is not None]
        mems = [r.metric(f"{model}.{n}.memory") for n in mem_levels]
        if mems:
            ax_mem.errorbar(mem_levels, [max(m.median, 1.0) for m in mems], yerr=iqr_bars(mems),
                            marker=marker, color=color, capsize=3, label=label)
        for n in levels:
            peak = r.metric(f"{model}.{n}.peak_concurrent")
            if peak is not None and peak.median < 0.95 * n:
                wall = r.metric(f"{model}.{n}.wall")
                ax_wall.annotate(f"at most {int(peak.median):,}\nwaiting at once", (n, wall.median),
                                 textcoords="offset points", xytext=(-8, 0), ha="right",
                                 va="center", fontsize=6.5, color=color)
    if not all_levels:
        for ax in (ax_wall, ax_mem):
            message(ax, reason(r, "threads"))
        footer(fig, data, "thread_vs_asyncio")
        return
    levels = sorted(all_levels)
    for ax in (ax_wall, ax_mem):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(levels))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{n:,}" for n in levels])
        ax.set_xlabel("concurrent waits N (log scale)")
    if ideal is not None:
        ax_wall.axhline(ideal.median, color="0.3", linestyle="--", linewidth=1,
                        label=f"ideal: one wait ({duration(ideal.median, 2)})")
    ax_wall.set_ylabel("wall time (log scale)")
    low, high = ax_wall.get_ylim()
    ax_wall.set_ylim(low, high * 1.5)
    unit_ticks(ax_wall.yaxis, "s")
    unit_ticks(ax_mem.yaxis, "B")
    ax_mem.set_ylabel("memory (log scale)")
    ax_wall.legend(fontsize=7, loc="upper left")
    if ax_mem.lines:
        ax_mem.legend(fontsize=7, loc="upper left")
    else:
        message(ax_mem, reason(r, "threads.10.memory"))
    limit = r.facts.get("threads.limit") if r is not None else None
    extra = "Each configuration ran in a fresh interpreter; memory: VmHWM growth"
    if limit:
        extra += f"; thread limit hit: {limit.get('started')} of {limit.get('requested')} started"
    footer(fig, data, "thread_vs_asyncio", extra)


# -- blocking-call -------------------------------------------------------------------------------


@chart("blocking-call", experiments=("blocking_call",), size=(9.0, 4.2),
       alt="Wall time and event-loop lag when coroutines block, await, or use run_in_executor")
def blocking_call(fig, data: ChartData) -> None:
    r = data.get("blocking_call")
    ax_wall, ax_lag = fig.subplots(1, 2)
    tasks, ideal = metric_of(r, "tasks"), metric_of(r, "ideal.wall")
    head = (f"{int(tasks.median)} coroutines each waiting {duration(ideal.median, 2)} on one event loop"
            if tasks and ideal else "Coroutines waiting on one event loop")
    fig.suptitle(head, fontsize=10.5)
    ax_wall.set_title("wall time (lower is better)", fontsize=9)
    ax_lag.set_title("event-loop lag: worst heartbeat delay (log scale)", fontsize=9)
    xs, labels = [], []
    for i, (case, label, color) in enumerate(BLOCK_CASES):
        xs.append(i)
        labels.append(label)
        wall, lag = metric_of(r, f"{case}.wall"), metric_of(r, f"{case}.lag")
        if wall is None:
            ax_wall.text(i, 0, "n/a", ha="center", va="bottom", fontsize=7, color="0.4")
        else:
            ax_wall.bar(i, wall.median * 1e3, yerr=iqr_bars([wall], 1e3), color=color, capsize=3,
                        width=0.6)
            ax_wall.annotate(duration(wall, 2), (i, wall.q3 * 1e3), textcoords="offset points",
                             xytext=(0, 3), ha="center", fontsize=7)
        if lag is not None:
            ax_lag.bar(i, max(lag.median, 1e-6) * 1e3, yerr=iqr_bars([lag], 1e3), color=color,
                       capsize=3, width=0.6)
            ax_lag.annotate(duration(lag, 2), (i, max(lag.q3, 1e-6) * 1e3),
                            textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
    if r is None or not r.metrics:
        for ax in (ax_wall, ax_lag):
            message(ax, reason(r, "blocking"))
    if ideal is not None:
        ax_wall.axhline(ideal.median * 1e3, color="0.3", linestyle="--", linewidth=1,
                        label=f"ideal: one wait ({duration(ideal.median, 2)})")
    serial = metric_of(r, "serial.wall")
    if serial is not None:
        ax_wall.axhline(serial.median * 1e3, color="C3", linestyle=":", linewidth=1,
                        label=f"all waits in a row ({duration(serial.median, 2)})")
    if ax_wall.lines:
        ax_wall.legend(fontsize=7, loc="upper right")
    for ax in (ax_wall, ax_lag):
        ax.set_xticks(xs)
        ax.set_xticklabels(labels, fontsize=7)
    ax_wall.set_ylabel("wall time (ms)")
    ax_lag.set_yscale("log")
    unit_ticks(ax_lag.yaxis, "ms")
    ax_lag.set_ylabel("largest heartbeat delay (log scale)")
    pool = metric_of(r, "pool.size")
    over = metric_of(r, "executor_over.tasks")
    extra = ""
    if pool is not None:
        extra = f"Default executor: {int(pool.median)} threads"
        if over is not None:
            extra += f"; the N > pool case runs {int(over.median)} calls"
    footer(fig, data, "blocking_call", extra)
