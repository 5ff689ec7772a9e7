"""Obsidian's link grammar: link and embed forms, names and heading keys.

This module knows what one link says: ``[[T]]``, ``[[T|text]]``,
``[[T#H1#H2]]``, ``[[#H]]``, ``[[T#^id]]``, ``[[folder/T]]``, ``[[T.md]]``,
``[[T\\|text]]`` as written in table cells, embeds (``![[T]]``,
``![[img.png|W]]``, ``![[img.png|WxH]]``) and Markdown links to vault files
(``[text](Some%20Note.md)``), and how Obsidian compares names and headings.
Where links are in a note is found by the markdown-it plugin
(``generator.lint.mdplugin``) or by the fast path that agrees with it
(``generator.lint.quickscan``).
"""

from __future__ import annotations

import builtins
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Literal, NamedTuple
from urllib.parse import unquote

_SIZE_RE = re.compile(r"\s*(\d+)(?:\s*x\s*(\d+))?\s*")
_EXTERNAL_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:|//)")

# ASCII punctuation Obsidian reads as a space when it matches a heading
# subpath ("-", "_" and "'" are kept).
_HEADING_NOISE = str.maketrans({c: " " for c in "!\"#$%&()*+,.:;<=>?@^`{|}~/[]\\"})


def name_key(text: str) -> str:
    """Obsidian compares names after Unicode NFC, ignoring case as JavaScript's
    ``toLowerCase`` does: ``str.lower``, not ``casefold`` ("Straße" stays "straße",
    so ``[[Strasse]]`` does not match it)."""
    if text.isascii():  # NFC leaves ASCII alone
        return text.lower()
    return unicodedata.normalize("NFC", text).lower()


@lru_cache(maxsize=65536)
def heading_key(text: str) -> str:
    """Obsidian matches a heading subpath with ASCII punctuation read as spaces,
    whitespace collapsed and case ignored: ``[[B#What is it]]`` finds ``## What is it?``."""
    return " ".join(name_key(text).translate(_HEADING_NOISE).split())


LinkKind = Literal["wiki", "markdown", "file"]


class Link(NamedTuple):
    """One link or embed found in a note, as written (not yet resolved).

    A named tuple: a vault holds ~10^5 links, which workers send back and the
    cache stores as plain tuples (``tuple(link)``; ``Link._make`` restores).
    """

    target: str  # link path without subpath; "" means the note itself
    line: int  # 1-based source line
    column: int = 1  # 1-based character column where the link starts
    kind: LinkKind = "wiki"  # "file": a canvas file node
    embed: bool = False
    heading: list[str] | None = None  # [H] or nested [H1, H2]
    block: str | None = None  # block id without the caret
    display: str | None = None  # alias text after "|" or Markdown link text
    width: int | None = None
    height: int | None = None
    property: str | None = None  # the front-matter key holding the link

    @builtins.property  # the field "property" shadows the builtin here
    def alias(self) -> str | None:
        """Obsidian calls the text after ``|`` the alias; same as ``display``."""
        return self.display

    @builtins.property
    def subpath(self) -> str:
        """``#H1#H2`` or ``#^id`` as written after the target ("" if none)."""
        return "".join(f"#{h}" for h in self.heading or []) + (f"#^{self.block}" if self.block else "")


# Link._make without its Python frame, for the ~10^5 links a run builds
# (fast path, cache reads): rows must have all of Link's fields.
new_link = partial(tuple.__new__, Link)


def split_subpath(subpath: str) -> tuple[list[str] | None, str | None]:
    """Split ``H1#H2`` / ``^id`` (the part after the first ``#``)."""
    if "#" not in subpath:  # one heading or block: most links
        part = subpath.strip()
        if part.startswith("^"):
            return None, part[1:] or None
        return ([part] if part else None), None
    parts = list(map(str.strip, subpath.split("#")))
    block = None
    if parts[-1].startswith("^"):
        block = parts.pop()[1:] or None
    headings = list(filter(None, parts))
    return (headings or None), block


def parse_wiki_inner(inner: str, *, embed: bool, line: int, column: int = 1) -> Link | None:
    """The link written between ``[[`` and ``]]``; None if not a link."""
    return wiki_link(inner, embed, line, column)


def wiki_link(inner: str, embed: bool, line: int, column: int) -> Link | None:
    """``parse_wiki_inner`` with positional arguments, for the fast path's
    inner loop (keyword calls cost more)."""
    bar = inner.find("|")
    display = None
    if bar >= 0:
        link_text, display = inner[:bar], inner[bar + 1 :]
        # In a table cell the pipe must be written "\|"; the backslash is
        # part of the escape, not of the target.
        if link_text.endswith("\\"):
            link_text = link_text[:-1]
    else:
        link_text = inner
    hash_ = link_text.find("#")
    if hash_ < 0:  # no subpath: most links
        target, headings, block = link_text.strip(), None, None
        if not target:
            return None
    else:
        target = link_text[:hash_].strip()
        headings, block = split_subpath(link_text[hash_ + 1 :])
        if not target and headings is None and block is None:
            return None
    if "[" in target or "]" in target:
        return None
    width = height = None
    if embed and display is not None:
        head, _, last = display.rpartition("|")
        size = _SIZE_RE.fullmatch(last)
        if size:
            width = int(size.group(1))
            height = int(size.group(2)) if size.group(2) else None
            display = head if head else None
    # tuple.__new__ skips the named tuple's Python-level __new__: a vault has
    # ~10^5 links and this is the fast path's most frequent call.
    return new_link((target, line, column, "wiki", embed, headings, block, display, width, height, None))


def parse_markdown_href(href: str, *, embed: bool, line: int, text: str | None, column: int = 1) -> Link | None:
    """Link for a Markdown ``[text](href)`` pointing into the vault, else None."""
    if not href or _EXTERNAL_RE.match(href):
        return None
    path, _, fragment = href.partition("#")
    headings, block = split_subpath(unquote(fragment)) if fragment else (None, None)
    target = (unquote(path) if "%" in path else path).strip()
    if not target and headings is None and block is None:
        return None
    return Link(target, line, column, "markdown", embed, headings, block, text or None)


def comment_links(text: str, start: int, end: int, position: Callable[[int], tuple[int, int]]) -> list[Link]:
    """Wiki links and embeds in ``text[start:end]``, inside a ``%%`` comment.

    Obsidian's metadata cache keeps links written in comments (they show in
    backlinks and the graph; "hidden links" rely on it), so they are links
    here too.  Inside a comment nothing else is parsed: a code span there
    does not hide a link.  ``position`` maps an offset of ``text`` to
    (line, column).
    """
    found = []
    pos = text.find("[[", start, end)
    while pos >= 0:
        close = text.find("]]", pos + 2, end)
        if close < 0:
            break
        inner = text[pos + 2 : close]
        if "\n" in inner or "[[" in inner:
            pos = text.find("[[", pos + 1, end)
            continue
        embed = pos > start and text[pos - 1] == "!"
        line, column = position(pos - embed)
        link = parse_wiki_inner(inner, embed=embed, line=line, column=column)
        if link is None:
            pos = text.find("[[", pos + 1, end)
            continue
        found.append(link)
        pos = text.find("[[", close + 2, end)
    return found
