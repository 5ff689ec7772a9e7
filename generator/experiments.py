"""Discover experiment scripts: what each is, and what its cache key must cover.

Two kinds of script live in ``experiments/``: *examples* (plain programs
such as the seed's, whose output is the point) and *benchmarks* (built on
``_harness.py``, which write a result document).  Files starting with ``_``
are helpers, not experiments.  ``generator.runner`` runs one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from generator.errors import ExperimentError
from generator.packages import third_party
from generator.writer.fsops import read_regular
from generator.writer.paths import WINDOWS_RESERVED

_HARNESS_IMPORT = re.compile(r"^\s*(from\s+_harness\s+import|import\s+_harness)\b", re.M)


ExperimentKind = Literal["example", "benchmark"]


@dataclass(frozen=True)
class Experiment:
    name: str
    path: Path
    kind: ExperimentKind
    title: str
    source: str

    def local_imports(self) -> list[Path]:
        """Project helper modules this script imports, transitively (for cache keys)."""
        return list(self._imports[0])

    def imported_packages(self) -> list[str]:
        """Third-party modules this script or its helper modules import (for cache keys)."""
        return list(self._imports[1])

    @cached_property
    def _imports(self) -> tuple[tuple[Path, ...], tuple[str, ...]]:
        """(helper modules, third-party names) from one walk over the sources,
        once per build although every interpreter's cache key asks for them.

        A regex rather than ``ast``: this runs on every build, and a name it
        picks up by mistake (say, inside a string) only adds a file to the
        key if such a module really sits beside the script, or a package
        lookup that finds nothing.
        """
        seen: dict[Path, None] = {}
        others: set[str] = set()
        pending = [self.source]
        while pending:
            for name in _imported_names(pending.pop()):
                candidate = self.path.parent / f"{name}.py"
                if candidate == self.path or candidate in seen:
                    continue
                if candidate.is_file():
                    seen[candidate] = None
                    pending.append(_read_source(candidate))
                else:
                    others.add(name)
        return tuple(sorted(seen)), tuple(third_party(others))


_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import|import[ \t]+([\w., \t]+))", re.M)
_DOCSTRING = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[rRuU]?(\"\"\"|\'\'\')\s*(.*?)\1", re.S)


def _imported_names(source: str) -> set[str]:
    names = set()
    for match in _IMPORT.finditer(source):
        if match.group(1):
            names.add(match.group(1))
        else:
            names.update(part.split()[0].split(".")[0] for part in match.group(2).split(",") if part.strip())
    return names


def _title(source: str, name: str) -> str:
    """First line of the module docstring (a regex: parsing every script on each build costs too much)."""
    match = _DOCSTRING.match(source)
    doc = match.group(2).strip() if match else ""
    return doc.splitlines()[0] if doc else name.replace("_", " ")


def discover(folder: Path) -> dict[str, Experiment]:
    """Every ``*.py`` in ``folder`` not starting with ``_``, by name."""
    found: dict[str, Experiment] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        _check_name(path, found)
        source = _read_source(path)
        kind: ExperimentKind = "benchmark" if _HARNESS_IMPORT.search(source) else "example"
        found[path.stem] = Experiment(path.stem, path, kind, _title(source, path.stem), source)
    return found


def _check_name(path: Path, found: dict[str, Experiment]) -> None:
    """Refuse a name whose results/…/NAME.json would collide with another's on macOS or
    Windows (names differing only in case), or that Windows cannot create."""
    clash = next((other for other in found.values() if other.name.casefold() == path.stem.casefold()), None)
    if clash is not None:
        raise ExperimentError(f"the experiment's name differs from {clash.path.name} only in case", path=path,
                              hint="rename one: their results would be one file on macOS and Windows")
    if path.stem.split(".")[0].strip().upper() in WINDOWS_RESERVED:
        raise ExperimentError(f"{path.stem!r} is a reserved file name on Windows", path=path,
                              hint="rename the script: its results could not be checked out there")


def _read_source(path: Path) -> str:
    """A script's source, or one line saying why it cannot be one (never a hang on a FIFO)."""
    try:
        return read_regular(path).decode("utf-8")
    except FileNotFoundError:
        problem, hint = "is a symbolic link to nothing", "remove the link or point it at a script"
    except IsADirectoryError:
        problem, hint = "is a folder, not a script", "rename the folder so it does not end in .py"
    except UnicodeDecodeError as exc:
        problem, hint = f"is not UTF-8 text ({exc.reason} at byte {exc.start})", "save the script as UTF-8"
    except OSError as exc:
        problem, hint = f"cannot be read: {exc.strerror or exc}", "make it a readable regular file"
    raise ExperimentError(f"the experiment {problem}", path=path, hint=hint)
