"""Link resolution as Obsidian does it, and the link graph it produces.

Obsidian matches a link path against file names case-insensitively; a path
with folders is taken from the vault root first, then as a suffix of a file's
path; a name without an extension means a note (``.md``), while attachments
must be named with their extension and may sit anywhere.  Several matches
make the link ambiguous, and Obsidian picks one: a file whose vault path is
the name as written (``[[Note]]`` or ``[[/Note]]``, and a root ``Note.md``) wins outright;
else the linking note's own folder; else the shortest path, as a string
(``a/b/Note.md`` before ``zzzz/Note.md``).  That is the order
``metadataCache.getFirstLinkpathDest`` was observed to use on Obsidian
1.13.7 (pvliesdonk/markdown-vault-mcp#1380), and what ``resolve`` picks too.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from generator.lint.links import Link, heading_key, name_key, parse_wiki_inner
from generator.lint.notefacts import NoteFacts

NOTE_SUFFIX = ".md"


# (the chosen file or None when nothing matches, every match when more than one)
Resolution = tuple["str | None", tuple[str, ...]]
_NOTHING: Resolution = (None, ())
# Memo value of targets whose meaning depends on the linking note.
DEPENDS_ON_SOURCE: Resolution = (None, ("<depends on the linking note>",))


@dataclass(frozen=True)
class Resolved:
    """Where one link leads; see ``VaultIndex.resolve_link``."""

    path: str | None  # the file, posix relative to the vault root; None: broken
    heading: tuple[int, str, int] | None  # (level, text, line) of the heading the subpath names
    block: str | None  # the block id, when the target has it
    link: Link | None  # the link as parsed (None when the text is no link)
    candidates: tuple[str, ...] = ()  # every match when the name is ambiguous

    @property
    def ok(self) -> bool:
        """The file exists and so does any heading or block the link names."""
        if self.path is None or self.link is None:
            return False
        return (not self.link.heading or self.heading is not None) and (not self.link.block or self.block is not None)


# Entries a VaultIndex memoises, per table, before it starts again.  The
# links of bench/make_vault.py's 50k-note vault name ~194k distinct targets
# (up to ~34 MB of memo in each check worker) and ~23k linked notes' headings; a
# memo of 2^16 started again 8 times there, and resolving the same names
# again cost about a third of the check (4.4 s serial, 3.0 s with these).
# Past these, a vault's memo starts again: a worker's memory stays bounded.
MEMO_LIMITS = {"memo": 1 << 18, "notes": 1 << 16}


class Memo(dict):
    """A dict that starts again when it holds ``limit`` entries: what the
    index memoises is rebuilt on demand, and a 50k-note vault links ~2*10^5
    distinct targets; most hits are the targets many notes link to, which
    are back in it soon after."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: object, value: object) -> None:
        if len(self) >= self.limit:
            self.clear()
        super().__setitem__(key, value)


