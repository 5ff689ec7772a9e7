"""HTML in a note is sanitized, as Obsidian sanitizes it: a published vault runs no script.

Obsidian renders the HTML a note holds (``<span style>``, ``<details>``, an ``<iframe>`` to embed
a page) and drops what could run code: ``<script>``, ``on…`` handlers, ``javascript:`` URLs
(help.obsidian.md, "HTML content").  A page of an exported site would run them for every
visitor, so each note's rendered body goes through nh3 (the Rust crate ammonia), with the tags
and attributes that notes and this renderer use, and nothing else.  The renderer's own
placeholders (NUL-delimited, filled in later by ``compose``) pass through as private-use
characters, since the sanitizer drops NUL.
"""

from __future__ import annotations

import nh3

# The renderer's own markup (callout icons are inline SVG, task lists are checkboxes, footnotes a
# section) and what notes write by hand; ammonia's default tags cover the rest of HTML's text.
_TAGS = nh3.ALLOWED_TAGS | {
    "section", "input", "video", "audio", "source", "track", "iframe", "font", "label", "fieldset", "legend",
    "svg", "path", "circle", "rect", "line", "polyline", "polygon", "g",
}
_ATTRIBUTES = {
    "*": {"class", "id", "style", "title", "lang", "dir", "align", "width", "height", "hidden"},
    "a": {"href", "name", "target", "rel"},
    "img": {"src", "alt", "srcset", "sizes", "loading"},
    "video": {"src", "controls", "poster", "loop", "muted", "autoplay", "playsinline", "preload"},
    "audio": {"src", "controls", "loop", "muted", "preload"},
    "source": {"src", "type", "srcset", "media"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "iframe": {"src", "allow", "allowfullscreen", "frameborder", "scrolling", "loading", "referrerpolicy", "name"},
    "input": {"type", "checked", "disabled"},
    "details": {"open"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "font": {"color", "face", "size"},
    "svg": {"viewBox", "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "xmlns"},
    "path": {"d", "fill", "stroke"},
    "circle": {"cx", "cy", "r", "fill", "stroke"},
    "rect": {"x", "y", "rx", "ry", "fill", "stroke"},
    "line": {"x1", "y1", "x2", "y2", "stroke"},
    "polyline": {"points", "fill", "stroke"},
    "polygon": {"points", "fill", "stroke"},
}
_SCHEMES = {"http", "https", "mailto", "tel", "obsidian"}
_NUL, _STAND_IN = "\x00", "\ue000"


def sanitize(body: str) -> str:
    """``body`` without what could run code: scripts, handlers, javascript: URLs, forms, embeds."""
    cleaned = nh3.clean(
        body.replace(_NUL, _STAND_IN), tags=_TAGS, attributes=_ATTRIBUTES,
        generic_attribute_prefixes={"data-", "aria-"}, url_schemes=_SCHEMES, link_rel=None,
    )
    return cleaned.replace(_STAND_IN, _NUL)
