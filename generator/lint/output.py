"""The report as text for people and editors, and as JSON, SARIF and GitHub
annotations for tools; the link graph as JSON, Graphviz dot and Mermaid.

Text is one line per finding, ``path:line:col: severity code message``, the
way ruff and gcc write them (a whole-file finding has no line:
``path: severity code message``), then a summary.  The JSON schema is in
the README ("JSON output"); its ``version`` changes whenever a field does.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from generator.chars import invisible
from generator.lint.check import JSON_VERSION, CheckReport
from generator.lint.findings import CODES, Finding
from generator.lint.resolve import LinkGraph

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_STYLES = {"path": "\033[1m", "error": "\033[31m", "warning": "\033[33m", "code": "\033[36m", "ok": "\033[32m"}
_RESET = "\033[0m"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def text_report(report: CheckReport, *, color: bool = False) -> str:
    """Every finding on its own line, then a summary by code."""

    def styled(style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if color else text

    if not report.findings:
        return f"{styled('ok', '✓')} {report.root}: no problems in {_plural(report.notes, 'note')}\n"
    lines = []
    for f in report.findings:
        path = _visible(f.path)
        where = f"{path}:{f.line}:{f.column or 1}:" if f.line else f"{path}:"
        lines.append(f"{styled('path', where)} {styled(f.severity, f.severity)} {styled('code', f.code)} {_visible(f.message)}")
    by_code = Counter(f.code for f in report.findings)
    lines.append("")
    lines.append(
        f"{_plural(len(report.errors), 'error')}, {_plural(len(report.warnings), 'warning')} "
        f"in {_plural(report.notes, 'note')}: " + ", ".join(f"{code} {count}" for code, count in sorted(by_code.items()))
    )
    return "\n".join(lines) + "\n"


def _visible(text: str) -> str:
    """``text`` with control, format and line-separator characters written
    as escapes, the way ``repr`` writes them: a control character in a file
    name or a link would start a line of its own (a forged finding) or drive
    the terminal (ESC c resets it), a bidi override (U+202E) turns the rest
    of the line around, and a zero-width space makes two names look the same.
    The zero-width joiners that emoji sequences and some scripts need stay."""
    if text.isprintable():  # nearly every path and message: one pass in C
        return text
    return "".join(_escape(char) if _hidden(char) else char for char in text)


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in _CONTROL_CATEGORIES or invisible(char)


_CONTROL_CATEGORIES = frozenset({"Cc", "Cs"})  # Cs: the bytes of a name that are not UTF-8


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def json_report(report: CheckReport) -> str:
    return "".join(json_pieces(report))


# Lone surrogates: how Python holds the bytes of a file name that are not UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_pieces(report: CheckReport) -> Iterator[str]:
    """``json_report`` in pieces of ~64 KB, to write as they come: json.dumps
    would first hold ~40 small strings per finding (30 MB for 15,000)."""
    batch: list[str] = []
    size = 0
    for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(report.to_json()):
        if _SURROGATE.search(piece):  # a file name that is not UTF-8: "\udcff", still valid JSON text
            piece = _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", piece)
        batch.append(piece)
        size += len(piece)
        if size > 65536:
            yield "".join(batch)
            batch, size = [], 0
    yield "".join(batch) + "\n"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vaultgen")
    except PackageNotFoundError:
        return "0"


def sarif_report(report: CheckReport) -> str:
    """SARIF 2.1.0 for code-scanning UIs: one run, one rule per finding code."""
    codes = sorted(CODES)
    rules = [
        {"id": code, "shortDescription": {"text": CODES[code][1]}, "defaultConfiguration": {"level": CODES[code][0]}}
        for code in codes
    ]

    def result(finding: Finding) -> dict:
        region = {"startLine": finding.line, "startColumn": finding.column or 1} if finding.line else None
        # A relative URI reference: percent-encoded, so "#", "%", spaces and a "d:" prefix stay
        # part of the file name (SARIF 2.1.0, 3.10.2).
        location = {"artifactLocation": {"uri": quote(Path(finding.path).as_posix().encode("utf-8", "surrogateescape"), safe="/"), "uriBaseId": "VAULT"}}
        if region:
            location["region"] = region
        return {
            "ruleId": finding.code, "ruleIndex": codes.index(finding.code), "level": finding.severity,
            "message": {"text": finding.message}, "locations": [{"physicalLocation": location}],
        }

    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "vaultgen check", "version": _version(),
                "informationUri": "https://help.obsidian.md/Linking+notes+and+files/Internal+links", "rules": rules,
            }},
            "originalUriBaseIds": {"VAULT": {"uri": report.root.as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": [result(f) for f in report.findings],
        }],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_report(report: CheckReport, cwd: Path | None = None) -> str:
    """GitHub Actions workflow commands: an annotation per finding, paths
    relative to the working folder (the checkout) when the vault is in it."""
    cwd = (cwd or Path.cwd()).resolve()
    lines = []
    for f in report.findings:
        path = report.root / f.path
        shown = os.path.relpath(path, cwd) if path.is_relative_to(cwd) else f.path
        props = [f"file={_escape_property(Path(shown).as_posix())}"]
        if f.line:
            props += [f"line={f.line}", f"col={f.column or 1}"]
        props.append(f"title={_escape_property(f.code)}")
        lines.append(f"::{f.severity} {','.join(props)}::{_escape_data(f.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


FORMATS = {"text": text_report, "json": json_report, "sarif": sarif_report, "github": github_report}


# -- the link graph ------------------------------------------------------------

def graph_json(graph: LinkGraph) -> str:
    return json.dumps({"version": JSON_VERSION, **graph.to_json()}, indent=2, ensure_ascii=False) + "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def graph_dot(graph: LinkGraph) -> str:
    """Graphviz: a node per file, an edge per linked pair (broken links left out)."""
    lines = ["digraph vault {", "  node [shape=box];"]
    lines += [f"  {_quoted(path)};" for path in graph.notes]
    lines += [f"  {_quoted(path)} [shape=note];" for path in graph.attachments]
    for source, target in sorted({(e.source, e.target) for e in graph.edges if e.target and e.target != e.source}):
        lines.append(f"  {_quoted(source)} -> {_quoted(target)};")
    return "\n".join(lines + ["}"]) + "\n"


def graph_mermaid(graph: LinkGraph) -> str:
    """Mermaid flowchart; node ids are n0, n1… since paths hold any character."""
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for path in graph.notes + graph.attachments:
        ids[path] = f"n{len(ids)}"
        label = path.replace('"', "#quot;")
        lines.append(f'  {ids[path]}["{label}"]')
    for source, target in sorted({(e.source, e.target) for e in graph.edges if e.target and e.target != e.source}):
        if source in ids and target in ids:
            lines.append(f"  {ids[source]} --> {ids[target]}")
    return "\n".join(lines) + "\n"


GRAPH_FORMATS = {"json": graph_json, "dot": graph_dot, "mermaid": graph_mermaid}
