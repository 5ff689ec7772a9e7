"""The vault's end of a build: refuse a vault that cannot be written before minutes of
measuring, then stage the rendered files, link-check them and commit them, or write nothing.

A finding in a note's keep block is the user's text (a link to a note not written yet is
ordinary), so it is a warning naming the block; any other error blames its template.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from generator.config import Project
from generator.errors import CheckFailed, VaultError
from generator.writer.keepblocks import Block, scan

if TYPE_CHECKING:
    from generator.lint import Finding

_LINK_CODES = frozenset({"broken-link", "broken-embed", "ambiguous-link", "alias-link", "missing-heading", "missing-block"})


def _vault_not_in_sources(project: Project) -> None:
    """The vault, followed through any symlink, may lead outside the project (a synced folder),
    never onto the project itself or into its experiments, templates, results or state."""
    real = project.vault.resolve()
    for folder in (project.experiments, project.templates, project.results, project.cache):
        if real == folder.resolve() or folder.resolve() in real.parents:
            raise VaultError(f"the vault folder leads into the project's {folder.name}/ folder", path=project.vault,
                             hint="point the `vault` setting (or its symlink) at a folder of its own")
    root = project.root.resolve()
    if real == root or real in root.parents:  # "vault -> .." would hold the project, its sources staged as notes
        raise VaultError("the vault folder leads to the project folder itself" if real == root
                         else "the vault folder leads to a folder that holds the project", path=project.vault,
                         hint="point the `vault` setting (or its symlink) at a folder of its own")


def preflight(project: Project, writing: bool) -> None:
    """Refuse a vault (or results, or cache folder) that cannot be written before spending minutes measuring."""
    from generator.writer.manifest import load_manifest
    from generator.writer.state import require_vault_folder, require_writable

    folders = [(project.cache, "vaultgen's cache folder"), (project.results, "the results folder")]
    if project.results.is_dir() and not project.results.is_symlink():  # results/<machine or tag>/<...>
        for sub in sorted(p for p in project.results.iterdir() if p.is_dir()):
            folders.append((sub, "a results folder"))
            if sub.is_dir() and not sub.is_symlink():
                folders += [(p, "a results folder") for p in sorted(sub.iterdir()) if p.is_dir()]
    for folder, what in folders:
        if what == "a results folder" and not folder.is_symlink():
            continue  # a file there is reported by the store, which knows which names are folders
        if folder.is_symlink():
            raise VaultError(f"{what} is a symbolic link; vaultgen never writes through one", path=folder,
                             hint=f"replace the link with a real folder (rm '{folder}'; mkdir '{folder}')")
        if folder.exists() and not folder.is_dir():
            raise VaultError(f"{what} is a file, not a folder", path=folder,
                             hint="move the file away; vaultgen keeps its files in that folder")
    require_vault_folder(project.vault)
    _vault_not_in_sources(project)
    load_manifest(project.vault)  # a corrupt manifest is refused now rather than after the experiments
    if writing:
        require_writable(project.vault)


def _user_blocks(staged: Path, rendered: bytes) -> tuple[str, list[Block]]:
    """The staged note's text and its keep blocks whose text is the user's: not the text the
    template itself renders there (``rendered``), which a template change can fix."""
    if b"keep:" not in rendered:  # nearly every note: the template made no keep block
        return "", []
    try:
        text = staged.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "", []
    own = rendered.decode("utf-8", "replace")
    defaults = {block.name: own[block.body_start : block.body_end] for block in scan(own)[0]}
    return text, [b for b in scan(text)[0] if text[b.body_start : b.body_end] != defaults.get(b.name)]


def _as_keep_text(finding: Finding, text: str, blocks: list[Block]) -> Finding:
    """``finding``, a warning naming the keep block if it lies in one of the user's ``blocks``
    of ``text`` (a link to a note not written yet is ordinary there)."""
    if finding.severity != "error" or not finding.line or not blocks:
        return finding
    # Where the finding is: its column where it has one, else its whole line, which must then
    # lie between the markers (template text may share a marker's line).
    lines = text.split("\n")
    line_start = sum(len(line) + 1 for line in lines[: finding.line - 1])
    line_end = line_start + len(lines[finding.line - 1]) if finding.line <= len(lines) else len(text)
    start = line_start + finding.column - 1 if finding.column else line_start
    end = start + 1 if finding.column else line_end
    for block in blocks:
        if block.body_start <= start and end <= block.body_end:
            return replace(finding, severity="warning",
                           message=f"{finding.message} (your text in keep block {block.name!r}; it does not stop the build)")
    return finding


def write_checked(project: Project, files: dict[str, bytes], origin: dict[str, str], overwrite: bool):
    """Stage, link-check, then commit; a broken link blames its template and writes nothing."""
    from generator.lint import check_vault
    from generator.writer import stage_files

    with stage_files(project.vault, files, overwrite=overwrite, origins=origin) as stage:
        checked = check_vault(stage.path)
        found = [f for f in checked.findings if f.path in files]
        user_blocks = {path: _user_blocks(stage.path / path, files[path]) for path in {f.path for f in found}}
        ours = [_as_keep_text(f, *user_blocks[f.path]) for f in found]
        in_keep_text = [mine for mine, f in zip(ours, found) if mine is not f]
        blocking = [f for f in ours if f.severity == "error"]
        if blocking:
            stage.discard()
            lines = [f"{origin.get(f.path, f.path)} → {f.path}:{f.line or 1}: {f.message}" for f in blocking]
            # A note's keep block carries the user's own bytes: those, not the template, can fail to be UTF-8.
            encoding = any(f.code == "not-utf8" for f in blocking)
            links = all(f.code in _LINK_CODES for f in blocking)
            raise CheckFailed(
                f"the rendered vault has {'broken links' if links else 'problems'}; nothing was written:\n  "
                + "\n  ".join(lines),
                hint=("fix the links in the named templates" if links else "fix the named templates") if not encoding else
                "bytes that are not UTF-8 come from the note's keep block: re-save that text as UTF-8, which Obsidian reads",
            )
        written = stage.commit()
        written.messages.extend(_names_taken(written.created, files, checked.index))
        # Those in keep text first: the summary shows the first few warnings, and these are news.
        return written, in_keep_text + [f for f in found if f.severity != "error"]


def _names_taken(created: list[str], generated: dict[str, bytes], index) -> list[str]:
    """A note this build created that bears the name of a note of the user's: their links
    ``[[Name]]`` may now lead to it (Obsidian takes the linking note's folder first, else the
    shortest path), and nothing else would say so."""
    from generator.lint import name_key

    said = []
    for path in created:
        if not path.endswith(".md"):
            continue
        stem = path.rsplit("/", 1)[-1][: -len(".md")]
        theirs = sorted(p for p in index.by_name.get(name_key(stem), ()) if p not in generated and p.endswith(".md"))
        if theirs:
            said.append(f"{path} is new and has the name of your {theirs[0]}: a link [[{stem}]] may now lead to "
                        f"either (Obsidian takes the note in the linking note's folder, else the shortest path); "
                        f"rename one of them to keep every link's meaning")
    return said
