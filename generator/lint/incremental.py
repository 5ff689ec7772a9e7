"""Re-check only what an edit can change, when the vault's files stayed the same.

A link's meaning depends on the vault's file names (and, for the
``alias-link`` hint, on every note's aliases); whether its ``#heading`` or
``#^block`` exists depends on the target note's headings and block ids; a
note is an orphan when no other file links to it.  So when the same files
are there and only some notes' contents changed, with no alias changed,
the findings that can differ are:

- every finding of each changed file;
- the missing-heading/missing-block findings of notes whose subpath links
  point into a changed note whose headings or block ids changed;
- the orphan finding of each note some changed file used to link to, or
  now links to.

The state behind that (per-file findings, the files each file links to,
its subpath links, each note's headings and block ids, the resolution
tables) is saved by every full run and updated by every incremental one
(the file and its deltas: ``generator.lint.lintstate``).  Anything unexpected (another file set, an alias
change, many changes, a damaged state file) means a full run instead.
"""

from __future__ import annotations

import marshal
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import fields
from itertools import chain
from operator import attrgetter
from typing import Any

from generator.lint.findings import Finding, link_findings, note_findings, orphan_findings, sort_key
from generator.lint.links import Link, name_key
from generator.lint.notefacts import NoteFacts, read_note
from generator.lint.resolve import DEPENDS_ON_SOURCE, VaultIndex, note_aliases
from generator.lint.lintstate import TABLES, file_set_key, load_state, save_update, write_state
from generator.lint.vaultindex import NOTE_SUFFIX, Packed, PackedLinks, VaultFiles

# More changed files than this and a full run (which parses in parallel) is no slower.
MAX_CHANGED = 200
# The only codes whose truth depends on another note's headings or block ids.
SUBPATH_CODES = frozenset({"missing-heading", "missing-block"})

# A Finding as a plain tuple (marshal stores builtins only); Finding(*plain) undoes it.
to_plain = attrgetter(*(f.name for f in fields(Finding)))
# (target note, position in the source's links) of a link with a #heading
# or #^block into a note.
SubpathLink = tuple[str, int]


def check_source(index: VaultIndex, source: str, facts: NoteFacts) -> tuple[list[Finding], set[str], list[SubpathLink]]:
    """One note's or canvas's findings, the files it links to (itself
    excluded) and its subpath links into notes."""
    findings: list[Finding] = []
    if facts.properties is not None or not facts.anchors_complete or facts.yaml_error or facts.encoding_error \
            or facts.canvas_error or facts.yaml_too_complex:  # only then has it findings of its own
        findings.extend(note_findings(source, facts))
    targets: set[str] = set()
    subpath_links: list[SubpathLink] = []
    # ~10^5 links per vault: local names here, objects only for findings.
    resolve, memo, all_notes = index.resolve, index.memo, index.notes
    has_heading_path, has_block = index.has_heading_path, index.has_block
    links = facts.links
    # Plain rows, indexed as Link's fields: a Link is built only for a finding.
    rows = links.rows() if isinstance(links, PackedLinks) else links
    for position, link in enumerate(rows):
        written, kind, heading, block = link[0], link[3], link[5], link[6]
        found = memo.get(written) if kind != "file" else index.resolve_exact(written)
        if found is None or found is DEPENDS_ON_SOURCE:
            found = resolve(written, source)
        target, candidates = found
        into_note = target is not None and target in all_notes
        if target is not None:
            if target != source:
                targets.add(target)
            if into_note and (heading or block):
                subpath_links.append((target, position))
        if (
            target is None
            or candidates
            or (heading and into_note and not has_heading_path(target, heading))
            or (block and into_note and not has_block(target, block))
        ):
            findings.extend(link_findings(index, source, Link._make(link), target, candidates))
    return findings, targets, subpath_links


def _packed(items: Sequence) -> bytes:
    return items.data if isinstance(items, Packed) else marshal.dumps(list(items))


Anchors = tuple[bytes, list[str], bytes, bool]


def _anchors(facts: NoteFacts) -> Anchors | None:
    """(headings, heading_keys, block_ids, read to the end), the lists packed as loaded;
    None if the note has neither and was read whole."""
    complete = facts.anchors_complete
    if not facts.heading_keys and not facts.block_ids and complete:
        return None
    return (_packed(facts.headings), list(facts.heading_keys), _packed(facts.block_ids), complete)


_NO_ANCHORS: Anchors = (marshal.dumps([]), [], marshal.dumps([]), True)
_NO_SUBPATHS: tuple[bytes, tuple, tuple] = (b"", (), ())


def _what_links_see(anchors: Anchors) -> tuple:
    """The part of a note's anchors that decides whether a subpath link into it holds."""
    headings, keys, block_ids, complete = anchors
    return ([heading[0] for heading in marshal.loads(headings)], list(keys),
            {block_id.lower() for block_id in marshal.loads(block_ids)}, complete)


