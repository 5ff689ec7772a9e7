"""Lint an Obsidian vault: broken links, missing headings, orphans, bad properties.

    report = check_vault(Path(root))        # root may be a build's staging folder
    report.ok, report.errors, report.warnings, report.to_json()

Per-note parse facts are cached (see ``generator.lint.vaultindex``).  A run
over an unchanged vault reuses the last run's findings; when only some notes'
contents changed, ``generator.lint.incremental`` re-checks what those changes
can reach; when files were added, removed or renamed, every link is resolved
again, since a new name can change what any link means.

``report.to_json()`` is the ``--format json`` document; its schema is in
the README ("The linter") and ``JSON_VERSION`` changes with any field.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import cached_property, partial
from pathlib import Path

from generator import usercache
from generator.errors import UsageError
from generator.lint import incremental
from generator.lint.cachefile import vault_files
from generator.lint.checkpool import check_sources
from generator.lint.config import CheckConfig, filter_findings
from generator.lint.findings import (
    CODES,
    ERROR,
    WARNING,
    Finding,
    file_findings,
    orphan_findings,
    skipped_findings,
    sort_key,
)
from generator.lint.resolve import LinkGraph, VaultIndex, build_graph
from generator.lint.vaultindex import VaultFiles, listing_key, load_facts, load_findings, save_findings, scan_vault

# Version of the JSON report's shape (docs: README, "vaultgen check").
JSON_VERSION = 2
_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


@dataclass
class CheckReport:
    root: Path
    findings: list[Finding]
    notes: int  # how many notes were checked
    attachments: int
    _load_index: Callable[[], VaultIndex] = field(repr=False, compare=False)

    @cached_property
    def index(self) -> VaultIndex:
        """The vault's lookup tables; loaded on first use when the findings came from the cache."""
        return self._load_index()

    @cached_property
    def graph(self) -> LinkGraph:
        """The link graph, built on first use: ``check`` itself does not need it."""
        return build_graph(self.index)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def backlinks(self, path: str) -> list[tuple[str, int]]:
        """(source note, line) of every link into ``path``."""
        return [(e.source, e.link.line) for e in self.graph.inbound.get(path, [])]

    def to_json(self) -> dict:
        return {
            "version": JSON_VERSION,
            "root": str(self.root),
            "notes": self.notes,
            "attachments": self.attachments,
            "summary": {"errors": len(self.errors), "warnings": len(self.warnings)},
            # Finding's fields are scalars: no need for asdict's deep copy (~40 us each).
            "findings": [{name: getattr(f, name) for name in _FINDING_FIELDS} for f in self.findings],
        }


def _scan(root: Path) -> VaultFiles:
    root = Path(root)
    if not root.exists():
        raise UsageError("vault folder does not exist", path=root, hint="pass the folder that holds your notes")
    if not root.is_dir():
        raise UsageError("not a folder", path=root, hint="pass the vault folder, not a file")
    return scan_vault(root)


def _build_index(files: VaultFiles, use_cache: bool) -> VaultIndex:
    with _gc_paused():
        index = VaultIndex.build(load_facts(files, use_cache=use_cache), files.attachments)
    index.add_skipped(path for path, _ in files.skipped)
    return index


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A vault loads ~10^6 small acyclic objects; without this the cyclic
    collector runs hundreds of times over them and doubles the run time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Promote the survivors to the oldest generation without a traversal;
        # plain enable() would make the next collection walk all of them.
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def check_vault(root: Path, *, use_cache: bool = True, config: CheckConfig | None = None) -> CheckReport:
    """Lint the vault at ``root`` (dot-folders such as .obsidian are ignored).

    ``config`` selects findings (``load_config(root)`` reads the vault's
    settings); by default every code is reported, outside the Templates folder.
    """
    config = config or CheckConfig()
    config.validate(set(CODES))
    with _gc_paused():
        report = _check(root, use_cache)
    if use_cache:
        _tidy_cache(report.root)
    report.findings = filter_findings(report.findings, config, report.root)
    return report


def _check(root: Path, use_cache: bool) -> CheckReport:
    files = _scan(root)
    report = partial(CheckReport, Path(root).resolve(), notes=files.note_count, attachments=len(files.attachments))
    key = listing_key(files) if use_cache else b""
    cached = load_findings(files, key) if use_cache else None
    if cached is None and use_cache:  # the same files, some notes changed?
        cached = incremental.update(files)
        if cached is not None:
            save_findings(files, key, cached)
    if cached is not None:
        return report([Finding(*f) for f in cached], _load_index=lambda: _build_index(files, use_cache))
    index = _build_index(files, use_cache)
    fixed = [*skipped_findings(files.skipped), *file_findings(index)]  # names alone decide these
    findings: list[Finding] = list(fixed)
    linked: set[str] = set()  # files some other note links to
    state = incremental.StateBuilder()
    sources = index.sources
    for source, found, targets, subpath_links in check_sources(index, sources, sorted(sources)):
        findings.extend(found)
        linked |= targets
        if use_cache:
            state.add(source, sources[source], found, targets, subpath_links)
    findings.extend(orphan_findings(sorted(index.notes), linked))
    findings.sort(key=sort_key)
    if use_cache:
        plain = list(map(incremental.to_plain, findings))
        save_findings(files, key, plain)
        segments = defaultdict(list)
        for finding in plain:
            segments[finding[2]].append(finding)
        state.save(files, index, fixed, dict(segments))
    return report(findings, _load_index=lambda: index)


def _tidy_cache(root: Path) -> None:
    """Mark this vault's cache files used, and delete any vault's unused for a month."""
    usercache.keep(vault_files(root))
    usercache.prune()


def link_graph(root: Path, *, use_cache: bool = True) -> LinkGraph:
    """The vault's link graph (nodes, edges with lines, backlinks)."""
    with _gc_paused():
        return build_graph(_build_index(_scan(root), use_cache))


def vault_index(root: Path, *, use_cache: bool = True) -> VaultIndex:
    """The vault's lookup tables, for resolving links (``VaultIndex.resolve_link``)."""
    with _gc_paused():
        return _build_index(_scan(root), use_cache)
