"""Fast path for most notes: the facts markdown-it would give, without it.

Most notes are prose, ATX headings, lists, tables and links, with now and
then a code fence, a math block, a comment, a callout or an inline code span.
For those a line scanner finds exactly the links, headings and block ids
that the markdown-it parser of ``generator.lint.mdplugin`` finds, several times
faster: top-level fences, ``%%`` and ``<!--`` blocks, ``$$`` blocks and
indented code are skipped whole, and code spans, ``$math$``, ``%% %%`` and
``<!-- -->`` closed on their own line are skipped inside a line
(``scan_inline``).  Anything else that could change the block structure or
hide a link (HTML, escapes, setext headings, reference links, a span that
may close on a later line, ...) is a *hazard*: ``scan`` returns None and the
caller parses the note with markdown-it.  tests/test_links.py checks with
hypothesis that both paths agree whenever the fast path answers.

Most lines are prose: the line loop spends a few set and substring tests on
them and calls out only for lines that hold a link, a block id or a hazard.
"""

from __future__ import annotations

import re

from generator.lint.links import Link, comment_links
from generator.lint.scan_flat import at_line, scan_flat
from generator.lint.scan_blocks import (
    FOOTNOTE_LABEL_RE, HEADING_RE, LINE_HAZARD_RE, BodyFacts, block_end, ends_paragraph, heading_text, nested_hazard,
    one_line_footnote, scan_plain,
)
from generator.lint.scan_inline import body_links, has_inline_hazard, inline_links, row_links

_LINE_HAZARD_FIRST = frozenset(" \t>[=-*_+0123456789")
_LIST_FIRST = frozenset(" -*+0123456789")
_LIST_ITEM_RE = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_BLOCK_FIRST = frozenset(" \t`~%<$")
# Line starts the line loop looks at closely; a line starting otherwise is
# paragraph text (or a lazy continuation).
_SPECIAL_FIRST = _LINE_HAZARD_FIRST | _LIST_FIRST | _BLOCK_FIRST | {"#"}
# A badge: an image link inside a link, both to URLs (no vault link either
# way).  Blanked before scanning; the nested brackets would be a hazard.
_BADGE_RE = re.compile(
    r"\[!\[[^\[\]\n`]*\]\((?:[A-Za-z][A-Za-z0-9+.\-]*:)?//[^\s()<>`\\]*\)\]\((?:[A-Za-z][A-Za-z0-9+.\-]*:)?//[^\s()<>`\\]*\)"
)
_BLOCK_ID_RE = re.compile(r"(?:^|\s|(?<=\]\]))\^([A-Za-z0-9-]+)[ \t]*$")
# Quotes nested deeper than this, and indentation this wide (lists nest by
# indentation), go to markdown-it: the line loop recurses once per quote
# level, and markdown-it's nesting limit (mdplugin.MAX_NESTING) must decide
# where links stop being kept, on both paths alike.
_MAX_QUOTE_DEPTH = 32
_DEEP_INDENT = " " * 256
# The row that closes front matter as mdit-py-plugins' front_matter reads it
# (3+ dashes after at most 3 spaces, then only spaces or tabs), or YAML's
# "..." closer at column 0 (group 1 unset).
_FRONT_MATTER_END_N = re.compile(r"\n(?:( {0,3}-{3,}[ \t]*)|\.\.\.[ \t]*)(?=\n|\Z)")

# (links, headings as (level, text, line), block ids, (front matter, first line) or None)
QuickFacts = tuple[list[Link], list[tuple[int, str, int]], list[str], "tuple[str, int] | None"]


def _split_front_matter(text: str) -> tuple[tuple[str, int] | None, int, int] | None:
    """(front matter, body offset, body first line), or None for a hazard."""
    if not text.startswith("---"):
        return None, 0, 1
    if not text.startswith("---\n"):
        return None
    end = _FRONT_MATTER_END_N.search(text, 3)
    if end is None or end.group(1) is None:
        return None  # unclosed (markdown-it reads plain text), or YAML's "..." closer: rare
    offset = end.start() + 1  # where the closing row starts
    line = 2 + text.count("\n", 4, offset)
    return (text[4 : offset - 1] if offset > 4 else "", 2), end.end() + 1, line + 1


def scan(text: str) -> QuickFacts | None:
    """Facts of a normalised note text, or None when markdown-it must decide."""
    split = _split_front_matter(text)
    if split is None:
        return None
    front_matter, body_offset, first_line = split
    body = text[body_offset:]
    if _DEEP_INDENT in body:
        return None
    if "!" in body:  # one memchr; a multi-character search costs a pass
        body = _blank_badges(body)
        if body is None:
            return None
    facts = _scan_body(body, first_line)
    return None if facts is None else (*facts, front_matter)


