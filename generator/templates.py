"""Discover note templates and read their headers.

A template is ``templates/<anything>.md.j2`` that starts with a YAML header
inside a Jinja comment, so Jinja itself ignores it and line numbers in
errors stay the file's own::

    {#---
    title: Thread vs Asyncio
    aliases: [Threads vs asyncio]
    tags: [python/concurrency]
    experiments: [thread_vs_asyncio, blocking_call]
    ---#}

Files whose name starts with ``_`` (macros) are not notes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator.errors import TemplateError
from generator.chars import invisible
from generator.writer.fsops import read_regular
from generator.writer.paths import WINDOWS_RESERVED

SUFFIX = ".md.j2"
_HEADER = re.compile(r"\A\{#---[ \t]*\n(?P<yaml>.*?)\n---#\}", re.S)
# Obsidian refuses the first group in file names on Windows and Android (\ / :
# everywhere); with the second it keeps the file but links to it do not work.
# A generated note must open on every device and be linkable.
REFUSED_TITLE_CHARS = frozenset('*"\\/<>:|?')
UNLINKABLE_TITLE_CHARS = frozenset("#^[]")
_TAG = re.compile(r"^[\w/-]*[^\W\d][\w/-]*$")
_KNOWN_KEYS = {"title", "aliases", "tags", "experiments", "cssclasses", "description", "order"}


@dataclass(frozen=True)
class NoteTemplate:
    """One note to render: its template file and the header's promises."""

    path: Path
    title: str
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    experiments: tuple[str, ...] = ()
    cssclasses: tuple[str, ...] = ()
    description: str = ""
    order: int = 100
    extra: dict = field(default_factory=dict, compare=False)
    # The file line of each header key, for errors that name the line (the header starts on line 2).
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    def line(self, key: str) -> int:
        return self.lines.get(key, 2)

    @property
    def name(self) -> str:
        """Jinja's name for it (relative to the templates folder)."""
        return self.path.name

    @property
    def note_path(self) -> str:
        return f"{self.title}.md"


# Windows refuses these as file names whatever the extension, so a vault with one cannot be synced there.
_NAME_MAX = 255  # bytes, on nearly every file system
# A note's own name is not the longest vaultgen writes: the backup of an edited note and its
# temporary (".T.md.<hash>.bak.<pid>.<random>.tmp") are up to 38 bytes longer, its export page 2.
_TITLE_MAX = _NAME_MAX - 40


def title_problem(title: str) -> str | None:
    """Why Obsidian (or a file system it syncs to) would refuse ``title`` as a file name, or None."""
    if not title.strip():
        return "the title is empty"
    control = sorted({c for c in title if unicodedata.category(c) == "Cc"})
    if control:
        return f"the title contains the control character(s) {', '.join(repr(c) for c in control)}"
    hidden = sorted(set(filter(invisible, title)))
    if hidden:
        named = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in hidden)
        return (f"the title contains the invisible character(s) {named}: the name would look like another, "
                "or show in another order, than what a link to it must spell")
    if title.split(".")[0].strip().upper() in WINDOWS_RESERVED:
        return f"{title.split('.')[0].strip()!r} is a reserved file name on Windows"
    size = len(title.encode("utf-8"))
    if size > _TITLE_MAX:
        return (f"the title is {size} bytes long; at most {_TITLE_MAX} leave room for the longest name made "
                f"from it (the backup of an edited note), within the {_NAME_MAX} that file systems allow")
    refused = sorted(REFUSED_TITLE_CHARS & set(title))
    if refused:
        where = "" if set(refused) & set("\\/:") else " on Windows and Android"
        return f"the title contains {' '.join(refused)}, which Obsidian refuses in file names{where}"
    unlinkable = sorted(UNLINKABLE_TITLE_CHARS & set(title))
    if unlinkable:
        return f"the title contains {' '.join(unlinkable)}: Obsidian keeps such a file, but links to it do not work"
    if "%%" in title:
        return "the title contains %%, which Obsidian reads as a comment"
    if title != title.strip() or title.startswith("."):
        return "the title starts or ends with a space or starts with a dot"
    return None


def tag_problem(tag: object) -> str | None:
    if not isinstance(tag, str) or not _TAG.match(tag):
        return (f"tag {tag!r} is invalid: use letters, digits, _, - and / for nesting, "
                "at least one non-digit, no spaces and no #")
    return None


