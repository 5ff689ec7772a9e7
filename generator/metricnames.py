"""The metric-name contract: the names an experiment documents are the names others may read.

Every experiment lists its metrics in the ``Metrics`` block of its module docstring, one per
line, a placeholder standing for one dotted segment (``workers.<W>.speedup``,
``KIND.MODEL.wall``).  Templates read metrics through :class:`CheckedResult`, so a misspelt
name is an error naming the template and line instead of a figure that silently reads "n/a";
``tests/test_metric_contract.py`` holds claims, charts and experiments to the same list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from functools import lru_cache

_DOCSTRING = re.compile(r'^\s*(?:#.*\n\s*)*(?:[rRuU]?)("""|\'\'\')(.*?)\1', re.S)
_NAME = re.compile(r"^(\s+)([A-Za-z_<][A-Za-z0-9_<>.]*)(?=\s|$)")
# A placeholder segment: <model>, <W>, or an upper-case word such as KIND, MODEL, N, S.
_PLACEHOLDER = re.compile(r"^(?:<[^<>.]+>|[A-Z][A-Z0-9_]*)$")


class UnknownMetric(LookupError):
    """A template asked for a metric its experiment does not document."""


@lru_cache(maxsize=256)
def _entries(source: str) -> tuple[tuple[str, str], ...]:
    """(name pattern, description) of each metric in the ``Metrics`` block of a script's
    docstring; a line is ``  name  unit  description``, and deeper lines continue it."""
    match = _DOCSTRING.match(source)
    doc = match.group(2) if match else ""
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Metrics")), None)
    if start is None:
        return ()
    # The header may run over several lines ("Metrics (S is ...:\n  1K = ...):"): the block
    # starts after the line that ends the header with a colon.
    while start < len(lines) and not lines[start].rstrip().endswith(":"):
        start += 1
    entries: list[list[str]] = []
    indent = None
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        if not line[0].isspace():
            break  # "Facts:", "W in the parameter ...": the block is over
        found = _NAME.match(line)
        depth = len(line) - len(line.lstrip())
        indent = depth if indent is None and found else indent
        if found and depth == indent:
            unit_and_text = line[found.end():].split(None, 1)
            entries.append([found.group(2), unit_and_text[1].strip() if len(unit_and_text) == 2 else ""])
        elif entries and indent is not None and depth > indent:  # the description goes on
            entries[-1][1] = f"{entries[-1][1]} {line.strip()}".strip()
    return tuple((name, text) for name, text in entries)


def documented(source: str) -> tuple[str, ...]:
    """The metric name patterns in the ``Metrics`` block of a script's docstring."""
    return tuple(name for name, _ in _entries(source))


def description(source: str, name: str) -> str:
    """What the script's docstring says metric ``name`` is ("" if nothing)."""
    return next((text for pattern, (_, text) in zip(_patterns(source), _entries(source)) if pattern.match(name)), "")


@lru_cache(maxsize=256)
def _patterns(source: str) -> tuple[re.Pattern, ...]:
    out = []
    for name in documented(source):
        parts = [r"[^.]+" if _PLACEHOLDER.match(p) else re.escape(p) for p in name.split(".")]
        out.append(re.compile(r"\.".join(parts) + r"\Z"))
    return tuple(out)


def is_documented(source: str, name: str) -> bool:
    return any(p.match(name) for p in _patterns(source))


@dataclass(frozen=True)
class CheckedResult:
    """A Result whose ``metric``/``has`` refuse names the experiment does not document.

    Everything else reads through to the result, so templates use it exactly as before.
    """

    _result: Any
    _source: str

    def __getattr__(self, name: str):
        return getattr(self._result, name)

    def _check(self, name: str) -> None:
        if documented(self._source) and not is_documented(self._source, name):
            raise UnknownMetric(
                f"{self._result.experiment} documents no metric {name!r}; known: "
                f"{', '.join(documented(self._source))}")

    def metric(self, name: str):
        self._check(name)
        return self._result.metric(name)

    def has(self, name: str) -> bool:
        self._check(name)
        return self._result.has(name)
