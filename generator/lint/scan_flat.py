"""The fast path's fastest shape: hide what hides links, then scan the body whole.

Most real notes hold a few things that hide links or change the block
structure: a code fence, a comment or math block, a callout, a footnote,
some lines with code spans, math or inline comments.  ``scan_flat`` turns
such a body into a *flat* one with the same rows, where none of them is
left, and hands that to ``scan_blocks.scan_plain``, whose whole-body regexes
cost a fraction of the line loop in ``quickscan``:

- a top-level fence, ``%%``, ``$$`` or ``<!--`` block becomes empty rows
  (a ``%%`` block's wiki links are collected first: they count);
- a blockquote or callout opened after a blank line and closed by one loses
  its ``>`` markers, replaced by spaces, so columns stay;
- a one-line footnote definition loses its ``[^1]:`` label, replaced by NULs;
- each line with code, math, a comment, HTML or an escape gets its links from
  ``scan_inline.inline_links``, exactly as the line loop would, and then its
  ``[`` become NULs so that the whole-body scan does not count them again.

Empty rows end a paragraph where a fence or block did, so block ids come out
the same.  Whatever the line loop would decide from a neighbour's block
state (a block after an open paragraph, indented or tabbed lines, a nested
quote, an indented fence) is not flattened: ``scan_flat`` returns None and
the line loop takes the note.  tests/test_links.py checks with hypothesis
that the fast path, this shape included, agrees with markdown-it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from generator.lint.links import Link, comment_links
from generator.lint.scan_blocks import FOOTNOTE_LABEL_RE, HEADING_RE, LINE_HAZARD_RE, BodyFacts, block_end, heading_text, nested_hazard, one_line_footnote, scan_plain
from generator.lint.scan_inline import has_inline_hazard, inline_links

# Rows (after a newline) that open something to flatten.
_OPENER_N = re.compile(r"\n(?:`{3}|~{3}|%%|\$\$|<!--|>|\[\^)")
# An opener flattening did not take because it is indented (see _needs_line_loop): searched
# after each newline (a literal first character lets the engine skip ahead), and matched on row 0.
_INDENTED = r" +(?:```|~~~|%%|\$\$|<!--)"
_INDENTED_OPENER_N = re.compile("\n" + _INDENTED)
_INDENTED_OPENER = re.compile(_INDENTED)


def scan_flat(body: str, first_line: int) -> BodyFacts | None:
    """(links, headings, block ids) of a note body, or None for the line loop."""
    rows = body.split("\n")
    # Per row changed by a quote or footnote: where its own text starts, which
    # is where the line loop would have read its inline text from.
    cuts: dict[int, int] = {}
    hidden: list[Link] = []  # links found here, not by the whole-body scan
    if not _flatten_blocks(body, rows, first_line, cuts, hidden):
        return None
    flat = "\n".join(rows)
    if _needs_line_loop(flat, rows):
        return None
    if "`" in flat or "$" in flat or "%" in flat or "\\" in flat or "<" in flat:
        taken = _take_inline_hazards(flat, rows, first_line, cuts, hidden)
        if taken is None:
            return None
        if taken:
            flat = _spliced(flat, taken)
    plain = scan_plain(flat, first_line)
    if plain is None:
        return None
    links, headings, block_ids = plain
    if hidden:
        links = sorted(links + hidden, key=_position)
    if "\0" in flat:  # a heading's "[" may have become NUL (badges never sit in headings)
        headings = [(level, text.replace("\0", "["), line) if "\0" in text else (level, text, line) for level, text, line in headings]
    return links, headings, block_ids


def _needs_line_loop(flat: str, rows: list[str]) -> bool:
    """Whether ``flat`` still holds what only the line loop can place: a tab,
    a tilde fence or an indented opener that flattening did not take, or an
    indented row that does not continue a paragraph.  Separate tests, not one
    regex: a pattern that may start with a tab cannot skip ahead to newlines."""
    if "\t" in flat or "~~~" in flat or _INDENTED_OPENER_N.search(flat):
        return True
    if flat.startswith(" ") and _INDENTED_OPENER.match(flat):
        return True  # a quote's first row, say: "> <!-- x -->[[A]]"
    return ("\n    " in flat or flat.startswith("    ")) and not _indented_rows_continue(flat, rows)


def at_line(line: int) -> Callable[[int], tuple[int, int]]:
    """Positions on one row: (line, 1-based column of an offset)."""
    return lambda offset: (line, offset + 1)


def _position(link: Link) -> tuple[int, int]:
    return link.line, link.column


def _flatten_blocks(body: str, rows: list[str], first_line: int, cuts: dict[int, int], hidden: list[Link]) -> bool:
    """Blank the blocks, quotes and footnotes of ``rows`` (the rows of
    ``body``) in place; False where only the line loop can tell."""
    text = "\n" + body
    # The row starting after offset ``counted`` of text (-1: none yet); rows before ``done`` are flattened.
    index, counted, done = -1, 0, 0
    for opener in _OPENER_N.finditer(text):
        index += text.count("\n", counted, opener.start() + 1)
        counted = opener.start() + 1
        if index < done:
            continue  # inside a block flattened already
        row = rows[index]
        first = row[0]
        # As after a blank line, no paragraph is open after a heading.
        after_blank = index == 0 or not rows[index - 1].strip(" \t") or HEADING_RE.match(rows[index - 1]) is not None
        if first == ">":
            end = _flatten_quote(rows, index, after_blank, cuts)
        elif first == "[":
            end = _flatten_footnote(rows, index, after_blank, cuts)
        else:
            if first == "$" and not after_blank:
                return False  # math cannot interrupt a paragraph: the line loop decides
            end = block_end(rows, index, not after_blank)
            if end is None:
                return False
            if end < 0:
                end = index + 1
            else:
                if first == "%":  # a comment block: its wiki links count
                    for inside in range(index, end):
                        if "[[" in rows[inside]:
                            hidden += comment_links(rows[inside], 0, len(rows[inside]), at_line(first_line + inside))
                rows[index:end] = [""] * (end - index)
        if end is None:
            return False
        done = end
    return True


def _flatten_quote(rows: list[str], index: int, after_blank: bool, cuts: dict[int, int]) -> int | None:
    """Index past a blockquote at ``rows[index]``, its markers now spaces; None
    unless a blank line (or the start) is before it and one (or the end) after."""
    if not after_blank:
        return None
    end = index
    while end < len(rows) and rows[end].startswith(">"):
        row = rows[end]
        cut = 2 if row.startswith("> ") else 1
        cuts[end] = cut
        rows[end] = " " * cut + row[cut:]
        end += 1
    if end < len(rows) and rows[end].strip(" \t"):
        return None  # a lazy continuation line: the quote's paragraph goes on
    return end


def _flatten_footnote(rows: list[str], index: int, after_blank: bool, cuts: dict[int, int]) -> int | None:
    """Index past a one-line footnote definition (see ``one_line_footnote``),
    its label now NULs; None for any other."""
    row = rows[index]
    label = FOOTNOTE_LABEL_RE.match(row)
    if label is None:
        return index + 1  # "[^x] text": a paragraph that starts with a reference
    if not after_blank or not one_line_footnote(rows, index, label.end()):
        return None
    cuts[index] = label.end()
    rows[index] = "\0" * label.end() + row[label.end() :]
    return index + 1


def _indented_rows_continue(flat: str, rows: list[str]) -> bool:
    """Whether every row of ``flat`` indented 4+ columns continues an open
    paragraph (a list item's text, or lazily a paragraph's) and opens no
    nested block; after a blank line or a heading it would be indented code
    or a list item's own block, which the line loop decides."""
    if flat.startswith("    "):
        return False
    index, start = 0, 0  # row index of offset ``start``
    at = flat.find("\n    ")
    while at >= 0:
        index += flat.count("\n", start, at + 1)
        start = at + 1
        before = rows[index - 1]
        if not before.strip(" ") or HEADING_RE.match(before) or nested_hazard(rows[index]):
            return False
        at = flat.find("\n    ", start)
    return True


