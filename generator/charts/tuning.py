"""Charts of the hybrid pipeline, pool tuning and IPC payload experiments."""

from __future__ import annotations

from generator import formatting as f
from generator.charts import ChartData, chart
from generator.charts._draw import footer, iqr_bars, message, reason, unit_ticks
from generator.claims import usable_cpus

HYBRID_MODELS = (
    ("sequential", "sequential"),
    ("threads", "threads"),
    ("processes", "process pool\n(1 per core)"),
    ("processes_wide", "process pool\n(1 per item)"),
    ("asyncio_pool", "asyncio +\nprocess pool"),
    ("threads_pool", "threads +\nprocess pool"),
)
IPC_METHODS = (
    ("queue", "multiprocessing.Queue (pickle + pipe)", "o", "C3"),
    ("pipe", "Connection.send_bytes (pipe)", "s", "C1"),
    ("shm", "SharedMemory (copy in, read in place)", "^", "C2"),
)


@chart("hybrid-pipeline", experiments=("hybrid",),
       alt="Wall time of a fetch-then-compute pipeline run sequentially, with threads, processes and hybrids")
def hybrid_pipeline(fig, data: ChartData) -> None:
    r = data.get("hybrid")
    ax = fig.add_subplot()
    ax.set_title("Mixed pipeline (HTTP fetch, then CPU work, per item): wall time by model")
    ax.set_ylabel("wall time (ms, lower is better)")
    present = [(key, label, r.metric(f"{key}.wall")) for key, label in HYBRID_MODELS] if r else []
    present = [(k, lab, m) for k, lab, m in present if m is not None]
    if not present:
        ax.set_xticks([])
        ax.set_yticks([])
        message(ax, "Mixed pipeline " + reason(r, "http", "no figures recorded"))
        footer(fig, data, "hybrid")
        return
    xs = list(range(len(present)))
    metrics = [m for _, _, m in present]
    colors = ["0.55" if k == "sequential" else "C0" for k, _, _ in present]
    ax.bar(xs, [m.median * 1e3 for m in metrics], yerr=iqr_bars(metrics, 1e3), color=colors,
           capsize=4, width=0.6, ecolor="0.2")
    ax.set_xticks(xs)
    ax.set_xticklabels([lab for _, lab, _ in present], fontsize=8)
    top = max(m.q3 for m in metrics) * 1e3
    for x, (key, _, m) in zip(xs, present):
        s = r.metric(f"{key}.speedup")
        if s is not None:
            ax.annotate(f.ratio(s), (x, m.q3 * 1e3), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8)
    ideal = r.metric("ideal.wall")
    if ideal is not None:
        ax.axhline(ideal.median * 1e3, color="C2", linestyle="--", linewidth=1.2,
                   label=f"ideal (critical path: one fetch + CPU work over the cores) {ideal.median * 1e3:.0f} ms")
        ax.axhspan(ideal.q1 * 1e3, ideal.q3 * 1e3, color="C2", alpha=0.12, linewidth=0)
        ax.legend(loc="upper right", fontsize=8)
    ax.set_ylim(0, top * 1.18)
    missing = [lab.replace("\n", " ") for key, lab in HYBRID_MODELS
               if r.metric(f"{key}.wall") is None]
    extra = "Labels: speedup vs sequential"
    if missing:
        extra += "; not available here: " + ", ".join(missing)
    footer(fig, data, "hybrid", extra)


@chart("pool-workers", experiments=("pool_tuning",),
       alt="Speedup of a process pool against the number of worker processes, with the core count marked")
