"""Which version of a third-party package an interpreter would import.

An experiment's figures depend on the packages it imports (dask for the
distributed experiment) as much as on its source, so their versions go into
its cache key: installing, upgrading or removing one re-runs it.  The
versions are read from ``*.dist-info`` folder names in the interpreter's
site-packages folders and ``$PYTHONPATH`` (which experiments inherit), without
starting the interpreter: a build asks this for every experiment under every
interpreter.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

# How a module sits in a folder: a package, a module, or an extension module.
_MODULE_FILE = re.compile(r"(?P<name>[A-Za-z_]\w*)(?:\.py|\.[\w.-]*\.(?:so|pyd)|\.(?:so|pyd))\Z")
_DIST_INFO = re.compile(r"(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info\Z")


def third_party(names: Iterable[str], local: Iterable[str] = ()) -> list[str]:
    """``names`` without the standard library's and the project's own modules.

    The standard library is the one of the interpreter running vaultgen; a
    name that is standard only in another version finds no package and reads
    as absent, which changes nothing.
    """
    skip = set(sys.stdlib_module_names) | set(local) | {"__future__"}
    return sorted(set(names) - skip)


def _normalise(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _provides(folder: Path, info: str, module: str) -> bool:
    """Whether the distribution ``folder/info`` ships the top-level ``module``."""
    match = _DIST_INFO.match(info)
    if match and _normalise(match["name"]) == _normalise(module):
        return True
    try:
        top = (folder / info / "top_level.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return module in top.split()


def installed(module: str, folders: Iterable[str]) -> str | None:
    """``"dask 2025.1.0"`` for the first folder holding ``module``, ``"present"`` when
    no distribution claims it, None when no folder holds it."""
    for name in folders:
        folder = Path(name)
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        if module not in entries and not any((m := _MODULE_FILE.match(e)) and m["name"] == module for e in entries):
            continue
        for info in sorted(e for e in entries if e.endswith(".dist-info")):
            if _provides(folder, info, module):
                match = _DIST_INFO.match(info)
                return f"{match['name']} {match['version']}" if match else info
        return "present"
    return None


def search_path(site_dirs: Iterable[str]) -> list[str]:
    """The folders an experiment's imports search beyond the standard library:
    ``$PYTHONPATH`` first, as Python puts it, then site-packages."""
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return [*extra, *site_dirs]


def versions(modules: Iterable[str], site_dirs: Iterable[str]) -> dict[str, str | None]:
    """What ``installed`` says of each module, for a cache key."""
    folders = search_path(site_dirs)
    return {module: installed(module, folders) for module in modules}
