"""Results measured on other machines, and interpreters measured only elsewhere.

Each machine's folder, ``results/<slug>/``, holds a ``machine.json``: the
machine's fingerprint and the interpreters measured there (path, label,
identity).  It is what lets a build

* compare this machine's headline figures with every other machine's
  committed ones (the "Other machines" table of each note), and
* show an interpreter the project lists but this machine lacks, from the
  figures committed for it, labelled with where and when they were taken.

A build writes only its own machine's folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from generator import formatting
from generator.errors import ResultError
from generator.headline import headline
from generator.interpreters import Interpreter
from generator.machine import Machine
from generator.writer.fsops import atomic_write, os_error, parse_json, read_state, real_folder

MACHINE_FILE = "machine.json"


def _read(folder: Path) -> dict[str, Any] | None:
    try:
        data = parse_json(read_state(folder / MACHINE_FILE))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("fingerprint"), dict) else None


def record_interpreter(results_root: Path, machine: Machine, interp: Interpreter) -> None:
    """Note in ``machine.json`` that ``interp`` was measured on ``machine`` (written only on change)."""
    folder = results_root / machine.slug
    data = _read(folder) or {}
    # A copy: adding to the dict read from the file would add to ``data`` too, and the file,
    # found equal to itself, would never record a second interpreter.
    known = data.get("interpreters")
    interpreters = dict(known) if isinstance(known, dict) else {}
    interpreters[interp.tag] = {"path": interp.path, "label": interp.label, **interp.identity()}
    new = {"slug": machine.slug, "description": machine.description, "fingerprint": machine.fingerprint,
           "interpreters": interpreters}
    if new == data:
        return
    real_folder(folder, "a results folder", base=results_root.parent)
    try:
        atomic_write(folder / MACHINE_FILE, (json.dumps(new, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    except OSError as exc:
        raise os_error(exc, folder / MACHINE_FILE, "record the machine and interpreter", ResultError) from None


def known_machines(results_root: Path) -> list[Machine]:
    """Every machine with a results folder, sorted by slug."""
    found = []
    for folder in sorted(results_root.iterdir()) if results_root.is_dir() else ():
        data = _read(folder) if folder.is_dir() else None
        if data is not None:
            found.append(Machine(folder.name, data["fingerprint"]))
    return found


def _latest_date(folder: Path) -> str:
    dates = []
    for path in folder.glob("*.json"):
        try:
            date = parse_json(read_state(path)).get("environment", {}).get("date")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(date, str):
            dates.append(date)
    return max(dates)[:10] if dates else "an unknown date"


def _matches(name: str, path: str) -> bool:
    """A configured name (a path, or a command looked up on PATH) against a recorded path."""
    return name == path or (os.sep not in name and Path(path).name == name)


def committed_interpreter(results_root: Path, name: str, here: Machine) -> Interpreter | None:
    """The interpreter ``name`` as last measured on some machine (this one first), or None."""
    machines = known_machines(results_root)
    ordered = [m for m in machines if m.slug == here.slug] + [m for m in machines if m.slug != here.slug]
    for machine in ordered:
        data = _read(results_root / machine.slug) or {}
        for tag, info in sorted((data.get("interpreters") or {}).items()):
            if not isinstance(info, dict) or not _matches(name, str(info.get("path", ""))):
                continue
            where = "this machine" if machine.slug == here.slug else f"machine {machine.slug}"
            try:
                interp = Interpreter(path=str(info["path"]), version=info["version"],
                                     implementation=info["implementation"], build=info["build"],
                                     compiler=info["compiler"], free_threaded=bool(info["free_threaded"]),
                                     gil_enabled=bool(info["gil_enabled"]))
            except KeyError:
                continue
            if interp.tag != tag:
                continue
            return replace(interp, machine=machine.slug,
                           measured_on=f"{where}, {_latest_date(results_root / machine.slug / tag)}")
    return None


@dataclass(frozen=True)
class MachineResults:
    """One other machine's committed results, per interpreter tag."""

    machine: Machine
    by_tag: dict[str, dict[str, Any]]  # tag -> experiment -> Result


@dataclass(frozen=True)
class Comparison:
    """The "Other machines" table of a note: headline figures, this machine first."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]


def _cell(result: Any, metric: str) -> str:
    m = result.metric(metric) if result is not None else None
    if m is None:
        return "—"
    return formatting.auto(m)  # its own ⚠, where the spread earns one


def compare(results: Any, names: tuple[str, ...] | list[str]) -> Comparison | None:
    """This machine's headline figures of ``names`` beside every other machine's, or None if none."""
    others = [(m.machine.slug, tag, m.by_tag[tag]) for m in results.others for tag in sorted(m.by_tag)]
    if not others:
        return None
    columns = (f"this machine · {results.primary_tag}", *[f"{slug} · {tag}" for slug, tag, _ in others])
    rows = []
    for name in names:
        here = results.get(name)
        produced = set(here.metrics) if here is not None else set()
        for _, _, by_name in others:
            if name in by_name:
                produced |= set(by_name[name].metrics)
        for metric in headline(name, sorted(produced)):
            cells = tuple(_cell(by_name.get(name), metric) for _, _, by_name in others)
            if any(c != "—" for c in cells):
                rows.append((f"`{name}` {metric}", (_cell(here, metric), *cells)))
    return Comparison(columns, tuple(rows)) if rows else None


def load_others(results_root: Path, here: Machine, names: list[str], profile: str) -> tuple[MachineResults, ...]:
    """Every other machine's results of ``names`` for ``profile``; a corrupt file there is skipped.

    Another machine's results are read, never written, and a file of theirs
    this build cannot read must not stop it.
    """
    from generator.errors import ResultError
    from generator.results import ResultStore

    out = []
    for machine in known_machines(results_root):
        if machine.slug == here.slug:
            continue
        store = ResultStore(results_root, profile, machine)
        by_tag: dict[str, dict[str, Any]] = {}
        for folder in sorted(p for p in store.folder.iterdir() if p.is_dir()):
            quick = folder.name.endswith("-quick")
            if quick != (profile == "quick"):
                continue
            tag = folder.name.removesuffix("-quick")
            loaded: dict[str, Any] = {}
            for name in names:
                try:
                    result = store.load(tag, name)
                except ResultError:
                    continue
                if result is not None and result.metrics:
                    loaded[name] = result
            if loaded:
                by_tag[tag] = loaded
        if by_tag:
            out.append(MachineResults(machine, by_tag))
    return tuple(out)
