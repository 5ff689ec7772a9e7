"""Render one of the project's real note templates against crafted or measured results."""

from __future__ import annotations

import re
from pathlib import Path

from generator import charts, notes, sandbox, templates
from generator.results import ResultSet

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def render_note(title: str, results: ResultSet) -> str:
    note = templates.read_template(TEMPLATES / f"{title}.md.j2")
    env = sandbox.make_jinja(TEMPLATES)
    return notes.render_note(env, note, results, {}, set(charts.registry())).text


def prose(text: str) -> str:
    """The note without its fenced code blocks (code may say None)."""
    return re.sub(r"```.*?```", "", text, flags=re.S)
