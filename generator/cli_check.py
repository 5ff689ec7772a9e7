"""``vaultgen check`` and ``vaultgen graph``: parse, call generator.lint, print.

The library is imported inside the commands so that ``vaultgen --help`` and
the other commands do not pay for markdown-it, yaml and rich.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path

import typer


class CheckFormat(str, Enum):
    table = "table"
    json = "json"


class GraphFormat(str, Enum):
    json = "json"


_PATH = typer.Argument(..., help="The vault folder (dot-folders such as .obsidian are skipped).", show_default=False)
_NO_CACHE = typer.Option(False, "--no-cache", help="Re-parse every note instead of reusing cached parse results.")


def _fail(error: Exception) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(getattr(error, "exit_code", 1))


def _print_json(data: dict) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# ANSI styles for a terminal; a pipe or file gets plain text.
_STYLES = {"path": "\033[1m", "error": "\033[31m", "warning": "\033[33m", "code": "\033[36m", "ok": "\033[32m"}
_RESET = "\033[0m"


def _print_table(report) -> None:  # report: generator.lint.CheckReport
    """Findings grouped by note, one line each, written at once.

    Plain lines rather than a rich table: with thousands of findings a rich
    table takes seconds to lay out, and grep-able lines read as well.
    """
    color = sys.stdout.isatty()

    def styled(style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if color else text

    notes = report.notes
    if not report.findings:
        sys.stdout.write(f"{styled('ok', '✓')} {report.root}: no problems in {notes} notes\n")
        return
    width = max(len(f.code) for f in report.findings)
    lines, current = [], None
    for finding in report.findings:
        if finding.path != current:
            if current is not None:
                lines.append("")
            current = finding.path
            lines.append(styled("path", current))
        severity = styled(finding.severity, f"{finding.severity:<7}")
        code = styled("code", f"{finding.code:<{width}}")
        lines.append(f"  {finding.line or '':>5}  {severity}  {code}  {finding.message}")
    errors, warnings = len(report.errors), len(report.warnings)
    lines.append(f"\n{errors} error(s), {warnings} warning(s) in {notes} notes")
    sys.stdout.write("\n".join(lines) + "\n")


def check(
    path: Path = _PATH,
    output: CheckFormat = typer.Option(CheckFormat.table, "--format", "-f", help="table (grouped by note) or json."),
    no_cache: bool = _NO_CACHE,
) -> None:
    """Lint an Obsidian vault: broken links and embeds, missing headings and
    blocks, ambiguous and alias links, orphans, properties and file names.

    Exit code 0 when there are no errors (warnings alone pass), 1 on errors,
    2 when PATH is not a folder.
    """
    from generator.lint import check_vault
    from generator.errors import VaultgenError

    try:
        report = check_vault(path, use_cache=not no_cache)
    except VaultgenError as error:
        raise _fail(error) from None
    if output is CheckFormat.json:
        _print_json(report.to_json())
    elif report.notes == 0:
        # "No problems in 0 notes" would pass a mistyped path in CI without a word.
        typer.echo(f"error: {path}: not a vault: it holds no notes (.md files) "
                   "(pass the folder that holds your notes)", err=True)
        raise typer.Exit(2)
    else:
        _print_table(report)
    raise typer.Exit(0 if report.ok else 1)


def graph(
    path: Path = _PATH,
    output: GraphFormat = typer.Option(GraphFormat.json, "--format", "-f", help="json: nodes, edges with lines, backlinks."),
    no_cache: bool = _NO_CACHE,
) -> None:
    """Print the vault's link graph: nodes, edges (with line numbers) and backlinks."""
    del output  # json is the only format so far; the option keeps scripts stable
    from generator.lint import link_graph
    from generator.errors import VaultgenError

    try:
        result = link_graph(path, use_cache=not no_cache)
    except VaultgenError as error:
        raise _fail(error) from None
    _print_json(result.to_json())


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("graph")(graph)
