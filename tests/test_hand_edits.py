"""What people write in the vault survives `vaultgen build`, with and without --overwrite."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import HOME_NOTE, invoke

QUICK = ("--profile", "quick")
KEEP = "%% keep: notes %%\n%% end keep %%\n"


def _build(runner, project: Path, *extra: str):
    result = invoke(runner, "build", "-C", str(project), *QUICK, *extra)
    return result


def _ok(runner, project: Path, *extra: str) -> str:
    result = _build(runner, project, *extra)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())  # rich's wrapping undone


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _backups(project: Path, name: str) -> list[Path]:
    return sorted((project / "vault" / ".vaultgen" / "backup").glob(f"{name}.*.bak"))


def _edit_template(project: Path, name: str, text: str) -> None:
    (project / "templates" / f"{name}.md.j2").write_text(text)


def test_hand_edit_is_kept_and_reported(runner, project):
    _ok(runner, project)
    home = project / "vault" / "Home.md"
    edited = home.read_text().replace("# Home", "# Home, my way")
    home.write_text(edited)
    _edit_template(project, "Home", HOME_NOTE + "\nA new paragraph.\n")
    output = _ok(runner, project)
    assert home.read_text() == edited
    assert "Home.md: edited by hand" in output and "--overwrite" in output
    assert "keep block" not in output  # Home has none to offer
    assert re.search(r"files modified \S* 1 \S* Home\.md", output), output
    again = _ok(runner, project)  # still reported, still kept, on every build
    assert home.read_text() == edited and "Home.md: edited by hand" in again


def test_overwrite_replaces_after_a_backup(runner, project):
    _ok(runner, project)
    home = project / "vault" / "Home.md"
    edited = home.read_text() + "\nMy own paragraph.\n"
    home.write_text(edited)
    _edit_template(project, "Home", HOME_NOTE + "\nA new paragraph.\n")
    output = _ok(runner, project, "--overwrite")
    assert home.read_text().endswith("A new paragraph.\n") and "My own paragraph." not in home.read_text()
    [backup] = _backups(project, "Home.md")
    assert backup.read_text() == edited
    assert "Home.md: edited by hand; replaced" in output and str(backup.relative_to(project / "vault")) in output
    assert re.search(r"files backed up \S* 1 \S* Home\.md", output), output
    _ok(runner, project)  # replaced, so no longer a hand edit
    assert home.read_text().endswith("A new paragraph.\n")


def test_keep_block_survives_every_rebuild(runner, project):
    _edit_template(project, "Home", HOME_NOTE + "\n## My notes\n" + KEEP)
    _ok(runner, project)
    home = project / "vault" / "Home.md"
    mine = "Threads surprised me here.\n\n- [[Examples]] is worth rereading\n"
    home.write_text(home.read_text().replace(KEEP, f"%% keep: notes %%\n{mine}%% end keep %%\n"))
    expected_block = f"%% keep: notes %%\n{mine}%% end keep %%\n"

    output = _ok(runner, project)  # nothing changed: writing inside a keep block is no hand edit
    assert expected_block in home.read_text() and "edited by hand" not in output

    _edit_template(project, "Home", HOME_NOTE + "\nNew intro.\n\n## My notes\n" + KEEP)
    output = _ok(runner, project)  # the template changed: the note is updated around the block
    text = home.read_text()
    assert "New intro." in text and expected_block in text and "edited by hand" not in output

    _edit_template(project, "Home", HOME_NOTE + "\nNewer intro.\n\n## My notes\n" + KEEP)
    _ok(runner, project, "--overwrite")
    text = home.read_text()
    assert "Newer intro." in text and expected_block in text

    home.write_text(text.replace("# Home", "# Home (edited outside the block)"))
    _edit_template(project, "Home", HOME_NOTE + "\nNewest intro.\n\n## My notes\n" + KEEP)
    _ok(runner, project, "--overwrite")  # a real hand edit is replaced, the block still carried
    text = home.read_text()
    assert "Newest intro." in text and expected_block in text and "edited outside" not in text
    assert "edited outside" in _backups(project, "Home.md")[0].read_text()


def test_a_link_to_a_note_not_written_yet_in_a_keep_block_does_not_stop_the_build(runner, project):
    """It stopped every build, blaming the template ("fix the links in the named templates")."""
    _edit_template(project, "Home", HOME_NOTE + "\n## My notes\n" + KEEP)
    _ok(runner, project)
    home = project / "vault" / "Home.md"
    home.write_text(home.read_text().replace(KEEP, "%% keep: notes %%\nnext: [[Not Yet Written]]\n%% end keep %%\n"))
    _edit_template(project, "Home", HOME_NOTE + "\nNew intro.\n\n## My notes\n" + KEEP)
    result = _build(runner, project, "--json")
    assert result.exit_code == 0, result.output
    assert "New intro." in home.read_text() and "next: [[Not Yet Written]]" in home.read_text()
    warning = json.loads(result.stdout)["warnings"][0]  # first: the one the user must see
    assert warning["path"] == "Home.md" and "your text in keep block 'notes'" in warning["message"]
    # The same link written by the template is the template's to fix: it still stops the build,
    # on a keep marker's own line too.
    for template_text in ("\n[[Not Yet Written]]\n\n## My notes\n" + KEEP,
                          "\n## My notes\n[[Not Yet Written]] %% keep: notes %%\n%% end keep %%\n",
                          "\n## My notes\n%% keep: notes %%\n%% end keep %% [[Not Yet Written]]\n",
                          "\n## Other\n%% keep: other %%\nDefault text [[Not Yet Written]].\n%% end keep %%\n"):
        _edit_template(project, "Home", HOME_NOTE + template_text)
        result = _build(runner, project)
        assert result.exit_code == 1 and "fix the links in the named templates" in " ".join(result.output.split()), template_text


def test_a_new_note_that_takes_the_name_of_one_of_yours_is_named(runner, project):
    """A template `World` made [[World]] in the user's Plan.md lead to it instead of their
    Projects/World.md, without a word."""
    _ok(runner, project)
    (project / "vault" / "Projects").mkdir()
    (project / "vault" / "Projects" / "World.md").write_text("# World\n")
    (project / "vault" / "Plan.md").write_text("see [[World]]\n")
    _edit_template(project, "World", "{#---\ntitle: World\ntags: [t]\n---#}\n# World\n")
    result = _build(runner, project, "--json")
    assert result.exit_code == 0, result.output
    messages = json.loads(result.stdout)["messages"]
    assert any("World.md is new and has the name of your Projects/World.md" in m for m in messages), messages
    again = json.loads(_build(runner, project, "--json").stdout)["messages"]  # said once, when it is new
    assert not any("has the name of your" in m for m in again)


def test_a_keep_block_with_bytes_that_are_not_utf8_is_never_lost(runner, project):
    """It was taken for a hand edit, and --overwrite dropped its text from the note (kept only in the
    backup). Now the bytes are carried as they are, and the build stops at the line to re-save."""
    _edit_template(project, "Home", HOME_NOTE + "\n## My notes\n" + KEEP)
    _ok(runner, project)
    home = project / "vault" / "Home.md"
    mine = b"My notes: caf\xe9 r\xe9sum\xe9\n"  # Latin-1, pasted from an old file
    home.write_bytes(home.read_bytes().replace(KEEP.encode(), b"%% keep: notes %%\n" + mine + b"%% end keep %%\n"))
    before = home.read_bytes()
    _edit_template(project, "Home", HOME_NOTE + "\nNew intro.\n\n## My notes\n" + KEEP)
    for extra in ((), ("--overwrite",)):
        result = invoke(runner, "build", "-C", str(project), "--profile", "quick", *extra)
        assert result.exit_code == 1 and "Home.md:" in result.output and "is not UTF-8" in result.output
        assert "keep block: re-save that text as UTF-8" in result.output and "edited by hand" not in result.output
        assert home.read_bytes() == before  # nothing written, nothing lost
    home.write_bytes(before.replace(mine, mine.decode("latin-1").encode()))  # the user re-saves it
    output = _ok(runner, project)
    assert "New intro." in home.read_text() and "My notes: café résumé" in home.read_text() and "edited by hand" not in output


def test_keep_block_removed_from_template_is_not_lost(runner, project):
    _edit_template(project, "Home", HOME_NOTE + "\n" + KEEP)
    _ok(runner, project)
    home = project / "vault" / "Home.md"
    home.write_text(home.read_text().replace(KEEP, "%% keep: notes %%\nprecious\n%% end keep %%\n"))
    _edit_template(project, "Home", HOME_NOTE)
    _ok(runner, project)
    assert "precious" in home.read_text() and "Kept text from removed keep blocks" in home.read_text()


def test_users_own_files_are_never_touched(runner, project):
    _ok(runner, project)
    vault = project / "vault"
    (vault / "Mine.md").write_text("# Mine\n\nSee [[Home]].\n")
    (vault / "journal").mkdir()
    (vault / "journal" / "2024-01-01.md").write_text("# a day\n")
    (vault / "attachments").mkdir(exist_ok=True)
    (vault / "attachments" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (vault / ".obsidian" / "workspace.json").write_text('{"open": ["Mine.md"]}')
    mine = {k: v for k, v in _snapshot(vault).items()
            if k in ("Mine.md", "journal/2024-01-01.md", "attachments/photo.png", ".obsidian/workspace.json")}
    assert len(mine) == 4
    _edit_template(project, "Home", HOME_NOTE + "\nChanged.\n")
    _ok(runner, project)
    _ok(runner, project, "--overwrite")
    _ok(runner, project, "--force", "--overwrite")
    (project / "templates" / "Examples.md.j2").unlink()  # removals never reach them either
    _ok(runner, project, "--overwrite")
    after = _snapshot(vault)
    assert {k: after[k] for k in mine} == mine


def test_users_file_where_a_note_would_go_is_a_conflict(runner, project):
    _ok(runner, project)
    (project / "vault" / "Later.md").write_text("# Later\n\nmine first\n")
    _edit_template(project, "Later", "{#---\ntitle: Later\n---#}\n# Later\n\ngenerated\n")
    output = _ok(runner, project, "--overwrite")
    assert (project / "vault" / "Later.md").read_text() == "# Later\n\nmine first\n"
    assert "Later.md: a file vaultgen did not write" in output and "rename or move it" in output


def test_deleted_template_removes_its_note_only_if_unmodified(runner, project):
    for name in ("Plain", "Edited"):
        _edit_template(project, name, "{#---\ntitle: " + name + "\n---#}\n# " + name + "\n\nSee [[Home]].\n")
    _ok(runner, project)
    vault = project / "vault"
    plain = (vault / "Plain.md").read_text()
    edited = (vault / "Edited.md").read_text() + "\nMy thoughts.\n"
    (vault / "Edited.md").write_text(edited)
    for name in ("Plain", "Edited"):
        (project / "templates" / f"{name}.md.j2").unlink()
    output = _ok(runner, project, "--overwrite")  # not even --overwrite deletes a hand edit
    assert not (vault / "Plain.md").exists()
    assert _backups(project, "Plain.md")[0].read_text() == plain
    assert (vault / "Edited.md").read_text() == edited
    assert "Plain.md: its template is gone, so it is removed" in output
    assert "Edited.md: its template is gone but the file was edited by hand, so it is kept" in output
    output = _ok(runner, project)  # no longer vaultgen's: not reported again, not touched
    assert "Edited.md" not in output and (vault / "Edited.md").read_text() == edited
    assert "[[Plain]]" not in (vault / "Home.md").read_text()


def test_check_mode(runner, project):
    _ok(runner, project)
    vault = project / "vault"
    before = _snapshot(vault)
    assert "vault is up to date" in _ok(runner, project, "--check")
    _edit_template(project, "Home", HOME_NOTE + "\nA checked line.\n")
    result = _build(runner, project, "--check")
    assert result.exit_code == 1
    assert "update Home.md" in result.output and "+A checked line." in result.output
    assert "1 file(s) out of date" in result.output
    assert _snapshot(vault) == before  # --check writes nothing
    _ok(runner, project)
    assert "vault is up to date" in _ok(runner, project, "--check")


def test_a_keep_block_that_lost_its_end_marker_is_named_with_its_line(runner, project):
    """The message said "move your text inside the note's keep block", which the user had done:
    what made the note an edit was the end marker they deleted."""
    _edit_template(project, "Home", HOME_NOTE + "\n## My notes\n" + KEEP)
    _ok(runner, project)
    home = project / "vault" / "Home.md"
    text = home.read_text().replace(KEEP, "%% keep: notes %%\nMy words.\n")
    home.write_text(text)
    line = text[: text.index("%% keep: notes")].count("\n") + 1
    output = _ok(runner, project)
    assert f"keep block 'notes' has no '%% end keep %%', line {line}" in " ".join(output.split()), output
    assert home.read_text() == text  # left as is
