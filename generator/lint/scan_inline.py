"""The fast path's inline level: links in the text of one line or of a
hazard-free body, skipping code spans, math and comments as markdown-it's
inline rules do; None wherever only markdown-it can tell (see quickscan).
"""

from __future__ import annotations

import re
from bisect import insort
from operator import itemgetter

from generator.lint.links import Link, comment_links, new_link, parse_markdown_href, wiki_link

# Where a list item's inline text starts ("$" there reads a quirky neighbour).
_CONTENT_START_RE = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?")
# Escapes other than the table pipe "\|", and HTML other than a "](<x>" destination.
_ESCAPE_RE = re.compile(r"\\(?!\|)")
_HTML_RE = re.compile(r"<(?<!\]\(<)[A-Za-z/!?]")
_INLINE_START_RE = re.compile(r"\[\[|[`$<\\]|%%")
_BACKTICKS_RE = re.compile(r"`+")
_WIKI_RE = re.compile(r"\[\[([^\[\]\n]*)\]\]")
_OPEN_RE = re.compile(r"\[\[")  # findall counts faster than str.count's two-character search

# The only Markdown link shapes handled here: no title, no nested brackets,
# no escapes or entities in the destination (markdown-it would decode them).
# A leading "[" lets the regex engine skip ahead; "!" is looked at by hand.
_MARKDOWN_LINK_RE = re.compile(r"\[([^\[\]\n]*)\]\((?:<([^<>\n\\]*)>|([^\x00-\x20()<>\\]*))\)")
_EXTERNAL_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:|//)")
# markdown-it's isWhiteSpace: Unicode Zs plus \t\n\v\f\r.
_MD_SPACES = frozenset("\t\n\x0b\x0c\r \xa0\u1680\u202f\u205f\u3000") | frozenset(map(chr, range(0x2000, 0x200B)))


class LineOf:
    """Line number of ascending offsets into a body, counting newlines once."""

    __slots__ = ("body", "offset", "line")

    def __init__(self, body: str, first_line: int) -> None:
        self.body, self.offset, self.line = body, 0, first_line

    def __call__(self, offset: int) -> int:
        self.line += self.body.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def has_inline_hazard(text: str) -> bool:
    """Whether ``text`` holds code, math, a comment, HTML or an escape."""
    return (
        "`" in text or "$" in text or "%%" in text
        or ("\\" in text and _ESCAPE_RE.search(text) is not None)
        or ("<" in text and _HTML_RE.search(text) is not None)
    )


def row_links(row: str, line: int) -> list[Link] | None:
    """``body_links`` of one line: the same answers without the line
    bookkeeping, for the lines the line loop hands over one by one."""
    if "(" in row and "](" in row:
        return body_links("\n" + row, line - 1)
    found: list[Link] = []
    pos = row.find("[[")
    while pos >= 0:
        close = row.find("]]", pos + 2)
        if close < 0:
            break
        inner = row[pos + 2 : close]
        embed = pos > 0 and row[pos - 1] == "!"
        link = None if "[[" in inner else wiki_link(inner, embed, line, pos + 1 - embed)
        if link is None:
            pos = row.find("[[", pos + 1)
        else:
            found.append(link)
            pos = row.find("[[", close + 2)
    return found


def body_links(text: str, line_before: int) -> list[Link] | None:
    """Wiki and Markdown links in text without code, math or comments, in
    order; None if markdown-it might disagree.  ``text`` is "\n" and then
    lines from ``line_before + 1`` on.
    """
    found = _bracket_free_wiki_links(text, line_before)
    bracket_free = found is not None
    if found is None:
        found = _wiki_links(text, line_before)
    if "(" not in text or "](" not in text:  # "(" is one memchr
        return [link for _, _, link in found]
    return _with_markdown_links(text, line_before, found, bracket_free)


def _bracket_free_wiki_links(text: str, line_before: int) -> list[tuple[int, int, Link]] | None:
    """``_wiki_links`` when every ``[[`` of ``text`` opens a link without
    brackets inside (nearly all do: then one regex finds them all), else None."""
    matches = list(_WIKI_RE.finditer(text))
    if len(matches) != len(_OPEN_RE.findall(text)):
        return None
    found = []
    line, counted = line_before, 0  # the line of offset ``counted``
    for match in matches:
        start = match.start()
        embed = text[start - 1] == "!"
        start -= embed
        line += text.count("\n", counted, start)
        counted = start
        inner = match.group(1)
        column = start - text.rfind("\n", 0, start)
        if "|" in inner or "#" in inner:
            link = wiki_link(inner, embed, line, column)
            if link is None:
                continue
        else:  # wiki_link's answer for a bare target, without the call
            target = inner.strip()
            if not target:
                continue
            link = new_link((target, line, column, "wiki", embed, None, None, None, None, None, None))
        found.append((start, match.end(), link))
    return found


def _wiki_links(text: str, line_before: int) -> list[tuple[int, int, Link]]:
    """(start, end, link) of each wiki link of ``text`` (see ``body_links``)."""
    size = len(text)
    found: list[tuple[int, int, Link]] = []
    line, counted = line_before, 0  # the line of offset ``counted``
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
        if "[[" in inner:
            link = None
        else:
            line += text.count("\n", counted, pos)
            counted = pos
            link = wiki_link(inner, embed, line, start - text.rfind("\n", 0, start))
        if link is None:
            pos = text.find("[[", pos + 1)
        else:
            found.append((start, close + 2, link))
            pos = text.find("[[", close + 2)
    return found


def _with_markdown_links(text: str, line_before: int, wiki: list[tuple[int, int, Link]], bracket_free: bool) -> list[Link] | None:
    """The wiki links ``wiki`` ((start, end, link) in ``text``) and the
    Markdown links of ``text`` (see ``body_links``), in order; None if
    markdown-it might disagree.  ``bracket_free``: no wiki link holds a
    bracket, so a Markdown link can overlap one only by holding it."""
    found = wiki[:]
    line_of = LineOf(text, line_before)
    # Each "](" must close the label of a link that opens at the last "["
    # before it (labels hold no brackets), or markdown-it might read it
    # otherwise; one match per "](" costs less than a regex over the note.
    at = text.find("](")
    while at >= 0:
        start = text.rfind("[", 0, at)
        match = _MARKDOWN_LINK_RE.match(text, start) if start >= 0 else None
        if match is None or match.end() <= at:
            return None  # this "](" closes no link's label
        at = text.find("](", match.end())
        label, angled, plain = match.groups()
        href = angled if angled is not None else plain
        if label.startswith("^"):
            return None  # a footnote reference
        start, end = match.span()
        embed = text[start - 1] == "!"
        start -= embed
        if bracket_free:
            if "[[" in href:
                return None
        elif any(s < end and start < e for s, e, _ in wiki):
            return None
        if not href or _EXTERNAL_RE.match(href):
            continue  # no vault file
        if "&" in href:
            return None  # markdown-it would decode an entity in a vault path
        column = start - text.rfind("\n", 0, start)
        link = parse_markdown_href(href, embed=embed, line=line_of(start), text=label, column=column)
        if link is not None:
            insort(found, (start, end, link), key=_first)  # few: cheaper than sorting them all
    return [link for _, _, link in found]


_first = itemgetter(0)


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


def inline_links(src: str, line: int, base: int) -> list[Link] | None:
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
                link = wiki_link(src[start + 2 : close], embed, line, base + start + 1 - embed)
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
