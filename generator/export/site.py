"""``export_html``: a vault in, a static site out, top to bottom.

    scan + index (the linter's)
    ->  stage 1: each note rendered once, in parallel, to HTML that fits any page
    ->  stage 2: pages composed (embeds filled in, URLs made relative) and written, in parallel
    ->  tag pages, index page, search index, assets  ->  staging folder swapped into place

The site is written next to OUT and moved into place at the end, so an
interrupted export leaves the previous site whole.  OUT must be new, empty
or an earlier export (it holds a marker file listing the files the export
wrote): nothing else is replaced, and what you added to an earlier export
(a ``.git`` folder, a ``CNAME``) is carried into the new one.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import UsageError
from generator.writer.fsops import os_error
from generator.export import assets
from generator.export.compose import RenderedNote, compose_body, place
from generator.export.linking import ASSETS_DIR, NOTE_SUFFIX, PageContext, SiteMap, page_path, tag_page
from generator.export.markdown import render_markdown
from generator.export.outfolder import check_out, kept, remove, staging_of, swap, write_marker
from generator.export.sanitize import sanitize
from generator.export.page import index_html, note_page, note_title, properties_html, property_tags, tag_page_html
from generator.lint.links import name_key
from generator.lint.vaultindex import worker_count

# Below this many notes per worker, starting a process costs more than it saves.
_NOTES_PER_WORKER = 300
_WORD_RE = re.compile(r"\w+")
_COMMENT_RE = re.compile(r"%%.*?(?:%%|\Z)", re.S)  # hidden in the page, so out of the search too
# Words per note in the search index: enough for any note's vocabulary.
_MAX_WORDS = 3000


@dataclass(frozen=True)
class ExportReport:
    out: Path
    notes: int
    attachments: int
    tags: int
    broken: int  # links and embeds rendered as broken
    kept: list[str] = field(default_factory=list)  # what you added to an earlier export, carried over
    warnings: list[str] = field(default_factory=list)  # names one file on macOS and Windows


@dataclass
class _Job:
    site: SiteMap
    backlinks: dict[str, list[str]]
    staging: Path
    notes: dict[str, RenderedNote]


_JOB: list[_Job] = []  # set before the workers fork; they inherit it


def _search_words(text: str) -> str:
    if "%%" in text:
        text = _COMMENT_RE.sub(" ", text)
    return " ".join(list(dict.fromkeys(_WORD_RE.findall(text.lower())))[:_MAX_WORDS])


def _render_notes(notes: list[str]) -> list[RenderedNote]:
    """Stage 1: each note's HTML, independent of the page it will sit on."""
    site = _JOB[0].site
    rendered = []
    for note in notes:
        context = PageContext(site, note)
        facts = site.index.notes[note]
        text = site.text(note)
        body = render_markdown(text, context)
        # Only a note with a "<" can bring HTML of its own: without one, every tag is the
        # renderer's (markdown-it itself refuses javascript: links), and sanitizing costs ~0.2 ms.
        if "<" in text:
            body = sanitize(body)
        properties = properties_html(facts.properties, context)
        tags = tuple(sorted(set(property_tags(facts.properties)) | context.tags))
        broken = body.count('class="broken-') + properties.count('class="broken-')
        rendered.append(RenderedNote(note, properties, body, tuple(context.embeds), tags, _search_words(text), broken))
    return rendered


def _write_pages(notes: list[str]) -> None:
    """Stage 2: embeds filled in, URLs made relative, one file per note."""
    job = _JOB[0]
    made: set[Path] = set()
    for note in notes:
        rendered = job.notes[note]
        page = page_path(note)
        content = compose_body(job.site, job.notes, rendered)
        html = note_page(page, note_title(note), rendered.properties, content, job.backlinks.get(note, []), job.site.title)
        target = job.staging / page
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_text(place(html, page), encoding="utf-8")


