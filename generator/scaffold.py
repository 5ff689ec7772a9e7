"""``vaultgen new``: a template for a new note, header filled in."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path

import yaml

from generator import templates as tpl_mod
from generator.config import Project
from generator.errors import UsageError
from generator.writer.fsops import create_new, os_error

# The title comes from the header (note.title), never pasted into the body: a title
# holding Jinja syntax ("x{% raw %}") is then text, not a tag.
_SKELETON = """\
{macros_import}# {{{{ note.title }}}}

{description_line}
{experiment_sections}
{measured_on}

## Explore Next
{{% for other in notes if other.title != note.title %}}
- [[{{{{ other.title }}}}]]{{% if other.description %}}: {{{{ other.description }}}}{{% endif %}}
{{% endfor %}}
"""

_TEMPLATE_SYNTAX = frozenset("{}%#\"'\\")
_EXPERIMENT_SECTION = """
## {name}
{failure}{{% set r = result("{name}") %}}
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
                         hint="choose another title")
    known = discover_experiments(project.experiments)
    unknown = [e for e in experiments if e not in known]
    if unknown:
        raise UsageError(f"unknown experiment {', '.join(unknown)}", hint=f"known: {', '.join(sorted(known))}")
    # The name is written into Jinja code ("result(...)"), a Jinja comment (the header) and a heading.
    unquotable = [e for e in experiments if set(e) & _TEMPLATE_SYNTAX]
    if unquotable:
        raise UsageError(f"the experiment name {unquotable[0]!r} holds one of {' '.join(sorted(_TEMPLATE_SYNTAX))}, "
                         "which a template cannot hold as a plain name", path=known[unquotable[0]].path,
                         hint="rename the script to letters, digits, '_' and '-'")
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
    # The shared macros, where the project has them (a project made by hand may not).
    macros = (project.templates / "_macros.md.j2").is_file()
    sections = "".join(_EXPERIMENT_SECTION.format(name=name, failure=f'{{{{ m.failure("{name}") }}}}\n' if macros else "")
                       for name in experiments)
    body = _SKELETON.format(
        macros_import='{% import "_macros.md.j2" as m with context %}\n' if macros else "",
        description_line="{{ note.description }}",
        experiment_sections=sections,
        measured_on="{{ m.measured_on() }}" if macros else "",
    )
    try:  # O_EXCL | O_NOFOLLOW: never over an existing file, never through a planted symlink
        create_new(target, ("{#---\n" + head + "---#}\n" + body).encode("utf-8"))
    except FileExistsError:
        raise UsageError("template file already exists", path=target) from None
    except OSError as exc:
        raise os_error(exc, target, "write the template") from None
    return target


_PYPROJECT = """\
# vaultgen's settings for this project (vaultgen config prints the effective ones).
[tool.vaultgen]
# The interpreters every experiment is measured under; the first is the one
# notes quote first.  "default" is the Python vaultgen runs in; add paths or
# names on PATH (e.g. "python3.13t") to compare builds side by side.
interpreters = ["default"]
profile = "full"
timeout = { quick = 60, full = 180 }
vault = "vault"

[tool.vaultgen.check]
# The linter's rule selection for `vaultgen check` (see the README).
"""

_GITIGNORE = """\
# vaultgen's machine-local state, and Obsidian's window layout.
/.vaultgen/
vault/.vaultgen/staging/
vault/.vaultgen/lock
vault/.vaultgen/backup/
vault/.obsidian/workspace*.json
# What a killed `vaultgen init` left while it copied the defaults in.
/.vaultgen-init-*/
"""


def init_project(folder: Path) -> Path:
    """A working project in ``folder``: default experiments and templates, an empty vault, settings.

    Refuses a folder that already holds a vault with notes, and never
    overwrites a file that exists (a pyproject.toml of the user's keeps its
    content; the [tool.vaultgen] table is then theirs to add).
    """
    root = folder.expanduser().resolve()
    _refuse_unfit(root)
    vault = root / "vault"
    made_vault = not vault.exists()
    try:
        _write_project(root)
    except OSError as exc:
        if made_vault and vault.is_dir():  # only the empty folders this init made
            shutil.rmtree(vault, ignore_errors=True)
        raise os_error(exc, root, "create the project", error=UsageError,
                       otherwise="fix this and run vaultgen init again") from exc
    return root


