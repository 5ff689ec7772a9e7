"""Benchmark `vaultgen export html` on the synthetic 10,000-note vault, as a user runs it.

    python bench/bench_export.py [--notes 10000] [--seed 0] [--workdir DIR] [--runs 2]

Builds the vault with bench/make_vault.py (unless DIR already holds one),
then exports it through the CLI in a fresh process per run, the linter's
cache warm as after any earlier `vaultgen check` (the first run warms it).
Prints wall and CPU time of each run against the target (15 s), and checks
that two runs wrote byte-identical sites.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_vault import make_vault  # noqa: E402

TARGET_S = 15.0
_SCRIPT = Path(sys.executable).with_name("vaultgen")
VAULTGEN = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "generator"]
_MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.perf_counter(); done = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "wall = time.perf_counter() - start\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps([wall, usage.ru_utime + usage.ru_stime, done.returncode, done.stderr.decode()[-2000:]]))\n"
)


def export(vault: Path, out: Path, cache: Path) -> tuple[float, float]:
    env = dict(os.environ, VAULTGEN_CACHE_DIR=str(cache))
    command = [sys.executable, "-c", _MEASURE, *VAULTGEN, "export", "html", str(out), "--vault", str(vault)]
    done = subprocess.run(command, capture_output=True, env=env, check=True)
    wall, cpu, code, stderr = json.loads(done.stdout.decode().strip().splitlines()[-1])
    if code != 0:
        sys.exit(f"vaultgen export failed ({code}):\n{stderr}")
    return wall, cpu


def digest(site: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(site.rglob("*")):
        if path.is_file():
            sha.update(path.relative_to(site).as_posix().encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="vaultgen-bench-export-"))
    vault = work / "vault"
    if not vault.is_dir():
        print(f"writing a {args.notes:,}-note vault to {vault} ...", flush=True)
        make_vault(work, args.notes, args.seed)
    notes = sum(1 for p in vault.rglob("*.md") if not any(part.startswith(".") for part in p.relative_to(vault).parts))
    cache = work / "cache"
    digests = []
    for run in range(1, max(2, args.runs) + 1):
        out = work / f"site-{run}"
        wall, cpu = export(vault, out, cache)
        digests.append(digest(out))
        verdict = "ok" if wall <= TARGET_S else "over target"
        print(f"export {run}: {notes:,} notes in {wall:.1f} s wall, {cpu:.1f} s CPU "
              f"(target {TARGET_S:.0f} s wall: {verdict}); load average {os.getloadavg()[0]:.1f}")
    same = len(set(digests)) == 1
    print(f"sites byte-identical across runs: {'yes' if same else 'NO'}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
