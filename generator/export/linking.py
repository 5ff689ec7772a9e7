"""What a link or embed becomes in HTML: resolved by the linter, written relative.

``SiteMap`` knows where every vault file lands in the site; ``PageContext``
is one page being rendered (or one note embedded in it) and turns each
``Link`` into an ``<a>``, an ``<img>``, an embedded note or a visibly
broken span.  Resolution is ``VaultIndex.resolve``, the linter's own.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from urllib.parse import quote

from generator.lint.links import Link, heading_key, name_key, parse_markdown_href
from generator.lint.notefacts import normalise_text

NOTE_SUFFIX = ".md"
TAGS_DIR = "_tags"
ASSETS_DIR = "_assets"
IMAGE_SUFFIXES = frozenset((".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif"))
AUDIO_SUFFIXES = frozenset((".mp3", ".wav", ".m4a", ".ogg", ".flac", ".3gp", ".webm"))
VIDEO_SUFFIXES = frozenset((".mp4", ".ogv", ".mov", ".mkv"))


def page_path(note: str) -> str:
    """Where a note's page lands: same folders, ``.html`` instead of ``.md``."""
    page = note[: -len(NOTE_SUFFIX)] + ".html"
    # index.html is the site's; "Index.md" too would be that file on macOS and Windows.
    return page[: -len(".html")] + "-note.html" if page.lower() == "index.html" else page


# A tag's parts, nested with "/": Obsidian's help names letters, digits, "_" and "-"; in practice
# it also takes emoji and other symbols, and refuses spaces, control characters, ASCII
# punctuation and the Unicode punctuation blocks (as plugins that mirror it, such as Tasks, do).
# So no part is "." or "..", and none holds a NUL or a backslash.
_TAG_PART = r"[^\s\x00-\x1f\x7f-\x9f!\"#$%&'()*+,.:;<=>?@\[\\\]^`{|}~/\u2000-\u206f\u2e00-\u2e7f]+"
_TAG = re.compile(f"{_TAG_PART}(?:/{_TAG_PART})*")


def tag_name(text: str) -> str | None:
    """``text`` as a tag that gets a page, or None: a property may hold anything ("x/../../y",
    "3.5", a NUL, a name longer than a file name may be), and only a real tag names a file."""
    text = text.lstrip("#")
    if not _TAG.fullmatch(text) or text.replace("/", "").replace("_", "").replace("-", "").isdigit():
        return None
    return text if all(len(part.encode("utf-8", "surrogatepass")) <= 200 for part in text.split("/")) else None


def tag_page(tag: str) -> str:
    """A tag's page; #Foo and #foo are one tag, as in Obsidian, so they share it."""
    return f"{TAGS_DIR}/{name_key(tag)}.html"


@lru_cache(maxsize=1 << 16)
def url(from_page: str, to_file: str, fragment: str = "") -> str:
    """A relative, percent-encoded URL: works from file:// and any host.

    Cached: stage 1 writes every URL from the root, and vaults link the
    same notes again and again.  Both paths are vault-relative posix paths without ``..``, so the
    relative path is "up to the common folder, then down": cheaper than
    ``posixpath.relpath``, which asks the OS for the working directory.
    """
    here = from_page.split("/")[:-1]
    there = to_file.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    rel = "../" * (len(here) - common) + "/".join(there[common:])
    return quote(rel, safe="/") + (f"#{quote(fragment, safe='^-_.')}" if fragment else "")


def anchor_ids(headings: list[str]) -> list[str]:
    """One id per heading, unique within the page, derived from its text."""
    ids, seen = [], {}
    for text in headings:
        base = heading_key(text).replace(" ", "-") or "section"
        count = seen.get(base, 0)
        seen[base] = count + 1
        ids.append(base if count == 0 else f"{base}-{count}")
    return ids


def heading_index(index, note: str, chain: list[str] | tuple[str, ...]) -> int | None:
    """Which of ``note``'s headings ``[[note#H1#H2]]`` lands on (the linter's
    ``find_heading``), as a position in the note's heading list; None if none."""
    found = index.find_heading(note, list(chain))
    return None if found is None else index.notes[note].headings.index(found)


@dataclass
class SiteMap:
    """Every vault file's place in the site, and the linter's index over them."""

    root: object  # pathlib.Path of the vault
    index: object  # generator.resolve.VaultIndex
    title: str
    _ids: dict[str, list[str]] = field(default_factory=dict)


    def heading_ids(self, note: str) -> list[str]:
        ids = self._ids.get(note)
        if ids is None:
            ids = self._ids[note] = anchor_ids([text for _, text, _ in self.index.notes[note].headings])
        return ids

    def text(self, note: str) -> str:
        """The note's text as the linter read it (undecodable bytes replaced)."""
        with open(self.root / note, "rb") as handle:
            return normalise_text(handle.read().decode("utf-8", errors="replace"))


# A note's HTML is rendered once, as if its page sat at the site root, with
# this marker before each URL; every page it appears on (its own, or one
# that embeds it) replaces the marker with its own way up to the root.
ROOT_MARK = "\x00root\x00"
# Where an embedded note goes, numbered per note: "\x00embed:3\x00".
EMBED_MARK = "\x00embed:{}\x00"
# Before each top-level heading: its number among the note's headings and its
# level, so that a section embed is a slice of the note's HTML.
SECTION_MARK = "\x00section:{}:{}\x00"


