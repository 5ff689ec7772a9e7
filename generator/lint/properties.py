"""Front matter (Obsidian "properties") problems of one note.

Obsidian 1.4 deprecated the singular keys ``tag``, ``alias`` and
``cssclass`` and 1.9 stopped reading them (its help, "Deprecated
properties"); it writes ``tags``, ``aliases`` and ``cssclasses`` as lists.
Tags may not contain spaces or be only digits, and an unquoted ``[[Note]]``
is YAML for a nested list, not a link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Literal

from generator.lint.notefacts import NoteFacts

LIST_KEYS = ("tags", "aliases", "cssclasses")
SINGULAR_KEYS = {"tag": "tags", "alias": "aliases", "cssclass": "cssclasses"}
_KEYS_TO_CHECK = frozenset(LIST_KEYS) | frozenset(SINGULAR_KEYS)


# (code, severity, line, message, property, suggestion): check turns these into Findings.
Problem = tuple[str, Literal["error", "warning"], "int | None", str, "str | None", "str | None"]


def _nested_link(value: Any) -> str | None:
    """``[[X]]`` as YAML reads it unquoted: [["X"]]; return "[[X]]" then."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        inner = value[0]
        if len(inner) == 1 and isinstance(inner[0], str):
            return f"[[{inner[0]}]]"
        return "[[…]]"
    return None


def _unquoted_links(key: str, value: Any) -> Iterator[str]:
    link = _nested_link(value)
    if link is not None:
        yield f'property "{key}" holds {link} unquoted, which YAML reads as a nested list; write {key}: "{link}"'
    elif isinstance(value, list):
        for item in value:
            link = _nested_link(item)
            if link is not None:
                yield f'property "{key}" has an unquoted {link} item, which YAML reads as a nested list; quote it: - "{link}"'


def _tag_words(text: str) -> list[str]:
    """The tags in a text ``tags`` value: Obsidian splits it at commas and spaces, "#" optional."""
    return [word.lstrip("#") for word in re.split(r"[,\s]+", text) if word.lstrip("#")]


# A flow-list item that YAML reads back as the same text without quotes, unless YAML reads it
# as a boolean, null or number.
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "~"})
_NUMBER_RE = re.compile(r"[-+]?[\d_.]+(?:[eE][-+]?\d+)?|0[xob][\da-fA-F_]+")
_PLAIN_ITEM_RE = re.compile(r"[A-Za-z0-9_][\w/.-]*(?: [\w/.-]+)*")


def _flow_item(text: str) -> str:
    """``text`` as an item of a YAML flow list: plain where that reads back the same, else
    double-quoted (a JSON string is a YAML double-quoted scalar)."""
    plain = _PLAIN_ITEM_RE.fullmatch(text) and text.lower() not in _YAML_WORDS and not _NUMBER_RE.fullmatch(text)
    return text if plain else json.dumps(text, ensure_ascii=False)


def _tag_problems(tags: list) -> Iterator[str]:
    for tag in tags:
        if type(tag) is str and not tag.isdigit() and len(tag.split(None, 1)) == 1:
            if tag[0] != "#" or not tag.lstrip("#").isdigit():
                continue  # the usual tag: no space, not only digits
        if isinstance(tag, (int, float)) and not isinstance(tag, bool):
            tag = str(tag)
        if not isinstance(tag, str):
            continue  # nested lists are reported as unquoted links
        name = tag.lstrip("#")
        if len(name.split()) > 1:  # whitespace inside the name
            yield f'tag "{tag}" contains a space; Obsidian tags cannot, use "{"-".join(name.split())}"'
        elif name.isdigit():
            yield f'tag "{tag}" is only digits; Obsidian needs one non-digit, e.g. "y{name}"'


def property_problems(facts: NoteFacts) -> Iterator[Problem]:
    """Every property problem of a note, in front matter order per key."""
    if facts.yaml_too_complex is not None:
        message, line = facts.yaml_too_complex
        yield ("yaml-too-complex", "error", line, f"front matter not read: it {message}; Obsidian cannot show it as properties", None, None)
        return
    if facts.yaml_error is not None:
        message, line = facts.yaml_error
        yield ("yaml-error", "error", line, f"front matter is not valid YAML ({message}); fix the syntax or Obsidian ignores all properties", None, None)
        return
    for line in facts.template_lines or ():
        yield ("template-syntax", "warning", line, "unquoted {{…}} template variable: Obsidian reads it as an object until a template fills it; quote it if the note is not a template", None, None)
    props = facts.properties
    if props is None:
        return
    if not isinstance(props, dict):
        yield ("invalid-property", "error", 1, "front matter is not a list of key: value properties; write one key: value per line", None, None)
        return
    lines = facts.property_lines
    for key, value in props.items():
        # Most properties have no problem: cheap tests first (~10^4 notes a run).
        if key not in _KEYS_TO_CHECK and (type(value) is not list or not any(type(item) is list for item in value)):
            continue
        line = lines.get(key)
        if key in SINGULAR_KEYS:
            plural = SINGULAR_KEYS[key]
            yield ("invalid-property", "warning", line, f'"{key}" was deprecated in Obsidian 1.4 and is not read since 1.9; rename it to "{plural}" as a list', key, plural)
        for message in _unquoted_links(key, value):
            yield ("invalid-property", "error", line, message, key, None)
        if key not in LIST_KEYS or value is None:
            continue
        if isinstance(value, str):
            items = _tag_words(value) if key == "tags" else [value]
            listed = f"{key}: [{', '.join(map(_flow_item, items))}]"
            yield ("invalid-property", "warning", line, f'"{key}" is text, not the list Obsidian writes; write {listed} or one "- item" per line', key, listed)
        elif not isinstance(value, list):
            yield ("invalid-property", "error", line, f'"{key}" must be a list of text, not {type(value).__name__}', key, None)
        elif key == "tags":
            for message in _tag_problems(value):
                yield ("invalid-property", "error", line, message, key, None)
