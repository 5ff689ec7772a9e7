"""``vaultgen check`` and ``vaultgen graph``: parse options, call generator.lint, print.

The library is imported inside the commands so that ``vaultgen --help`` and
the other commands do not pay for markdown-it and yaml.

Exit codes: 0 no error findings, 1 error findings, 2 usage error (bad path,
option or settings file), 3 internal error (a bug: never read as "findings").
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from generator import stdout

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class GraphFormat(str, Enum):
    json = "json"
    dot = "dot"
    mermaid = "mermaid"


_PATH = typer.Argument(..., metavar="VAULT", help="The vault folder (dot-folders such as .obsidian are skipped).", show_default=False)
_NO_CACHE = typer.Option(False, "--no-cache", help="Re-parse every note instead of reusing cached parse results.")


def _debug(context: typer.Context | None) -> bool:
    """``vaultgen --debug``: the root command's option."""
    return bool(context is not None and context.find_root().params.get("debug"))


def _guarded(command: Callable) -> Callable:
    """One error path: a VaultgenError is one line and its exit code, anything
    else an internal error (exit 3); ``vaultgen --debug`` shows tracebacks."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from generator.errors import VaultgenError

        debug = _debug(kwargs.get("ctx"))
        try:
            return command(*args, **kwargs)
        except (typer.Exit, KeyboardInterrupt, BrokenPipeError):
            raise  # the root group's one handler: exit 130/143, or 141 quietly for a closed pipe
        except VaultgenError as error:
            if debug:
                traceback.print_exc()
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code if error.exit_code in (EXIT_FINDINGS, EXIT_USAGE) else EXIT_INTERNAL) from None
        except Exception as error:  # a bug: say so, and never exit 1
            from generator.cli import output_failed

            if isinstance(error, OSError) and output_failed(error) and not debug:
                raise  # not a bug: the root group's one handler says so in one line
            if debug:
                traceback.print_exc()
            hint = "" if debug else "; run `vaultgen --debug ...` for the traceback"
            typer.echo(f"internal error: {type(error).__name__}: {error}{hint} (please report it)", err=True)
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def _codes(values: Optional[list[str]]) -> list[str]:
    """``--select a,b --select c`` → [a, b, c]."""
    return [code.strip() for value in values or [] for code in value.split(",") if code.strip()]


@_guarded
def check(
    ctx: typer.Context,
    path: Path = _PATH,
    output: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="text (path:line:col: severity code message), json, sarif (SARIF 2.1.0) or github (workflow annotations)."),
    select: Optional[list[str]] = typer.Option(None, "--select", metavar="CODES", help="Report only these codes (comma-separated or repeated)."),
    ignore: Optional[list[str]] = typer.Option(None, "--ignore", metavar="CODES", help="Do not report these codes (comma-separated or repeated)."),
    exclude: Optional[list[str]] = typer.Option(None, "--exclude", metavar="GLOB", help="Skip findings in files matching GLOB (e.g. 'Archive/**'); repeatable."),
    no_cache: bool = _NO_CACHE,
) -> None:
    r"""Lint an Obsidian vault: links, embeds, headings, blocks, properties, canvases, file names.

    Settings (select, ignore, exclude, templates): \[check] in vaultgen.toml at the vault root, or \[tool.vaultgen.check] in pyproject.toml.

    Exit code 0 when there are no errors (warnings alone pass), 1 on errors, 2 on a usage error, 3 on an internal error.
    """
    from generator.errors import UsageError
    from generator.lint import check_vault
    from generator.lint.config import load_config
    from generator.lint.output import FORMATS, json_pieces, text_report

    if not path.is_dir():
        check_vault(path)  # raises the usage error that names the problem
    config = load_config(path).merged(select=_codes(select), ignore=_codes(ignore), exclude=exclude or ())
    report = check_vault(path, use_cache=not no_cache, config=config)
    if report.notes == 0:
        # "No problems in 0 notes" would pass a mistyped path in CI without a word, in any format.
        raise UsageError("not a vault: it holds no notes (.md files)", path=path, hint="pass the folder that holds your notes")
    if output is CheckFormat.text:
        stdout.write(text_report(report, color=stdout.is_terminal()))
    elif output is CheckFormat.json:
        stdout.write_pieces(json_pieces(report))  # a large report never whole in memory
    else:
        stdout.write(FORMATS[output.value](report))
    raise typer.Exit(EXIT_CLEAN if report.ok else EXIT_FINDINGS)


@_guarded
def graph(
    ctx: typer.Context,
    path: Path = _PATH,
    output: Optional[GraphFormat] = typer.Option(None, "--format", "-f", help="json (nodes, edges with lines, backlinks; the default), dot (Graphviz) or mermaid; with --backlinks, one source:line:col per line unless json, dot or mermaid is asked for (dot and mermaid draw the links into NOTE).", show_default=False),
    backlinks: Optional[str] = typer.Option(None, "--backlinks", help="Only the links into NOTE (a path or a link name such as 'Some Note'): one 'source:line:col' per line, or JSON.", metavar="NOTE"),
    no_cache: bool = _NO_CACHE,
) -> None:
    """Print the vault's link graph, or the backlinks of one note."""
    from generator.errors import UsageError
    from generator.lint import link_graph
    from generator.lint.output import GRAPH_FORMATS

    result = link_graph(path, use_cache=not no_cache)
    if backlinks is None:
        stdout.write(GRAPH_FORMATS[(output or GraphFormat.json).value](result))
        return
    target = result.find(backlinks)
    if target is None:
        raise UsageError(f"no note {backlinks!r} in the vault", path=path, hint="give its path from the vault root or its name")
    edges = result.inbound.get(target, [])
    if output is GraphFormat.json:
        import json

        data = {"target": target, "backlinks": [{"source": e.source, "line": e.link.line, "column": e.link.column, "property": e.link.property} for e in edges]}
        stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    elif output is None:
        stdout.write("".join(f"{e.source}:{e.link.line}:{e.link.column}\n" for e in edges))
    else:
        stdout.write(GRAPH_FORMATS[output.value](result.into(target)))


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("graph")(graph)
