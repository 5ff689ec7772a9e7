"""A fingerprint of this machine, for cache keys.

Only what changes the figures goes in: processor, core count, memory,
architecture and OS.  Host names and boot ids do not, so a rebuilt
container of the same kind keeps its cache.
"""

from __future__ import annotations

import os
import platform
from functools import cache
from pathlib import Path


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
def fingerprint() -> dict:
    memory = _proc_field("/proc/meminfo", "MemTotal")
    return {
        "cpu_model": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "logical_cores": os.cpu_count(),
        # MemTotal wobbles by a few MB between boots of the same VM; round to GiB.
        "memory_gib": round(int(memory.split()[0]) / 2**20) if memory else None,
        "machine": platform.machine(),
        "os": platform.system(),
    }