def _blank_badges(body: str) -> str | None:
    """``body`` with badges turned to NUL runs (offsets kept; no space that
    could make a line indented code, no letter that could extend a block id;
    markdown-it has turned real NULs into U+FFFD); None if a badge sits inside
    an open ``[``, where it would stop an outer link, or in a heading's text."""
    pieces: list[str] = []
    done = 0
    for match in _BADGE_RE.finditer(body):
        start = body.rfind("\n", 0, match.start()) + 1
        before = body[start : match.start()]
        # "#" before it on its line: maybe a heading, in a quote or list item too ("> # [![b](…)](…)").
        if before.count("[") != before.count("]") or "#" in before:
            return None
        pieces += (body[done : match.start()], "\0" * (match.end() - match.start()))
        done = match.end()
    if not pieces:
        return body
    pieces.append(body[done:])
    return "".join(pieces)


def _blockquote(rows: list[str], index: int, first_line: int) -> tuple[int, BodyFacts] | None:
    """(end, facts) of a blockquote (a callout too) opening at ``rows[index]``
    after a blank line; None unless every line starts with ">" and a blank
    line or the end follows (no lazy continuation)."""
    end = index
    while end < len(rows) and rows[end].startswith(">"):
        end += 1
    if end < len(rows) and rows[end].strip(" \t"):
        return None
    if any(_quote_depth(row) > _MAX_QUOTE_DEPTH for row in rows[index:end]):
        return None
    cuts = [2 if row.startswith("> ") else 1 for row in rows[index:end]]
    content = [row[cut:] for row, cut in zip(rows[index:end], cuts)]
    if any("\t" in row for row in content):
        return None
    inner = _scan_body("\n".join(content), first_line + index)
    if inner is None:
        return None
    links, headings, block_ids = inner
    top = first_line + index
    return end, ([link._replace(column=link.column + cuts[link.line - top]) for link in links], headings, block_ids)


def _quote_depth(row: str) -> int:
    """How many quote markers open ``row`` ("> > >x" is 3)."""
    return row[: len(row) - len(row.lstrip("> "))].count(">")


def _footnote(rows: list[str], index: int, first_line: int, inline_hazards: bool) -> list[Link] | None:
    """Links of a one-line footnote definition ``[^1]: text`` (see
    ``one_line_footnote``); None for any other."""
    row = rows[index]
    label = FOOTNOTE_LABEL_RE.match(row)
    if label is None or not one_line_footnote(rows, index, label.end()):
        return None
    content, line = row[label.end() :], first_line + index
    if inline_hazards and has_inline_hazard(content):
        return inline_links(content, line, label.end())
    return row_links(row, line) if "[" in content else []


