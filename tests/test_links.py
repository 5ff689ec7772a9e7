"""Link grammar: golden cases per form, hidden contexts, and property tests."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.lint.links import Link
from generator.lint.mdplugin import SOURCE_ENV_KEY, make_markdown_parser, needs_full_parser, parse_links
from generator.lint.notefacts import parse_note_text
from generator.lint.quickscan import scan


def only(text: str) -> Link:
    links = parse_links(text)
    assert len(links) == 1, links
    return links[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[T]]", Link("T", 1)),
        ("[[T|text]]", Link("T", 1, display="text")),
        ("[[T#H]]", Link("T", 1, heading=["H"])),
        ("[[T#H1#H2]]", Link("T", 1, heading=["H1", "H2"])),
        ("[[#H]]", Link("", 1, heading=["H"])),
        ("[[T#^id-1]]", Link("T", 1, block="id-1")),
        ("[[folder/T]]", Link("folder/T", 1)),
        ("[[T.md]]", Link("T.md", 1)),
        ("![[T]]", Link("T", 1, embed=True)),
        ("![[img.png|200]]", Link("img.png", 1, embed=True, width=200)),
        ("![[img.png|200x100]]", Link("img.png", 1, embed=True, width=200, height=100)),
        ("| [[T\\|text]] | 1 |", Link("T", 1, 3, display="text")),
        ("[text](Some%20Note.md)", Link("Some Note.md", 1, kind="markdown", display="text")),
        ("[t](<Some Note.md#Part%20Two>)", Link("Some Note.md", 1, kind="markdown", heading=["Part Two"], display="t")),
        ("![x](pic.png)", Link("pic.png", 1, kind="markdown", embed=True, display="x")),
    ],
)
def test_link_forms(text: str, expected: Link) -> None:
    assert only(text) == expected


def test_alias_property_mirrors_display() -> None:
    assert only("[[T|shown]]").alias == "shown"


@pytest.mark.parametrize(
    "text",
    [
        "[x](https://example.com/Note.md)",
        "[x](mailto:a@b.c)",
        "`[[T]]`",
        "```\n[[T]]\n```",
        "~~~md\n[[T]]\n~~~",
        "para\n\n    [[T]] indented code",
        "math $a [[T]] b$ here",
        "$$\n[[T]]\n$$",
        "<!-- [[T]] -->",
        "text <!-- [[T]]\nmore --> end",
        "\\[[T]]",
        "[[]]",
        "---\nup: '[[T]]'\n---\n",
    ],
)
def test_hidden_or_not_links(text: str) -> None:
    assert parse_links(text) == []


def test_text_after_comment_and_code_still_parsed() -> None:
    text = "a %% hidden %% [[A]] `x` [[B]]\n\n```\n[[C]]\n```\n[[D]]"
    assert [(l.target, l.line) for l in parse_links(text)] == [("A", 1), ("B", 1), ("D", 6)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hidden %% [[D]] %% comment.\n", [("D", 1, 11)]),
        ("%%\n[[D]]\n\nstill `hidden` ![[E]]\n%%\n[[F]]\n", [("D", 2, 1), ("E", 4, 16), ("F", 6, 1)]),
        ("a %% `[[D]]` %% b\n", [("D", 1, 7)]),
    ],
)
def test_links_in_comments_count_like_obsidian(text: str, expected: list) -> None:
    """Obsidian's metadata cache keeps links inside %% comments (README: linter)."""
    assert scan(text) is not None
    for facts in (parse_note_text(text), parse_note_text(text, quick=False)):
        assert [(link.target, link.line, link.column) for link in facts.links] == expected


def test_line_numbers_count_front_matter_lists_and_quotes() -> None:
    text = "---\ntags: [a]\n---\n# Title [[H]]\n\n- one\n- two [[L]]\n\n> quote\n> [[Q]]\n\npara\ncontinued [[P]]\n"
    assert [(l.target, l.line) for l in parse_links(text)] == [("H", 4), ("L", 7), ("Q", 10), ("P", 13)]


def test_parser_emits_wikilink_tokens() -> None:
    tokens = make_markdown_parser().parse("see [[T#H|x]]")
    children = tokens[1].children
    assert [t.type for t in children if t.type == "wikilink"] == ["wikilink"]
    assert next(t for t in children if t.type == "wikilink").meta["link"].heading == ["H"]