def _refuse_unfit(root: Path) -> None:
    """Refuse, before anything is written, a folder init cannot make a project of: a vault
    there, a file where a folder goes (or the reverse), a link where init writes, an unwritable
    folder, an unreadable pyproject.toml.  Found half-way, each would leave a half-made project
    that the next init refuses."""
    from generator.config import PYPROJECT, read_table

    if root.exists() and not root.is_dir():
        raise UsageError("not a folder", path=root, hint="give a new or existing folder")
    if (root / ".obsidian").is_dir():
        raise UsageError("this folder is an Obsidian vault (it has .obsidian/)", path=root,
                         hint="create the project beside the vault, not in it: its notes go in the project's vault/")
    for vault in (root / "vault", root):
        notes = [p for p in vault.rglob("*.md") if ".obsidian" not in p.parts] if vault.is_dir() else []
        if notes and ((vault / ".obsidian").is_dir() or vault.name == "vault"):
            raise UsageError(f"there is already a vault with {len(notes)} note(s) here", path=vault,
                             hint="pick an empty or new folder: vaultgen init never overwrites a vault")
    for name in ("experiments", "templates"):
        target = root / name
        if target.is_dir() and any(target.iterdir()):
            raise UsageError(f"{name}/ already exists and is not empty", path=target,
                             hint="pick an empty or new folder")
    for name, is_folder in (("experiments", True), ("templates", True), ("vault", True), ("vault/.obsidian", True),
                            (PYPROJECT, False), (".gitignore", False)):
        target = root / name
        replaced = name in ("experiments", "templates")  # a link there would be replaced, not followed
        dangling = target.is_symlink() and not target.exists()  # init would write where it points
        if (replaced and target.is_symlink()) or dangling or (target.exists() and target.is_dir() != is_folder):
            kind = ("a symbolic link" + (" to nothing" if dangling else "") if target.is_symlink()
                    else "a folder" if not is_folder else "a file")
            raise UsageError(f"{name} is {kind}, where init puts {'a folder' if is_folder else 'a file'}", path=target,
                             hint="move it away, or pick an empty or new folder")
    vault = root / "vault"
    if vault.is_symlink() and (vault.resolve() == root or vault.resolve() in root.parents):
        raise UsageError("vault is a symbolic link to the project folder or one that holds it", path=vault,
                         hint="point it at a folder of its own, or remove it")
    for folder in (root, vault):
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            raise UsageError("this folder cannot be written to", path=folder, hint="check its permissions, e.g. chmod u+w")
    if (root / PYPROJECT).exists():
        read_table(root / PYPROJECT)  # an unreadable one is refused now, before anything is written


def _write_project(root: Path) -> None:
    """Copy the default experiments and templates in, make the vault, add the settings.

    The two folders are copied beside their place first and then renamed
    into it, so an init that fails leaves neither half-copied."""
    import tempfile

    from generator import defaults
    from generator.config import PYPROJECT

    root.mkdir(parents=True, exist_ok=True)
    # The vault's folder first: if it cannot be made, nothing else has been moved in yet.
    (root / "vault" / ".obsidian").mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".vaultgen-init-", dir=root))
    try:
        for name in ("experiments", "templates"):
            shutil.copytree(defaults.folder(name), staging / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in ("experiments", "templates"):
            (staging / name).replace(root / name)  # a new or an empty folder: replaced whole
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # create_new refuses a symlink, so a dangling one is not written through to where it points.
    pyproject = root / PYPROJECT
    if not pyproject.exists():
        create_new(pyproject, _PYPROJECT.encode())
    gitignore = root / ".gitignore"
    if not gitignore.exists():
        create_new(gitignore, _GITIGNORE.encode())
