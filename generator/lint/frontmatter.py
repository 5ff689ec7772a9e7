"""Front matter as Obsidian reads it: YAML to plain data, and the links in it.

Obsidian parses front matter with a JavaScript YAML parser, which accepts a
few things PyYAML refuses: an unquoted template variable such as
``created: {{date}}`` is a flow mapping used as a key, legal YAML that
PyYAML cannot hash.  Here such a key becomes its text, and the note gets a
``template-syntax`` warning instead of "not valid YAML".

Hostile front matter costs one finding, never minutes or gigabytes: the
conversion to plain data counts nodes (shared aliases count every time, so
an alias bomb hits the budget) and nesting depth.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Hashable
from typing import Any

from generator.lint import fastyaml
from generator.lint.links import Link, parse_wiki_inner

# Beyond these a front matter is refused: real ones hold ~10^1 values.
MAX_NODES = 10_000
MAX_DEPTH = 64

_TOP_KEY_RE = re.compile(r"""^(?:"([^"]*)"|'([^']*)'|([^\s#'"\-][^:]*?))[ \t]*:(?:[ \t]|$)""")
_TEMPLATE_RE = re.compile(r"^[ \t]*(?:-[ \t]+)?(?:[^\s#'\"{\[-][^:]*:[ \t]+)?(?:-[ \t]+)?\{\{")
_LINK_VALUE_RE = re.compile(r"\s*(!?)\[\[([^\[\]\n]+)\]\]\s*")


class TooComplex(ValueError):
    """Front matter beyond MAX_NODES or MAX_DEPTH."""


def _loader() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~25x faster, same results

    class JsLikeLoader(base):  # type: ignore[misc, valid-type]
        """SafeLoader that keeps an unhashable key (``{{date}}``) as its text
        and, as JavaScript YAML parsers do, refuses a key given twice
        (PyYAML keeps the last; js-yaml throws "duplicated mapping key")."""

        def construct_mapping(self, node: Any, deep: bool = False) -> dict:
            own = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
            self.flatten_mapping(node)
            merged = len(node.value) - own  # "<<" pairs come first; the mapping's own keys override them
            mapping, written = {}, set()
            for position, (key_node, value_node) in enumerate(node.value):
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, Hashable):
                    key = self.construct_scalar(key_node) if key_node.id == "scalar" else _js_text(key)
                if position >= merged:
                    if key in written:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicated mapping key {key!r}: JavaScript YAML parsers refuse it", key_node.start_mark)
                    written.add(key)
                mapping[key] = self.construct_object(value_node, deep=deep)
            return mapping

        def construct_yaml_timestamp(self, node: Any) -> Any:
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError:  # 2024-02-30: JavaScript parsers keep it, as text
                return self.construct_scalar(node)

    JsLikeLoader.add_constructor("tag:yaml.org,2002:timestamp", JsLikeLoader.construct_yaml_timestamp)
    return JsLikeLoader


def _js_text(value: Any) -> str:
    """How a JavaScript object reads as a property key."""
    return "[object Object]" if isinstance(value, dict) else ",".join(map(str, value))


_LOADER: type | None = None
_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_yaml(content: str) -> Any:
    global _LOADER
    import yaml

    if _LOADER is None:
        _LOADER = _loader()
    return yaml.load(content, Loader=_LOADER)


def plain_data(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """YAML values as builtins only: dates become ISO strings, keys strings.

    Raises TooComplex past MAX_NODES values or MAX_DEPTH levels.
    """
    if budget is None:
        budget = [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise TooComplex("expands to more values than Obsidian can show" if budget[0] < 0 else f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {str(k): plain_data(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v, budget, depth + 1) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)


def key_lines(content: str, first_line: int) -> dict[str, int]:
    """Line of each top-level key."""
    lines: dict[str, int] = {}
    for offset, text in enumerate(content.split("\n")):
        match = _TOP_KEY_RE.match(text)
        if match:
            key = next(g for g in match.groups() if g is not None)
            lines.setdefault(key.strip(), first_line + offset)
    return lines


def template_lines(content: str, first_line: int) -> list[int]:
    """Lines holding an unquoted ``{{…}}`` value."""
    if "{{" not in content:
        return []
    return [first_line + offset for offset, text in enumerate(content.split("\n")) if _TEMPLATE_RE.match(text)]


def front_matter(content: str, first_line: int) -> tuple[Any, dict[str, int], tuple[str, int] | None, tuple[str, int] | None]:
    """(properties, key -> line, YAML error, too-complex error) of front matter text."""
    if not content.strip():
        return {}, key_lines(content, first_line), None, None
    fast = fastyaml.read(content, first_line)
    if fast is not None:
        return fast[0], fast[1], None, None
    import yaml

    lines = key_lines(content, first_line)
    try:
        return plain_data(load_yaml(content)), lines, None, None
    except TooComplex as exc:
        return None, lines, None, (str(exc), first_line)
    except RecursionError:
        return None, lines, None, (f"nests deeper than {MAX_DEPTH} levels", first_line)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line - 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in str(problem):  # libyaml's own limit, past MAX_DEPTH too
            return None, lines, None, (f"nests deeper than {MAX_DEPTH} levels", first_line)
        return None, lines, (str(problem), line), None


def property_links(properties: Any, lines: dict[str, int], content: str, first_line: int) -> list[Link]:
    """Links written as property values: ``up: "[[X]]"`` or a list of them.

    Obsidian reads a text value that is one wiki link as a link (backlinks,
    graph); prose around it makes it plain text.  Each link gets the line
    and column where its text is written, searched from its key's line.
    """
    if not isinstance(properties, dict) or "[[" not in content:
        return []
    rows = None
    found = []
    for key, value in properties.items():
        values = value if isinstance(value, list) else (value,)
        start = -1
        for item in values:
            # Most values are no link: the substring test spares the regex.
            match = _LINK_VALUE_RE.fullmatch(item) if isinstance(item, str) and "[[" in item else None
            if match is None:
                continue
            if start < 0:
                start = lines.get(key, first_line) - first_line
            if rows is None:
                rows = content.split("\n")
            line, column = first_line + start, 1
            written = f"[[{match.group(2)}]]"
            for offset in range(start, len(rows)):
                at = rows[offset].find(written)
                if at >= 0:
                    line, column, start = first_line + offset, at + 1, offset
                    break
            inner = match.group(2)
            if "|" in inner or "#" in inner:
                link = parse_wiki_inner(inner, embed=False, line=line, column=column)
                if link is not None:
                    found.append(Link(*link[:-1], key))  # property is the last field; _replace is slower
            elif not inner.isspace():  # what parse_wiki_inner makes of a bare name
                found.append(Link(inner.strip(), line, column, "wiki", False, None, None, None, None, None, key))
    return found