# -- property tests -----------------------------------------------------------

@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    parse_links(text)
    parse_note_text(text)


NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9 ]{0,10}[A-Za-z0-9]", fullmatch=True)
WORD = st.from_regex(r"[A-Za-z0-9,.]{1,8}", fullmatch=True)


@st.composite
def plain_note(draw) -> str:
    """Prose with wiki links: no code, math, comments, escapes or Markdown links."""
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        parts = []
        for _ in range(draw(st.integers(0, 5))):
            if draw(st.booleans()):
                bang = draw(st.sampled_from(["", "!"]))
                alias = draw(st.sampled_from(["", "|shown", "|200"]))
                parts.append(f"{bang}[[{draw(NAME)}{alias}]]")
            else:
                parts.append(draw(WORD))
        lines.append(" ".join(parts))
        if draw(st.booleans()):
            lines.append("")
    return "\n".join(lines)


_REFERENCE_RE = re.compile(r"(!?)\[\[([^\[\]\n|]+)(?:\|([^\[\]\n]*))?\]\]")


def reference_links(text: str) -> list[tuple[str, int, bool]]:
    """The simplest extractor, valid only for plain text."""
    found = []
    for number, row in enumerate(text.split("\n"), start=1):
        for match in _REFERENCE_RE.finditer(row):
            found.append((match.group(2).strip(), number, match.group(1) == "!"))
    return found


@settings(max_examples=200)
@given(plain_note())
def test_agrees_with_reference_on_plain_text(text: str) -> None:
    assert [(l.target, l.line, l.embed) for l in parse_links(text)] == reference_links(text)


SNIPPETS = [
    "[[A]]", "[[B|b]]", "![[c.png|20x10]]", "[[C#H1#H2]]", "[[#Self]]", "[[D#^blk]]",
    "[m](Some%20Note.md)", "[m](<A B.md>)", "![i](p.png)", "[x](https://e.com)", "| [[T\\|t]] | 1 |",
    "^blk", "]]^b", "![[i.png]]^im", "`[[code]]`", "$[[m]]$", "%% [[c]] %%", "<!-- [[h]] -->", "\\[[e]]", "[[[x]]]",
    "[a][b]", "[a [[n]]](x.md)", "[[a]](x.md)", "word", "# ", "  ", "- ", "1. ", "> ", "    ", "\t",
    "---", "===", "```", "~~~", "%%", "$$", "<div>", "***", "[r]: X.md", "#", "## H ##", "^x",
    "``", "`a`", "``b`c``", "$a$", "$$a$$", "$ a$", "$a $", "1$a$", "$a$2", "\\$", "$", "%% a", "a %%",
    "<!--", "-->", "<!-- a -->", "<!-- a - b -->", "<!-->", "<x>", "< 3", "    ", "- ", "1. ",
    "[![b](https://i.io/x?a=1&b=2)](https://e.com/?q&r)", "[u](https://e.com/?a=1&b=2)", "[v](A&amp;B.md)",
    "> ", ">", "> [!note] T", "[^1]", "[^1]: x", "^[i]", "&", "## What is it?", "### `hasTag()`", "# Setup & Vault",
]


@st.composite
def tricky_note(draw) -> str:
    rows = []
    if draw(st.booleans()):
        rows += ["---", draw(st.sampled_from([
            "tags: [a]", "aliases: x", "bad: a: b", "", 'up: "[[A#What is it]]"', 'rel:\n  - "[[B|b]]"\n  - "[[Gone]]"',
            "created: {{date}}", "x: &a [*a]",
        ])), "---"]
    for _ in range(draw(st.integers(1, 10))):
        rows.append("".join(draw(st.lists(st.sampled_from(SNIPPETS), max_size=5))))
    return "\n".join(rows)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(tricky_note())
def test_fast_path_agrees_with_markdown_it(text: str) -> None:
    assert parse_note_text(text) == parse_note_text(text, quick=False)


