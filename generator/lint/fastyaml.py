"""A strict reader for the front matter nearly every note has.

PyYAML builds its objects in Python even with libyaml parsing, ~50 us for a
six-line front matter; this reader takes a few.  It accepts only a subset
whose meaning is plain: top-level ``key: scalar``, ``key: []`` and ``key:``
followed by a block list of ``- scalar``, where a scalar is one line, plain
(classified by PyYAML's own resolver: text, null, a bool, a decimal int or
float, a date), or quoted without escapes.  Anything else (comments, anchors, tags, flow
collections, multi-line or block scalars, tabs, duplicate keys, floats,
times...) makes it decline, and the caller falls back to the full loader.
A hypothesis test holds it to that loader's answers.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

# Not plain text for YAML: tabs, other control characters, the line breaks
# PyYAML and libyaml know besides "\n" (NEL, U+2028/9), BOMs, non-characters.
_UNUSUAL_RE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# A plain scalar cannot start with these (PyYAML's check_plain); "-", "?" and
# ":" may when a non-space follows, but are rare enough to decline.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_DECIMAL_RE = re.compile(r"0|[1-9][0-9]*")
_FLOAT_RE = re.compile(r"[0-9]+\.[0-9]+")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
# Longer front matter is rare and may near plain_data's node budget.
_MAX_ROWS = 500
# PyYAML and libyaml refuse implicit keys past 1024 characters.
_MAX_KEY = 128

_STR = "tag:yaml.org,2002:str"
_DECLINE = object()
_EMPTY_LIST = object()  # "key: []", common in templates; each note gets its own list
_RESOLVERS: dict[Any, list] | None = None
_BOOLS: dict[str, bool] = {}


def _load_resolvers() -> dict[Any, list]:
    global _RESOLVERS
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    _BOOLS.update(SafeConstructor.bool_values)
    _RESOLVERS = Resolver.yaml_implicit_resolvers
    return _RESOLVERS


def _plain(text: str) -> Any:
    """The value of a plain scalar as SafeLoader and plain_data give it, or _DECLINE."""
    resolvers = _RESOLVERS if _RESOLVERS is not None else _load_resolvers()
    # Resolver.resolve: by first character, then the wildcard list.
    tag = _STR
    for candidate, regexp in resolvers.get(text[0], []) + resolvers.get(None, []):
        if regexp.match(text):
            tag = candidate
            break
    if tag == _STR:
        return text
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _BOOLS.get(text.lower(), _DECLINE)
    if tag == "tag:yaml.org,2002:int" and _DECIMAL_RE.fullmatch(text):
        return int(text)
    if tag == "tag:yaml.org,2002:float" and _FLOAT_RE.fullmatch(text):
        return float(text)
    date = _DATE_RE.fullmatch(text) if tag == "tag:yaml.org,2002:timestamp" else None
    if date is not None:
        try:
            return _dt.date(int(date[1]), int(date[2]), int(date[3])).isoformat()
        except ValueError:
            return _DECLINE
    return _DECLINE


def _scalar(text: str) -> Any:
    """A one-line value with its leading spaces removed, or _DECLINE."""
    first = text[0]
    if first == '"':
        end = text.find('"', 1)
        if end < 0 or text[end + 1 :].strip(" ") or "\\" in text[1:end]:
            return _DECLINE
        return text[1:end]
    if first == "'":
        end = text.find("'", 1)
        while end >= 0 and text[end + 1 : end + 2] == "'":
            end = text.find("'", end + 2)
        if end < 0 or text[end + 1 :].strip(" "):
            return _DECLINE
        return text[1:end].replace("''", "'")
    if first in _INDICATORS:
        return _EMPTY_LIST if text.rstrip(" ") == "[]" else _DECLINE
    text = text.rstrip(" ")
    if ": " in text or text.endswith(":") or " #" in text:
        return _DECLINE
    return _plain(text)


def _key(text: str) -> bool:
    """A key the full path reads as this very text (and key_lines finds)."""
    return (
        0 < len(text) <= _MAX_KEY
        and text[0] not in _INDICATORS
        and text[0] != "."  # "..." ends the YAML document
        and text.strip() == text
        and "#" not in text
        and _plain(text) == text
    )


# What one row says: (_ITEM, indent, value), (_PAIR, key, value),
# (_OPEN, key, None) for "key:" alone, (_BLANK, ...), or None to decline.
_BLANK, _ITEM, _PAIR, _OPEN = range(4)
_BLANK_ROW = (_BLANK, None, None)


def _row(row: str) -> tuple[int, Any, Any] | None:
    if not row.strip(" "):
        return _BLANK_ROW
    stripped = row.lstrip(" ")
    if stripped[0] == "-" and stripped[1:2] in ("", " "):
        text = stripped[1:].lstrip(" ")
        value = _scalar(text) if text else _DECLINE
        return None if value is _DECLINE or value is _EMPTY_LIST else (_ITEM, len(row) - len(stripped), value)
    if len(stripped) != len(row):
        return None  # indented, not a list item: a nested or multi-line value
    colon = row.find(":")
    if colon < 0 or row[colon + 1 : colon + 2] not in ("", " ") or not _key(row[:colon]):
        return None
    text = row[colon + 1 :].lstrip(" ")
    if not text:
        return (_OPEN, row[:colon], None)
    value = _scalar(text)
    return None if value is _DECLINE else (_PAIR, row[:colon], value)


# Rows repeat across a vault's notes ("tags:", "  - project", "created: ...").
_rows: dict[str, tuple[int, Any, Any] | None] = {}


def read(content: str, first_line: int) -> tuple[dict[str, Any], dict[str, int]] | None:
    """(properties, key -> line) as ``front_matter`` gives them, or None to decline."""
    if _UNUSUAL_RE.search(content):
        return None
    rows = content.split("\n")
    if len(rows) > _MAX_ROWS:
        return None
    properties: dict[str, Any] = {}
    lines: dict[str, int] = {}
    open_key: str | None = None  # a key with no value yet: its list may follow
    items: list | None = None
    indent = -1
    cache = _rows
    for offset, row in enumerate(rows):
        parsed = cache.get(row)
        if parsed is None and row not in cache:
            parsed = _row(row)
            if len(cache) >= 8192:
                cache.clear()
            cache[row] = parsed
        if parsed is None:
            return None
        kind, what, value = parsed
        if kind == _ITEM:
            if open_key is None:
                return None  # after "key: value" an item line continues the value
            if items is None:
                items, indent = [], what
                properties[open_key] = items
            elif what != indent:
                return None
            items.append(value)
        elif kind != _BLANK:
            if what in properties:
                return None
            lines[what] = first_line + offset
            properties[what] = [] if value is _EMPTY_LIST else value
            open_key, items = (what, None) if kind == _OPEN else (None, None)
    return (properties, lines) if lines else None  # blank: YAML reads None, front_matter {}