def root_prefix(page: str) -> str:
    return "../" * page.count("/")


def _default_text(link: Link) -> str:
    """What Obsidian shows for a link without an alias."""
    text = link.target
    for heading in link.heading or []:
        text = f"{text} > {heading}" if text else heading
    if link.block:
        text = f"{text} > ^{link.block}" if text else f"^{link.block}"
    return text


@dataclass(frozen=True)
class NoteEmbed:
    """``![[target#…]]`` of a note in a note: filled in when pages are put together."""

    target: str
    heading: tuple[str, ...] | None
    block: str | None
    written: str  # the embed as written, escaped, for links and broken marks


@dataclass
class PageContext:
    """One note's text being rendered into page-independent HTML (see ROOT_MARK).

    At depth 0 note embeds become EMBED_MARK placeholders listed in
    ``embeds``; inside an embed (depth 1) they become plain links.
    """

    site: SiteMap
    source: str  # the note whose text is parsed: links resolve from here
    depth: int = 0
    tags: set[str] = field(default_factory=set)
    embeds: list[NoteEmbed] = field(default_factory=list)

    def url(self, to_file: str, fragment: str = "") -> str:
        return ROOT_MARK + url("", to_file, fragment)

    def file_url(self, target: str, fragment: str = "") -> str:
        return self.url(page_path(target) if target.endswith(NOTE_SUFFIX) else target, fragment)

    def _resolve(self, link: Link) -> tuple[str | None, str, str | None]:
        """(file, fragment, problem): the linter's resolution of ``link`` from this note."""
        resolved = self.site.index.resolve_link(link, self.source)
        target = resolved.path
        if target is None:
            return None, "", f"{link.target}: no such {'file' if link.embed else 'note'}"
        if target not in self.site.index.notes or link.embed:
            return target, "", None  # the linter checks headings and blocks in notes only
        if link.heading:
            if resolved.heading is None:
                return target, "", f"{target} has no heading {' > '.join(link.heading)!r}"
            position = self.site.index.notes[target].headings.index(resolved.heading)
            return target, self.site.heading_ids(target)[position], None
        if link.block:
            if resolved.block is None:
                return target, "", f"{target} has no block ^{link.block}"
            return target, "^" + link.block, None
        return target, "", None

    def link_html(self, link: Link) -> str:
        target, fragment, problem = self._resolve(link)
        if link.embed:
            return self.embed_html(link, target)
        text = escape(link.display or _default_text(link))
        if problem:
            return f'<span class="broken-link" title="{escape(problem)}">{text}</span>'
        # A link to the note itself names its page too: it may be shown inside another page.
        return f'<a class="internal-link" href="{self.file_url(target, fragment)}">{text}</a>'

    def embed_html(self, link: Link, target: str | None) -> str:
        written = escape(link.target + ("#" + "#".join(link.heading) if link.heading else "")
                         + (f"#^{link.block}" if link.block else ""))
        if target is None:
            return f'<span class="broken-embed" title="{escape(link.target)}: no such file">![[{written}]]</span>'
        suffix = posixpath.splitext(target)[1].lower()
        src = self.file_url(target)
        if suffix == NOTE_SUFFIX:
            if self.depth > 0 or target == self.source:  # one level deep: no cycles, bounded cost
                return f'<a class="internal-link embed-stopped" href="{src}">{written}</a>'
            self.embeds.append(NoteEmbed(target, tuple(link.heading) if link.heading else None, link.block, written))
            return EMBED_MARK.format(len(self.embeds) - 1)
        alt = escape(link.display or posixpath.basename(target), quote=True)
        size = (f' width="{link.width}"' if link.width else "") + (f' height="{link.height}"' if link.height else "")
        if suffix in IMAGE_SUFFIXES:
            return f'<img class="embed-image" src="{src}" alt="{alt}"{size}>'
        if suffix in AUDIO_SUFFIXES:
            return f'<audio class="embed-audio" controls src="{src}"></audio>'
        if suffix in VIDEO_SUFFIXES:
            return f'<video class="embed-video" controls src="{src}"{size}></video>'
        return f'<a class="embed-file" href="{src}">{escape(posixpath.basename(target))}</a>'

    def tag_html(self, tag: str) -> str:
        name = tag_name(tag)
        if name is None:
            return f"#{escape(tag.lstrip('#'))}"  # no tag to Obsidian either: text
        self.tags.add(name)
        return f'<a class="tag" href="{self.url(tag_page(name))}">#{escape(name)}</a>'

    def rewrite_markdown_link(self, token, *, embed: bool) -> None:
        """Point ``[text](Note.md)`` / ``![](img.png)`` at the resolved file's page."""
        attr = "src" if embed else "href"
        href = str(token.attrGet(attr) or "")
        link = parse_markdown_href(href, embed=embed, line=0, text=None)
        if link is None:
            return
        target, fragment, problem = self._resolve(link)
        if problem:
            del token.attrs[attr]
            token.attrSet("class", "broken-embed" if embed else "broken-link")
            token.attrSet("title", problem)
            return
        token.attrSet(attr, self.file_url(target, fragment))
        if not embed:
            token.attrSet("class", "internal-link")