def _hazard_rows(flat: str) -> list[int]:
    """Start offsets of the rows of ``flat`` that may hold an inline hazard,
    ascending.  One ``str.find`` per character kind: memchr is many times
    faster than a regex character class over a whole note."""
    starts = set()
    for char in _HAZARD_CHARS:
        at = flat.find(char)
        while at >= 0:
            if char == "`" or char == "$" or _hazard_at(flat, at, char):
                row = flat.rfind("\n", 0, at) + 1
                starts.add(row)
                end = flat.find("\n", at)
                if end < 0:
                    break
                at = flat.find(char, end)
            else:
                at = flat.find(char, at + 1)
    return sorted(starts)


_HAZARD_CHARS = ("`", "$", "%", "\\", "<")


def _hazard_at(flat: str, at: int, char: str) -> bool:
    """Whether the ``%``, backslash or ``<`` at ``at`` starts what
    has_inline_hazard reacts to (a comment, an escape other than ``\\|``, HTML)."""
    after = flat[at + 1 : at + 2]
    if char == "%":
        return after == "%"
    if char == "\\":
        return after != "|"
    return after != "" and after.isascii() and (after.isalpha() or after in "/!?") and not (at >= 2 and flat.startswith("](", at - 2))


def _take_inline_hazards(
    flat: str, rows: list[str], first_line: int, cuts: dict[int, int], hidden: list[Link],
) -> list[tuple[int, str]] | None:
    """Links of each row of ``flat`` that holds an inline hazard, into
    ``hidden``; the (offset, new text) of each such row holding a ``[``, its
    ``[`` turned to NUL; None where a row needs more than its own text."""
    taken: list[tuple[int, str]] = []
    index, counted = 0, 0  # row index of offset ``counted``
    for start in _hazard_rows(flat):
        index += flat.count("\n", counted, start)
        counted = start
        row = rows[index]
        if "[" in row and LINE_HAZARD_RE.match(row):
            return None  # "[r]: dest": its NULs would hide a reference definition from scan_plain
        cut = cuts.get(index, 0)
        content, base = row[cut:], cut
        heading = HEADING_RE.match(content)
        if heading:
            content, text_start = heading_text(content, heading)
            base += text_start
        if has_inline_hazard(content):
            found = inline_links(content, first_line + index, base)
            if found is None:
                return None
            hidden += found
            if "[" in row:
                taken.append((start, row.replace("[", "\0")))
    return taken


def _spliced(text: str, rows: list[tuple[int, str]]) -> str:
    """``text`` with each (offset, row) of ascending offsets written over the
    row there, of the same length: a few pieces where a join of every row
    would copy each of them again."""
    pieces: list[str] = []
    done = 0
    for start, row in rows:
        pieces += (text[done:start], row)
        done = start + len(row)
    pieces.append(text[done:])
    return "".join(pieces)
