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

from collections.abc import Callable
import re

from generator.lint.links import Link, comment_links, parse_markdown_href, parse_wiki_inner

# Line starts that may open a quote, a reference definition, a setext
# underline or thematic break, or, inside a list item, a heading, quote, nested list, code or
# comment block, or indented code.
_LINE_HAZARD_RE = re.compile(
    r" {0,3}(?:>|\t|\[[^\]\n]*\]:|(?:=+|-+)[ \t]*$|(?:\*[ \t]*){3,}$|(?:_[ \t]*){3,}$"
    r"|(?:[-*+]|\d{1,9}[.)])(?: {5}|[ \t]*\t"
    r"|[ \t]+(?:#|>|(?:[-*+]|\d{1,9}[.)])[ \t]|```|~~~|%%|\$\$|<)))"
)
_LINE_HAZARD_FIRST = frozenset(" \t>[=-*+0123456789")
_LIST_FIRST = frozenset(" -*+0123456789")
_LIST_ITEM_RE = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
# Where a list item's inline text starts ("$" there reads a quirky neighbour).
_CONTENT_START_RE = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?")
# Escapes other than the table pipe "\|", and HTML other than a "](<x>" destination.
_ESCAPE_RE = re.compile(r"\\(?!\|)")
_HTML_RE = re.compile(r"<(?<!\]\(<)[A-Za-z/!?]")
_INLINE_START_RE = re.compile(r"\[\[|[`$<\\]|%%")
_BACKTICKS_RE = re.compile(r"`+")
_FOOTNOTE_RE = re.compile(r"\[\^[^\]\s]+\]:[ ]?(.*)$")
_BLOCK_FIRST = frozenset(" \t`~%<$")
_BLOCK_OPENERS = ("```", "~~~", "%%", "$$", "<!--")
_FENCE_OPEN_RE = re.compile(r"(`{3,}|~{3,})(.*)")
_FENCE_CLOSE_RE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*$")

# The only Markdown link shapes handled here: no title, no nested brackets,
# no escapes or entities in the destination (markdown-it would decode them).
# A leading "[" lets the regex engine skip ahead; "!" is looked at by hand.
_MARKDOWN_LINK_RE = re.compile(r"\[([^\[\]\n]*)\]\((?:<([^<>\n\\]*)>|([^\x00-\x20()<>\\]*))\)")
_EXTERNAL_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:|//)")
# A badge: an image link inside a link, both to URLs (no vault link either
# way).  Blanked before scanning; the nested brackets would be a hazard.
_BADGE_RE = re.compile(
    r"\[!\[[^\[\]\n`]*\]\((?:[A-Za-z][A-Za-z0-9+.\-]*:)?//[^\s()<>`\\]*\)\]\((?:[A-Za-z][A-Za-z0-9+.\-]*:)?//[^\s()<>`\\]*\)"
)
_HEADING_RE = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")
_BLOCK_ID_RE = re.compile(r"(?:^|\s|(?<=\]\]))\^([A-Za-z0-9-]+)[ \t]*$")
# The same over a whole body behind a "\n" (see _scan_plain): a literal first
# character lets the regex engine jump from line start to line start.
_LINE_HAZARD_N = re.compile("\n" + _LINE_HAZARD_RE.pattern, re.MULTILINE)
_HEADING_N = re.compile("\n" + _HEADING_RE.pattern, re.MULTILINE)
_BLOCK_ID_N = re.compile(r"\^([A-Za-z0-9-]+)[ \t]*$", re.MULTILINE)  # after whitespace, checked by hand
_BULLET_RE = re.compile(r" {0,3}[-*+][ \t]+\S")
# markdown-it's isWhiteSpace: Unicode Zs plus \t\n\v\f\r.
_MD_SPACES = frozenset("\t\n\x0b\x0c\r \xa0\u1680\u202f\u205f\u3000") | frozenset(map(chr, range(0x2000, 0x200B)))

# (links, headings as (level, text, line), block ids, (front matter, first line) or None)
BodyFacts = tuple[list[Link], list[tuple[int, str, int]], list[str]]
QuickFacts = tuple[list[Link], list[tuple[int, str, int]], list[str], "tuple[str, int] | None"]


def _split_front_matter(text: str) -> tuple[tuple[str, int] | None, int, int] | None:
    """(front matter, body offset, body first line), or None for a hazard."""
    if not text.startswith("---"):
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