def _alias_keys(facts: NoteFacts) -> list[str]:
    return sorted(name_key(alias) for alias in note_aliases(facts))


def _group(findings: list[Finding]) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for finding in findings:
        grouped[finding.path].append(to_plain(finding))
    return dict(grouped)


class StateBuilder:
    """Collects, source by source, what a full run leaves for ``update``,
    kept compact as it goes: a 50k-note vault has ~10^6 links."""

    def __init__(self) -> None:
        self.targets: dict[str, tuple[str, ...]] = {}
        self.subpaths: dict[str, tuple[bytes, tuple[str, ...], tuple[int, ...]]] = {}
        self.own: dict[str, list[tuple]] = {}

    def add(self, source: str, facts: NoteFacts, found: list[Finding], linked: set[str], subpath_links: list[SubpathLink]) -> None:
        """One source's facts and ``check_source`` answer."""
        # The paths are the index's own objects (checkpool sends numbers, not copies): kept as they are.
        if linked:
            self.targets[source] = tuple(linked)
        if subpath_links:
            self.subpaths[source] = _subpath_entry(facts.links, subpath_links)
        if found:
            self.own[source] = list(map(to_plain, found))

    def save(self, files: VaultFiles, index: VaultIndex, fixed: list[Finding], segments: dict[str, list[tuple]]) -> None:
        """Write the state, emptying the builder table by table as it goes.

        ``fixed``: the findings that depend on file names alone;
        ``segments``: every path's findings, sorted (plain tuples)."""
        index.forget_lookups()  # what resolving memoised: the state is made in its place
        aliases: dict[str, list[str]] = defaultdict(list)
        for key, owners in index.aliases.items():
            for owner in owners:
                aliases[owner].append(key)
        tables: dict[str, Callable[[], Iterable[tuple[str, Any]]]] = {  # entries made as the file is written
            "by_name": index.by_name.items, "by_path": index.by_path.items, "alias_owners": index.aliases.items,
            "aliases": lambda: ((path, sorted(keys)) for path, keys in aliases.items()),
            "inbound": lambda: Counter(chain.from_iterable(self.targets.values())).items(),
            "targets": lambda: _drained(self.targets),
            "dependents": lambda: _drained(self._dependents()),
            "subpaths": lambda: _drained(self.subpaths),
            "anchors": lambda: ((path, found) for path, facts in index.notes.items() if (found := _anchors(facts)) is not None),
            "own": lambda: _drained(self.own),
        }
        head = (file_set_key(files), files.parsed, _group(fixed), segments)
        write_state(files.root, head, (tables[name]() for name in TABLES))

    def _dependents(self) -> dict[str, list[str]]:
        """Note -> the sources with subpath links into it (made when it is written)."""
        dependents: dict[str, list[str]] = defaultdict(list)
        for source, (_, targets, _) in self.subpaths.items():
            for target in set(targets):
                dependents[target].append(source)
        return dependents


def _drained(table: dict) -> Iterator[tuple[str, Any]]:
    """``table``'s entries, then ``table`` emptied: the next table is made in its place."""
    yield from table.items()
    table.clear()


def _subpath_entry(links: Sequence[Link], subpath_links: list[SubpathLink]) -> tuple[bytes, tuple[str, ...], tuple[int, ...]]:
    """(the source's links as marshal bytes, target notes, positions): the
    bytes as loaded (shared, no copy) or encoded; read back only for the few
    sources an edit reaches.  Two flat tuples take ~16 bytes a link, a
    (target, position) tuple each ~80."""
    blob = links.data if isinstance(links, Packed) else marshal.dumps(list(map(tuple, links)))
    targets, positions = zip(*subpath_links)
    return blob, targets, positions


class _AnchorNotes(Mapping):
    """Every note's name, with facts decoded on demand: headings and block
    ids only for unchanged notes (all a link into them needs), in full for
    the changed ones."""

    def __init__(self, paths: AbstractSet[str], anchors: Mapping[str, tuple], fresh: dict[str, NoteFacts]):
        self._paths, self._anchors, self._facts = paths, anchors, dict(fresh)

    def __getitem__(self, path: str) -> NoteFacts:
        facts = self._facts.get(path)
        if facts is None:
            if path not in self._paths:
                raise KeyError(path)
            headings, keys, block_ids, complete = self._anchors.get(path, _NO_ANCHORS)
            # Only its anchors are needed here; read_to=1 stands for "not known to be read whole".
            facts = self._facts[path] = NoteFacts([], Packed(headings), Packed(block_ids), keys,
                                                  read_to=None if complete else 1)
        return facts

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def _index(files: VaultFiles, state: dict, fresh: dict[str, NoteFacts]) -> VaultIndex:
    # Canvases are also attachments, a short list; notes are the rest of the parsed files.
    canvases = {path: fresh.get(path) for path in files.attachments if path in files.parsed}
    notes = files.parsed.keys() - canvases.keys()
    index = VaultIndex(
        _AnchorNotes(notes, state["anchors"], {p: f for p, f in fresh.items() if p in notes}),  # type: ignore[arg-type]
        files.attachments, canvases,  # type: ignore[arg-type]
        state["by_name"], state["by_path"], state["alias_owners"],
    )
    index.add_skipped(path for path, _ in files.skipped)
    return index


