"""The flat shape of the fast path (generator.lint.scan_flat): where it answers, it
gives exactly what markdown-it gives; where a neighbour's block state decides,
it declines and the line loop (or markdown-it) takes the note."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from generator.lint.notefacts import NoteFacts, parse_note_text, with_heading_block_ids
from generator.lint.scan_flat import scan_flat
from tests.test_links import BLOCK_ROWS, FURNITURE_ROWS, rows_note


def _reference(body: str) -> tuple:
    facts: NoteFacts = parse_note_text(body, quick=False)
    return facts.links, facts.headings, facts.block_ids


def _as_parsed(found: tuple) -> tuple:
    """A flat answer as ``parse_note_text`` completes it: with the ids that close headings."""
    links, headings, block_ids = found
    return links, headings, with_heading_block_ids(block_ids, headings)


# Shapes a realistic note holds at once; each must be answered flat.
ANSWERED = [
    "# T\n\nText [[A]]\n\n```python\nx = '[[Decoy]]'\n```\nAfter ^blk\n",
    "Para\n\n> [!note] Title [[Q]]\n> body `c` [[Q2#H]]\n\nNext [[N]]\n",
    "See [^1] here.\n\n[^1]: Note [[F]] `c` [[G]]\n\nEnd\n",
    "- item [[L]]\n  - nested `code` [[N]]\n    - deeper `c` [[D]] ^nb\n- next\n",
    "%%\n[[Hidden]] and [[Also#H]]\n%%\n\nText\n",
    "<!-- TODO: `fix` the [[Decoy]] list -->\nText [[A]]\n",
    "## `hasTag()` and [[L]]\n\n| a | [[T\\|t]] | 1 |\n| --- | --- |\n",
    "Text $x$ [[M]] and `[[code]]`\nSee [d](Some%20Note.md) [u](https://e.com/?a&b)\n",
    "## H\n$$\nx [[Math]]\n$$\n",
    "# Variant 2 ^variant2\n\nSee [[#^variant2]]\n",  # the heading's id is added as parse_note_text adds it
    "## H ##]]^b",  # found by the agreement test: no closing sequence, so the id closes the text
]


@pytest.mark.parametrize("body", ANSWERED)
def test_realistic_shapes_are_answered_flat_and_exactly(body: str) -> None:
    found = scan_flat(body, 1)
    assert found is not None
    assert _as_parsed(found) == _reference(body)


DECLINED = [
    "Para\n$$\nx\n$$\n",  # math cannot interrupt a paragraph: inline math, maybe
    "Para\n> quote [[Q]]\n",  # a quote right after a paragraph line
    "> quote\nlazy [[L]]\n",  # a lazy continuation line
    "Para\n\n    code [[C]]\n",  # indented code after a blank line
    "# H\n    code [[C]]\n",  # indented code after a heading
    "- a\n  ```\n  [[C]]\n  ```\n",  # a fence inside a list item
    "- a\n\tb [[T]]\n",  # a tab
    "[^1]: Note [[F]]\nmore\n",  # a footnote that goes on
    "Text `open\nmore [[L]]` close\n",  # a code span across lines
    "Text `c` [d](Some%20Note.md)\n",  # code and a Markdown link on one line: its label may hold code
    "> <!-- [[h]] -->[[A]]",  # an HTML block opening a quote's first row, the note's first row
    "[r]: X.md[[A]]`[[code]]`",  # a reference definition whose destination holds code
    "- [r]: X.md[[A]]",  # a reference definition opening a list item (found by the agreement test)
    "1. [r]: X.md[[A]]\n",
]


@pytest.mark.parametrize("body", DECLINED)
def test_block_state_is_left_to_the_line_loop(body: str) -> None:
    assert scan_flat(body, 1) is None
    assert parse_note_text(body) == parse_note_text(body, quick=False)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(rows_note(FURNITURE_ROWS + BLOCK_ROWS, 24, [], 3))
def test_flat_answers_agree_with_markdown_it(body: str) -> None:
    found = scan_flat(body, 1)
    if found is not None:
        assert _as_parsed(found) == _reference(body)


def test_a_label_close_after_a_link_is_no_link_and_no_hang() -> None:
    """A "](" after a Markdown link, with no "[" of its own since, closes no label."""
    body = "See [a](A.md) and ](B.md) `c`\n"
    assert parse_note_text(body) == parse_note_text(body, quick=False)
