"""Fast path for most notes: the facts markdown-it would give, without it.

Most notes are prose, ATX headings, lists, tables and links, with now and
then a code fence, a math block, a comment or an inline code span.  For
those a line scanner finds exactly the links, headings and block ids that
the markdown-it parser of ``generator.links`` finds, several times faster:
top-level fences, ``%%`` and ``<!--`` blocks, ``$$`` blocks and indented
code are skipped whole, and code spans, ``$math$``, ``%% %%`` and
``<!-- -->`` closed on their own line are skipped inside a line.  Anything
else that could change the block structure or hide a link (quotes, HTML,
escapes, setext headings, reference links, a span that may close on a later
line, ...) is a *hazard*: ``scan`` returns None and the caller parses the
note with markdown-it.  tests/test_links.py checks with hypothesis that both
paths agree whenever the fast path answers.
"""

from __future__ import annotations

import re

from generator.links import LinkTuple, parse_markdown_href, parse_wiki_inner

# Line starts that may open a quote, a reference definition, a setext
# underline, or, inside a list item, a heading, quote, nested list, code or
# comment block, or indented code.
_LINE_HAZARD_RE = re.compile(
    r" {0,3}(?:>|\t|\[[^\]\n]*\]:|(?:=+|-+)[ \t]*$"
    r"|(?:[-*+]|\d{1,9}[.)])(?: {5}|[ \t]*\t"
    r"|[ \t]+(?:#|>|(?:[-*+]|\d{1,9}[.)])[ \t]|```|~~~|%%|\$\$|<)))"
)
_LINE_HAZARD_FIRST = frozenset(" \t>[=-*+0123456789")
_LIST_ITEM_RE = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
# Where a list item's inline text starts ("$" there reads a quirky neighbour).
_CONTENT_START_RE = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?")
# Anything in a line that the per-line link finder below cannot judge.
_INLINE_HAZARD_RE = re.compile(r"[`$]|%%|\\(?!\|)|(?<!\]\()<[A-Za-z/!?]")
_INLINE_START_RE = re.compile(r"\[\[|[`$<\\]|%%")
_BACKTICKS_RE = re.compile(r"`+")
_BLOCK_OPENERS = ("```", "~~~", "%%", "$$", "<!--")
_FENCE_OPEN_RE = re.compile(r"(`{3,}|~{3,})(.*)")
_FENCE_CLOSE_RE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*$")

# The only Markdown link shapes handled here: no title, no nested brackets,
# no escapes or entities in the destination (markdown-it would decode them).
_MARKDOWN_LINK_RE = re.compile(
    r"(!?)\[([^\[\]\n]*)\]\((?:<([^<>\n\\&]*)>|([^\x00-\x20()<>&\\]*))\)"
)
_HEADING_RE = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")
_BLOCK_ID_RE = re.compile(r"(?:^|\s)\^([A-Za-z0-9-]+)[ \t]*$")
_BULLET_RE = re.compile(r" {0,3}[-*+][ \t]+\S")
# markdown-it's isWhiteSpace: Unicode Zs plus \t\n\v\f\r.
_MD_SPACES = frozenset("\t\n\x0b\x0c\r \xa0\u1680\u202f\u205f\u3000") | frozenset(map(chr, range(0x2000, 0x200B)))

# (links, headings as (level, text, line), block ids, (front matter, first line) or None)
QuickFacts = tuple[list[LinkTuple], list[tuple[int, str, int]], list[str], "tuple[str, int] | None"]


def _split_front_matter(text: str) -> tuple[tuple[str, int] | None, int, int] | None:
    """(front matter, body offset, body first line), or None for a hazard."""
    if not text.startswith("-"):
        return None, 0, 1
    if not text.startswith("---\n"):
        return None
    offset, line = 4, 2
    while offset < len(text):
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end
        row = text[offset:end]
        if row.startswith("...") and not row[3:].strip(" \t"):
            return None  # YAML's "..." closer: rare, leave it to markdown-it
        stripped = row.lstrip(" ")
        if len(row) - len(stripped) < 4 and stripped.startswith("---") and not stripped.strip("-").strip(" \t"):
            return (text[4:offset - 1] if offset > 4 else "", 2), end + 1, line + 1
        offset, line = end + 1, line + 1
    return None  # unclosed: markdown-it treats it as plain text