def update(files: VaultFiles) -> list[tuple] | None:
    """The vault's findings (sorted plain tuples) from the saved state, and
    the state updated; None when a full run is needed instead."""
    # A state file of the right version but the wrong shape (damaged, or
    # written by a build with a bug) is no reason to fail the check.
    try:
        state = load_state(files)
        return None if state is None else _update(files, state)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, EOFError, StopIteration):
        return None


def _update(files: VaultFiles, state: dict) -> list[tuple] | None:
    stamps, old_aliases = state["stamps"], state["aliases"]
    inbound, targets, subpaths = state["inbound"], state["targets"], state["subpaths"]
    dependents, anchors, own, segments = state["dependents"], state["anchors"], state["own"], state["segments"]
    fixed, changed_segments = state["fixed"], state["changed"]
    if not isinstance(stamps, dict):
        return None
    changed = sorted(path for path, _ in files.parsed.items() - stamps.items())  # same paths: only stamps differ
    if len(changed) > MAX_CHANGED:
        return None
    fresh = {path: read_note(os.path.join(files.root, path), files.parsed[path][0]) for path in changed}
    notes_changed = [path for path in changed if path.endswith(NOTE_SUFFIX)]
    if any(_alias_keys(fresh[path]) != old_aliases.get(path, []) for path in notes_changed):
        return None  # an alias-link hint anywhere may change
    index = _index(files, state, fresh)
    touched: set[str] = set()  # files whose orphan status may have changed
    for source in changed:
        found, linked, subpath_links = check_source(index, source, fresh[source])
        old_linked = targets.get(source, [])
        for target in old_linked:
            inbound[target] -= 1
        for target in linked:
            inbound[target] = inbound.get(target, 0) + 1
        touched.update(old_linked, linked)
        old_into = set(subpaths.get(source, _NO_SUBPATHS)[1])
        new_into = {target for target, _ in subpath_links}
        for target in old_into - new_into:
            _put(dependents, target, [s for s in dependents[target] if s != source])
        for target in new_into - old_into:
            dependents[target] = [*dependents.get(target, []), source]
        _put(targets, source, list(linked))
        _put(subpaths, source, _subpath_entry(fresh[source].links, subpath_links) if subpath_links else None)
        _put(own, source, [to_plain(f) for f in found])
    rechecked: set[str] = set()  # unchanged notes linking into a note whose anchors changed
    for path in notes_changed:
        new = _anchors(fresh[path])
        if _what_links_see(anchors.get(path, _NO_ANCHORS)) != _what_links_see(new or _NO_ANCHORS):
            rechecked.update(dependents.get(path, ()))
        _put(anchors, path, new)
    rechecked.difference_update(changed)
    for source in rechecked:
        kept = [f for f in own.get(source, ()) if f[0] not in SUBPATH_CODES]
        _put(own, source, kept + _subpath_findings(index, source, _subpaths(subpaths, source)))
    for path in {*changed, *rechecked, *(p for p in touched if p in index.notes)}:
        segment = own.get(path, []) + fixed.get(path, [])
        if path in index.notes and not inbound.get(path):
            segment.extend(map(to_plain, orphan_findings([path], set())))
        segment.sort(key=lambda plain: sort_key(Finding(*plain)))
        _put(segments, path, segment)
        changed_segments[path] = segment
    state["stamps"] = files.parsed
    save_update(files, state)
    return [finding for path in sorted(segments) for finding in segments[path]]


def _put(table: dict, key: str, value: object) -> None:
    """Set ``table[key]``, or drop it when ``value`` is empty (as the full run leaves it)."""
    if value:
        table[key] = value
    else:
        table.pop(key, None)


def _subpaths(table: Mapping[str, tuple], source: str) -> list[tuple[str, tuple]]:
    """(target note, link as a plain tuple) of each subpath link of ``source``."""
    blob, targets, positions = table[source]
    links = marshal.loads(blob)
    return [(target, links[position]) for target, position in zip(targets, positions)]


def _subpath_findings(index: VaultIndex, source: str, links: list) -> list[tuple]:
    found: list[tuple] = []
    for target, plain in links:
        # With no candidates, link_findings yields only the subpath findings.
        found.extend(map(to_plain, link_findings(index, source, Link._make(plain), target, ())))
    return found

