"""HTML export of any Obsidian vault: ``export_html(vault, out)``.

Links resolve through the linter's index (``generator.lint``), so the site
shows exactly the links ``vaultgen check`` accepts, and marks the ones it
reports as broken.  Loaded lazily: ``generator.export.cli`` is imported by
every command and must not pull in markdown-it.
"""

from __future__ import annotations

__all__ = ["ExportReport", "export_html"]


def __getattr__(name: str):
    if name in __all__:
        from generator.export import site

        return getattr(site, name)
    raise AttributeError(name)
