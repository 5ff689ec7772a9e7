"""Obsidian's links as a markdown-it-py plugin, and the parser the linter uses.

The plugin recognises wiki links, embeds and Markdown links to vault files
(their grammar is ``generator.lint.links``).  Code spans, fenced and
indented code, math, HTML comments and Obsidian ``%% comments %%`` hide
links, because the markdown-it rules for them consume the text before the
link rules see it.

Every link is collected into ``env["links"]`` (in document order) and also
pushed as a ``wikilink`` token for wiki links, so callers can either walk
tokens or read the env.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from generator.lint.links import Link, comment_links, parse_markdown_href, parse_wiki_inner

if TYPE_CHECKING:  # markdown-it is imported only when a note needs it
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline

# Env key under which the plugin collects links.
LINKS_ENV_KEY = "links"
# Env key holding the 1-based line of the block whose inline text is parsed.
_LINE_ENV_KEY = "_links_line0"
# Env key holding the source text's lines, for columns.
SOURCE_ENV_KEY = "_links_rows"
# The first line (0-based) markdown-it skipped for nesting past MAX_NESTING, if any.
NESTING_CUT_ENV_KEY = "_nesting_cut"

# Only characters a kept inline rule reacts to, plus "]" which ends a link
# label; the default set also stops at '*', '_', '-', ':' ... and each stop
# costs a failed pass over every rule.
_LINK_TERMINATORS = re.compile(r"[\[\]!`\\$<%]")


def _position(state: StateInline, pos: int) -> tuple[int, int]:
    """(line, column) in the note of ``pos`` in the inline text being parsed.

    markdown-it strips container markers and indentation from each line of
    the inline text, so the column is found by locating that line's text in
    the source line.
    """
    src = state.src
    line = state.env[_LINE_ENV_KEY] + src.count("\n", 0, pos)
    start = src.rfind("\n", 0, pos) + 1
    end = src.find("\n", pos)
    piece = src[start : len(src) if end < 0 else end].rstrip()
    rows = state.env.get(SOURCE_ENV_KEY)
    source = rows[line - 1] if rows and line <= len(rows) else piece
    offset, shift = source.find(piece), 0
    if offset < 0:
        # A tab the container's indent took part of: markdown-it leaves its rest as spaces
        # ("\t[[A]]" in a list item reads "  [[A]]"), which the source line does not hold.
        text = piece.lstrip(" ")
        shift = len(piece) - len(text)
        offset = source.rfind(text) if text else -1
    return line, max(offset, 0) + max(pos - start - shift, 0) + 1


def _record(state: StateInline, link: Link) -> None:
    state.env.setdefault(LINKS_ENV_KEY, []).append(link)


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    embed = src.startswith("![[", pos)
    if not embed and not src.startswith("[[", pos):
        return False
    start = pos + (3 if embed else 2)
    close = src.find("]]", start, state.posMax)
    if close < 0:
        return False
    inner = src[start:close]
    if "\n" in inner or "[[" in inner:
        return False
    line, column = _position(state, pos)
    link = parse_wiki_inner(inner, embed=embed, line=line, column=column)
    if link is None:
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.content = inner
        token.meta = {"link": link}
        _record(state, link)
    state.pos = close + 2
    return True


def _comment_inline_rule(state: StateInline, silent: bool) -> bool:
    """``%% ... %%``: only its wiki links count; an unclosed comment runs to
    the end of the block."""
    src, pos = state.src, state.pos
    if not src.startswith("%%", pos):
        return False
    close = src.find("%%", pos + 2, state.posMax)
    end = state.posMax if close < 0 else close
    if not silent and "[[" in src[pos + 2 : end]:
        for link in comment_links(src, pos + 2, end, lambda offset: _position(state, offset)):
            _record(state, link)
    state.pos = state.posMax if close < 0 else close + 2
    return True


def _comment_block_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A ``%%`` opening a line hides every line up to the closing ``%%``.

    Comments closed on their opening line are left to the inline rule, so
    text after the closing marker is still parsed.
    """
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    if not state.src.startswith("%%", begin):
        return False
    if state.src.find("%%", begin + 2, state.eMarks[start_line]) >= 0:
        return False
    if silent:
        return True
    line = start_line + 1
    while line < end_line:
        first = state.bMarks[line] + state.tShift[line]
        if state.src.find("%%", first, state.eMarks[line]) >= 0:
            line += 1
            break
        line += 1
    src = state.src

    def position(offset: int) -> tuple[int, int]:
        return src.count("\n", 0, offset) + 1, offset - src.rfind("\n", 0, offset)

    for row in range(start_line, line):
        row_start, row_end = state.bMarks[row], state.eMarks[row]
        if "[[" in src[row_start:row_end]:
            for link in comment_links(src, row_start, row_end, position):
                state.env.setdefault(LINKS_ENV_KEY, []).append(link)
    state.line = line
    token = state.push("obsidian_comment", "", 0)
    token.map = [start_line, line]
    return True


