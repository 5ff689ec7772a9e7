"""What one note says about itself: links, headings, block ids, properties.

These facts depend on the note's bytes alone, which is what makes them safe
to cache per note; everything that needs other notes (resolution, findings)
lives in ``resolve`` and ``check``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from generator.lint.frontmatter import front_matter as parse_front_matter
from generator.lint.frontmatter import property_links, template_lines

from generator.lint.links import Link, heading_key
from generator.lint.mdplugin import LINKS_ENV_KEY, NESTING_CUT_ENV_KEY, SOURCE_ENV_KEY, needs_full_parser, shared_parser
from generator.lint.quickscan import QuickFacts, scan
from generator.lint.timelimit import time_limit

# Notes above this size are listed but not parsed: a full parse of a 50 MiB
# note would take minutes and most of the memory budget.
MAX_NOTE_BYTES = 8 * 1024 * 1024
# markdown-it tries every "[" as a link label, which is quadratic in a run of
# brackets: 100,000 unmatched "[[" on one line take ~50 s.  A real 8 MiB note
# parses in about two seconds; past this budget the note is skipped, with a finding.
PARSE_SECONDS = 20.0
CANVAS_SUFFIX = ".canvas"

# Obsidian block ids close a paragraph or list item: "text ^id", or right
# after a link or embed ("![[chart.png]]^id", as Obsidian's own help vault writes).
_BLOCK_ID_RE = re.compile(r"(?:^|\s|(?<=\]\]))\^([A-Za-z0-9-]+)[ \t]*\Z")
_NEWLINES_RE = re.compile(r"\r\n?")


class NoteFacts(NamedTuple):
    """Parse results for one note; ``problem`` notes have partial facts.

    The parser makes lists; the facts a vault's check loads hold links,
    headings and block ids as ``vaultindex.Packed`` sequences (marshal
    bytes, rebuilt on each read), hence ``Sequence``.
    """

    links: Sequence[Link]
    headings: Sequence[tuple[int, str, int]]  # (level, text, line)
    block_ids: Sequence[str]
    # heading_key of each heading: computed once per note here (in parallel
    # and cached) rather than on every run for every link target.
    heading_keys: list[str]
    properties: Any = None  # parsed front matter (JSON-like), None if absent
    property_lines: dict[str, int] | None = None  # key -> line
    yaml_error: tuple[str, int] | None = None  # (message, line)
    encoding_error: tuple[str, int] | None = None  # (what is wrong, line)
    too_large: int | None = None  # size in bytes when skipped
    read_error: str | None = None
    canvas_error: tuple[str, int] | None = None  # (what is wrong, line) of a .canvas file
    yaml_too_complex: tuple[str, int] | None = None  # (what is wrong, line): alias bomb, deep nesting
    template_lines: list[int] | None = None  # lines with an unquoted {{…}} value
    too_complex: str | None = None  # why the Markdown was not parsed: nesting or time
    read_to: int | None = None  # the first line not read, where lists or quotes nest past the parser's limit

    @property
    def anchors_complete(self) -> bool:
        """Whether every heading and block id of the note is known: it was read to its end."""
        return self.read_to is None and not (self.too_large or self.read_error or self.too_complex)


def normalise_text(text: str) -> str:
    """What markdown-it's ``normalize`` does, so both parse paths see the same text."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = _NEWLINES_RE.sub("\n", text)
    return text.replace("\0", "\ufffd") if "\0" in text else text


def parse_note_text(text: str, *, quick: bool = True, encoding_error: tuple[str, int] | None = None) -> NoteFacts:
    """Extract links, headings, block ids and properties from note text.

    ``quick=False`` forces the markdown-it path (tests compare the two).
    """
    text = normalise_text(text)
    found = scan(text) if quick else None
    read_to = None  # the fast path hands any deep nesting to markdown-it, so only that can stop early
    if found is None:
        try:
            with time_limit(PARSE_SECONDS, _OverBudget):
                found, read_to = _parse_with_markdown_it(text)
        except _OverBudget:
            return _skipped(f"parsing it took over {PARSE_SECONDS:g} s (long runs of brackets are slow to read)", encoding_error)
        except RecursionError:
            return _skipped("its Markdown nests too deep to read", encoding_error)
    links, headings, block_ids, front_matter = found
    keys = [heading_key(text) for _, text, _ in headings]
    block_ids = with_heading_block_ids(block_ids, headings)
    if front_matter is None:
        return NoteFacts(links, headings, block_ids, keys, None, {}, None, encoding_error, read_to=read_to)
    content, first_line = front_matter
    properties, lines, yaml_error, too_complex = parse_front_matter(content, first_line)
    links = property_links(properties, lines, content, first_line) + links
    return NoteFacts(
        links, headings, block_ids, keys, properties, lines, yaml_error, encoding_error,
        yaml_too_complex=too_complex, template_lines=template_lines(content, first_line), read_to=read_to,
    )