def _scan_body(body: str, first_line: int) -> BodyFacts | None:
    """(links, headings, block ids) of a note body starting at ``first_line``."""
    if "[[[" in body or "]]]" in body or "][" in body:
        return None
    inline_hazards = has_inline_hazard(body)
    if not inline_hazards and "~~~" not in body and "    " not in body:
        plain = scan_plain(body, first_line)
        if plain is not None or (">" not in body and "[^" not in body and "\t" not in body):
            return plain
    flat = scan_flat(body, first_line)
    if flat is not None:
        return flat
    links: list[Link] = []
    headings: list[tuple[int, str, int]] = []
    block_ids: list[str] = []
    rows = body.split("\n")
    count, resume = len(rows), 0
    # Whether the previous line leaves a paragraph open (lazy continuation
    # applies) and whether a list may still be open (its items own indented lines).
    open_paragraph = in_list = False
    # Lines that are empty or paragraph text change only the two flags and
    # are handed over a run at a time; the loop visits the other lines.
    visit = [index for index, row in enumerate(rows) if row and row[0] in _SPECIAL_FIRST]
    visit.append(count)
    done = 0  # rows before this one are handled
    for index in visit:
        if index < resume:
            continue  # inside a hidden block
        start = max(done, resume)
        if start + 1 == index and not rows[start]:
            open_paragraph = False  # one empty line, often between headings
        elif start < index:
            flags = _text_rows(rows, start, index, first_line, (open_paragraph, in_list), inline_hazards, links, block_ids)
            if flags is None:
                return None
            open_paragraph, in_list = flags
        if index == count:
            break
        done = index + 1
        row = rows[index]
        first = row[0]
        if first in (" ", "\t") and not row.strip(" \t"):
            open_paragraph = False
            continue
        if first == ">" and not open_paragraph:
            quote = _blockquote(rows, index, first_line)
            if quote is None:
                return None
            resume, (found, found_headings, found_blocks) = quote
            links.extend(found)
            headings.extend(found_headings)
            block_ids.extend(found_blocks)
            open_paragraph = in_list = False
            continue
        if first == "[" and row.startswith("[^") and not open_paragraph:
            footnote = _footnote(rows, index, first_line, inline_hazards)
            if footnote is None:
                return None
            links.extend(footnote)
            # Indented lines after it, even after blank lines, continue the
            # footnote, as they would a list item: in_list makes them hazards.
            open_paragraph, in_list = False, True
            continue
        if first in _BLOCK_FIRST:
            if first == "\t" or row.startswith("    "):
                if not open_paragraph:
                    if in_list:
                        return None  # a list item's own content, or code inside it
                    continue  # indented code
                if in_list and nested_hazard(row):
                    return None  # a heading, quote, rule ... inside a list item
                if first == "\t" and "[" in row:
                    return None  # markdown-it keeps part of a tab as spaces: its columns differ
            end = block_end(rows, index, open_paragraph)
            if end is None:
                return None
            if end >= 0:
                if first == "%":  # a comment block: its wiki links count
                    for hidden in range(index, end):
                        if "[[" in rows[hidden]:
                            links.extend(comment_links(rows[hidden], 0, len(rows[hidden]), at_line(first_line + hidden)))
                resume, open_paragraph, in_list = end, False, False
                continue
        if first in _LINE_HAZARD_FIRST and first != "\t" and LINE_HAZARD_RE.match(row):
            return None
        line = first_line + index
        heading = HEADING_RE.match(row) if first in ("#", " ") else None
        if first in _LIST_FIRST and _LIST_ITEM_RE.match(row):
            in_list = True
        elif first not in (" ", "\t") and (heading or not open_paragraph):
            in_list = False
        content, base = row, 0
        if heading:
            content, base = heading_text(row, heading)
            if content.endswith("#"):
                return None  # closing hash sequence rules: leave to markdown-it
            headings.append((len(heading.group(1)), content, line))
            open_paragraph = False
        else:
            open_paragraph = True
            if "^" in row and not _block_id(rows, index, block_ids):
                return None
        if inline_hazards and _may_hide(content) and has_inline_hazard(content):
            found = inline_links(content, line, base)
        elif "[" in row:
            found = row_links(row, line)
        else:
            continue
        if found is None:
            return None
        links.extend(found)
    return links, headings, block_ids


def _text_rows(
    rows: list[str], start: int, end: int, first_line: int, flags: tuple[bool, bool],
    inline_hazards: bool, links: list[Link], block_ids: list[str],
) -> tuple[bool, bool] | None:
    """Links and block ids of ``rows[start:end]``, each empty or paragraph
    text (no special first character), into ``links`` and ``block_ids``;
    the (open paragraph, in list) flags after them, or None for a hazard."""
    run = "\n".join(rows[start:end])
    if "^" in run:
        for index in range(start, end):
            if "^" in rows[index] and not _block_id(rows, index, block_ids):
                return None
    if inline_hazards and _may_hide(run):
        for index in range(start, end):
            row = rows[index]
            if _may_hide(row) and has_inline_hazard(row):
                found = inline_links(row, first_line + index, 0)
            elif "[" in row:
                found = row_links(row, first_line + index)
            else:
                continue
            if found is None:
                return None
            links += found
    elif "[" in run:
        found = body_links("\n" + run, first_line + start - 1)
        if found is None:
            return None
        links += found
    # An empty row closes the paragraph; a text row after one (or first,
    # after no open paragraph) starts a new one, which ends any list.
    open_paragraph, in_list = flags
    segment = rows[start:end]
    if "" not in segment:
        return True, in_list and open_paragraph
    blank = segment.index("")
    if (blank and not open_paragraph) or any(segment[blank + 1 :]):
        in_list = False
    return bool(segment[-1]), in_list


def _block_id(rows: list[str], index: int, block_ids: list[str]) -> bool:
    """Add the block id closing paragraph line ``rows[index]``, if any, to
    ``block_ids``; False if only markdown-it can tell whether it closes it."""
    block_id = _BLOCK_ID_RE.search(rows[index])
    if block_id:
        ends = ends_paragraph(rows[index + 1] if index + 1 < len(rows) else None)
        if ends is None:
            return False
        if ends:
            block_ids.append(block_id.group(1))
    return True


def _may_hide(row: str) -> bool:
    """The cheap half of ``has_inline_hazard``: a character that may start one."""
    return "`" in row or "$" in row or "%" in row or "\\" in row or "<" in row
