"""Benchmark `vaultgen check` on a synthetic vault, as a user runs it.

    python bench/bench_check.py [--notes 10000] [--seed 0] [--workdir DIR] [--runs 3]

Builds the vault with bench/make_vault.py (unless DIR already holds one),
then runs the CLI in a subprocess: once with an empty cache (cold) and then
with nothing changed (warm).  Prints findings against the ground truth and
wall time / peak RSS against the targets.  Exit 1 if a finding is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_vault import make_vault  # noqa: E402

TARGETS = {"cold_s": 1.5, "warm_s": 0.5, "peak_mb": 150.0}
_SCRIPT = Path(sys.executable).with_name("vaultgen")
VAULTGEN = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "generator"]
# Each run goes through a fresh wrapper process so that its children's peak
# RSS is that run's alone (ru_maxrss only ever grows within a process).
_MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.perf_counter(); done = subprocess.run(sys.argv[1:])\n"
    "wall = time.perf_counter() - start\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "cpu = usage.ru_utime + usage.ru_stime\n"
    "print(json.dumps([wall, usage.ru_maxrss, cpu, done.returncode]), file=sys.stderr)\n"
)


def run_check(vault: Path, cache: Path) -> tuple[float, float, float, dict]:
    """(wall s, peak RSS MB of the biggest process, CPU s of all processes, report).

    CPU time is printed too because wall time on a shared, busy machine
    says little on its own.
    """
    env = dict(os.environ, VAULTGEN_CACHE_DIR=str(cache))
    command = [sys.executable, "-c", _MEASURE, *VAULTGEN, "check", str(vault), "--format", "json"]
    done = subprocess.run(command, capture_output=True, env=env)
    wall, peak_kib, cpu, code = json.loads(done.stderr.decode().strip().splitlines()[-1])
    if code not in (0, 1):
        sys.exit(f"vaultgen check failed ({code}):\n{done.stderr.decode()}")
    return wall, peak_kib / 1024, cpu, json.loads(done.stdout)


def compare(found: list[dict], truth: list[dict]) -> tuple[Counter, Counter]:
    """(false positives, misses), keyed by (code, path, line)."""
    got = Counter((f["code"], f["path"], f["line"]) for f in found)
    want = Counter((f["code"], f["path"], f["line"]) for f in truth)
    return got - want, want - got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="reuse a vault made here before")
    parser.add_argument("--runs", type=int, default=3, help="warm runs; the best is reported")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vaultgen-bench-"))
    truth_file = workdir / "ground_truth.json"
    if truth_file.exists():
        vault, truth = workdir / "vault", json.loads(truth_file.read_text(encoding="utf-8"))
    else:
        vault, truth = make_vault(workdir, args.notes, args.seed)
    cache = Path(tempfile.mkdtemp(prefix="vaultgen-cache-"))

    cold, cold_mb, cold_cpu, report = run_check(vault, cache)
    warm_runs = [run_check(vault, cache) for _ in range(args.runs)]
    warm, _, warm_cpu, _ = min(warm_runs, key=lambda run: run[0])
    warm_mb = max(run[1] for run in warm_runs)
    false_positives, misses = compare(report["findings"], truth)
    _, warm_misses = compare(warm_runs[-1][3]["findings"], report["findings"])

    print(f"vault: {vault} ({report['notes']} notes, {report['attachments']} attachments)")
    print(f"findings: {len(report['findings'])} reported, {len(truth)} expected, "
          f"{sum(false_positives.values())} false positives, {sum(misses.values())} misses, "
          f"exact match: {'yes' if not false_positives and not misses else 'NO'}")
    for label, items in (("false positive", false_positives), ("miss", misses)):
        for (code, path, line), count in sorted(items.items(), key=str)[:10]:
            print(f"  {label}: {code} {path}:{line} x{count}")
    print(f"by code: {dict(sorted(Counter(f['code'] for f in report['findings']).items()))}")
    rows = (("cold wall", cold, TARGETS["cold_s"], "s"), ("warm wall", warm, TARGETS["warm_s"], "s"),
            ("peak RSS", max(cold_mb, warm_mb), TARGETS["peak_mb"], "MB"))
    for name, value, target, unit in rows:
        verdict = "ok" if value <= target else "MISSED"
        print(f"{name:10} {value:8.2f} {unit:2}  target {'<=' if unit == 's' else '<'} {target:g} {unit}  {verdict}")
    print(f"cpu time: cold {cold_cpu:.2f} s, warm {warm_cpu:.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    print(f"warm run agrees with cold run: {'yes' if not warm_misses else 'NO'}")
    sys.exit(0 if not false_positives and not misses else 1)


if __name__ == "__main__":
    main()