def with_heading_block_ids(block_ids: list[str], headings: list[tuple[int, str, int]]) -> list[str]:
    """``block_ids`` and the ids closing headings: "# Title ^id" gives the heading
    a block id, which [[Note#^id]] reaches in Obsidian (see the README, "Heading
    subpaths").  Added after either parse path, so that both agree by construction."""
    heading_ids = [match.group(1) for _, text, _ in headings if "^" in text and (match := _BLOCK_ID_RE.search(text))]
    return [*block_ids, *heading_ids] if heading_ids else block_ids


def _skipped(why: str, encoding_error: tuple[str, int] | None) -> NoteFacts:
    return NoteFacts([], [], [], [], None, {}, None, encoding_error, too_complex=why)


class _OverBudget(Exception):
    """The parse of one note ran past PARSE_SECONDS."""


def _parse_with_markdown_it(text: str) -> tuple[QuickFacts, int | None]:
    """What ``quickscan.scan`` finds, and the first line markdown-it did not read (see mdplugin)."""
    env: dict = {SOURCE_ENV_KEY: text.split("\n")}
    tokens = shared_parser(lean=not needs_full_parser(text)).parse(text, env)
    # Comment blocks record their links while blocks are parsed, before the
    # inline text around them: sorting restores document order.
    links = sorted(env.get(LINKS_ENV_KEY, []), key=lambda link: (link.line, link.column))
    headings: list[tuple[int, str, int]] = []
    block_ids: list[str] = []
    front_matter = None
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            headings.append((int(token.tag[1:]), tokens[index + 1].content.strip(), token.map[0] + 1))
        elif token.type == "inline" and "^" in token.content and tokens[index - 1].type == "paragraph_open":
            block_id = _BLOCK_ID_RE.search(token.content)
            if block_id:
                block_ids.append(block_id.group(1))
        elif token.type == "front_matter":
            front_matter = (token.content, token.map[0] + 2)
    cut = env.get(NESTING_CUT_ENV_KEY)
    return (links, headings, block_ids, front_matter), None if cut is None else cut + 1


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _read_at_most(path: str, size: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of the file at ``path``, whose ``stat`` said ``size``.

    A read buffer is allocated at its full request: asking for ``size + 1``
    first (then small pieces until the end) costs a few microseconds where
    one request for ``limit`` bytes costs ~40 per note.  O_NONBLOCK: a file
    swapped for a FIFO since the listing must not block the open.
    """
    fd = os.open(path, os.O_RDONLY | _NONBLOCK)
    try:
        pieces, total, want = [], 0, min(size, limit - 1) + 1
        while total < limit:
            piece = os.read(fd, want)
            if not piece:
                break
            pieces.append(piece)
            total += len(piece)
            want = min(_READ_PIECE, limit - total)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)
    finally:
        os.close(fd)


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_READ_PIECE = 64 * 1024


def read_note(path: str, size: int) -> NoteFacts:
    """Facts for the note or canvas file at ``path``; problems become fields, not raises.

    The size limit counts the bytes read, not ``size``: a file whose ``stat``
    says 0 may still stream without end.
    """
    if size > MAX_NOTE_BYTES:
        return NoteFacts([], [], [], [], property_lines={}, too_large=size)
    try:
        data = _read_at_most(path, size, MAX_NOTE_BYTES + 1)
    except OSError as exc:
        return NoteFacts([], [], [], [], property_lines={}, read_error=exc.strerror or str(exc))
    if len(data) > MAX_NOTE_BYTES:
        return NoteFacts([], [], [], [], property_lines={}, too_large=len(data))
    problem = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(data, exc.start)
        problem = (f"byte 0x{data[exc.start]:02x} on line {line} is not UTF-8", line)
        text = data.decode("utf-8", errors="replace")
    if path.endswith(CANVAS_SUFFIX):
        from generator.lint.canvas import parse_canvas_text

        return parse_canvas_text(text, encoding_error=problem)
    return parse_note_text(text, encoding_error=problem)
