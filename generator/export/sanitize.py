"""HTML in a note is sanitized, as Obsidian sanitizes it: a published vault runs no script.

Obsidian renders the HTML a note holds (``<span style>``, ``<details>``, an ``<iframe>`` to embed
a page) and drops what could run code: ``<script>``, ``on…`` handlers, ``javascript:`` URLs
(help.obsidian.md, "HTML content").  A page of an exported site would run them for every
visitor, so each note's rendered body goes through nh3 (the Rust crate ammonia), with the tags
and attributes that notes and this renderer use, and nothing else.  The renderer's own
placeholders (NUL-delimited, filled in later by ``compose``) pass through as a private-use
character the note does not hold, since the sanitizer drops NUL.

What stays is what a note needs to look as it does in Obsidian, not what could reach beyond the
page: no ``target``/``rel`` on links, no ``allow`` on frames (no camera or location prompts),
styles limited to text, colour and size properties (no ``position`` or negative margins to cover
the page, no property that takes a ``url()``),
checkboxes as the only inputs, ``data:`` URLs only as images, and no ``id`` or ``name`` that
could stand for one of the site script's globals.
"""

from __future__ import annotations

import re

import nh3

# The renderer's own markup (callout icons are inline SVG, task lists are checkboxes, footnotes a
# section) and what notes write by hand; ammonia's default tags cover the rest of HTML's text.
_TAGS = nh3.ALLOWED_TAGS | {
    "section", "input", "video", "audio", "source", "track", "iframe", "font", "label", "fieldset", "legend",
    "svg", "path", "circle", "rect", "line", "polyline", "polygon", "g",
}
_ATTRIBUTES = {
    "*": {"class", "id", "style", "title", "lang", "dir", "align", "width", "height", "hidden"},
    "a": {"href", "name"},
    "img": {"src", "alt", "srcset", "sizes", "loading"},
    "video": {"src", "controls", "poster", "loop", "muted", "autoplay", "playsinline", "preload"},
    "audio": {"src", "controls", "loop", "muted", "preload"},
    "source": {"src", "type", "srcset", "media"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "iframe": {"src", "allowfullscreen", "frameborder", "scrolling", "loading", "referrerpolicy"},
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
_SCHEMES = {"http", "https", "mailto", "tel", "obsidian", "data"}  # data: for images only, below
# CSS a note uses for how text and boxes look; nothing that places an element over the page.
_STYLES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight", "font-variant",
    "text-align", "text-decoration", "text-decoration-color", "text-decoration-line", "text-transform", "text-indent",
    "line-height", "letter-spacing", "word-spacing", "white-space", "vertical-align", "opacity",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left", "border-color", "border-style",
    "border-width", "border-radius", "border-collapse", "width", "height", "max-width", "max-height",
    "min-width", "min-height", "display", "float", "clear", "list-style-type", "columns",
}
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp|avif);", re.I)
_SITE_GLOBAL = re.compile(r"vaultgen", re.I)  # site.js reads window.VAULTGEN_SEARCH
_NUL = "\x00"


def _attribute(element: str, attribute: str, value: str) -> str | None:
    # As a browser reads a URL: leading spaces and control characters, and tabs and line breaks
    # anywhere, do not count (" data:" and "da\tta:" are data: URLs).
    url = re.sub(r"[\x00-\x20]", "", value)
    if url[:5].lower() == "data:" and not (attribute == "src" and element in ("img", "source") and _DATA_IMAGE.match(url)):
        return None
    if attribute in ("id", "name") and _SITE_GLOBAL.match(value):
        return None
    if element == "input" and attribute == "type" and value.lower() != "checkbox":
        return None
    return value


def sanitize(body: str) -> str:
    """``body`` without what could run code or reach beyond the page (see the module's docstring)."""
    stand_in = next(chr(code) for code in range(0xE000, 0xF900) if chr(code) not in body)
    cleaned = nh3.clean(
        body.replace(_NUL, stand_in), tags=_TAGS, attributes=_ATTRIBUTES, generic_attribute_prefixes={"data-", "aria-"},
        url_schemes=_SCHEMES, link_rel=None, attribute_filter=_attribute, filter_style_properties=_STYLES,
    )
    return cleaned.replace(stand_in, _NUL)
