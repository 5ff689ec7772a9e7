"""The strict front matter reader declines or agrees exactly with PyYAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from generator.cli import app
from generator.lint import fastyaml
from generator.lint.frontmatter import key_lines, load_yaml, plain_data

# Scalars whose YAML 1.1 meaning is tricky, with what PyYAML makes of them
# in mind: bools, nulls, ints in several bases, floats, sexagesimals, dates,
# times, quotes, comments, indicators, unicode.
TRICKY = [
    "yes", "No", "ON", "off", "y", "n", "true", "False", "~", "null", "Null", "NULL", "",
    "0", "7", "007", "1_000", "-3", "+4", "0x1F", "0o17", "0b101", "1e3", "1.5", "4.25", "10.0", "1.", "1.5e3", "1_0.5", ".5", "[]", "[ ]", "[] #c", "{}", ".inf", ".NaN",
    "12:30", "1:2:3", "190:20:30", "2024-05-01", "2024-5-1", "2024-13-45", "2024-02-30", "2024-05-01 10:30",
    "2024-05-01T10:30:00Z", '"quoted"', '"a #b"', '"a\\"b"', '"[[X]]"', "'it''s'", "'x'", "'['", "\"it's\"",
    "it's", 'say "hi"', "a #b", "a#b", "a: b", "a:b", "a:", "http://x.y/z?q=1&r=2#f", "[[X]]", "[a, b]",
    "{a: 1}", "{{date}}", "x {{date}}", "&anchor", "*alias", "!tag x", "!!str 1", "|", ">", "%x", "@x",
    "`x`", "-x", "- x", "-", "?x", ":x", ",x", "<<", "=", "café", "Ünïcode ✓", "中文", "a\u3000b",
    "\u3000", "x\xa0", "trailing  ", "  lead", "a\tb", "a\u2028b", "\ufeffx", "x\x85y", "#c", ". dot", "...",
]
KEYS = ["tags", "aliases", "up", "related", "my key", "yes", "1", "~", "x#y", "k:v", "'q'", '"dq"', "-k", "?k",
        "café", "2024-05-01", "a b ", "...", ".k", "<<", "null", "Key", "ключ", "\u3000k"]
SEPARATORS = [": ", ":", ":  ", " : ", ":\t"]


def _typed(value: Any) -> Any:
    """``value`` with every type spelled out: True == 1 must not pass."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, value)


def _full(content: str, first_line: int) -> Any:
    """What the full path gives, or the exception it raises."""
    try:
        return _typed((plain_data(load_yaml(content)), key_lines(content, first_line)))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        return exc


def _check(content: str) -> bool:
    fast = fastyaml.read(content, 2)
    if fast is None:
        return False
    assert _typed(fast) == _full(content, 2), content
    return True


# Common rows are drawn as often as tricky ones: a front matter is accepted
# only when every row is, and the test must see many accepted ones.
COMMON = ["project", "topic/threads", "café", "2024-05-01", "yes", "5", "4.5", "[]", '"[[X]]"', "'it''s'", "a b  "]
scalars = st.sampled_from(COMMON) | st.sampled_from(COMMON) | st.sampled_from(TRICKY) | st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
keys = st.sampled_from(["tags", "up", "my key"]) | st.sampled_from(KEYS)
items = st.tuples(st.sampled_from(["  ", "", "  ", "    ", " "]), st.sampled_from(["- ", "- ", "-  ", "-", "- - "]), scalars)
# Rows as (key, text); front matters mostly have distinct keys (duplicates
# still come from keys such as "yes" and "True"-like spellings).
pairs = st.tuples(keys, st.sampled_from([": ", ": "] + SEPARATORS), scalars).map(lambda r: (r[0], "".join(r)))
lists = st.tuples(keys, st.sampled_from([":", ": ", ":  "]), st.lists(items, min_size=1, max_size=3)).map(
    lambda r: (r[0], r[0] + r[1] + "".join("\n" + "".join(item) for item in r[2]))
)
specials = st.sampled_from(["", "  ", "# comment", "  # indented comment", "key: value # comment", "  continued", "---", "..."])
rows = st.one_of(pairs, pairs, lists, lists, specials.map(lambda text: (text, text)))
front_matters = st.lists(rows, min_size=1, max_size=4, unique_by=lambda row: row[0]).map(lambda rs: "\n".join(text for _, text in rs))
# Well-formed rows of printable text, so that the scalars decide.
printable = st.sampled_from(COMMON) | st.sampled_from(TRICKY) | st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=6)
shaped = st.one_of(
    st.tuples(keys, printable).map(lambda r: (r[0], f"{r[0]}: {r[1]}")),
    st.tuples(keys, st.sampled_from(["  ", ""]), st.lists(printable, min_size=1, max_size=3)).map(
        lambda r: (r[0], r[0] + ":" + "".join(f"\n{r[1]}- {item}" for item in r[2]))
    ),
)
shaped_front_matters = st.lists(shaped, min_size=1, max_size=4, unique_by=lambda row: row[0]).map(lambda rs: "\n".join(text for _, text in rs))


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(front_matters | shaped_front_matters)
def test_reader_declines_or_agrees_with_pyyaml(content: str) -> None:
    _check(content)


@pytest.mark.parametrize("value", TRICKY)
@pytest.mark.parametrize("form", ["key: {}", "key:\n  - {}", "key:\n- {}\n- b", "{}: x"])
def test_each_tricky_scalar_declines_or_agrees(form: str, value: str) -> None:
    _check(form.format(value))


@pytest.mark.parametrize(
    "content",
    [
        'tags:\n  - concurrency\n  - topic/threads\nup: "[[Note 1]]"\nrelated:\n  - "[[A]]"\n  - \'[[B]]\'\n'
        "source: https://example.com/post?id=7&lang=en\ncreated: 2024-05-01",
        "aliases:\n- one\n- two\ndraft: false\nrating: 5\nscore: 4.5\ncssclasses: []\nempty:\nnothing: ~\n\ntitle: It's a \"title\"",
        "Date created: 2024-5-1\nstatus: in progress\ncafé: naïve ✓",
    ],
)
def test_reader_takes_typical_front_matter(content: str) -> None:
    assert _check(content)


def test_invalid_date_is_text_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "A.md").write_text("---\ncreated: 2024-02-30\ntags: [2024-13-45]\n---\n[[A]]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--no-cache", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output
    assert plain_data(load_yaml("created: 2024-02-30")) == {"created": "2024-02-30"}
