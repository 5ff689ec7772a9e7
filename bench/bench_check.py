"""Benchmark `vaultgen check` on a synthetic vault, as a user runs it.

    python bench/bench_check.py [--notes 10000] [--large 50000] [--synthetic] [--workdir DIR] [--runs 3]

Builds realistic vaults with bench/make_vault.py (unless DIR already holds
them), then runs the CLI in a subprocess, as a user does: with an empty
cache (cold), with nothing changed (warm), after one note changed with its
size and mtime kept, and cold on the large vault.  Prints each run's
findings against the ground truth and wall time, CPU time and peak RSS
against the targets, with the load average.  Exit 1 if a finding is wrong.

Each vault's files are read once before it is measured, so that "cold" means
vaultgen's cache is empty, not that the OS reads the notes from disk: a first
run after a reboot pays that read on top (the time of that read is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_vault import make_vault  # noqa: E402

# Issue 10's targets on a 2-core machine (cold = empty cache).
TARGETS = {"cold_s": 1.5, "warm_s": 0.3, "changed_s": 0.5, "large_cold_s": 5.0, "large_peak_mb": 300.0}
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

# As on a user's machine, Python caches compiled modules (this workplace sets
# PYTHONDONTWRITEBYTECODE, which would charge every run for compiling vaultgen).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_check(vault: Path, cache: Path) -> tuple[float, float, float, dict]:
    """(wall s, peak RSS MB of the biggest process, CPU s of all processes, report).

    CPU time is printed too because wall time on a shared, busy machine
    says little on its own.
    """
    env = dict(_ENV, VAULTGEN_CACHE_DIR=str(cache))
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


def _vault(workdir: Path, notes: int, seed: int, realistic: bool) -> tuple[Path, list[dict]]:
    """The vault in ``workdir`` (made there once, reused after)."""
    truth_file = workdir / "ground_truth.json"
    if truth_file.exists():
        return workdir / "vault", json.loads(truth_file.read_text(encoding="utf-8"))
    workdir.mkdir(parents=True, exist_ok=True)
    return make_vault(workdir, notes, seed, realistic=realistic)


def _change_one_note(vault: Path, truth: list[dict]) -> Callable[[], None]:
    """Break one link in one note, keeping its size and mtime (as ``cp -p``
    or ``touch -r`` would): only ctime and inode-level stamps tell."""
    path = next(p for p in sorted(vault.rglob("Note 0*.md")) if p.is_file() and " [[Note " in p.read_text(encoding="utf-8"))
    text = path.read_text(encoding="utf-8")
    stat = path.stat()
    lines = text.split("\n")
    def plain_link(row: str) -> int:  # where a non-embed [[Note …]] starts, or -1
        at = row.find("[[Note ")
        return at if at > 0 and row[at - 1] != "!" else -1

    number = next(i for i, row in enumerate(lines) if plain_link(row) > 0 and not row.startswith(("-", "|", ">", " ", "up:")))
    at = plain_link(lines[number]) + 2
    lines[number] = lines[number][:at] + "Nxte " + lines[number][at + 5 :]  # same length
    path.write_text("\n".join(lines), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    truth.append({"code": "broken-link", "path": path.relative_to(vault).as_posix(), "line": number + 1})

    def restore() -> None:
        path.write_text(text, encoding="utf-8")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    return restore


def _read_all(vault: Path) -> tuple[float, int]:
    """(seconds, bytes) to read every regular file of ``vault`` once, which puts
    them in the OS page cache.  Symlinks are not followed and FIFOs not opened:
    the realistic vault holds both."""
    start, size = time.perf_counter(), 0
    folders = [str(vault)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    with open(entry.path, "rb") as file:
                        size += len(file.read())
    return time.perf_counter() - start, size


def _verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=50_000, help="notes of the large vault (0: skip it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic", action="store_true", help="the small synthetic notes instead of realistic ones")
    parser.add_argument("--workdir", type=Path, help="make the vaults here once and reuse them")
    parser.add_argument("--runs", type=int, default=3, help="cold and warm runs of each vault; the best is reported")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vaultgen-bench-"))
    realistic = not args.synthetic
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cpus")
    exact = True
    rows = []

    def measure(label: str, vault: Path, cache: Path, truth: list[dict]) -> tuple[float, float, float]:
        nonlocal exact
        wall, peak, cpu, report = run_check(vault, cache)
        false_positives, misses = compare(report["findings"], truth)
        ok = not false_positives and not misses
        exact &= ok
        for kind, items in (("false positive", false_positives), ("miss", misses)):
            for (code, path, line), count in sorted(items.items(), key=str)[:5]:
                print(f"  {label}: {kind}: {code} {path}:{line} x{count}")
        print(f"{label}: {report['notes']} notes, {len(report['findings'])} findings, exact: {'yes' if ok else 'NO'}; "
              f"wall {wall:.2f} s, cpu {cpu:.2f} s, peak RSS {peak:.0f} MB")
        return wall, peak, cpu

    def best_cold(label: str, vault: Path, truth: list[dict]) -> tuple[tuple[float, float, float], Path]:
        """(the fastest wall and CPU time and the highest peak RSS of ``args.runs`` runs,
        each with an empty cache of its own; the last run's cache)."""
        seconds, size = _read_all(vault)
        print(f"{label}: read the vault's {size / 1e6:.0f} MB once first ({seconds:.2f} s), so the OS holds it in memory")
        runs, cache = [], None
        for _ in range(args.runs):
            if cache is not None:
                shutil.rmtree(cache)
            cache = Path(tempfile.mkdtemp(prefix="vaultgen-cache-"))
            runs.append(measure(label, vault, cache, truth))
        return (min(run[0] for run in runs), max(run[1] for run in runs), min(run[2] for run in runs)), cache

    vault, truth = _vault(workdir / f"v{args.notes}", args.notes, args.seed, realistic)
    cold, cache = best_cold("cold", vault, truth)
    warm = min((measure("warm", vault, cache, truth) for _ in range(args.runs)), key=lambda run: run[0])
    changed_truth = list(truth)
    restore = _change_one_note(vault, changed_truth)
    try:
        changed = measure("one note changed", vault, cache, changed_truth)
    finally:
        restore()
        shutil.rmtree(cache)
    rows += [(f"{args.notes} notes, cold", cold[0], TARGETS["cold_s"], "s"), (f"{args.notes} notes, warm", warm[0], TARGETS["warm_s"], "s"),
             ("one note changed", changed[0], TARGETS["changed_s"], "s")]
    if args.large:
        big, big_truth = _vault(workdir / f"v{args.large}", args.large, args.seed, realistic)
        large, large_cache = best_cold(f"{args.large} cold", big, big_truth)
        shutil.rmtree(large_cache)
        rows += [(f"{args.large} notes, cold", large[0], TARGETS["large_cold_s"], "s"), (f"peak RSS, {args.large}", large[1], TARGETS["large_peak_mb"], "MB")]
    print()
    for name, value, target, unit in rows:
        print(f"{name:22} {value:8.2f} {unit:2}  target <= {target:g} {unit}  {_verdict(value, target)}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; exact against the ground truth: {'yes' if exact else 'NO'}")
    print(f"vaults kept in {workdir} (pass --workdir {workdir} to reuse them)")
    sys.exit(0 if exact else 1)


if __name__ == "__main__":
    main()