def _line_links(row: str, line: int) -> list[LinkTuple] | None:
    """Links on a line without code, math or comments; None if markdown-it might disagree."""
    found: list[tuple[int, LinkTuple]] = []
    spans: list[tuple[int, int]] = []
    pos = row.find("[[")
    while pos >= 0:
        close = row.find("]]", pos + 2)
        if close < 0:
            break
        inner = row[pos + 2 : close]
        embed = pos > 0 and row[pos - 1] == "!"
        link = None if "[[" in inner else parse_wiki_inner(inner, embed=embed, line=line)
        if link is None:
            pos = row.find("[[", pos + 1)
            continue
        start = pos - 1 if embed else pos
        found.append((start, link))
        spans.append((start, close + 2))
        pos = row.find("[[", close + 2)
    markdown_links = 0
    for match in _MARKDOWN_LINK_RE.finditer(row):
        markdown_links += 1
        start, end = match.span()
        if any(s < end and start < e for s, e in spans):
            return None
        bang, text, angled, plain = match.groups()
        href = angled if angled is not None else plain
        link = parse_markdown_href(href, embed=bool(bang), line=line, text=text)
        if link is not None:
            found.append((start, link))
    if markdown_links != row.count("]("):
        return None
    if len(found) > 1:
        found.sort(key=lambda item: item[0])
    return [link for _, link in found]


def _escaped(src: str, pos: int) -> bool | None:
    """dollarmath's is_escaped; None when the backslashes reach the line start."""
    back = pos - 1
    while back >= 0 and src[back] == "\\":
        back -= 1
    if back < 0 and pos > 0:
        return None  # markdown-it would read the paragraph's last character here
    return (pos - 1 - back) % 2 == 1


def _math_end(src: str, start: int, lead: int) -> int | None:
    """Where scanning goes on after a ``$`` at ``start``, as dollarmath decides
    with allow_space/allow_digits off and double_inline on; None if unknowable
    from this line alone."""
    size = len(src)
    if start + 1 >= size or src[start + 1] in _MD_SPACES:
        return start + 1
    if start <= lead:
        return None  # dollarmath reads src[-1], the paragraph's last character
    if src[start - 1].isdigit():
        return start + 1
    double = src[start + 1] == "$"
    search = start + 2 if double else start + 1
    while True:
        end = src.find("$", search)
        if end < 0:
            return None  # it may close on a later line of the paragraph
        escaped = _escaped(src, end)
        if escaped is None:
            return None
        if escaped:
            search = end + 1
            continue
        if double:
            if end + 1 >= size:
                return None
            if src[end + 1] != "$":
                search = end + 1
                continue
            end += 1
        break
    if src[end - 1] in _MD_SPACES or (end + 1 < size and src[end + 1].isdigit()):
        return start + 1
    if not (src[start + 2 : end - 1] if double else src[start + 1 : end]):
        return start + 1
    return end + 1


def _inline_links(src: str, line: int) -> list[LinkTuple] | None:
    """Links of one line holding code spans, math or comments, in order.

    Scans left to right as markdown-it's inline rules do: whichever of a
    wiki link, code span, math or comment starts first takes its text.
    None for anything not closed on this line, HTML, escapes and Markdown
    links (whose labels may hold code).
    """
    if "](" in src:
        return None
    found: list[LinkTuple] = []
    size, pos = len(src), 0
    lead = _CONTENT_START_RE.match(src).end()
    while True:
        match = _INLINE_START_RE.search(src, pos)
        if match is None:
            return found
        start = match.start()
        char = src[start]
        if char == "[":
            pos = start + 1
            close = src.find("]]", start + 2)
            if close >= 0 and "[[" not in src[start + 2 : close]:
                embed = start > 0 and src[start - 1] == "!"
                link = parse_wiki_inner(src[start + 2 : close], embed=embed, line=line)
                if link is not None:
                    found.append(link)
                    pos = close + 2
        elif char == "`":
            length = match.end() - start
            pos = match.end()
            while True:
                run = _BACKTICKS_RE.search(src, pos)
                if run is None:
                    return None  # may close on a later line of the paragraph
                pos = run.end()
                if pos - run.start() == length:
                    break
        elif char == "$":
            pos = _math_end(src, start, lead)
            if pos is None:
                return None
        elif char == "%":
            close = src.find("%%", start + 2)
            if close < 0:
                return None  # an unclosed comment hides the rest of the paragraph
            pos = close + 2
        elif char == "<":
            if src.startswith("<!--", start):
                close = src.find("-->", start + 4)
                inner = src[start + 4 : close]
                # Dash-free content keeps markdown-it's comment regex simple.
                if close < 0 or "-" in inner or inner.startswith(">"):
                    return None
                pos = close + 3
            elif start + 1 < size and (src[start + 1] in "!?/" or (src[start + 1].isascii() and src[start + 1].isalpha())):
                return None
            else:
                pos = start + 1
        elif src.startswith("\\|", start):  # the table pipe escape
            pos = start + 2
        else:
            return None


