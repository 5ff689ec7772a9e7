"""Which machine this is: a fingerprint for cache keys, a slug for its results folder.

Only what changes the figures goes in the fingerprint: processor, core
count, memory, architecture and OS.  Host names and boot ids do not, so a
rebuilt container of the same kind keeps its cache and its folder.

Results are stored per machine (``results/<slug>/``), as asv does: a build
on another machine adds its own folder and never rewrites this one's.  The
slug is readable (``amd-epyc-2c-linux-3f9a1c``: CPU model, logical cores,
OS) and ends in a short hash of the whole fingerprint, so two machines that
read alike still get separate folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# Marketing words that make a slug long without telling machines apart.
_NOISE = re.compile(r"\((?:r|tm)\)|\b(?:cpu|processor|with radeon graphics|\d+-core)\b|@.*$", re.I)


def _proc_field(path: str, prefix: str) -> str | None:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(prefix):
            return line.split(":", 1)[1].strip()
    return None


@cache
def fingerprint() -> dict[str, Any]:
    memory = _proc_field("/proc/meminfo", "MemTotal")
    return {
        "cpu_model": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "logical_cores": os.cpu_count(),
        # MemTotal wobbles by a few MB between boots of the same VM; round to GiB.
        "memory_gib": round(int(memory.split()[0]) / 2**20) if memory else None,
        "machine": platform.machine(),
        "os": platform.system(),
    }


def _words(text: str, limit: int = 32) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", _NOISE.sub(" ", text).lower()).strip("-")
    return words[:limit].rstrip("-") or "unknown"


@dataclass(frozen=True)
class Machine:
    """A machine results were measured on."""

    slug: str
    fingerprint: dict[str, Any]

    @classmethod
    def from_fingerprint(cls, fp: dict[str, Any]) -> Machine:
        digest = hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:6]
        cores = fp.get("logical_cores") or "?"
        return cls(f"{_words(str(fp.get('cpu_model', 'unknown')))}-{cores}c-{_words(str(fp.get('os', '')), 12)}-{digest}",
                   dict(fp))

    @classmethod
    def here(cls) -> Machine:
        return cls.from_fingerprint(fingerprint())

    @property
    def description(self) -> str:
        """``AMD EPYC, 2 logical cores, 8 GiB, Linux x86_64``."""
        fp = self.fingerprint
        memory = f", {fp['memory_gib']} GiB" if fp.get("memory_gib") else ""
        return (f"{fp.get('cpu_model', 'unknown CPU')}, {fp.get('logical_cores', '?')} logical cores{memory}, "
                f"{fp.get('os', '?')} {fp.get('machine', '')}".rstrip())