# Rows that open, fill and close code, math and comment blocks, to mix with
# the inline snippets: the fast path skips such blocks itself.
BLOCK_ROWS = [
    "```", "```py", "````", "~~~", "~~~~ x", "  ```", "``` `x`", "%%", "%% x", "x %%", "$$", "$$ x", "x $$",
    "$$ a $$", "$$ a $$ b", "<!--", "<!-- x", "x -->", "<!-- x --> [[L]]", "    [[I]]", "    code", "\t[[T]]",
    "", "", "- item [[L]]", "1. item", "# Head `c` [[H]]", "## $m$ [[H]]", "text ^blk", "para [[P]]",
    "[^1]: Note [[F]]", "[^n]: Text `c` [[F]] $m$", "[^2]:[[F]]", "x [^1] y",     "> [!note] Callout [[Q]]", "> text `c` [[Q#H]] ^qb", ">", "> - item [[Q]]", "  - nested [[N]]", "    - deeper [[N]]",
]


def rows_note(pool: list[str], max_rows: int, front: list[str], odds: int) -> st.SearchStrategy[str]:
    """Notes of up to ``max_rows`` rows, drawn from ``pool`` with odds
    ``odds`` to one, else made of inline snippets; maybe with ``front`` first."""

    @st.composite
    def note(draw) -> str:
        rows = list(front) if draw(st.booleans()) else []
        for _ in range(draw(st.integers(1, max_rows))):
            if draw(st.integers(0, odds)):
                rows.append(draw(st.sampled_from(pool)))
            else:
                rows.append("".join(draw(st.lists(st.sampled_from(SNIPPETS), max_size=4))))
        return "\n".join(rows)

    return note()


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(rows_note(BLOCK_ROWS, 14, ["---", "tags: [a]", "---"], 2))
def test_fast_path_agrees_on_code_math_and_comments(text: str) -> None:
    assert parse_note_text(text) == parse_note_text(text, quick=False)


# What realistic notes hold, line by line (bench/realistic.py writes such
# notes): runs of prose and blank lines, which the fast path takes a run at a
# time, between callouts, nested lists (headings and code inside items),
# tables, badges, comments with backticks, fences with decoys and footnotes.
FURNITURE_ROWS = [
    "", "", "", "Prose [[A]] and ![[B|20]] here.", "Plain prose line.", "Text ^blk", "Next [[C#H1#H2]] ^b2",
    "| a | [[T\\|t]] | 1 |", "| --- | --- |", "[![b](https://i.io/x?a=1&b=2)](https://e.com/?q&r) text [d](https://d.io/?x&y)",
    "<!-- TODO: `fix` the [[Decoy]] list -->", "> [!note] Title", "> body [[Q]] `c`", "> more", "```python", "x = 1  # [[Decoy]]",
    "```", "- item [[L#What is it]]", "  - nested `code` [[N]]", "    - deeper `c` ^nb", "    # heading in item [[H]]",
    "      # deeper heading", "    > quote in item", "    ***", "  # two-space heading", "1. one", "2. two [t](Some%20Note.md)",
    "## What is it?", "### `hasTag()`", "## Setup & Vault", "See [[X#^B1X1]]. **Bold** _it_ [^1]", "[^1]: Note [[F]]",
    "%% [[Hidden]] %%", "%%", "Trailing `code` [[Z]]", "$x$ [[M]]", "    indented [[I]]", "\t- tab item [[T]]", "\t\t1. deeper `c`", "\tmore ^tb", "\t# tab heading",
    "\t```", "\t> tab quote", " \t- space tab",
]


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(rows_note(FURNITURE_ROWS, 24, ["---", 'up: "[[A]]"', "---"], 3))
def test_fast_path_agrees_on_realistic_furniture(text: str) -> None:
    assert parse_note_text(text) == parse_note_text(text, quick=False)


@pytest.mark.parametrize(
    "text",
    [
        "Inline `[[D]]` code.\n",
        "```python\n# [[D]] not a heading\nx = '[[D]]'\n```\n[[A]]\n",
        "~~~\n[[D]]\n~~~\n",
        "para\n\n    [[D]] indented code\n",
        "Math $a [[D]] b$ inline.\n",
        "$$\n\\text{[[D]]}\n$$\n",
        "<!-- [[D]] -->\n",
        "# Title with `code`\n\nsee [[A]] and ![[B|200]]\n",
    ],
)
def test_fast_path_answers_for_common_hidden_links(text: str) -> None:
    """Notes like these are a quarter of a real vault: markdown-it would be the slow part."""
    facts = scan(text)
    assert facts is not None
    assert parse_note_text(text) == parse_note_text(text, quick=False)
    assert "D" not in [link[0] for link in facts[0]]