def _as_list(value, key: str, path: Path, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TemplateError(f"header field {key!r} must be a list of strings", path=path, line=line)
    return tuple(value)


def read_template(path: Path) -> NoteTemplate:
    """Parse and validate one template's header."""
    try:
        data = read_regular(path)
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError(f"byte 0x{data[exc.start]:02x} is not UTF-8", path=path, line=data.count(b"\n", 0, exc.start) + 1,
                            hint="save the template as UTF-8") from None
    except OSError as exc:
        raise TemplateError(f"cannot read template: {exc.strerror or exc}", path=path,
                            hint="a template is a regular UTF-8 file") from None
    match = _HEADER.match(text)
    if not match:
        raise TemplateError(
            "missing header", path=path, line=1,
            hint="start the file with {#--- then YAML (title, tags, experiments) then ---#}",
        )
    try:
        header = yaml.safe_load(match.group("yaml")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1  # +1 for 1-based, +1 for the {#--- line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TemplateError(f"YAML error in header: {problem}", path=path, line=line,
                            hint="fix the YAML between {#--- and ---#}; quote values that contain : [ ] or #") from exc
    if not isinstance(header, dict):
        raise TemplateError("header must be a YAML mapping", path=path, line=2)
    lines = _key_lines(match.group("yaml"))

    def at(key: str) -> int:
        return lines.get(key, 2)

    title = header.get("title")
    if title is None:
        raise TemplateError("header has no title", path=path, line=at("title"), hint="add `title: Note Title`")
    if not isinstance(title, str):
        raise TemplateError(f"the header's title must be text, not {type(title).__name__} {title!r}", path=path,
                            line=at("title"), hint="quote it: title: \"Note Title\"")
    title = unicodedata.normalize("NFC", title)
    problem = title_problem(title)
    if problem:
        raise TemplateError(f"bad title {title!r}: {problem}", path=path, line=at("title"),
                            hint="choose another title")
    tags = _as_list(header.get("tags"), "tags", path, at("tags"))
    for tag in tags:
        if tag_problem(tag):
            raise TemplateError(tag_problem(tag) or "bad tag", path=path, line=at("tags"))
    order = header.get("order", 100)
    if not isinstance(order, int):
        raise TemplateError("header field 'order' must be an integer", path=path, line=at("order"))
    return NoteTemplate(
        path=path,
        title=title,
        aliases=_as_list(header.get("aliases"), "aliases", path, at("aliases")),
        tags=tags,
        experiments=_as_list(header.get("experiments"), "experiments", path, at("experiments")),
        cssclasses=_as_list(header.get("cssclasses"), "cssclasses", path, at("cssclasses")),
        description=str(header.get("description", "")),
        order=order,
        extra={k: v for k, v in header.items() if k not in _KNOWN_KEYS},
        lines=lines,
    )


_KEY_RE = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]|$)")


def _key_lines(header: str) -> dict[str, int]:
    """The file line of each top-level key of a header (its YAML starts on line 2)."""
    found: dict[str, int] = {}
    for offset, row in enumerate(header.split("\n")):
        key = _KEY_RE.match(row)
        if key:
            found.setdefault(key.group(1), offset + 2)
    return found


def discover(folder: Path, known_experiments: set[str] | None = None) -> list[NoteTemplate]:
    """All note templates in ``folder``, validated together, in note order."""
    if not folder.is_dir():
        raise TemplateError("templates folder is missing", path=folder,
                            hint="run vaultgen in a project folder (or pass --project PATH) that has templates/")
    notes = [read_template(p) for p in sorted(folder.glob(f"*{SUFFIX}")) if not p.name.startswith("_")]
    seen: dict[str, NoteTemplate] = {}
    for note in notes:
        # Obsidian resolves links case-insensitively, so titles must differ in more than case.
        key = note.title.casefold()
        if key in seen:
            raise TemplateError(
                f"title {note.title!r} is already used by {seen[key].path.name}",
                path=note.path, line=note.line("title"), hint="note titles must differ in more than case",
            )
        seen[key] = note
        for name in note.experiments:
            if known_experiments is not None and name not in known_experiments:
                raise TemplateError(
                    f"unknown experiment {name!r}", path=note.path, line=note.line("experiments"),
                    hint=f"known: {', '.join(sorted(known_experiments)) or 'none'}",
                )
    return sorted(notes, key=lambda n: (n.order, n.title))
