"""Lint an Obsidian vault: broken links, missing headings, orphans, bad properties.

    report = check_vault(Path(root))        # root may be a build's staging folder
    report.ok, report.errors, report.warnings, report.to_json()

Per-note parse facts are cached (see ``generator.vaultindex``); resolution
and findings are recomputed on every run, since any note can change what
another note's links mean.

JSON shape (``report.to_json()``, stable and sorted by path, line, code)::

    {"version": 1, "root": "/abs/vault", "notes": 12, "attachments": 3,
     "summary": {"errors": 2, "warnings": 1},
     "findings": [{"code": "broken-link", "severity": "error",
                   "path": "a/Note.md", "line": 7, "message": "..."}]}
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from generator.errors import UsageError
from generator.links import Link
from generator.notefacts import MAX_NOTE_BYTES, NoteFacts
from generator.properties import property_problems
from generator.resolve import Edge, LinkGraph, VaultIndex, build_graph, name_key
from generator.vaultindex import NOTE_SUFFIX, load_facts, scan_vault

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
    graph: LinkGraph = field(repr=False)

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
            "notes": len(self.graph.notes),
            "attachments": len(self.graph.attachments),
            "summary": {"errors": len(self.errors), "warnings": len(self.warnings)},
            "findings": [asdict(f) for f in self.findings],
        }


def _written(link: Link) -> str:
    """The link as the user would recognise it."""
    if link.kind == "markdown":
        return f"[…]({link.target})"
    subpath = "".join(f"#{h}" for h in link.heading or []) + (f"#^{link.block}" if link.block else "")
    return f"{'!' if link.embed else ''}[[{link.target}{subpath}]]"


def _link_findings(index: VaultIndex, edge: Edge) -> Iterator[Finding]:
    link, target = edge.link, edge.target

    def finding(code: str, severity: str, message: str) -> Finding:
        return Finding(code, severity, edge.source, link.line, message)

    written = _written(link)
    if target is None:
        wiki = link.kind == "wiki" and not link.embed
        owners = index.aliases.get(name_key(link.target), []) if wiki else []
        if owners:
            stem = owners[0][: -len(NOTE_SUFFIX)].rsplit("/", 1)[-1]
            yield finding("alias-link", ERROR, f"{written} names an alias, which Obsidian does not resolve; did you mean [[{stem}|{link.target}]]?")
        elif link.embed:
            yield finding("broken-embed", ERROR, f"{written} embeds nothing: no file {link.target!r} in the vault; add it or fix the name (attachments need their extension)")
        else:
            yield finding("broken-link", ERROR, f"{written} points to no file; create {link.target!r} or fix the link")
        return
    if edge.candidates:
        choices = ", ".join(c[: -len(NOTE_SUFFIX)] if c.endswith(NOTE_SUFFIX) else c for c in edge.candidates)
        yield finding("ambiguous-link", WARNING, f"{written} matches {len(edge.candidates)} files ({choices}); write the folder, e.g. [[{choices.split(', ')[0]}]]")
    if not target.endswith(NOTE_SUFFIX) or target not in index.notes:
        return
    if link.heading and not index.has_heading_path(target, link.heading):
        wanted = " > ".join(link.heading)
        yield finding("missing-heading", ERROR, f"{written}: {target} has no heading {wanted!r}; fix the link or add the heading")
    if link.block and not index.has_block(target, link.block):
        yield finding("missing-block", ERROR, f"{written}: {target} has no block ^{link.block}; end the paragraph with ' ^{link.block}' or fix the link")


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


def _orphan_findings(graph: LinkGraph) -> Iterator[Finding]:
    linked = graph.inbound
    for path in graph.notes:
        if path not in linked:
            yield Finding("orphan", WARNING, path, None, "no other note links here; link it from a related note or an index")


def _load_index(root: Path, use_cache: bool) -> VaultIndex:
    root = Path(root)
    if not root.exists():
        raise UsageError("vault folder does not exist", path=root, hint="pass the folder that holds your notes")
    if not root.is_dir():
        raise UsageError("not a folder", path=root, hint="pass the vault folder, not a file")
    files = scan_vault(root)
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
    index = _load_index(root, use_cache)
    graph = build_graph(index)
    findings: list[Finding] = []
    for path in sorted(index.notes):
        findings.extend(_note_findings(path, index.notes[path]))
    for edge in graph.edges:
        link = edge.link
        # Most links resolve plainly; skip the generator for them.
        if edge.target is None or edge.candidates or link.heading or link.block:
            findings.extend(_link_findings(index, edge))
    findings.extend(_file_findings(index))
    findings.extend(_orphan_findings(graph))
    findings.sort(key=_sort_key)
    return CheckReport(Path(root).resolve(), findings, graph)


def link_graph(root: Path, *, use_cache: bool = True) -> LinkGraph:
    """The vault's link graph (nodes, edges with lines, backlinks)."""
    with _gc_paused():
        return build_graph(_load_index(root, use_cache))