def _worker_count(notes: int) -> int:
    return max(1, min(worker_count(), notes // _NOTES_PER_WORKER))


def _in_parallel(function, notes: list[str]) -> list:
    """``function`` over chunks of ``notes``, in forked workers when there are enough."""
    workers = _worker_count(len(notes))
    if workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(notes)]
    # fork: the workers share the index, the parser and stage 1's output as they are here.
    chunks = [notes[start:: workers * 4] for start in range(workers * 4)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(function, chunks)


def _backlinks(graph) -> dict[str, list[str]]:
    return {target: sorted({edge.source for edge in edges if edge.source.endswith(NOTE_SUFFIX)})
            for target, edges in graph.inbound.items()}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _search_index(rows: list[RenderedNote]) -> str:
    import json

    entries = [[note_title(r.note), page_path(r.note), r.words] for r in rows]
    return "window.VAULTGEN_SEARCH = " + json.dumps(entries, ensure_ascii=False, separators=(",", ":")) + ";\n"


def _default_title(vault: Path) -> str:
    """The vault folder's name; a project's "vault/" is named after its project instead."""
    real = vault.resolve()
    return real.parent.name if real.name.lower() == "vault" and real.parent.name else real.name


class _SiteFiles:
    """The files of the site.  Two that would be one file here (``B.md`` and ``B.html``), or a
    file where another's folder goes, are refused.  Two that differ only in case or Unicode form
    (``lint.name_key``: NFC, lower case) are written, as they are two files here, and named in
    ``warnings``: on macOS and Windows one would hide the other."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}  # path -> what it is
        self.folders: dict[str, str] = {}  # folder path -> the first file in it
        self.keys: dict[str, tuple[str, str]] = {}  # name_key of a file or folder -> (path, what)
        self.warnings: list[str] = []

    def claim(self, path: str, what: str) -> None:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are no UTF-8: no URL or page of the site can name it
            shown = what.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise UsageError(f"{shown}: its file name is not UTF-8", path=path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                             hint="rename the file; Obsidian cannot link to it either") from None
        if path in self.files:
            raise UsageError(f"{what} and {self.files[path]} would be the same file of the site ({path})", path=path,
                             hint="rename one of them in the vault, or move it into another folder")
        if path in self.folders:
            raise UsageError(f"{what} would be a file where {self.folders[path]} needs a folder ({path})", path=path,
                             hint="rename one of them in the vault")
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in self.files:
                raise UsageError(f"{what} would be inside {self.files[folder]}, a file of the site", path=path,
                                 hint="rename one of them in the vault")
            if folder not in self.folders:
                self.folders[folder] = what
                self._key(folder, what)
        self.files[path] = what
        self._key(path, what)

    def _key(self, path: str, what: str) -> None:
        seen = self.keys.setdefault(name_key(path), (path, what))
        if seen[0] != path and seen[1].startswith("the site's"):  # the site's own file would be the one lost
            raise UsageError(f"{what} and {seen[1]} differ only in case ({path}): on macOS and Windows "
                             "they would be one file", path=path, hint="rename it in the vault")
        if seen[0] != path:
            self.warnings.append(f"{path} ({what}) and {seen[0]} ({seen[1]}) differ only in case or Unicode form: "
                                 "on macOS and Windows one would hide the other")


def _tags_of(rows: list[RenderedNote]) -> dict[str, set[str]]:
    """The notes of each tag, #a/b also under #a.  Tags differing only in case are one, as in
    Obsidian's tag pane: under the spelling that sorts first (its page is the same either way)."""
    notes: dict[str, set[str]] = defaultdict(set)
    spelling: dict[str, str] = {}
    for row in rows:
        for tag in row.tags:
            parts = tag.split("/")
            for depth in range(1, len(parts) + 1):
                prefix = "/".join(parts[:depth])
                key = name_key(prefix)
                spelling[key] = min(spelling.get(key, prefix), prefix)
                notes[key].add(row.note)
    return {spelling[key]: found for key, found in notes.items()}


def _claim_vault(notes: list[str], attachments: list[str]) -> _SiteFiles:
    """The site's own files, the notes' pages and the attachments, refusing any two that
    would be one (``B.md`` and ``B.html``; ``_assets/site.js`` in the vault)."""
    site = _SiteFiles()
    site.claim("index.html", "the site's index page")
    for name in (*assets.FILES, "search-index.js"):
        site.claim(f"{ASSETS_DIR}/{name}", f"the site's own {ASSETS_DIR}/{name}")
    for note in notes:
        site.claim(page_path(note), f"the page of {note}")
    for attachment in attachments:
        site.claim(attachment, f"the attachment {attachment}")
    return site


# Attachments a browser runs script in when opened from the site: HTML (Obsidian does not render
# it) always, an SVG only when it holds script (charts and drawings do not).
_ACTIVE_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".xht", ".xml", ".js", ".mjs", ".svgz"})
_SVG_SCRIPT = re.compile(rb"<script|<foreignobject|\son[a-z]+\s*=|javascript:|<iframe|<embed|<object|xlink:href\s*=\s*[\"']?\s*data:", re.I)


