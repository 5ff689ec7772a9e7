"""Benchmark the build itself (not a test: it prints figures and ratios).

    python bench/bench_build.py              # no-change build vs library import time
    python bench/bench_build.py --agreement  # also: two `build --force` runs, metric by metric

Targets (issue: measurement engine):
  * a no-change `vaultgen build` takes at most 2x the time of
    `python -c "import typer, jinja2, yaml, markdown_it"`;
  * two consecutive `vaultgen build --force` agree within 10 % on I/O, memory and
    start-up headline metrics and within 20 % on CPU-bound speedups.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from generator.headline import HEADLINE  # noqa: E402
from generator.machine import Machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VAULTGEN = [sys.executable, "-m", "generator"]
# Experiments whose speedups depend on how many cores the VM grants at that moment.
CPU_BOUND = {"cpu_bound", "pool_tuning", "hybrid"}


# As on a user's machine: Python caches compiled modules.  (This workplace sets
# PYTHONDONTWRITEBYTECODE, which would charge every run for compiling vaultgen.)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True, env=ENV)
        samples.append(time.perf_counter() - t0)
    return samples


def no_change_ratio(project: Path, repeats: int) -> None:
    for _ in range(2):  # the first build draws charts and fills the caches
        subprocess.run(VAULTGEN + ["build", "-C", str(project)], check=True, capture_output=True, env=ENV)
    imports = timed([sys.executable, "-c", "import typer, jinja2, yaml, markdown_it"], project, repeats)
    builds = timed(VAULTGEN + ["build", "-C", str(project)], project, repeats)
    mi, mb = statistics.median(imports), statistics.median(builds)
    print(f"import typer, jinja2, yaml, markdown_it: median {mi * 1000:.0f} ms of {repeats}")
    print(f"no-change vaultgen build:               median {mb * 1000:.0f} ms of {repeats}")
    print(f"ratio: {mb / mi:.2f}x  (target <= 2.00x)  {'OK' if mb / mi <= 2 else 'MISSED'}")


def read_medians(results: Path) -> dict[tuple[str, str, str], tuple[float, str]]:
    """(interpreter, experiment, metric) -> (median, unit), from this machine's full results."""
    figures = {}
    for path in sorted((results / Machine.here().slug).glob("*/*.json")):
        if path.parent.name.endswith("-quick"):
            continue
        doc = json.loads(path.read_text())
        for name, metric in doc.get("metrics", {}).items():
            figures[(path.parent.name, doc["experiment"], name)] = (metric["median"], metric.get("unit", ""))
    return figures


def agreement(project: Path) -> None:
    runs = []
    for attempt in (1, 2):
        t0 = time.perf_counter()
        subprocess.run(VAULTGEN + ["build", "-C", str(project), "--force"], check=False, capture_output=True)
        print(f"build --force #{attempt}: {time.perf_counter() - t0:.1f} s")
        runs.append(read_medians(project / "results"))
    groups: dict[str, list[str]] = {"headline within": [], "headline outside": [], "other outside": []}
    others_within = 0
    for key in sorted(set(runs[0]) & set(runs[1])):
        (a, unit), (b, _) = runs[0][key], runs[1][key]
        if not a or not b:
            continue
        tag, experiment, metric = key
        cpu_ratio = experiment in CPU_BOUND and ("speedup" in metric or "capacity" in metric)
        tolerance = 0.20 if cpu_ratio else 0.10
        diff = abs(a - b) / max(abs(a), abs(b))
        line = f"{tag[:16]:16} {experiment:18} {metric:36} {a:12.5g} {b:12.5g} {unit:3} {diff * 100:6.1f} % (±{tolerance * 100:.0f} %)"
        quoted = metric in HEADLINE.get(experiment, ())
        if quoted:
            groups["headline within" if diff <= tolerance else "headline outside"].append(line)
        elif diff > tolerance:
            groups["other outside"].append(line)
        else:
            others_within += 1
    for name, lines in groups.items():
        print(f"\n{name} ({len(lines)}):")
        for line in lines:
            print("  " + line)
    print(f"\nother metrics within tolerance: {others_within}")


def _ignore(folder: str, names: list[str]) -> set[str]:
    """Leave out the checkout's machinery and local caches, never the vault's manifest."""
    skipped = {".venv", ".git", ".ci", "__pycache__"}
    if Path(folder) == ROOT:
        skipped.add(".vaultgen")  # the local cache; vault/.vaultgen holds the manifest
    return skipped & set(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--agreement", action="store_true", help="also run two full forced builds (minutes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(ROOT, project, ignore=_ignore)
        no_change_ratio(project, args.repeats)
        if args.agreement:
            agreement(project)


if __name__ == "__main__":
    main()