def _links(text: str, line_before: int) -> list[Link] | None:
    """Wiki and Markdown links in text without code, math or comments, in
    order; None if markdown-it might disagree.  ``text`` is "\n" and then
    lines from ``line_before + 1`` on: the "\n" gives a link at a line start
    a neighbour to test for "!".
    """
    size = len(text)
    found: list[tuple[int, int, Link]] = []
    line_of = _LineOf(text, line_before)
    pos = text.find("[[")
    while pos >= 0:
        end = text.find("\n", pos)
        end = size if end < 0 else end
        close = text.find("]]", pos + 2, end)
        if close < 0:
            pos = text.find("[[", end)
            continue
        inner = text[pos + 2 : close]
        embed = text[pos - 1] == "!"
        start = pos - embed
        link = None if "[[" in inner else parse_wiki_inner(inner, embed=embed, line=line_of(pos), column=start - text.rfind("\n", 0, start))
        if link is None:
            pos = text.find("[[", pos + 1)
        else:
            found.append((pos - embed, close + 2, link))
            pos = text.find("[[", close + 2)
    if "](" in text:
        wiki_links = found[:]
        markdown_links = 0
        line_of = _LineOf(text, line_before)
        for match in _MARKDOWN_LINK_RE.finditer(text):
            markdown_links += 1
            start, end = match.span()
            embed = text[start - 1] == "!"
            start -= embed
            if any(s < end and start < e for s, e, _ in wiki_links):
                return None
            label, angled, plain = match.groups()
            href = angled if angled is not None else plain
            if "&" in href and not _EXTERNAL_RE.match(href):
                return None  # markdown-it would decode an entity in a vault path
            if label.startswith("^"):
                return None  # a footnote reference
            column = start - text.rfind("\n", 0, start)
            link = parse_markdown_href(href, embed=embed, line=line_of(start), text=label, column=column)
            if link is not None:
                found.append((start, end, link))
        if markdown_links != text.count("]("):
            return None
        found.sort(key=lambda item: item[0])
    return [link for _, _, link in found]


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


def _inline_links(src: str, line: int, base: int) -> list[Link] | None:
    """Links of one line holding code spans, math or comments, in order.

    Scans left to right as markdown-it's inline rules do: whichever of a
    wiki link, code span, math or comment starts first takes its text.
    None for anything not closed on this line, HTML, escapes and Markdown
    links (whose labels may hold code).  ``base`` is where ``src`` starts
    in its source line.
    """
    if "](" in src:
        return None
    found: list[Link] = []
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
                link = parse_wiki_inner(src[start + 2 : close], embed=embed, line=line, column=base + start + 1 - embed)
                if link is not None:
                    found.append(link)
                    pos = close + 2
        elif char == "`":
            pos = _BACKTICKS_RE.match(src, start).end()
            length = pos - start
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
                return None  # an unclosed comment runs on in the paragraph
            found.extend(comment_links(src, start + 2, close, lambda offset: (line, base + offset + 1)))
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


class _LineOf:
    """Line number of ascending offsets into a body, counting newlines once."""

    __slots__ = ("body", "offset", "line")

    def __init__(self, body: str, first_line: int) -> None:
        self.body, self.offset, self.line = body, 0, first_line

    def __call__(self, offset: int) -> int:
        self.line += self.body.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _has_inline_hazard(text: str) -> bool:
    """Whether ``text`` holds code, math, a comment, HTML or an escape."""
    return (
        "`" in text or "$" in text or "%%" in text
        or ("\\" in text and _ESCAPE_RE.search(text) is not None)
        or ("<" in text and _HTML_RE.search(text) is not None)
    )


def _scan_plain(body: str, first_line: int) -> BodyFacts | None:
    """``scan`` for a body without code, math, comments, HTML, escapes or
    indented lines, where no line depends on its neighbours' block state:
    whole-body regexes instead of a Python loop over lines (most notes)."""
    text = "\n" + body  # offsets below are one more than in body
    if _LINE_HAZARD_N.search(text):
        return None
    size = len(text)
    headings = []
    line_of = _LineOf(text, first_line - 1)
    for match in _HEADING_N.finditer(text):
        end = text.find("\n", match.end())
        content = text[match.end() : size if end < 0 else end].strip()
        if content.endswith("#"):
            return None  # closing hash sequence rules: leave to markdown-it
        headings.append((len(match.group(1)), content, line_of(match.start() + 1)))
    block_ids = []
    if "^" in body:
        for match in _BLOCK_ID_N.finditer(text):
            after_link = text.startswith("]]", match.start() - 2)
            if not (text[match.start() - 1].isspace() or after_link) or _HEADING_N.match(text, text.rfind("\n", 0, match.start())):
                continue
            start = match.end() + 1
            end = text.find("\n", start)
            ends = _ends_paragraph(None if match.end() >= size else text[start : size if end < 0 else end])
            if ends is None:
                return None
            if ends:
                block_ids.append(match.group(1))
    links = _links(text, first_line - 1)
    if links is None:
        return None
    return links, headings, block_ids


def _blank_badges(body: str) -> str | None:
    """``body`` with badges turned to NUL runs (offsets kept; no space that
    could make a line indented code, no letter that could extend a block id;
    markdown-it has turned real NULs into U+FFFD); None if a badge sits inside
    an open ``[``, where it would stop an outer link, or in a heading's text."""
    def blank(match: re.Match) -> str:
        return "\0" * (match.end() - match.start())

    for match in _BADGE_RE.finditer(body):
        start = body.rfind("\n", 0, match.start()) + 1
        before = body[start : match.start()]
        if before.count("[") != before.count("]") or before.lstrip(" ").startswith("#"):
            return None
    return _BADGE_RE.sub(blank, body)


