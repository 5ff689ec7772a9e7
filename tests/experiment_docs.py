"""Shared by the experiment tests: run scripts as vaultgen does, read their documented metrics."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"
_DOC_LINE = re.compile(r"^\s{2}([A-Za-z_][A-Za-z0-9_.]*)\s+(s|x|%|B|B/s|-)\s+\S", re.M)


def documented(name: str, placeholders: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Metric name -> unit, from the 'Metrics' block of the experiment's docstring.

    A placeholder (KIND, N, ...) stands for a whole dotted segment and expands
    to each of its values.
    """
    source = (EXPERIMENTS_DIR / f"{name}.py").read_text()
    block = source.split('"""')[1].split("Metrics", 1)[1].split("Facts", 1)[0]
    found = {}
    for raw, unit in _DOC_LINE.findall(block):
        names = [[]]
        for part in raw.split("."):
            names = [n + [v] for n in names for v in placeholders.get(part, (part,))]
        for n in (".".join(parts) for parts in names):
            found[n] = "" if unit == "-" else unit
    return found


def run_quick(names: tuple[str, ...]) -> dict[str, dict]:
    """Each experiment's result document, quick profile, one fresh interpreter after another."""
    out = {}
    for name in names:
        proc = subprocess.run([sys.executable, str(EXPERIMENTS_DIR / f"{name}.py"), "--profile", "quick", "--json"],
                              capture_output=True, text=True, timeout=60, cwd=str(EXPERIMENTS_DIR))
        assert proc.returncode == 0, f"{name} failed:\n{proc.stderr[-2000:]}"
        out[name] = json.loads(proc.stdout)
    return out
