"""Obsidian callouts: ``> [!type]± Title`` blockquotes, their types, colours and icons.

A core rule turns such a blockquote into ``callout_open``/``callout_close``
tokens around a title (its own inline token, so links in it are parsed and
resolved like any other) and the remaining body.  ``+``/``-`` make it
foldable (open/closed), rendered as ``<details>`` so it works without script.
"""

from __future__ import annotations

import re
from markdown_it.token import Token

_CALLOUT_RE = re.compile(r"\[!([^\]\s]+)\]([+-]?)[ \t]*(.*)")

# Obsidian's types and their aliases.
_ALIASES = {
    "summary": "abstract", "tldr": "abstract",
    "hint": "tip", "important": "tip",
    "check": "success", "done": "success",
    "help": "question", "faq": "question",
    "caution": "warning", "attention": "warning",
    "fail": "failure", "missing": "failure",
    "error": "danger",
    "cite": "quote",
}
TYPES = ("note", "abstract", "info", "todo", "tip", "success", "question", "warning",
         "failure", "danger", "bug", "example", "quote")

# Icons of our own, 24x24 strokes in currentColor; drawn after Obsidian's
# (Lucide) metaphors so readers recognise them, no external file.
_ICON_PATHS = {
    "note": '<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="M13 7l4 4"/>',
    "abstract": '<rect x="5" y="4" width="14" height="17" rx="2"/><path d="M9 9h6M9 13h6M9 17h4"/>',
    "info": '<circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5v.5"/>',
    "todo": '<circle cx="12" cy="12" r="9"/><path d="M8 12l3 3 5-6"/>',
    "tip": '<path d="M12 3c1 4 5 5 5 10a5 5 0 0 1-10 0c0-3 2-4 2-6 1 1 2 2 2 4 1-2 1-5 1-8z"/>',
    "success": '<path d="M5 12l5 5 9-10"/>',
    "question": '<circle cx="12" cy="12" r="9"/><path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .9-1 1.7M12 17v.5"/>',
    "warning": '<path d="M12 3l10 18H2z"/><path d="M12 10v5M12 18v.5"/>',
    "failure": '<path d="M6 6l12 12M18 6L6 18"/>',
    "danger": '<path d="M13 2L4 14h7l-1 8 9-12h-7z"/>',
    "bug": '<rect x="8" y="7" width="8" height="13" rx="4"/><path d="M4 10h4M16 10h4M4 16h4M16 16h4M10 4l1 3M14 4l-1 3"/>',
    "example": '<path d="M9 6h11M9 12h11M9 18h11M4 6h1M4 12h1M4 18h1"/>',
    "quote": '<path d="M5 18c3-1 4-3 4-6H5V6h5v6c0 4-2 7-5 8M14 18c3-1 4-3 4-6h-4V6h5v6c0 4-2 7-5 8"/>',
}


def canonical_type(name: str) -> str:
    """The type whose look a callout gets; unknown types look like ``note``, as in Obsidian."""
    name = name.lower()
    name = _ALIASES.get(name, name)
    return name if name in TYPES else "note"


def icon(kind: str) -> str:
    return ('<svg class="callout-icon" viewBox="0 0 24 24" width="18" height="18" fill="none" '
            'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
            f'aria-hidden="true">{_ICON_PATHS[kind]}</svg>')


def _closing(tokens: list[Token], start: int) -> int:
    level = tokens[start].level
    for index in range(start + 1, len(tokens)):
        if tokens[index].type == "blockquote_close" and tokens[index].level == level:
            return index
    return len(tokens) - 1


def callout_rule(state) -> None:
    """Core rule (before ``inline``): blockquotes that open with ``[!type]`` become callouts."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.type != "blockquote_open" or index + 1 >= len(tokens):
            continue
        if tokens[index].type != "paragraph_open" or tokens[index + 1].type != "inline":
            continue
        inline = tokens[index + 1]
        first, _, rest = inline.content.partition("\n")
        match = _CALLOUT_RE.fullmatch(first.strip())
        if not match:
            continue
        written, fold, title = match.groups()
        kind = canonical_type(written)
        close = _closing(tokens, index - 1)
        token.type, tokens[close].type = "callout_open", "callout_close"
        token.meta = tokens[close].meta = {"kind": kind, "fold": fold}
        title_token = Token("inline", "", 0)
        title_token.content = title or written[:1].upper() + written[1:].lower()
        title_token.map = inline.map
        title_token.children = []
        title_token.level = inline.level
        head = [Token("callout_title_open", "", 1), title_token, Token("callout_title_close", "", -1)]
        if rest.strip():
            inline.content = rest
            if inline.map:
                inline.map = [inline.map[0] + 1, inline.map[1]]
            tokens[index:index] = head
        else:  # the title was the whole first paragraph
            tokens[index:index + 3] = head
        index += len(head)


def render_callout_open(self, tokens, idx, options, env) -> str:
    meta = tokens[idx].meta
    kind, fold = meta["kind"], meta["fold"]
    if fold:
        opened = ' open=""' if fold == "+" else ""  # as the sanitizer writes it, so pages agree
        return f'<details class="callout" data-callout="{kind}"{opened}>\n'
    return f'<div class="callout" data-callout="{kind}">\n'


def render_callout_close(self, tokens, idx, options, env) -> str:
    return "</div></details>\n" if tokens[idx].meta["fold"] else "</div></div>\n"


def render_title_open(self, tokens, idx, options, env) -> str:
    meta = tokens[idx - 1].meta  # the title follows its callout_open
    tag = "summary" if meta["fold"] else "div"
    return f'<{tag} class="callout-title">{icon(meta["kind"])}<span class="callout-title-inner">'


def render_title_close(self, tokens, idx, options, env) -> str:
    tag = "summary" if tokens[idx - 3].meta["fold"] else "div"
    return f'</span></{tag}>\n<div class="callout-content">\n'


def callouts_plugin(md) -> None:
    md.core.ruler.before("inline", "callouts", callout_rule)
    md.add_render_rule("callout_open", render_callout_open)
    md.add_render_rule("callout_close", render_callout_close)
    md.add_render_rule("callout_title_open", render_title_open)
    md.add_render_rule("callout_title_close", render_title_close)


