"""Lint an Obsidian vault: broken links, missing headings, orphans, bad properties.

    report = check_vault(Path(root))        # root may be a build's staging folder
    report.ok, report.errors, report.warnings, report.to_json()

Per-note parse facts are cached (see ``generator.vaultindex``).  Resolution
and findings are recomputed whenever any file was added, removed or changed,
since any note can change what another note's links mean; a run over an
unchanged vault reuses the last run's findings.

JSON shape (``report.to_json()``, stable and sorted by path, line, code)::

    {"version": 1, "root": "/abs/vault", "notes": 12, "attachments": 3,
     "summary": {"errors": 2, "warnings": 1},
     "findings": [{"code": "broken-link", "severity": "error",
                   "path": "a/Note.md", "line": 7, "message": "..."}]}
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property, partial
from pathlib import Path

from generator.errors import UsageError
from generator.lint.links import Link
from generator.lint.notefacts import MAX_NOTE_BYTES, NoteFacts
from generator.lint.properties import property_problems
from generator.lint.resolve import DEPENDS_ON_SOURCE, LinkGraph, VaultIndex, build_graph, name_key
from generator.lint.vaultindex import (
    NOTE_SUFFIX,
    VaultFiles,
    listing_key,
    load_facts,
    load_findings,
    save_findings,
    scan_vault,
)

JSON_VERSION = 1
# Obsidian refuses these in file names; several also break link syntax.
FORBIDDEN_NAME_CHARS = frozenset('*"\\/<>:|?#^[]')

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    """One problem at ``path:line`` (``line`` None for whole-file problems)."""

    code: str  # e.g. "broken-link"
    severity: str  # "error" | "warning"
    path: str  # posix, relative to the vault root
    line: int | None
    message: str  # what is wrong and what to do

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


def _sort_key(finding: Finding) -> tuple:
    return (finding.path, finding.line or 0, finding.code, finding.message)


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
            "findings": [asdict(f) for f in self.findings],
        }


def _written(link: Link) -> str:
    """The link as the user would recognise it."""
    if link.kind == "markdown":
        return f"[…]({link.target})"
    return f"{'!' if link.embed else ''}[[{link.target}{link.subpath}]]"


def _link_findings(index: VaultIndex, source: str, link: Link, target: str | None, candidates: tuple[str, ...]) -> Iterator[Finding]:
    link_target, line, kind, embed, heading, block = link.target, link.line, link.kind, link.embed, link.heading, link.block

    def finding(code: str, severity: str, message: str) -> Finding:
        return Finding(code, severity, source, line, message)

    written = _written(link)
    if target is None:
        owners = index.aliases.get(name_key(link_target), []) if kind == "wiki" and not embed else []
        if owners:
            stem = owners[0][: -len(NOTE_SUFFIX)].rsplit("/", 1)[-1]
            yield finding("alias-link", ERROR, f"{written} names an alias, which Obsidian does not resolve; did you mean [[{stem}|{link_target}]]?")
        elif embed:
            yield finding("broken-embed", ERROR, f"{written} embeds nothing: no file {link_target!r} in the vault; add it or fix the name (attachments need their extension)")
        else:
            yield finding("broken-link", ERROR, f"{written} points to no file; create {link_target!r} or fix the link")
        return
    if candidates:
        choices = ", ".join(c[: -len(NOTE_SUFFIX)] if c.endswith(NOTE_SUFFIX) else c for c in candidates)
        yield finding("ambiguous-link", WARNING, f"{written} matches {len(candidates)} files ({choices}); write the folder, e.g. [[{choices.split(', ')[0]}]]")
    if not target.endswith(NOTE_SUFFIX) or target not in index.notes:
        return
    if heading and not index.has_heading_path(target, heading):
        wanted = " > ".join(heading)
        yield finding("missing-heading", ERROR, f"{written}: {target} has no heading {wanted!r}; fix the link or add the heading")
    if block and not index.has_block(target, block):
        yield finding("missing-block", ERROR, f"{written}: {target} has no block ^{block}; end the paragraph with ' ^{block}' or fix the link")


def _note_findings(path: str, facts: NoteFacts) -> Iterator[Finding]:
    if facts.read_error:
        yield Finding("unreadable-note", ERROR, path, None, f"cannot read the note ({facts.read_error}); check its permissions")
    if facts.too_large:
        megabytes = facts.too_large / 1_048_576
        yield Finding("note-too-large", WARNING, path, None, f"not checked: {megabytes:.1f} MB is over the {MAX_NOTE_BYTES // 1_048_576} MB limit; split the note")
    if facts.encoding_error:
        message, line = facts.encoding_error
        yield Finding("not-utf8", ERROR, path, line, f"{message}; re-save the note as UTF-8")
    for code, severity, line, message in property_problems(facts):
        yield Finding(code, severity, path, line, message)


def _file_findings(index: VaultIndex) -> Iterator[Finding]:
    files = sorted(index.notes) + sorted(index.attachments)
    for path in files:
        bad = sorted(set(path.rsplit("/", 1)[-1]) & FORBIDDEN_NAME_CHARS)
        if bad:
            yield Finding("bad-filename", ERROR, path, None, f"the name contains {' '.join(bad)}, which Obsidian does not allow; rename the file")
    by_lower: dict[str, list[str]] = defaultdict(list)
    for path in files:
        by_lower[name_key(path.rsplit("/", 1)[-1])].append(path)
    for group in by_lower.values():
        names = {p.rsplit("/", 1)[-1] for p in group}
        if len(names) > 1:
            for path in group:
                others = ", ".join(p for p in group if p != path)
                yield Finding("case-collision", WARNING, path, None, f"the name differs only in case from {others}; rename one (links and case-insensitive disks cannot tell them apart)")


def _orphan_findings(notes: list[str], linked: set[str]) -> Iterator[Finding]:
    for path in notes:
        if path not in linked:
            yield Finding("orphan", WARNING, path, None, "no other note links here; link it from a related note or an index")


def _scan(root: Path) -> VaultFiles:
    root = Path(root)
    if not root.exists():
        raise UsageError("vault folder does not exist", path=root, hint="pass the folder that holds your notes")
    if not root.is_dir():
        raise UsageError("not a folder", path=root, hint="pass the vault folder, not a file")
    return scan_vault(root)


def _build_index(files: VaultFiles, use_cache: bool) -> VaultIndex:
    with _gc_paused():
        return VaultIndex.build(load_facts(files, use_cache=use_cache), files.attachments)


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


def check_vault(root: Path, *, use_cache: bool = True) -> CheckReport:
    """Lint the vault at ``root`` (dot-folders such as .obsidian are ignored)."""
    with _gc_paused():
        return _check(root, use_cache)


def _check(root: Path, use_cache: bool) -> CheckReport:
    files = _scan(root)
    report = partial(CheckReport, Path(root).resolve(), notes=len(files.notes), attachments=len(files.attachments))
    key = listing_key(files) if use_cache else b""
    cached = load_findings(files, key) if use_cache else None
    if cached is not None:  # nothing changed since the last run
        return report([Finding(*f) for f in cached], _load_index=lambda: _build_index(files, use_cache))
    index = _build_index(files, use_cache)
    notes = sorted(index.notes)
    findings: list[Finding] = []
    linked: set[str] = set()  # files some other note links to
    # ~10^5 links: local names here, objects only for findings.
    resolve, memo, all_notes = index.resolve, index.memo, index.notes
    has_heading_path, has_block = index.has_heading_path, index.has_block
    for source in notes:
        facts = all_notes[source]
        if facts.properties is not None or facts.yaml_error or facts.encoding_error or facts.too_large or facts.read_error:
            findings.extend(_note_findings(source, facts))
        for link in facts.links:
            found = memo.get(link.target)
            if found is None or found is DEPENDS_ON_SOURCE:
                found = resolve(link.target, source)
            target, candidates = found
            if target is not None and target != source:
                linked.add(target)
            heading, block = link.heading, link.block
            if (
                target is None
                or candidates
                or (heading and target in all_notes and not has_heading_path(target, heading))
                or (block and target in all_notes and not has_block(target, block))
            ):
                findings.extend(_link_findings(index, source, link, target, candidates))
    findings.extend(_file_findings(index))
    findings.extend(_orphan_findings(notes, linked))
    findings.sort(key=_sort_key)
    if use_cache:
        save_findings(files, key, [(f.code, f.severity, f.path, f.line, f.message) for f in findings])
    return report(findings, _load_index=lambda: index)


def link_graph(root: Path, *, use_cache: bool = True) -> LinkGraph:
    """The vault's link graph (nodes, edges with lines, backlinks)."""
    with _gc_paused():
        return build_graph(_build_index(_scan(root), use_cache))


def vault_index(root: Path, *, use_cache: bool = True) -> VaultIndex:
    """The vault's lookup tables, for resolving links (``VaultIndex.resolve_link``)."""
    with _gc_paused():
        return _build_index(_scan(root), use_cache)
