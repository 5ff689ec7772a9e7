"""``vaultgen new``: a template for a new note, header filled in."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

from generator import templates as tpl_mod
from generator.config import Project
from generator.errors import UsageError

_SKELETON = """\
{{% import "_macros.md.j2" as m with context %}}
# {title}

{description_line}
{experiment_sections}
{{{{ m.measured_on() }}}}

## Explore Next
{{% for other in notes if other.title != note.title %}}
- [[{{{{ other.title }}}}]]{{% if other.description %}}: {{{{ other.description }}}}{{% endif %}}
{{% endfor %}}
"""

_EXPERIMENT_SECTION = """
## {name}
{{{{ m.failure("{name}") }}}}
{{% set r = result("{name}") %}}
{{% if r is not none %}}
| metric | median | spread |
|---|---|---|
{{% for name, metric in r.metrics | dictsort %}}
| `{{{{ name }}}}` | {{{{ metric | fmt }}}} | {{{{ metric | spread }}}} |
{{% endfor %}}
{{% endif %}}
"""


def template_file_name(title: str) -> str:
    return f"{title}{tpl_mod.SUFFIX}"


def new_template(project: Project, title: str, experiments: list[str], tags: list[str] | None = None) -> Path:
    """Write ``templates/<title>.md.j2``; refuse bad or taken titles."""
    from generator.experiments import discover as discover_experiments

    title = unicodedata.normalize("NFC", title.strip())
    problem = tpl_mod.title_problem(title)
    if problem:
        raise UsageError(f"cannot use {title!r} as a note title: {problem}",
                         hint="Obsidian refuses * \" \\ / < > : | ? # ^ [ ] in file names")
    known = discover_experiments(project.experiments)
    unknown = [e for e in experiments if e not in known]
    if unknown:
        raise UsageError(f"unknown experiment {', '.join(unknown)}", hint=f"known: {', '.join(sorted(known))}")
    existing = tpl_mod.discover(project.templates)
    for note in existing:
        if note.title.casefold() == title.casefold():
            raise UsageError(f"a note titled {note.title!r} already exists", path=note.path,
                             hint="pick another title or edit that template")
    target = project.templates / template_file_name(title)
    if target.exists():
        raise UsageError("template file already exists", path=target)
    slug = re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-") or "note"
    header = {
        "title": title,
        "aliases": [],
        "tags": tags or ["python/concurrency", f"vaultgen/{slug}"],
        "experiments": list(experiments),
        "description": f"What {title} measures, in one sentence.",
        "order": 100,
    }
    head = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, default_flow_style=None)
    sections = "".join(_EXPERIMENT_SECTION.format(name=name) for name in experiments)
    body = _SKELETON.format(
        title=title,
        description_line="{{ note.description }}",
        experiment_sections=sections,
    )
    target.write_text("{#---\n" + head + "---#}\n" + body, encoding="utf-8")
    return target
