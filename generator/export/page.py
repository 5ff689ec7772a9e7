"""The HTML around a note: head, search box, properties table, backlinks.

Plain string building: a page is a few fixed pieces, and 10,000 of them
must be written in seconds.
"""

from __future__ import annotations

import json
import posixpath
import re
from html import escape

from generator.export.linking import ASSETS_DIR, PageContext, tag_name, tag_page, url
from generator.lint.links import parse_wiki_inner

_WIKI_IN_VALUE = re.compile(r"\[\[([^\[\]\n]+)\]\]")


def note_title(note: str) -> str:
    return posixpath.basename(note)[: -len(".md")]


def _root(page: str) -> str:
    return "../" * page.count("/")


def property_tags(properties: object) -> list[str]:
    """The ``tags`` property as a list of tag names (``#`` dropped; a string may hold several)."""
    value = properties.get("tags") if isinstance(properties, dict) else None
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        return []
    return [name for tag in value if isinstance(tag, str) and (name := tag_name(tag.strip().strip("/"))) is not None]


def _value_html(key: str, value: object, page: PageContext) -> str:
    if isinstance(value, list):
        return ", ".join(_value_html(key, item, page) for item in value) or "—"
    if key in ("tags", "tag") and isinstance(value, str):
        return " ".join(page.tag_html(tag.lstrip("#")) for tag in value.replace(",", " ").split())
    if isinstance(value, dict):
        return escape(json.dumps(value, ensure_ascii=False, sort_keys=True))
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    text = str(value)
    if "[[" not in text:
        return escape(text)
    pieces, last = [], 0
    for match in _WIKI_IN_VALUE.finditer(text):
        found = parse_wiki_inner(match.group(1), embed=False, line=0)
        pieces.append(escape(text[last:match.start()]))
        pieces.append(escape(match.group(0)) if found is None else page.link_html(found))
        last = match.end()
    pieces.append(escape(text[last:]))
    return "".join(pieces)


def properties_html(properties: object, page: PageContext) -> str:
    if not isinstance(properties, dict) or not properties:
        return ""
    rows = "".join(f'<tr><th scope="row">{escape(str(key))}</th><td>{_value_html(str(key), value, page)}</td></tr>'
                   for key, value in properties.items())
    return f'<table class="properties"><caption>Properties</caption><tbody>{rows}</tbody></table>\n'


def backlinks_html(page: str, sources: list[str]) -> str:
    if not sources:
        return '<section class="backlinks"><h2>Backlinks</h2><p class="none">No other note links here.</p></section>\n'
    from generator.export.linking import page_path

    items = "".join(f'<li><a class="internal-link" href="{url(page, page_path(s))}">{escape(note_title(s))}</a></li>'
                    for s in sources)
    return f'<section class="backlinks"><h2>Backlinks <span class="count">{len(sources)}</span></h2><ul>{items}</ul></section>\n'


def layout(page: str, title: str, site_title: str, body: str, *, mermaid: bool = False) -> str:
    root = _root(page)
    assets = f"{root}{ASSETS_DIR}/"
    scripts = f'<script src="{assets}site.js"></script>\n'
    if mermaid:
        scripts += f'<script src="{assets}mermaid.min.js"></script>\n<script src="{assets}mermaid-init.js"></script>\n'
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f'<title>{escape(title) if title == site_title else f"{escape(title)} · {escape(site_title)}"}</title>\n'
        f'<link rel="stylesheet" href="{assets}style.css">\n</head>\n'
        f'<body data-root="{root}">\n<header class="site-header">'
        f'<a class="site-title" href="{root}index.html">{escape(site_title)}</a>'
        '<div class="search" role="search"><input id="search" type="search" placeholder="Search notes" '
        'aria-label="Search notes" autocomplete="off"><ol id="search-results" hidden></ol></div></header>\n'
        f'<main>\n{body}</main>\n{scripts}</body>\n</html>\n'
    )


def note_page(page: str, title: str, properties: str, content: str, backlinks: list[str], site_title: str) -> str:
    """A note's page; ``properties`` and ``content`` are HTML (see ``compose``)."""
    content = content.lstrip("\n")
    if content.startswith("<h1") and "</h1>\n" in content:  # the note's own title heading first
        heading, _, content = content.partition("</h1>\n")
        heading += "</h1>\n"
    else:
        heading = f'<h1 class="note-title">{escape(title)}</h1>\n'
    body = f"<article>\n{heading}{properties}{content}</article>\n{backlinks_html(page, backlinks)}"
    return layout(page, title, site_title, body, mermaid='<pre class="mermaid">' in content)


def listing(page: str, items: list[tuple[str, str]]) -> str:
    """A list of (target file in the site, text) links."""
    rows = "".join(f'<li><a class="internal-link" href="{url(page, target)}">{escape(text)}</a></li>'
                   for target, text in items)
    return f'<ul class="listing">{rows}</ul>\n'


def tag_page_html(tag: str, notes: list[tuple[str, str]], site_title: str) -> str:
    page = tag_page(tag)
    body = f'<article>\n<h1 class="note-title">#{escape(tag)}</h1>\n<p>{len(notes)} note(s)</p>\n{listing(page, notes)}</article>\n'
    return layout(page, "#" + tag, site_title, body)


def index_html(site_title: str, notes: list[tuple[str, str]], tags: list[tuple[str, int]]) -> str:
    tag_items = "".join(f'<li><a class="tag" href="{url("index.html", tag_page(tag))}">#{escape(tag)}</a> '
                        f'<span class="count">{count}</span></li>' for tag, count in tags)
    body = (f'<article>\n<h1 class="note-title">{escape(site_title)}</h1>\n'
            f'<h2>Notes <span class="count">{len(notes)}</span></h2>\n{listing("index.html", notes)}'
            + (f'<h2>Tags</h2>\n<ul class="tags">{tag_items}</ul>\n' if tags else "")
            + "</article>\n")
    return layout("index.html", site_title, site_title, body)
