"""Markdown to HTML: the linter's parser stack plus what reading view shows.

The link grammar, ``%% comments %%`` and math come from the linter's own
markdown-it plugin (``obsidian_links_plugin``), so a link means here what it
means to ``vaultgen check``; every link is resolved by the linter's
``VaultIndex``.  On top: tables, strikethrough, footnotes, task lists,
callouts, Mermaid fences, heading ids, block ids and inline ``#tags``.
"""

from __future__ import annotations

import re
from html import escape

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from generator.export.callouts import callouts_plugin
from generator.export.linking import SECTION_MARK, PageContext, anchor_ids
from generator.lint.mdplugin import note_front_matter_plugin, obsidian_links_plugin

# A block id closing a paragraph, as the linter reads it.
_BLOCK_ID_RE = re.compile(r"(?:^|\s)\^([A-Za-z0-9-]+)[ \t]*\Z")
# Obsidian's tag characters; a tag needs one non-digit.
_TAG_RE = re.compile(r"#([\w/-]+)")


def _tag_rule(state, silent: bool) -> bool:
    """``#tag`` after a space or at the start of the text."""
    pos = state.pos
    if state.src[pos] != "#" or (pos > 0 and not state.src[pos - 1].isspace()):
        return False
    match = _TAG_RE.match(state.src, pos)
    if match is None or match.group(1).isdigit() or match.group(1).strip("/-_") == "":
        return False
    if not silent:
        token = state.push("obsidian_tag", "", 0)
        token.content = match.group(1).strip("/")
    state.pos = match.end()
    return True


def _anchor_rule(state) -> None:
    """Heading ids, section marks and block ids (core rule after ``inline``)."""
    tokens = state.tokens
    page: PageContext = state.env["page"]
    # Inside an embed (depth 1) no ids: they would repeat the host page's.
    headings = [tokens[i + 1].content.strip() for i, t in enumerate(tokens) if t.type == "heading_open"]
    ids = iter(anchor_ids(headings))
    number = 0
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and not page.depth:
            token.attrSet("id", next(ids))
            if token.level == 0:
                token.meta["section"] = number
            number += 1
        elif token.type == "inline" and "^" in token.content and tokens[index - 1].type == "paragraph_open":
            found = _BLOCK_ID_RE.search(token.content)
            last = token.children[-1] if token.children else None
            if found is None or last is None or last.type != "text" or not last.content.rstrip().endswith("^" + found.group(1)):
                continue
            last.content = last.content.rstrip()[: -len(found.group(1)) - 1].rstrip()
            holder = tokens[index - 2] if tokens[index - 1].hidden and tokens[index - 2].type == "list_item_open" else tokens[index - 1]
            if not page.depth:
                holder.attrSet("id", "^" + found.group(1))


def _render_heading_open(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    section = token.meta.get("section")
    html = self.renderToken(tokens, idx, options, env)
    if section is None:
        return html
    newline = "\n" if html.startswith("\n") else ""
    return newline + SECTION_MARK.format(section, token.tag[1]) + html[len(newline):]


def _render_wikilink(self, tokens, idx, options, env) -> str:
    return env["page"].link_html(tokens[idx].meta["link"])


def _render_tag(self, tokens, idx, options, env) -> str:
    return env["page"].tag_html(tokens[idx].content)


def _render_link_open(self, tokens, idx, options, env) -> str:
    env["page"].rewrite_markdown_link(tokens[idx], embed=False)
    return self.renderToken(tokens, idx, options, env)


def _render_image(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    env["page"].rewrite_markdown_link(token, embed=True)
    if token.attrGet("class") == "broken-embed":
        return f'<span class="broken-embed" title="{escape(str(token.attrGet("title")))}">{escape(str(token.attrGet("alt") or token.content))}</span>'
    token.attrSet("alt", self.renderInlineAsText(token.children or [], options, env))
    return self.renderToken(tokens, idx, options, env)


def _render_fence(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    language = token.info.strip().split(" ")[0] if token.info else ""
    if language == "mermaid":
        return f'<pre class="mermaid">{escape(token.content)}</pre>\n'
    return self.rules["_fence"](tokens, idx, options, env)


def _render_nothing(self, tokens, idx, options, env) -> str:
    return ""


def make_parser() -> MarkdownIt:
    """One parser per process: reading view's Markdown, Obsidian's links."""
    md = MarkdownIt("commonmark", {"html": True})
    md.enable(["table", "strikethrough"])
    note_front_matter_plugin(md)
    dollarmath_plugin(md, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)
    obsidian_links_plugin(md)
    footnote_plugin(md)
    tasklists_plugin(md)
    callouts_plugin(md)
    md.inline.ruler.before("wikilink", "obsidian_tag", _tag_rule)
    md.core.ruler.after("inline", "anchors", _anchor_rule)
    md.renderer.rules["_fence"] = md.renderer.rules["fence"]
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("heading_open", _render_heading_open)
    md.add_render_rule("wikilink", _render_wikilink)
    md.add_render_rule("obsidian_tag", _render_tag)
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("front_matter", _render_nothing)
    md.add_render_rule("obsidian_comment", _render_nothing)
    return md


_PARSER: list[MarkdownIt] = []


def render_markdown(text: str, page: PageContext) -> str:
    if not _PARSER:
        _PARSER.append(make_parser())
    return _PARSER[0].render(text, {"page": page})
