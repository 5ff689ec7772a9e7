"""The fast path's block level: where code, comment and math blocks end,
whether a line ends a paragraph, and the whole-body scan of notes whose
lines need no block state (see quickscan)."""

from __future__ import annotations

import re

from generator.lint.links import Link
from generator.lint.scan_inline import LineOf, body_links

# Line starts that may open a quote, a reference definition, a setext
# underline or thematic break, or, inside a list item, a heading, quote, reference definition,
# nested list, code or comment block, or indented code.
_LINE_HAZARD = (
    r"(?:>|\t|\[[^\]\n]*\]:|(?:=+|-+)[ \t]*$|(?:\*[ \t]*){3,}$|(?:_[ \t]*){3,}$|(?:-[ \t]*){3,}$"
    r"|(?:[-*+]|\d{1,9}[.)])(?: {5}|[ \t]*\t"
    r"|[ \t]+(?:#|>|\[[^\]\n]*\]:|(?:[-*+]|\d{1,9}[.)])[ \t]|```|~~~|%%|\$\$|<)))"
)
LINE_HAZARD_RE = re.compile(r" {0,3}" + _LINE_HAZARD)
HEADING_RE = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")
_BLOCK_OPENERS = ("```", "~~~", "%%", "$$", "<!--")
_FENCE_OPEN_RE = re.compile(r"(`{3,}|~{3,})(.*)")
_FENCE_CLOSE_RE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*$")
# The same over a whole body behind a "\n" (see scan_plain): a literal first
# character lets the regex engine jump from line start to line start.
# The lookahead names every character the hazards start with: a line
# starting otherwise (most do) fails at one test instead of at each alternative.
_LINE_HAZARD_N = re.compile(r"\n {0,3}(?=[>\t\[=*_+0-9-])" + _LINE_HAZARD, re.MULTILINE)
_HEADING_N = re.compile("\n" + HEADING_RE.pattern, re.MULTILINE)
_BLOCK_ID_N = re.compile(r"\^([A-Za-z0-9-]+)[ \t]*$", re.MULTILINE)  # after whitespace, checked by hand
_BULLET_RE = re.compile(r" {0,3}[-*+][ \t]+\S")

# (links, headings as (level, text, line), block ids)
BodyFacts = tuple[list[Link], list[tuple[int, str, int]], list[str]]


def block_end(rows: list[str], index: int, open_paragraph: bool) -> int | None:
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


def heading_text(row: str, heading: re.Match) -> tuple[str, int]:
    """(text, where it starts in ``row``) of the ATX heading ``heading`` matched."""
    rest = row[heading.end() :]
    return rest.strip(), heading.end() + len(rest) - len(rest.lstrip())


# A footnote definition's label, "[^1]: ", up to where its text starts.
FOOTNOTE_LABEL_RE = re.compile(r"\[\^[^\]\s]+\]:[ ]?")


def one_line_footnote(rows: list[str], index: int, text_start: int) -> bool:
    """Whether the footnote definition at ``rows[index]`` is one the fast path
    takes: followed by a blank line or the end, its text starting with a
    letter or a wiki link, no block id (anything else, such as continuations,
    blocks inside or block ids, is markdown-it's: it moves footnotes to the end)."""
    if index + 1 < len(rows) and rows[index + 1].strip(" \t"):
        return False
    text = rows[index][text_start:]
    return (text[:1].isalpha() or text.startswith("[[")) and "^" not in text


def nested_hazard(row: str) -> bool:
    """Whether a line indented 4+ columns (or by a tab) in a list could open a block of a
    nested list item (heading, quote, rule, setext underline ...): the item's
    content starts further right than a top-level line's."""
    inner = row.lstrip(" \t")
    return HEADING_RE.match(inner) is not None or LINE_HAZARD_RE.match(inner) is not None


def ends_paragraph(row: str | None) -> bool | None:
    """Whether a paragraph line followed by ``row`` is the paragraph's last.

    None when only the full parser can tell (e.g. a thematic break).
    """
    if row is None or not row.strip(" \t"):
        return True
    if HEADING_RE.match(row) or _BULLET_RE.match(row):
        return True
    lead = row.lstrip(" ")[:1]
    if lead in ("*", "_", "-", "+", "`", "~", "$", "%", "<", "\t") or lead.isdigit():
        return None
    return False


def scan_plain(body: str, first_line: int) -> BodyFacts | None:
    """``scan`` for a body without code, math, comments, HTML, escapes or
    indented lines, where no line depends on its neighbours' block state:
    whole-body regexes instead of a Python loop over lines."""
    text = "\n" + body  # offsets below are one more than in body
    if _LINE_HAZARD_N.search(text):
        return None
    size = len(text)
    headings = []
    line_of = LineOf(text, first_line - 1)
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
            ends = ends_paragraph(None if match.end() >= size else text[start : size if end < 0 else end])
            if ends is None:
                return None
            if ends:
                block_ids.append(match.group(1))
    links = body_links(text, first_line - 1)
    if links is None:
        return None
    return links, headings, block_ids