@pytest.mark.parametrize("text", ["- a `x`\n    # b [[L]]", "  - a\n      > q [[L]]", "x\n-     [[A]]", "1.     [[A]]", "- <!-- x --> [[y]]", "- ```\n[[A]]", "[^1]: Note [[F]]\n\n    [[I]]"])
def test_code_inside_list_items_is_left_to_markdown_it(text: str) -> None:
    assert scan(text) is None
    assert parse_note_text(text) == parse_note_text(text, quick=False)


FULL, LEAN = make_markdown_parser(), make_markdown_parser(lean=True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(tricky_note())
def test_lean_parser_agrees_with_full_parser(text: str) -> None:
    """The lean parser is only used when no line could need the dropped rules."""
    if not needs_full_parser(text):
        assert [t.type for t in FULL.parse(text)] == [t.type for t in LEAN.parse(text)]
        assert parse_links(text) == _links_with(LEAN, text)


def _links_with(md, text: str) -> list[Link]:
    env: dict = {SOURCE_ENV_KEY: text.split("\n")}
    md.parse(text, env)
    return sorted(env.get("links", []), key=lambda link: (link.line, link.column))


FRONT_MATTER_ROWS = ["---", "--- ", "----", " ---", "   ---", "    ---", "--- -", "---\t--", "...", "... ", "....",
                     " ...", "a: 1", 'up: "[[A]]"', "", "- x", "# H [[B]]", "text ^id"]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRONT_MATTER_ROWS), max_size=8))
def test_front_matter_closes_where_markdown_it_closes_it(rows: list[str]) -> None:
    """A closing row is 3+ dashes after at most 3 spaces, then blanks only:
    "--- -" is content, as it is for mdit-py-plugins' front_matter."""
    text = "\n".join(["---", *rows])
    assert parse_note_text(text) == parse_note_text(text, quick=False)


@pytest.mark.parametrize("text", ["- ---[[A]]\n[[A]]", "> ---\n> a: 1\n---\n[[C]]", "  ---\na: 1\n---\n[[D]]"])
def test_only_a_note_that_starts_with_dashes_has_front_matter(text: str) -> None:
    """mdit-py-plugins' front_matter read "- ---" as front matter inside a list item."""
    facts = parse_note_text(text, quick=False)
    assert facts.properties is None and facts == parse_note_text(text)



@pytest.mark.parametrize("text", ["para\n\n--- -\n    code [[N]]\n", "\n- - -\n    code [[N]]\n", "* * *\n    code [[N]]\n", "___\n    code [[N]]\n"])
def test_a_spaced_rule_ends_the_paragraph_before_indented_code(text: str) -> None:
    facts = parse_note_text(text)
    assert facts == parse_note_text(text, quick=False) and "N" not in [link.target for link in facts.links]


# Rows that decide block structure for their neighbours: rules of each kind,
# indented code after them, lists, quotes, fences, footnotes, tabs.
STRUCTURE_ROWS = [
    "", "", "text [[A]]", "- item [[B]]", "  - sub [[C]]", "    - deep [[D]]", "1. one [[E]]", "   1. x", "> q [[F]]", ">",
    "> - qi [[G]]", "```", "~~~", "    code [[H]]", "# h [[I]]", "## h2 #", "text ^b1", "[[J]] ^b2", "---", "***", "- - -",
    "___", "--- -", "===", "[r]: x.md", "[^1]: fn [[K]]", "%%", "%% c [[L]] %%", "<!--", "-->", "$$", "x $y$ [[M]]",
    "`a` [[N]]", "<div>", "\t- tab [[O]]", " \t x", "| a | [[P\\|p]] |", "[m](Q.md)", "![e](R.png)",
]


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(STRUCTURE_ROWS), min_size=1, max_size=16))
def test_fast_path_agrees_on_block_structure(rows: list[str]) -> None:
    text = "\n".join(rows)
    assert parse_note_text(text) == parse_note_text(text, quick=False)


def test_a_badge_in_a_quoted_heading_keeps_the_heading_text() -> None:
    # Found by the realistic-furniture agreement test: badges are blanked before the scan,
    # and a heading inside a quote kept the blanks as "[" runs.
    text = "> # [![b](https://i.io/x?a=1&b=2)](https://e.com/?q&r)\n"
    assert parse_note_text(text).headings == parse_note_text(text, quick=False).headings