def _recording_link_rule(rule: Callable[[StateInline, bool], bool], embed: bool) -> Callable[[StateInline, bool], bool]:
    """Wrap markdown-it's link/image rule to record links to vault files."""

    from markdown_it.helpers import parseLinkLabel

    def wrapped(state: StateInline, silent: bool) -> bool:
        start, first_token = state.pos, len(state.tokens)
        if not rule(state, silent):
            return False
        if silent:
            return True
        wanted = "image" if embed else "link_open"
        for token in state.tokens[first_token:]:
            if token.type == wanted:
                href = token.attrGet("src" if embed else "href")
                label_start = start + 1 if embed else start
                label_end = parseLinkLabel(state, label_start, True)
                text = state.src[label_start + 1 : label_end] if label_end >= 0 else None
                line, column = _position(state, start)
                link = parse_markdown_href(str(href or ""), embed=embed, line=line, text=text, column=column)
                if link is not None:
                    _record(state, link)
                break
        return True

    return wrapped


def _line_aware_inline(links_only: bool) -> Callable[[StateCore], None]:
    """Core rule replacing markdown-it's ``inline``: tells rules their line.

    With ``links_only`` an inline token without ``[`` is not parsed at all:
    every link form starts with one, and skipping prose is most of the speed.
    """

    def inline(state: StateCore) -> None:
        md, env = state.md, state.env
        for token in state.tokens:
            if token.type != "inline":
                continue
            token.children = []
            if links_only and "[" not in token.content:
                continue
            env[_LINE_ENV_KEY] = token.map[0] + 1 if token.map else 1
            md.inline.parse(token.content, md, env, token.children)

    return inline


def obsidian_links_plugin(md: MarkdownIt, *, links_only: bool = False) -> None:
    """Add Obsidian wiki links, embeds and ``%%`` comments to ``md``.

    ``links_only`` trades faithful rendering for speed: prose without ``[``
    is not inline-parsed.  Use it only to extract links.
    """
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.inline.ruler.before("wikilink", "obsidian_comment", _comment_inline_rule)
    for name, embed in (("link", False), ("image", True)):
        rule = md.inline.ruler.__rules__[md.inline.ruler.__find__(name)].fn
        md.inline.ruler.at(name, _recording_link_rule(rule, embed))
    md.block.ruler.before(
        "fence", "obsidian_comment", _comment_block_rule, {"alt": ["paragraph", "blockquote", "list"]}
    )
    md.core.ruler.at("inline", _line_aware_inline(links_only))


