"""The verdict on hybrid pipelines: asyncio or threads feeding a process pool, against one model alone."""

from __future__ import annotations

from generator import formatting as f
from generator.claims import DEPENDS, FAILS, HOLDS, UNMEASURED, claim
from generator.claims.compare import MATERIAL, compare_times

HYBRID_LABELS = {
    "threads": "threads",
    "processes": "a process pool of one worker per core",
    "processes_wide": "a process pool of one worker per item",
    "asyncio_pool": "asyncio + a process pool",
    "threads_pool": "threads + a process pool",
}
# Each model is compared at its best configuration: a per-core process pool overlaps only as many
# fetches as it has workers, so the single-model side also gets a pool of one worker per item.
SINGLE = ("threads", "processes", "processes_wide")
HYBRID = ("asyncio_pool", "threads_pool")


@claim("hybrid_wins",
       "Combine both approaches for hybrid workloads (asyncio for I/O and multiprocessing for computation)",
       experiments=("hybrid",),
       headline=tuple(f"{k}.wall" for k in ("sequential", *HYBRID_LABELS)) + ("capacity.parallel",))
def hybrid_wins(results):
    r = results.get("hybrid")
    walls = {k: r.metric(f"{k}.wall") for k in HYBRID_LABELS if r.metric(f"{k}.wall") is not None}
    seq = r.metric("sequential.wall")
    if seq is None or not any(k in walls for k in HYBRID) or not any(k in walls for k in SINGLE):
        reason = r.unavailable.get("http") or r.unavailable.get("processes") or "figures missing"
        return UNMEASURED, f"The mixed pipeline could not be compared here: {reason}.", []
    items = r.facts.get("items")
    winner, best_hybrid, best_single = r.fastest(HYBRID_LABELS), r.fastest(HYBRID), r.fastest(SINGLE)
    ideal = r.metric("ideal.wall")
    c = compare_times(walls[best_hybrid], walls[best_single], paired=True)  # same repeat
    ahead, behind = (best_hybrid, best_single) if c.outcome == "faster" else (best_single, best_hybrid)
    if c.material and c.outcome == "faster":
        status = HOLDS
        verdict = (f"{HYBRID_LABELS[best_hybrid]} finished {f.ratio(c.factor)} faster than the best "
                   f"single model, {HYBRID_LABELS[best_single]} ({c.basis})")
    elif c.material:
        status = FAILS
        verdict = (f"{HYBRID_LABELS[best_single]} alone finished {f.ratio(c.factor)} faster than the best "
                   f"combination, {HYBRID_LABELS[best_hybrid]} ({c.basis})")
    elif c.small:
        status = DEPENDS
        verdict = (f"{HYBRID_LABELS[ahead]} finished {f.ratio(c.factor)} faster than {HYBRID_LABELS[behind]}, "
                   f"the best {'single model' if ahead in HYBRID else 'combination'} ({c.basis}): a difference "
                   f"beyond the spread, but under the {f.percent(MATERIAL - 1)} that would make one design the "
                   f"better choice")
    else:
        status = DEPENDS
        verdict = (f"the best combination ({HYBRID_LABELS[best_hybrid]}) and the best single model "
                   f"({HYBRID_LABELS[best_single]}) could not be told apart: the single model took "
                   f"{f.ratio(c.factor)} the combination's time ({c.basis})")
    what = f"{f.count(items)} items" if items else "the items"
    summary = (f"Fetching and then computing {what}: {verdict}. The fastest model, "
               f"{HYBRID_LABELS[winner]}, took {f.duration(walls[winner])} against {f.duration(seq)} "
               f"sequentially ({f.ratio(r.metric(winner + '.speedup'))} speedup)")
    if ideal is not None:
        summary += f"; the critical path allows {f.duration(ideal)}"
    summary += "."
    evidence = [f"sequential: {f.duration(seq)} ({f.spread(seq)})"]
    for k in sorted(walls, key=lambda k: walls[k].median):
        s = r.metric(f"{k}.speedup")
        evidence.append(f"{HYBRID_LABELS[k]}: {f.duration(walls[k])}, {f.ratio(s)} vs sequential "
                        f"({f.spread(walls[k])})")
    if ideal is not None:
        evidence.append(f"ideal (one fetch plus all CPU work spread over {r.facts.get('workers', '?')} "
                        f"cores): {f.duration(ideal)}")
    # No capacity figure here: a note quotes exactly one (its own `capacity()`), and a verdict
    # can be shown in several notes.
    return status, summary, evidence
