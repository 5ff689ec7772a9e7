"""What ``vaultgen check`` reports: the finding codes, and the findings of
one link, one note and the vault's file names.

Messages follow Obsidian's own wording where Obsidian has some (its file
name rules, "unresolved" links).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from generator.lint.links import Link, name_key
from generator.lint.mdplugin import MAX_LIST_LEVELS, MAX_QUOTE_LEVELS
from generator.lint.notefacts import MAX_NOTE_BYTES, NoteFacts
from generator.lint.properties import property_problems
from generator.lint.resolve import VaultIndex

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"
NOTE_SUFFIX = ".md"

# Every code with its usual severity and what it means (the README lists them).
CODES: dict[str, tuple[Severity, str]] = {
    "broken-link": (ERROR, "a link (in the text, a property or a canvas) points to no file"),
    "broken-embed": (ERROR, "an embed ![[…]] points to no file"),
    "missing-heading": (ERROR, "the linked note has no such heading (or not under the parent heading given)"),
    "missing-block": (ERROR, "the linked note has no block with that ^id"),
    "alias-link": (ERROR, "[[X]] names an alias; Obsidian only resolves file names"),
    "ambiguous-link": (WARNING, "several files have the link's name; says which one Obsidian opens"),
    "orphan": (WARNING, "no note, property or canvas links to the note"),
    "case-collision": (WARNING, "two files in one folder differ only in case"),
    "bad-filename": (ERROR, "the file name holds \\ or :, which Obsidian refuses on every system"),
    "unportable-filename": (WARNING, "the file name holds * \" < > or ?, which Obsidian refuses on Windows and Android (a synced vault breaks there)"),
    "unlinkable-filename": (WARNING, "the file name holds # ^ [ ] | or %%, so links to it may not work"),
    "yaml-error": (ERROR, "the front matter is not YAML that Obsidian can read"),
    "yaml-too-complex": (ERROR, "the front matter nests too deep or expands too many aliases to be read"),
    "template-syntax": (WARNING, "an unquoted {{…}} template variable in the front matter"),
    "invalid-property": (ERROR, "a property Obsidian ignores or misreads (unquoted links, tags with a space or only digits); as a warning, one written as Obsidian no longer reads or writes it (singular keys, text where it writes a list)"),
    "not-utf8": (ERROR, "the note is not UTF-8 text"),
    "note-too-large": (WARNING, "the note is over the size limit and was not checked"),
    "note-too-complex": (WARNING, "the note nests too deep or took too long to parse, and was not checked, or checked only in part"),
    "unreadable-note": (ERROR, "the note cannot be read"),
    "invalid-canvas": (ERROR, "a .canvas file is not JSON Canvas"),
    "skipped-file": (WARNING, "a dangling or looping symlink, FIFO, socket or device file was not read"),
}

# Obsidian creates files within the running system's rules (kepano, obsidian-clipper#46): on
# Linux and macOS "File name cannot contain any of the following characters: \ / :", on Windows
# "* " \ / < > : | ?" too, and Android refuses as many.  "/" never reaches a name; "|" is
# both unportable and unlinkable: two warnings, since each reason alone is worth a rename.
FORBIDDEN_NAME_CHARS = frozenset("\\:")
UNPORTABLE_NAME_CHARS = frozenset('*"<>?|')
# Obsidian: links do not work with file names containing # ^ [ ] |
UNLINKABLE_NAME_CHARS = frozenset("#^[]|")
_ODD_NAME_RE = re.compile("[" + re.escape("".join(sorted(FORBIDDEN_NAME_CHARS | UNPORTABLE_NAME_CHARS | UNLINKABLE_NAME_CHARS))) + "]")


@dataclass(frozen=True)
class Finding:
    """One problem at ``path:line:column`` (``line`` None for whole-file problems)."""

    code: str  # a key of CODES
    severity: Severity
    path: str  # posix, relative to the vault root
    line: int | None
    message: str  # what is wrong and what to do
    column: int | None = None  # 1-based, in characters
    target: str | None = None  # the link target as written
    subpath: str | None = None  # "#Heading" or "#^block" as written
    property: str | None = None  # the front-matter key the problem is in
    suggestion: str | None = None  # a replacement text, when one is known

    @builtins.property  # the field "property" shadows the builtin here
    def location(self) -> str:
        if not self.line:
            return self.path
        return f"{self.path}:{self.line}:{self.column}" if self.column else f"{self.path}:{self.line}"


def sort_key(finding: Finding) -> tuple:
    return (finding.path, finding.line or 0, finding.column or 0, finding.code, finding.message)


def _shown(path: str) -> str:
    return path[: -len(NOTE_SUFFIX)] if path.endswith(NOTE_SUFFIX) else path


def _written(link: Link) -> str:
    """The link as the user would recognise it."""
    if link.kind == "markdown":
        return f"[…]({link.target}{link.subpath})"
    if link.kind == "file":
        return f"canvas card {link.target}{link.subpath}"
    return f"{'!' if link.embed else ''}[[{link.target}{link.subpath}]]"


def link_findings(index: VaultIndex, source: str, link: Link, target: str | None, candidates: tuple[str, ...]) -> Iterator[Finding]:
    """Findings of one link that resolves to ``target`` (None: nothing)."""
    where = f'property "{link.property}": ' if link.property else ""

    def finding(code: str, message: str, suggestion: str | None = None) -> Finding:
        return Finding(
            code, CODES[code][0], source, link.line, where + message, link.column,
            link.target, link.subpath or None, link.property, suggestion,
        )

    written = _written(link)
    if target is None:
        owners = index.aliases.get(name_key(link.target), []) if link.kind == "wiki" and not link.embed else []
        if owners:
            # The heading or block and the text shown stay as written: only the name changes.
            better = f"[[{_shown(owners[0]).rsplit('/', 1)[-1]}{link.subpath}|{link.display or link.target}]]"
            yield finding("alias-link", f"{written} names an alias, which Obsidian does not resolve in links; did you mean {better}?", better)
            return
        skipped = index.skipped_file(link.target)
        if skipped is not None:
            why, fix = f"{skipped} is there but was not read (see its skipped-file warning)", "make it a regular file or fix the link"
        elif link.embed and link.kind != "file":
            why, fix = f"no file {link.target!r} in the vault", "add it or fix the name (attachments need their extension)"
        else:
            why, fix = f"no file {link.target!r} in the vault", "create it or fix the link"
        if link.embed and link.kind != "file":
            yield finding("broken-embed", f"{written} embeds nothing: {why}; {fix}")
        else:
            yield finding("broken-link", f"{written} is unresolved: {why}; {fix}")
        return
    if candidates:
        choices = ", ".join(_shown(c) for c in candidates)
        shown = f"{_shown(target)}{link.subpath}" + (f"|{link.display}" if link.display and link.kind == "wiki" else "")
        better = f"{'!' if link.embed else ''}[[{shown}]]"
        yield finding("ambiguous-link", f"{written} matches {len(candidates)} files ({choices}) and Obsidian opens {target}; to be sure, write {better}", better)
    if not target.endswith(NOTE_SUFFIX) or target not in index.notes:
        return
    if link.heading and not index.has_heading_path(target, link.heading):
        wanted = " > ".join(link.heading)
        yield finding("missing-heading", f"{written}: {target} has no heading {wanted!r}; fix the link or add the heading")
    if link.block and not index.has_block(target, link.block):
        yield finding("missing-block", f"{written}: {target} has no block ^{link.block}; end the paragraph with ' ^{link.block}' or fix the link")


def note_findings(path: str, facts: NoteFacts) -> Iterator[Finding]:
    """Problems of one note or canvas that need no other file."""
    if facts.read_error:
        yield Finding("unreadable-note", ERROR, path, None, f"cannot read the file ({facts.read_error}); check its permissions")
    if facts.too_complex:
        yield Finding("note-too-complex", WARNING, path, None, f"not checked: {facts.too_complex}; simplify the note to have its links checked")
    if facts.read_to is not None:
        yield Finding("note-too-complex", WARNING, path, facts.read_to,
                      f"checked only up to here: lists or quotes nest deeper than the {MAX_LIST_LEVELS} list or "
                      f"{MAX_QUOTE_LEVELS} quote levels the linter reads, so links from here to the end of that list or "
                      "quote are not checked; nest less deeply to have them checked")
    if facts.too_large:
        yield Finding("note-too-large", WARNING, path, None, f"not checked: larger than the {MAX_NOTE_BYTES // 1_048_576} MiB limit; split the note")
    if facts.encoding_error:
        message, line = facts.encoding_error
        yield Finding("not-utf8", ERROR, path, line, f"{message}; re-save the file as UTF-8")
    if facts.canvas_error:
        message, line = facts.canvas_error
        yield Finding("invalid-canvas", ERROR, path, line, f"not a JSON Canvas file ({message}); Obsidian cannot open it")
    for code, severity, line, message, key, suggestion in property_problems(facts):
        yield Finding(code, severity, path, line, message, property=key, suggestion=suggestion)


def file_findings(index: VaultIndex) -> Iterator[Finding]:
    """File names Obsidian refuses or cannot link to, and case collisions."""
    files = sorted(index.notes) + sorted(index.attachments)
    for path in files:
        name = path.rsplit("/", 1)[-1]
        if _ODD_NAME_RE.search(name) is None and "%%" not in name:  # nearly every name: no set arithmetic
            continue
        bad = sorted(set(name) & FORBIDDEN_NAME_CHARS)
        if bad:
            yield Finding("bad-filename", ERROR, path, None, f"file name cannot contain {' '.join(bad)} (Obsidian refuses it); rename the file")
        unportable = sorted(set(name) & UNPORTABLE_NAME_CHARS)
        if unportable:
            yield Finding("unportable-filename", WARNING, path, None, f"Obsidian on Windows and Android refuses {' '.join(unportable)} in file names, so this file cannot sync there; rename it if the vault is shared")
        # Obsidian's help ("Internal links"): # | ^ : %% [[ ]] may not work in a link (":" is refused above).
        unlinkable = sorted(set(name) & UNLINKABLE_NAME_CHARS) + (["%%"] if "%%" in name else [])
        if unlinkable:
            yield Finding("unlinkable-filename", WARNING, path, None, f"a file name containing {' '.join(unlinkable)} may not work as a link; rename the file to link to it")
    # Only one folder's files can clash on a case-insensitive disk.  A list
    # only for names that clash: a vault has ~10^5 files, and few clashes.
    first: dict[str, str] = {}
    clashes: dict[str, list[str]] = {}
    for path in files:
        cut = path.rfind("/") + 1
        key = path[:cut] + name_key(path[cut:])  # exact folder, name as Obsidian compares it
        seen = first.setdefault(key, path)
        if seen is not path:
            clashes.setdefault(key, [seen]).append(path)
    for group in clashes.values():
        if len({p.rsplit("/", 1)[-1] for p in group}) > 1:
            for path in group:
                others = ", ".join(p for p in group if p != path)
                yield Finding("case-collision", WARNING, path, None, f"the name differs only in case from {others}; rename one (links and case-insensitive disks cannot tell them apart)")


def orphan_findings(notes: list[str], linked: set[str]) -> Iterator[Finding]:
    for path in notes:
        if path not in linked:
            yield Finding("orphan", WARNING, path, None, "no other note, property or canvas links here; link it from a related note or an index")


def skipped_findings(skipped: list[tuple[str, str]]) -> Iterator[Finding]:
    for path, why in skipped:
        yield Finding("skipped-file", WARNING, path, None, f"not read: {why}; Obsidian cannot open it either")