def pool_workers(fig, data: ChartData) -> None:
    r = data.get("pool_tuning")
    ax = fig.add_subplot()
    ax.set_title("CPU-bound work on a process pool: speedup vs number of workers")
    ax.set_xlabel("worker processes (log scale)")
    ax.set_ylabel("speedup vs 1 worker (×, higher is better)")
    workers = list(r.sweep("workers", "speedup")) if r else []
    if not workers:
        message(ax, "Worker sweep " + reason(r, "workers.1", "no figures recorded"))
        footer(fig, data, "pool_tuning")
        return
    metrics = [r.metric(f"workers.{w}.speedup") for w in workers]
    ax.set_xscale("log", base=2)
    ax.errorbar(workers, [m.median for m in metrics], yerr=iqr_bars(metrics), marker="o", capsize=4,
                color="C0", label="measured (median, IQR)")
    # What the verdicts reason with: min(affinity, cgroup quota), so a quota of 1.5 CPUs draws 1.5.
    cores = usable_cpus(r)
    if cores:
        ideal = [min(w, cores) for w in workers]
        ax.plot(workers, ideal, linestyle="--", color="0.45", label=f"ideal: min(workers, {cores:g} usable CPUs)")
        ax.axvline(cores, color="C3", linestyle=":", linewidth=1.2, label=f"usable CPUs = {cores:g}")
    cap = r.metric("capacity.parallel")
    if cap is not None:
        ax.axhline(cap.median, color="C2", linestyle="-.", linewidth=1.2,
                   label=f"parallel capacity measured in the same run (an estimate, not a bound) {f.ratio(cap)}")
        ax.axhspan(cap.q1, cap.q3, color="C2", alpha=0.12, linewidth=0)
    ax.set_xticks(workers)
    ax.set_xticklabels([str(w) for w in workers])
    ax.set_ylim(0, max([m.q3 for m in metrics] + [min(max(workers), cores or 1)]) * 1.15)
    ax.legend(loc="lower right", fontsize=8)
    footer(fig, data, "pool_tuning")


@chart("pool-chunksize", experiments=("pool_tuning",),
       alt="Cost per tiny task through Pool.map against the chunksize, on log scales")
def pool_chunksize(fig, data: ChartData) -> None:
    r = data.get("pool_tuning")
    ax = fig.add_subplot()
    ax.set_title("Many tiny tasks through Pool.map: cost per task vs chunksize")
    ax.set_xlabel("chunksize (log scale)")
    ax.set_ylabel("time per task (log scale, lower is better)")
    sizes = list(r.sweep("chunksize", "per_task")) if r else []
    if not sizes:
        message(ax, "Chunksize sweep " + reason(r, "chunksize", "no figures recorded"))
        footer(fig, data, "pool_tuning")
        return
    metrics = [r.metric(f"chunksize.{c}.per_task") for c in sizes]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.errorbar(sizes, [m.median * 1e6 for m in metrics], yerr=iqr_bars(metrics, 1e6), marker="o",
                capsize=4, color="C0", label="Pool.map, one worker per core")
    inline = r.metric("chunksize.inline.per_task")
    if inline is not None:
        ax.axhline(inline.median * 1e6, color="0.45", linestyle="--",
                   label="same task without a pool (plain map)")
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(c) for c in sizes])
    unit_ticks(ax.yaxis, "µs")
    ax.legend(loc="upper right", fontsize=8)
    tasks = r.facts.get("tiny_tasks")
    footer(fig, data, "pool_tuning", f"{tasks:,} tasks per map" if isinstance(tasks, int) else "")


@chart("ipc-payload", experiments=("ipc_payload",),
       alt="Time to hand a payload to another process against its size: Queue, pipe and shared memory")
def ipc_payload(fig, data: ChartData) -> None:
    r = data.get("ipc_payload")
    ax = fig.add_subplot()
    ax.set_title("Handing a payload to another process: time per transfer vs payload size")
    ax.set_xlabel("payload size (log scale)")
    ax.set_ylabel("time per transfer (log scale, lower is better)")
    labels = list(r.facts.get("sizes", [])) if r else []
    nbytes = dict(r.facts.get("size_bytes", {})) if r else {}
    drawn = False
    for method, text, marker, color in IPC_METHODS:
        points = [(nbytes[s], r.metric(f"{method}.{s}.time")) for s in labels
                  if s in nbytes and r.metric(f"{method}.{s}.time") is not None]
        if not points:
            continue
        drawn = True
        xs = [x for x, _ in points]
        ms = [m for _, m in points]
        ax.errorbar(xs, [m.median for m in ms], yerr=iqr_bars(ms), marker=marker, capsize=3,
                    color=color, label=text)
    if not drawn:
        message(ax, "IPC payload " + reason(r, "child", "no figures recorded"))
        footer(fig, data, "ipc_payload")
        return
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    shown = [s for s in labels if s in nbytes]
    ax.set_xticks([nbytes[s] for s in shown])
    ax.set_xticklabels([f.size_label(nbytes[s]) for s in shown])  # KiB/MiB, as the note's text
    ax.minorticks_off()
    ax.set_xticks([], minor=True)
    unit_ticks(ax.yaxis, "s")
    ax.legend(loc="upper left", fontsize=8)
    extra = ""
    if "shm" in r.unavailable:
        extra = "Shared memory not available here: " + r.unavailable["shm"]
    footer(fig, data, "ipc_payload", extra)
