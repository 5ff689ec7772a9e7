"""Put a page together: the note's HTML, its embeds filled in, URLs made relative.

Every note is rendered once (``RenderedNote``); an embed of a whole note or
of a top-level section is a slice of that HTML, so a page costs no second
parse of the notes it embeds.  Only block embeds and sections under nested
headings render their lines again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from generator.export.linking import (
    EMBED_MARK,
    NOTE_SUFFIX,
    ROOT_MARK,
    NoteEmbed,
    PageContext,
    SiteMap,
    heading_index,
    page_path,
    root_prefix,
    url,
)
from generator.export.sanitize import sanitize

_EMBED_RE = re.compile(EMBED_MARK.format(r"(\d+)"))
_SECTION_RE = re.compile("\x00section:(\\d+):(\\d)\x00")
_ALONE_RE = re.compile("<p>(" + EMBED_MARK.format(r"\d+") + ")</p>")
_ID_RE = re.compile(r' id="[^"]*"')


@dataclass(frozen=True)
class RenderedNote:
    """A note's HTML before it is placed on a page (URLs start with ROOT_MARK)."""

    note: str
    properties: str
    body: str
    embeds: tuple[NoteEmbed, ...]
    tags: tuple[str, ...]
    words: str  # the search index's text
    broken: int


def _section(body: str, number: int) -> str | None:
    """The HTML from heading ``number`` to the next heading of its level or above."""
    start = body.find(f"\x00section:{number}:")
    if start < 0:
        return None
    level = int(body[start + len(f"\x00section:{number}:")])
    for match in _SECTION_RE.finditer(body, start + 1):
        if int(match.group(2)) <= level:
            return body[start:match.start()]
    return body[start:]


def _lines(site: SiteMap, embed: NoteEmbed) -> tuple[str, str | None]:
    """The Markdown of a block, or of a section under a nested heading."""
    lines = site.text(embed.target).split("\n")
    if embed.heading:
        headings = site.index.notes[embed.target].headings
        found = heading_index(site.index, embed.target, embed.heading)
        level, _, line = headings[found]
        end = next((h[2] for h in headings[found + 1:] if h[0] <= level), None)
        return "\n".join(lines[line - 1: end - 1 if end else None]), None
    marker = "^" + str(embed.block)
    for number, row in enumerate(lines):
        row = row.rstrip()
        if row.endswith(marker) and (row == marker or row[-len(marker) - 1].isspace()):
            start = number
            while start > 0 and lines[start - 1].strip():
                start -= 1
            return "\n".join(lines[start: number + 1]), None
    return "", f"{embed.target} has no block ^{embed.block}"


def _stopped(embed: NoteEmbed) -> str:
    return f'<a class="internal-link embed-stopped" href="{ROOT_MARK}{url("", page_path(embed.target))}">{embed.written}</a>'


def _embedded(site: SiteMap, notes: dict[str, RenderedNote], embed: NoteEmbed) -> str:
    """One note embed's HTML: nested note embeds become links (one level, no cycles)."""
    from generator.export.markdown import render_markdown

    rendered = notes[embed.target]
    html = None
    if embed.heading:
        found = heading_index(site.index, embed.target, embed.heading)
        if found is None:
            problem = f"{embed.target} has no heading {' > '.join(embed.heading)!r}"
            return f'<span class="broken-embed" title="{escape(problem)}">![[{embed.written}]]</span>'
        html = _section(rendered.body, found)
    elif not embed.block:
        html = rendered.body
    if html is None:
        text, problem = _lines(site, embed)
        if problem:
            return f'<span class="broken-embed" title="{escape(problem)}">![[{embed.written}]]</span>'
        html = render_markdown(text, PageContext(site, embed.target, depth=1))
        if "<" in text:  # rendered here, not in stage 1: sanitized here too
            html = sanitize(html)
    else:
        html = _EMBED_RE.sub(lambda m: _stopped(rendered.embeds[int(m.group(1))]), html)
    title = escape(embed.target.rsplit("/", 1)[-1][: -len(NOTE_SUFFIX)])
    home = ROOT_MARK + url("", page_path(embed.target))
    # Without its ids (the host page has its own); in-page links (footnotes) go to the note's page.
    html = _ID_RE.sub("", html).replace('href="#', f'href="{home}#')
    return (f'<div class="embed-note"><div class="embed-title"><a class="internal-link" '
            f'href="{home}">{title}</a></div>{html}</div>')


def compose_body(site: SiteMap, notes: dict[str, RenderedNote], rendered: RenderedNote) -> str:
    """The note's HTML with its embeds in place and the section marks gone."""
    body = rendered.body
    if rendered.embeds:
        # An embed alone in its paragraph is a block of its own, not inside a <p>.
        body = _ALONE_RE.sub(r"\1", body)
        body = _EMBED_RE.sub(lambda m: _embedded(site, notes, rendered.embeds[int(m.group(1))]), body)
    return _SECTION_RE.sub("", body) if "\x00section:" in body else body


def place(html: str, page: str) -> str:
    """Make every URL relative to ``page``."""
    return html.replace(ROOT_MARK, root_prefix(page))
