"""``vaultgen export html OUT [--vault PATH | -C DIR]``: parse, call export_html, print one line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

export_app = typer.Typer(help="Publish a vault for people without Obsidian.", no_args_is_help=True)


@export_app.command("html")
def html(
    out: Path = typer.Argument(..., metavar="OUT", help="Folder for the site (new, empty, or an earlier export).", show_default=False),
    vault: Optional[Path] = typer.Option(None, "--vault", metavar="DIR", help="The vault to export (default: the project's vault/)."),
    title: Optional[str] = typer.Option(None, "--title", metavar="TITLE", help="Site title (default: the vault folder's name; a project's vault/ is named after the project)."),
    project: Optional[Path] = typer.Option(None, "--project", "-C", metavar="DIR",
                                           help="Project whose vault/ to export (default: the nearest one above the current folder)."),
    follow_symlinks: bool = typer.Option(False, "--follow-symlinks",
                                         help="Publish notes and attachments that symbolic links lead outside the vault (refused otherwise)."),
) -> None:
    """Write a static HTML site with links, embeds, callouts, properties, tags, backlinks and search.

    Every link is relative, so the site works from file:// and on any host.  Mermaid diagrams are drawn in the browser.
    """
    from generator.cli import _project
    from generator.export import export_html

    # Errors reach the one handler of every command (generator.cli.VaultgenGroup).
    source = vault if vault is not None else _project(project).vault
    started = time.perf_counter()
    report = export_html(source, out, title=title, follow_symlinks=follow_symlinks)
    seconds = time.perf_counter() - started
    broken = f"; {report.broken} broken link(s) marked" if report.broken else ""
    if report.kept:
        shown = ", ".join(report.kept[:5]) + (f", … ({len(report.kept)} in all)" if len(report.kept) > 5 else "")
        broken += f"; kept what you added to the earlier export: {shown}"
    for warning in report.warnings[:5]:
        typer.echo(f"warning: {warning}", err=True)
    if len(report.warnings) > 5:
        typer.echo(f"warning: … and {len(report.warnings) - 5} more such names", err=True)
    typer.echo(f"exported {report.notes} notes, {report.attachments} attachments and {report.tags} tag pages "
               f"to {out} in {seconds:.1f} s{broken}; open {out / 'index.html'}")


def register(app: typer.Typer) -> None:
    # The root's group class: one error path and one help style for its subcommands too.
    app.add_typer(export_app, name="export", cls=app.info.cls)