def _runs_script(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in _ACTIVE_SUFFIXES:
        return True
    if suffix != ".svg":
        return False
    try:
        return _SVG_SCRIPT.search(path.read_bytes()) is not None
    except OSError:
        return True  # unreadable: not published


def _refuse_outside(vault: Path, files: list[str]) -> None:
    """Refuse files that symlinks lead outside the vault: Obsidian shows them as the vault's,
    but a site published from it would publish them too (``passwd.png -> /etc/passwd``)."""
    root = vault.resolve()
    linked_folders: dict[str, bool] = {}

    def linked(path: str) -> bool:
        """Whether ``path`` or a folder it is in is a symlink: one lstat per file and per folder,
        where resolving every path took ~0.5 s for 10,000 notes."""
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in linked_folders:
                linked_folders[folder] = os.path.islink(vault / folder)
            if linked_folders[folder]:
                return True
        return os.path.islink(vault / path)

    def outside(path: str) -> bool:
        real = (vault / path).resolve()
        # A hidden folder's files are no vault files either: .obsidian/ holds plugin settings
        # (tokens among them), .git/ the repository's configuration.
        return not real.is_relative_to(root) or any(part.startswith(".") for part in real.relative_to(root).parts)

    outside_files = [path for path in files if linked(path) and outside(path)]
    if outside_files:
        shown = ", ".join(outside_files[:3]) + (f" and {len(outside_files) - 3} more" if len(outside_files) > 3 else "")
        raise UsageError(f"{len(outside_files)} file(s) of the vault lead outside it, or into a hidden folder, through a "
                         f"symbolic link: {shown}", path=vault / outside_files[0],
                         hint="pass --follow-symlinks to publish them anyway, or replace the links with the files")


def export_html(vault: Path, out: Path, *, title: str | None = None, follow_symlinks: bool = False) -> ExportReport:
    """Write the static site of ``vault`` to ``out``; byte-identical for the same vault.

    ``follow_symlinks``: publish notes and attachments that symlinks lead outside the vault
    (refused otherwise)."""
    from generator.lint import check_vault

    # Absolute and without "..": after OUT is renamed aside, "site/../site" would lead nowhere.
    vault, out = Path(vault), Path(os.path.abspath(out))
    check_out(vault, out)
    report = check_vault(vault)
    index = report.index
    claimed = _claim_vault(sorted(index.notes), sorted(index.attachments))
    if not follow_symlinks:
        _refuse_outside(vault, sorted([*index.notes, *index.attachments]))
    site = SiteMap(vault, index, title or _default_title(vault))
    staging = staging_of(out)
    try:
        remove(staging)  # what an interrupted export left: its own files only
        staging.mkdir(parents=True)
    except OSError as exc:
        raise os_error(exc, out, "write the site there", UsageError, otherwise="pass a folder you can write to") from None
    try:
        _JOB[:] = [_Job(site, _backlinks(report.graph), staging, {})]
        order = sorted(index.notes)
        rendered = {r.note: r for part in _in_parallel(_render_notes, order) for r in part}
        _JOB[0].notes = rendered
        _in_parallel(_write_pages, order)
        _JOB.clear()
        rows = [rendered[note] for note in order]
        by_tag = _tags_of(rows)
        for tag in by_tag:
            claimed.claim(tag_page(tag), f"the page of the tag #{tag}")
        for tag, notes in sorted(by_tag.items()):
            items = [(page_path(n), note_title(n)) for n in sorted(notes, key=lambda n: (note_title(n).lower(), n))]
            _write(staging / tag_page(tag), tag_page_html(tag, items, site.title))
        published = 0
        for path in sorted(index.attachments):
            if _runs_script(vault / path):
                claimed.warnings.append(f"{path} was left out of the site: opened there, it could run script in the "
                                        "site's pages, which Obsidian would not")
                continue
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(vault / path, target)
            published += 1
        notes = [(page_path(n), note_title(n)) for n in sorted(index.notes, key=lambda n: (note_title(n).lower(), n))]
        _write(staging / "index.html", index_html(site.title, notes, [(t, len(n)) for t, n in sorted(by_tag.items())]))
        assets.install(staging, _search_index(rows))
        write_marker(staging)
        carried = kept(out, staging)
        swap(staging, out, carried)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise os_error(exc, out, "write the site", otherwise="fix this and export again") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportReport(out, len(index.notes), published, len(by_tag), sum(r.broken for r in rows), carried,
                        claimed.warnings)