@dataclass
class VaultIndex:
    """Lookup tables over one vault's notes and attachments."""

    notes: dict[str, NoteFacts]
    attachments: list[str]
    canvases: dict[str, NoteFacts] = field(default_factory=dict)  # also in attachments
    by_name: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    by_path: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # Resolution per target, or per (target, folder); a caller may read it
    # first and call ``resolve`` only on a miss or DEPENDS_ON_SOURCE.
    memo: dict[object, Resolution] = field(default_factory=lambda: Memo(MEMO_LIMITS["memo"]))
    # Per linked note, small on purpose (a vault has ~10^5 link targets):
    # heading levels as a tuple of ints, lower-cased block ids as a tuple.
    _heading_levels: dict[str, tuple[int, ...]] = field(default_factory=lambda: Memo(MEMO_LIMITS["notes"]))
    _block_ids: dict[str, tuple[str, ...]] = field(default_factory=lambda: Memo(MEMO_LIMITS["notes"]))
    # Files listed but not read (FIFOs, dangling symlinks ...), by name key with and
    # without ".md": a link to one is still broken, but its message says why.
    skipped: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, parsed: dict[str, NoteFacts], attachments: list[str]) -> VaultIndex:
        """``parsed``: facts of every note and canvas."""
        notes = {path: facts for path, facts in parsed.items() if path.endswith(NOTE_SUFFIX)}
        canvases = {path: facts for path, facts in parsed.items() if not path.endswith(NOTE_SUFFIX)}
        index = cls(notes, attachments, canvases)
        for path in sorted(notes):
            index._add(path, path[: -len(NOTE_SUFFIX)])
            for alias in note_aliases(notes[path]):
                index.aliases[name_key(alias)].append(path)
        for path in sorted(attachments):
            index._add(path, None)
        return index

    def add_skipped(self, paths: Iterable[str]) -> None:
        """Remember files the listing skipped, for ``skipped_file``."""
        for path in paths:
            key = name_key(path.rpartition("/")[2])
            self.skipped.setdefault(key, path)
            if key.endswith(NOTE_SUFFIX):
                self.skipped.setdefault(key[: -len(NOTE_SUFFIX)], path)

    def skipped_file(self, target: str) -> str | None:
        """The skipped file an unresolved link ``target`` names, if any (by file name)."""
        return self.skipped.get(name_key(target.rpartition("/")[2])) if self.skipped else None

    def _add(self, path: str, stem_path: str | None) -> None:
        key = name_key(path)
        self.by_path[key] = path
        self.by_name[key.rpartition("/")[2]].append(path)
        if stem_path is not None:
            # An ASCII path's key ends in ".md" like the path; other scripts
            # may not (a Greek final sigma lowers differently before ".md").
            stem_key = key[: len(stem_path)] if path.isascii() else name_key(stem_path)
            self.by_path.setdefault(stem_key, path)
            self.by_name[stem_key.rpartition("/")[2]].append(path)

    @property
    def sources(self) -> dict[str, NoteFacts]:
        """Every file whose links count: notes and canvases."""
        return {**self.notes, **self.canvases}

    def forget_lookups(self) -> None:
        """Drop what resolving links memoised (rebuilt on demand)."""
        self.memo.clear()
        self._heading_levels.clear()
        self._block_ids.clear()

    def resolve_exact(self, path: str) -> Resolution:
        """A canvas file node names its file by the full path (exact case first)."""
        if path in self.notes or path in self.canvases or path in self._attachment_set:
            return path, ()
        found = self.by_path.get(name_key(path))
        return (found if found is not None and name_key(found) == name_key(path) else None), ()

    @cached_property
    def _attachment_set(self) -> set[str]:
        return set(self.attachments)

    def resolve(self, target: str, source: str) -> Resolution:
        """The file ``target`` (a link path) names when written in ``source``."""
        found = self.memo.get(target)
        if found is None:
            found = self.memo[target] = self._resolve_anywhere(target)
        if found is DEPENDS_ON_SOURCE:
            return self._resolve_from(target, source)
        return found

    def _resolve_anywhere(self, target: str) -> Resolution:
        """Resolution valid for every source, or DEPENDS_ON_SOURCE."""
        if not target:
            return DEPENDS_ON_SOURCE
        key = name_key(target.replace("\\", "/") if "\\" in target else target)
        if key.startswith(("./", "../")):
            return DEPENDS_ON_SOURCE
        if "/" not in key:
            matches = self.by_name.get(key, ())
            if len(matches) > 1:
                # A root file whose path is the name as written wins whatever the source.
                exact = [m for m in matches if m in (target, target + NOTE_SUFFIX)]
                if len(exact) == 1:
                    return (exact[0], ())
        else:
            key = key.lstrip("/")
            # A full vault path, or "/Name" for a file at the vault root.
            if key in self.by_path:
                return (self.by_path[key], ())
            matches = self.by_name.get(posixpath.basename(key), ())
            if "/" in key:
                suffixes = ("/" + key, "/" + key + NOTE_SUFFIX)
                matches = [m for m in matches if name_key(m).endswith(suffixes)]
        if len(matches) <= 1:
            return (matches[0], ()) if matches else _NOTHING
        return DEPENDS_ON_SOURCE

    def _resolve_from(self, target: str, source: str) -> Resolution:
        """Self links, relative paths and ambiguous names: the source matters."""
        if not target:
            return (source, ())
        folder = posixpath.dirname(source)
        memo_key = (target, folder)
        found = self.memo.get(memo_key)
        if found is not None:
            return found
        key = name_key(target.replace("\\", "/"))
        if key.startswith(("./", "../")):
            found = (self.by_path.get(posixpath.normpath(posixpath.join(name_key(folder), key))), ())
        else:
            key = key.lstrip("/")
            matches = [m for m in self.by_name[posixpath.basename(key)] if "/" not in key or name_key(m).endswith(("/" + key, "/" + key + NOTE_SUFFIX))]
            same_folder = [m for m in matches if posixpath.dirname(m) == folder]
            chosen = (same_folder or sorted(matches, key=lambda m: (len(m), m)))[0]
            found = (chosen, tuple(matches))
        self.memo[memo_key] = found
        return found

    def headings_of(self, path: str) -> tuple[tuple[int, ...], Sequence[str]]:
        """(level of each heading, heading_key of each heading) of note ``path``."""
        levels = self._heading_levels.get(path)
        if levels is None:
            levels = self._heading_levels[path] = tuple(level for level, _, _ in self.notes[path].headings)
        return levels, self.notes[path].heading_keys

    def unread(self, path: str) -> bool:
        """Whether note ``path`` was not read to its end (too large, unreadable, too complex,
        nested past the parser's limit): a heading or block not found may be in what was not read."""
        return not self.notes[path].anchors_complete

    def has_heading_path(self, path: str, chain: list[str]) -> bool:
        """``[[T#H1#H2]]``: H2 must sit in H1's section (any depth below it)."""
        if len(chain) == 1:  # a note has a few headings: a set per note would cost more memory than it saves time
            found = heading_key(chain[0]) in self.notes[path].heading_keys
        else:
            levels, keys = self.headings_of(path)
            found = _find_chain(levels, keys, [heading_key(h) for h in chain], 0, len(levels), 0) >= 0
        return found or self.unread(path)

    def find_heading(self, path: str, chain: list[str]) -> tuple[int, str, int] | None:
        """(level, text, line) of the heading ``[[path#H1#H2]]`` lands on, or None."""
        facts = self.notes.get(path)
        if facts is None or not chain:
            return None
        levels, keys = self.headings_of(path)
        found = _find_chain(levels, keys, [heading_key(h) for h in chain], 0, len(levels), 0)
        return facts.headings[found] if found >= 0 else None

    def resolve_link(self, link: Link | str, source: str) -> Resolved:
        """What a link written in note ``source`` points to, as Obsidian reads it.

        ``link`` is a parsed Link or the text between ``[[`` and ``]]``
        (``"Note#Heading|alias"``).  For the HTML export and other tools:
        ``check`` uses the faster ``resolve`` on link targets.
        """
        if isinstance(link, str):
            parsed = parse_wiki_inner(link, embed=False, line=0)
            if parsed is None:
                return Resolved(None, None, None, None, ())
            link = parsed
        path, candidates = self.resolve_exact(link.target) if link.kind == "file" else self.resolve(link.target, source)
        heading = self.find_heading(path, link.heading) if path and link.heading else None
        block = link.block if path in self.notes and link.block and self.has_block(path, link.block) else None
        return Resolved(path, heading, block, link, candidates)

    def has_block(self, path: str, block: str) -> bool:
        """Block ids match ignoring case (see the README's linter section)."""
        ids = self._block_ids.get(path)
        if ids is None:
            ids = self._block_ids[path] = tuple(block_id.lower() for block_id in self.notes[path].block_ids)
        return block.lower() in ids or self.unread(path)


