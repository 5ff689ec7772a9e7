"""What one note says about itself: links, headings, block ids, properties.

These facts depend on the note's bytes alone, which is what makes them safe
to cache per note; everything that needs other notes (resolution, findings)
lives in ``resolve`` and ``check``.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, NamedTuple

from generator.lint.links import SOURCE_ENV_KEY, LINKS_ENV_KEY, Link, heading_key, needs_full_parser, shared_parser
from generator.lint.quickscan import scan

# Notes above this size are listed but not parsed: a full parse of a 50 MB
# note would take minutes and most of the memory budget.
MAX_NOTE_BYTES = 8 * 1024 * 1024

# Obsidian block ids close a paragraph or list item: "text ^id".
_BLOCK_ID_RE = re.compile(r"(?:^|\s)\^([A-Za-z0-9-]+)[ \t]*\Z")
_TOP_KEY_RE = re.compile(r"""^(?:"([^"]*)"|'([^']*)'|([^\s#'"\-][^:]*?))[ \t]*:(?:[ \t]|$)""")
_NEWLINES_RE = re.compile(r"\r\n?")


class NoteFacts(NamedTuple):
    """Parse results for one note; ``problem`` notes have partial facts.

    ``to_plain`` turns it into builtins all the way down, so that a worker
    sends it back and the cache stores it with marshal; ``from_plain`` undoes it.
    """

    links: list[Link]
    headings: list[tuple[int, str, int]]  # (level, text, line)
    block_ids: list[str]
    # heading_key of each heading: computed once per note here (in parallel
    # and cached) rather than on every run for every link target.
    heading_keys: list[str]
    properties: Any = None  # parsed front matter (JSON-like), None if absent
    property_lines: dict[str, int] | None = None  # key -> line
    yaml_error: tuple[str, int] | None = None  # (message, line)
    encoding_error: tuple[str, int] | None = None  # (what is wrong, line)
    too_large: int | None = None  # size in bytes when skipped
    read_error: str | None = None


def to_plain(facts: NoteFacts) -> tuple:
    """``facts`` as builtins only (marshal refuses tuple subclasses)."""
    return (list(map(tuple, facts.links)), *facts[1:])


def from_plain(plain: tuple) -> NoteFacts:
    facts = NoteFacts._make(plain)
    return facts._replace(links=list(map(Link._make, facts.links)))


def plain_data(value: Any) -> Any:
    """YAML values as builtins only: dates become ISO strings, keys strings."""
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)


def _front_matter(content: str, first_line: int) -> tuple[Any, dict[str, int], tuple[str, int] | None]:
    """(properties, key -> line, YAML error) of front matter text."""
    import yaml  # only notes with front matter pay for it

    lines: dict[str, int] = {}
    for offset, text in enumerate(content.split("\n")):
        match = _TOP_KEY_RE.match(text)
        if match:
            key = next(g for g in match.groups() if g is not None)
            lines.setdefault(key.strip(), first_line + offset)
    if not content.strip():
        return {}, lines, None
    try:
        # libyaml is ~25x faster than the pure-Python loader; same results.
        return plain_data(yaml.load(content, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))), lines, None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line - 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, lines, (str(problem), line)


def normalise_text(text: str) -> str:
    """What markdown-it's ``normalize`` does, so both parse paths see the same text."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = _NEWLINES_RE.sub("\n", text)
    return text.replace("\0", "\ufffd") if "\0" in text else text


def parse_note_text(text: str, *, quick: bool = True, encoding_error: tuple[str, int] | None = None) -> NoteFacts:
    """Extract links, headings, block ids and properties from note text.

    ``quick=False`` forces the markdown-it path (tests compare the two).
    """
    text = normalise_text(text)
    found = scan(text) if quick else None
    links, headings, block_ids, front_matter = found if found is not None else _parse_with_markdown_it(text)
    properties, lines, yaml_error = _front_matter(*front_matter) if front_matter is not None else (None, {}, None)
    keys = [heading_key(text) for _, text, _ in headings]
    return NoteFacts(links, headings, block_ids, keys, properties, lines, yaml_error, encoding_error)


def _parse_with_markdown_it(text: str) -> tuple:
    env: dict = {SOURCE_ENV_KEY: text.split("\n")}
    tokens = shared_parser(lean=not needs_full_parser(text)).parse(text, env)
    links = env.get(LINKS_ENV_KEY, [])
    headings: list[tuple[int, str, int]] = []
    block_ids: list[str] = []
    front_matter = None
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            headings.append((int(token.tag[1:]), tokens[index + 1].content.strip(), token.map[0] + 1))
        elif token.type == "inline" and "^" in token.content and tokens[index - 1].type == "paragraph_open":
            block_id = _BLOCK_ID_RE.search(token.content)
            if block_id:
                block_ids.append(block_id.group(1))
        elif token.type == "front_matter":
            front_matter = (token.content, token.map[0] + 2)
    return links, headings, block_ids, front_matter


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_note(path: str, size: int) -> NoteFacts:
    """Facts for the note file at ``path``; problems become fields, not raises."""
    if size > MAX_NOTE_BYTES:
        return NoteFacts([], [], [], [], property_lines={}, too_large=size)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return NoteFacts([], [], [], [], property_lines={}, read_error=exc.strerror or str(exc))
    problem = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(data, exc.start)
        problem = (f"byte 0x{data[exc.start]:02x} on line {line} is not UTF-8", line)
        text = data.decode("utf-8", errors="replace")
    return parse_note_text(text, encoding_error=problem)