def _block_end(rows: list[str], index: int, open_paragraph: bool) -> int | None:
    """Index just past a fence, comment or math block opening at ``rows[index]``;
    -1 if none opens there; None if only markdown-it can tell."""
    row = rows[index]
    first = row[:1]
    if first in ("`", "~"):
        fence = _FENCE_OPEN_RE.match(row)
        if fence is None:
            return -1
        marker, info = fence.groups()
        if first == "`" and "`" in info:
            return None
        for end in range(index + 1, len(rows)):
            close = _FENCE_CLOSE_RE.match(rows[end])
            if close and close.group(1)[0] == first and len(close.group(1)) >= len(marker):
                return end + 1
        return len(rows)  # unclosed: runs to the end of the note
    if first == "%" and row.startswith("%%"):
        if row.find("%%", 2) >= 0:
            return -1  # closed on its line: an inline comment in a paragraph
        return next((end + 1 for end in range(index + 1, len(rows)) if "%%" in rows[end]), len(rows))
    if first == "<" and row.startswith("<!--"):
        if "-->" in row:
            return index + 1
        return next((end + 1 for end in range(index + 1, len(rows)) if "-->" in rows[end]), len(rows))
    if first == "$" and row.startswith("$$"):
        if open_paragraph:
            return None  # a math block cannot interrupt a paragraph: inline math
        stripped = row.strip()
        if len(stripped) > 3:
            if stripped.endswith("$$"):
                return index + 1
            if "$$" in row[2:]:
                return None
        return next((end + 1 for end in range(index + 1, len(rows)) if rows[end].strip().endswith("$$")), None)
    if first in (" ", "\t") and row.lstrip(" \t").startswith(_BLOCK_OPENERS):
        return None
    return -1


def _ends_paragraph(row: str | None) -> bool | None:
    """Whether a paragraph line followed by ``row`` is the paragraph's last.

    None when only the full parser can tell (e.g. a thematic break).
    """
    if row is None or not row.strip(" \t"):
        return True
    if _HEADING_RE.match(row) or _BULLET_RE.match(row):
        return True
    lead = row.lstrip(" ")[:1]
    if lead in ("*", "_", "-", "+", "`", "~", "$", "%", "<") or lead.isdigit():
        return None
    return False


def scan(text: str) -> QuickFacts | None:
    """Facts of a normalised note text, or None when markdown-it must decide."""
    split = _split_front_matter(text)
    if split is None:
        return None
    front_matter, body_offset, first_line = split
    body = text[body_offset:]
    if "[[[" in body or "]]]" in body or "][" in body:
        return None
    inline_hazards = any(char in body for char in "`$%\\<")
    may_hide = inline_hazards or "~~~" in body or "    " in body
    links: list[LinkTuple] = []
    headings: list[tuple[int, str, int]] = []
    block_ids: list[str] = []
    rows = body.split("\n")
    count, index = len(rows), 0
    # Whether the previous line leaves a paragraph open (lazy continuation
    # applies) and whether a list may still be open (its items own indented lines).
    open_paragraph = in_list = False
    while index < count:
        row = rows[index]
        line = first_line + index
        index += 1
        if not row.strip(" \t"):
            open_paragraph = False
            continue
        if may_hide:
            if row.startswith("    ") and not open_paragraph and not in_list:
                continue  # indented code
            end = _block_end(rows, index - 1, open_paragraph)
            if end is None:
                return None
            if end >= 0:
                index, open_paragraph, in_list = end, False, False
                continue
        if row[:1] in _LINE_HAZARD_FIRST and _LINE_HAZARD_RE.match(row):
            return None
        heading = _HEADING_RE.match(row)
        if _LIST_ITEM_RE.match(row):
            in_list = True
        elif row[0] not in (" ", "\t") and (heading or not open_paragraph):
            in_list = False
        content = row
        if heading:
            content = row[heading.end() :].strip()
            if content.endswith("#"):
                return None  # closing hash sequence rules: leave to markdown-it
            headings.append((len(heading.group(1)), content, line))
            open_paragraph = False
        else:
            open_paragraph = True
            if "^" in row:
                block_id = _BLOCK_ID_RE.search(row)
                if block_id:
                    ends = _ends_paragraph(rows[index] if index < count else None)
                    if ends is None:
                        return None
                    if ends:
                        block_ids.append(block_id.group(1))
        if inline_hazards and _INLINE_HAZARD_RE.search(content):
            found = _inline_links(content, line)
        elif "[" in row:
            found = _line_links(row, line)
        else:
            continue
        if found is None:
            return None
        links.extend(found)
    return links, headings, block_ids, front_matter