def _find_chain(levels: tuple[int, ...], keys: Sequence[str], chain: list[str], lo: int, hi: int, parent: int) -> int:
    """Index of the heading the chain ends on, or -1."""
    for index in range(lo, hi):
        level = levels[index]
        if keys[index] != chain[0] or level <= parent:
            continue
        if len(chain) == 1:
            return index
        end = index + 1
        while end < hi and levels[end] > level:
            end += 1
        found = _find_chain(levels, keys, chain[1:], index + 1, end, level)
        if found >= 0:
            return found
    return -1


def note_aliases(facts: NoteFacts) -> list[str]:
    """The ``aliases`` property as a list of strings (Obsidian accepts a bare string)."""
    props = facts.properties
    value = props.get("aliases") if isinstance(props, dict) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str | None  # resolved file; None for a broken link
    link: Link
    candidates: tuple[str, ...] = ()  # all matches of an ambiguous link


@dataclass
class LinkGraph:
    """Every link of the vault with what it resolves to."""

    notes: list[str]
    attachments: list[str]
    edges: list[Edge]

    def find(self, name: str) -> str | None:
        """The file a user means by ``name``: its path, or its name as in a link."""
        key = name_key(name.strip("/"))
        files = self.notes + self.attachments
        for path in files:
            if name_key(path) in (key, key + NOTE_SUFFIX):
                return path
        matches = [p for p in files if name_key(posixpath.basename(p)) in (key, key + NOTE_SUFFIX)]
        return min(matches, key=lambda p: (p.count("/"), p)) if matches else None

    @cached_property
    def inbound(self) -> dict[str, list[Edge]]:
        """Inbound edges per file, self-links excluded."""
        inbound: dict[str, list[Edge]] = defaultdict(list)
        for edge in self.edges:
            if edge.target is not None and edge.target != edge.source:
                inbound[edge.target].append(edge)
        return dict(inbound)

    def into(self, target: str) -> LinkGraph:
        """The part of the graph that links into ``target``: it, the files
        linking to it, and those links (for ``--backlinks`` drawn as a graph)."""
        edges = self.inbound.get(target, [])
        files = {target, *(edge.source for edge in edges)}
        return LinkGraph(
            [p for p in self.notes if p in files], [p for p in self.attachments if p in files], list(edges)
        )

    def to_json(self) -> dict:
        def edge_json(edge: Edge) -> dict:
            link = edge.link
            return {
                "source": edge.source, "target": edge.target, "line": link.line, "column": link.column,
                "link": link.target, "heading": link.heading, "block": link.block,
                "embed": link.embed, "kind": link.kind, "property": link.property,
            }

        backlinks = {
            path: [{"source": e.source, "line": e.link.line} for e in edges]
            for path, edges in sorted(self.inbound.items())
        }
        return {
            "nodes": [{"path": p, "type": "note"} for p in self.notes]
            + [{"path": p, "type": "attachment"} for p in self.attachments],
            "edges": [edge_json(e) for e in self.edges],
            "backlinks": backlinks,
        }


def build_graph(index: VaultIndex) -> LinkGraph:
    """Every link as an Edge object: for ``vaultgen graph`` and backlinks,
    not for ``check``, which needs only the findings."""
    edges = []
    sources = index.sources
    for source in sorted(sources):
        for link in sources[source].links:
            path, candidates = index.resolve_exact(link.target) if link.kind == "file" else index.resolve(link.target, source)
            edges.append(Edge(source, path, link, candidates))
    return LinkGraph(sorted(index.notes), sorted(index.attachments), edges)