def make_markdown_parser(*, lean: bool = False) -> MarkdownIt:
    """A MarkdownIt trimmed to what link, heading and block-id extraction needs.

    Emphasis, entities, tables and typography are off: none of them can
    hide or create a link.  Tables stay paragraphs, which is why the wiki
    rule accepts the ``\\|`` escape everywhere.  ``lean`` also drops setext
    headings, thematic breaks and reference definitions: ~30% faster, and
    exact for text without lines that could be one (see ``needs_full_parser``).
    """
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    # commonmark's maxNesting of 20 drops list items nested ~10 deep; Obsidian
    # has no such limit.  Each level costs the parser about two Python frames
    # (a quote or list nested ~490 deep exceeds the default recursion limit of
    # 1000), so 300 keeps lists to 150 levels and quotes to 300 with room to spare.
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    md.disable(["table", "replacements", "smartquotes", "text_join", "linkify"], ignoreInvalid=True)
    md.disable(["newline", "emphasis", "strikethrough", "entity", "autolink"], ignoreInvalid=True)
    md.inline.ruler2.disable(["balance_pairs", "strikethrough", "emphasis", "fragments_join"], ignoreInvalid=True)
    if lean:
        md.disable(["lheading", "hr", "reference"])
    note_front_matter_plugin(md)
    # Obsidian has footnotes: without the plugin "[^1]: Smith" would be a
    # reference definition turning every "[^1]" into a link to "Smith".
    footnote_plugin(md)
    dollarmath_plugin(md, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)
    obsidian_links_plugin(md, links_only=True)
    md.inline.terminator_re = _LINK_TERMINATORS
    _note_nesting_cut(md)
    return md


def _note_nesting_cut(md: MarkdownIt) -> None:
    """Record where markdown-it stops reading for nesting past ``maxNesting``.

    Its block tokenizer then skips the rest of the container without a word
    ("we should not care about content"), so links there would vanish from
    the check unreported.  The level cannot change within one call, so a
    check on entry sees every cut.
    """
    tokenize = md.block.tokenize
    limit = md.options["maxNesting"]

    def noting_cuts(state: StateBlock, start_line: int, end_line: int) -> None:
        if state.level >= limit:
            line = state.skipEmptyLines(start_line)
            if line < end_line and state.sCount[line] >= state.blkIndent:
                state.env.setdefault(NESTING_CUT_ENV_KEY, line)
        tokenize(state, start_line, end_line)

    md.block.tokenize = noting_cuts


def note_front_matter_plugin(md: MarkdownIt) -> None:
    """mdit-py-plugins' front matter, only for a block that starts the note.

    Its rule tests the document's first character and the block's first
    line, not where the block starts: "- ---" opened front matter inside a
    list item.  Obsidian reads properties only from a "---" that starts the note.
    """
    from mdit_py_plugins.front_matter import front_matter_plugin

    front_matter_plugin(md)
    rule = md.block.ruler.__rules__[md.block.ruler.__find__("front_matter")]
    plugin_rule = rule.fn

    def at_note_start(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if state.bMarks[start_line] + state.tShift[start_line] != 0:
            return False
        return plugin_rule(state, start_line, end_line, silent)

    md.block.ruler.at("front_matter", at_note_start, {"alt": list(rule.alt)})


# A line that, after container markers, could be a setext underline or a
# thematic break; or a reference definition anywhere.
_FULL_PARSER_RE = re.compile(r"^[ \t>*+\-0-9.)]*?(?:=+|-+|(?:[*_-][ \t]*){3,})[ \t]*$|\]:", re.MULTILINE)


def needs_full_parser(text: str) -> bool:
    """Whether the lean parser could miss a setext heading, break or reference."""
    return _FULL_PARSER_RE.search(text) is not None


_PARSERS: dict[bool, MarkdownIt] = {}
MAX_NESTING = 300
# The levels MAX_NESTING reads: a list level opens a list and an item, a quote level one
# quote, and the innermost block needs a level of its own.
MAX_LIST_LEVELS, MAX_QUOTE_LEVELS = MAX_NESTING // 2 - 1, MAX_NESTING - 1


def shared_parser(lean: bool = False) -> MarkdownIt:
    """One parser per process and kind: building one costs more than parsing a note."""
    parser = _PARSERS.get(lean)
    if parser is None:
        parser = _PARSERS[lean] = make_markdown_parser(lean=lean)
    return parser


def parse_links(text: str) -> list[Link]:
    """All links and embeds in ``text``, in document order."""
    env: dict = {SOURCE_ENV_KEY: text.split("\n")}
    shared_parser().parse(text, env)
    return sorted(env.get(LINKS_ENV_KEY, []), key=lambda link: (link.line, link.column))