def scan(text: str) -> QuickFacts | None:
    """Facts of a normalised note text, or None when markdown-it must decide."""
    split = _split_front_matter(text)
    if split is None:
        return None
    front_matter, body_offset, first_line = split
    body = text[body_offset:]
    if "[![" in body:
        body = _blank_badges(body)
        if body is None:
            return None
    facts = _scan_body(body, first_line)
    return None if facts is None else (*facts, front_matter)


def _blockquote(rows: list[str], index: int, first_line: int) -> tuple[int, BodyFacts] | None:
    """(end, facts) of a blockquote (a callout too) opening at ``rows[index]``
    after a blank line; None unless every line starts with ">" and a blank
    line or the end follows (no lazy continuation)."""
    end = index
    while end < len(rows) and rows[end].startswith(">"):
        end += 1
    if end < len(rows) and rows[end].strip(" \t"):
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


def _footnote(rows: list[str], index: int, first_line: int, inline_hazards: bool) -> list[Link] | None:
    """Links of a one-line footnote definition ``[^1]: text`` followed by a
    blank line or the end; None for anything else (continuations, blocks
    inside, block ids: markdown-it moves footnotes to the end)."""
    row = rows[index]
    match = _FOOTNOTE_RE.match(row)
    if match is None or (index + 1 < len(rows) and rows[index + 1].strip(" \t")):
        return None
    content, line = match.group(1), first_line + index
    if not (content[:1].isalpha() or content.startswith("[[")) or "^" in content:
        return None
    if inline_hazards and _has_inline_hazard(content):
        return _inline_links(content, line, match.start(1))
    return _links("\n" + row, line - 1) if "[" in content else []


def _scan_body(body: str, first_line: int) -> BodyFacts | None:
    """(links, headings, block ids) of a note body starting at ``first_line``."""
    if "[[[" in body or "]]]" in body or "][" in body:
        return None
    inline_hazards = _has_inline_hazard(body)
    if not inline_hazards and "~~~" not in body and "    " not in body:
        plain = _scan_plain(body, first_line)
        if plain is not None or (">" not in body and "[^" not in body):
            return plain
    links: list[Link] = []
    headings: list[tuple[int, str, int]] = []
    block_ids: list[str] = []
    rows = body.split("\n")
    count, resume = len(rows), 0
    # Whether the previous line leaves a paragraph open (lazy continuation
    # applies) and whether a list may still be open (its items own indented lines).
    open_paragraph = in_list = False
    for index, row in enumerate(rows):
        if index < resume:
            continue  # inside a hidden block
        first = row[:1]
        if first in (" ", "\t", "") and not row.strip(" \t"):
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
            if first == " " and row.startswith("    ") and not open_paragraph:
                if in_list:
                    return None  # a list item's own content, or code inside it
                continue  # indented code
            end = _block_end(rows, index, open_paragraph)
            if end is None:
                return None
            if end >= 0:
                if first == "%":  # a comment block: its wiki links count
                    for hidden in range(index, end):
                        if "[[" in rows[hidden]:
                            links.extend(comment_links(rows[hidden], 0, len(rows[hidden]), _at_line(first_line + hidden)))
                resume, open_paragraph, in_list = end, False, False
                continue
        if first in _LINE_HAZARD_FIRST and _LINE_HAZARD_RE.match(row):
            return None
        line = first_line + index
        heading = _HEADING_RE.match(row) if first in ("#", " ") else None
        if first in _LIST_FIRST and _LIST_ITEM_RE.match(row):
            in_list = True
        elif first not in (" ", "\t") and (heading or not open_paragraph):
            in_list = False
        content, base = row, 0
        if heading:
            rest = row[heading.end() :]
            content = rest.strip()
            base = heading.end() + len(rest) - len(rest.lstrip())
            if content.endswith("#"):
                return None  # closing hash sequence rules: leave to markdown-it
            headings.append((len(heading.group(1)), content, line))
            open_paragraph = False
        else:
            open_paragraph = True
            if "^" in row:
                block_id = _BLOCK_ID_RE.search(row)
                if block_id:
                    ends = _ends_paragraph(rows[index + 1] if index + 1 < count else None)
                    if ends is None:
                        return None
                    if ends:
                        block_ids.append(block_id.group(1))
        if inline_hazards and _has_inline_hazard(content):
            found = _inline_links(content, line, base)
        elif "[" in row:
            found = _links("\n" + row, line - 1)
        else:
            continue
        if found is None:
            return None
        links.extend(found)
    return links, headings, block_ids


def _at_line(line: int) -> Callable[[int], tuple[int, int]]:
    """Positions on one row: (line, 1-based column of an offset)."""
    return lambda offset: (line, offset + 1)
