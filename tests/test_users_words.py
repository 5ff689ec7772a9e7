"""The user's words are never lost (issue 11 §B): keep blocks, renames, line endings, settings.

Each case starts from a fresh copy of a built project, does what a user (or
git, or Obsidian) does to the vault, builds through the CLI, and checks the
exit code, the message and every byte that matters afterwards.
"""

from __future__ import annotations

import json

import pytest

from tests.faultkit import (  # noqa: F401  (fixtures)
    build,
    built_once,
    error_line,
    flat,
    fresh,
    refused,
    snapshot,
    template,
)

DIARY = "{#---\ntitle: TITLE\norder: 50\n---#}\n# TITLE\n\n%% keep: thoughts %%\n%% end keep %%\n\nBack to [[Home]].\n"
MINE = "\nwhat I wrote on Tuesday\n"


def _ok(runner, project, *extra) -> str:
    result = build(runner, project, *extra)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return flat(result.output)


def _diary(runner, fresh, title="Diary"):
    template(fresh, "Diary.md.j2", DIARY.replace("TITLE", title))
    _ok(runner, fresh)
    note = fresh / "vault" / f"{title}.md"
    note.write_text(note.read_text().replace("%% keep: thoughts %%\n", "%% keep: thoughts %%" + MINE))
    return note


# --- 5. keep blocks follow the template -------------------------------------------------------


def test_renamed_title_carries_keep_blocks_and_says_renamed(runner, fresh):
    old = _diary(runner, fresh)
    template(fresh, "Diary.md.j2", DIARY.replace("TITLE", "Journal"))
    output = _ok(runner, fresh)
    new = fresh / "vault" / "Journal.md"
    assert MINE.strip() in new.read_text()
    assert not old.exists()
    assert "Diary.md → Journal.md" in output and "renamed" in output
    assert "template is gone" not in output
    manifest = json.loads((fresh / "vault" / ".vaultgen" / "manifest.json").read_text())
    assert "Diary.md" not in manifest["files"] and manifest["templates"]["Journal.md"] == "templates/Diary.md.j2"
    assert _ok(runner, fresh).startswith("vault up to date")  # and it stays put


def test_renamed_title_of_a_hand_edited_note_keeps_both(runner, fresh):
    old = _diary(runner, fresh)
    old.write_text(old.read_text() + "\nan edit outside the block\n")
    template(fresh, "Diary.md.j2", DIARY.replace("TITLE", "Journal"))
    output = _ok(runner, fresh)
    assert "an edit outside the block" in old.read_text()
    assert MINE.strip() in (fresh / "vault" / "Journal.md").read_text()
    assert "Diary.md: renamed to Journal.md" in output and "edited by hand, so it is kept" in output


# --- 6. keep blocks match by name --------------------------------------------------------------


@pytest.mark.parametrize("body, words", [
    ("{% for n in range(2) %}%% keep: x %%\n%% end keep %%\n{% endfor %}", "'x' appears more than once"),
    ("%% keep: a %%\n%% keep: b %%\n%% end keep %%\n%% end keep %%\n", "'b' is opened inside keep block 'a'"),
    ("%% keep: a %%\nnever closed\n", "'a' has no '%% end keep %%'"),
], ids=["duplicate", "nested", "unclosed"])
def test_keep_blocks_that_cannot_match_by_name_are_refused(runner, fresh, body, words):
    before = snapshot(fresh / "vault")
    template(fresh, "Loop.md.j2", "{#---\ntitle: Loop\n---#}\n# Loop\n\n" + body)
    line = refused(runner, fresh, before)
    assert "Loop.md.j2" in line and words in line and "own name" in line


def test_keep_markers_inside_code_are_not_blocks(runner, fresh):
    code = "{#---\ntitle: Code\n---#}\n# Code\n\n```python\n%% keep: x %%\nVALUE\n%% end keep %%\n```\n" \
           "%% keep: x %%\n%% end keep %%\n"
    template(fresh, "Code.md.j2", code.replace("VALUE", "print(1)"))
    _ok(runner, fresh)  # the same name in code and in the note is no duplicate
    note = fresh / "vault" / "Code.md"
    note.write_text(note.read_text().replace("```\n%% keep: x %%\n", "```\n%% keep: x %%\nmine\n"))
    template(fresh, "Code.md.j2", code.replace("VALUE", "print(2)"))
    _ok(runner, fresh)
    text = note.read_text()
    assert "print(2)" in text and "print(1)" not in text  # the example moved on
    assert text.endswith("%% keep: x %%\nmine\n%% end keep %%\n")  # the real block kept its words


# --- 7. line endings ------------------------------------------------------------------------------


def test_crlf_vault_is_not_edited_by_hand(runner, fresh):
    vault = fresh / "vault"
    for note in vault.glob("*.md"):
        note.write_bytes(note.read_bytes().replace(b"\n", b"\r\n"))
    (fresh / ".vaultgen" / "rendered.json").unlink()
    crlf = snapshot(vault)
    output = _ok(runner, fresh)
    assert "edited by hand" not in output
    assert snapshot(vault) == crlf  # nothing rewritten
    template(fresh, "Home.md.j2", (fresh / "templates" / "Home.md.j2").read_text() + "\nMore.\n")
    output = _ok(runner, fresh)
    assert "edited by hand" not in output and "Home.md" in output
    assert (vault / "Home.md").read_text().endswith("More.\n")


# --- 8. a deleted manifest --------------------------------------------------------------------------


def test_deleted_manifest_adopts_identical_notes(runner, fresh):
    manifest_file = fresh / "vault" / ".vaultgen" / "manifest.json"
    good = json.loads(manifest_file.read_text())
    manifest_file.unlink()
    output = _ok(runner, fresh)
    assert "conflict" not in output
    assert json.loads(manifest_file.read_text())["files"] == good["files"]
    home = fresh / "vault" / "Home.md"
    home.write_text(home.read_text() + "\nmy edit\n")
    template(fresh, "Home.md.j2", (fresh / "templates" / "Home.md.j2").read_text() + "\nMore.\n")
    output = _ok(runner, fresh)
    assert "Home.md: edited by hand" in output and "did not write" not in output


# --- 9. .obsidian/app.json is merged ------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [False, True], ids=["build", "overwrite"])
def test_obsidian_settings_are_merged(runner, fresh, overwrite):
    app = fresh / "vault" / ".obsidian" / "app.json"
    ours = json.loads(app.read_text())
    users = {**ours, "vimMode": True, "showLineNumber": True, "attachmentFolderPath": "elsewhere"}
    app.write_text(json.dumps(users, indent=2))  # Obsidian's own formatting: unsorted, no newline
    output = _ok(runner, fresh, *(["--overwrite"] if overwrite else []))
    assert "edited by hand" not in output
    merged = json.loads(app.read_text())
    assert merged == {**users, **ours}  # our keys set, the user's kept
    again = _ok(runner, fresh)
    assert "app.json" not in again and json.loads(app.read_text()) == merged


def test_obsidian_settings_with_only_user_keys_added_are_left_alone(runner, fresh):
    app = fresh / "vault" / ".obsidian" / "app.json"
    users = {**json.loads(app.read_text()), "vimMode": True}
    text = json.dumps(users, indent=4)
    app.write_text(text)
    (fresh / ".vaultgen" / "rendered.json").unlink()
    output = _ok(runner, fresh)
    assert "edited by hand" not in output and app.read_text() == text


# --- 10. build --check fails on a hand edit -------------------------------------------------------------


@pytest.mark.parametrize("path", ["Home.md", ".gitignore"])
def test_check_fails_when_a_generated_file_was_edited(runner, fresh, path):
    target = fresh / "vault" / path
    target.write_text(target.read_text() + "\nmy edit\n")
    before = snapshot(fresh / "vault")
    result = build(runner, fresh, "--check")
    assert result.exit_code == 1, result.output
    assert f"modified {path}" in flat(result.output)
    assert snapshot(fresh / "vault") == before


# --- 11. a note renamed in Obsidian ---------------------------------------------------------------------------


def test_note_renamed_in_obsidian_is_detected_with_the_way_out(runner, fresh):
    vault = fresh / "vault"
    (vault / "Examples.md").rename(vault / "Samples.md")
    home = vault / "Home.md"
    home.write_text(home.read_text().replace("[[Examples]]", "[[Samples]]"))  # Obsidian updates links
    output = _ok(runner, fresh)
    assert "Examples.md: missing, but Samples.md holds the same note" in output
    assert "change the title in templates/Examples.md.j2 and delete Samples.md" in output
    assert (vault / "Samples.md").is_file() and (vault / "Examples.md").is_file()


# --- 21. messages fit the file --------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [True, False], ids=["note-with-block", "settings-file"])
def test_hand_edit_message_offers_keep_blocks_only_where_there_are_some(runner, fresh, keep):
    if keep:
        target = _diary(runner, fresh)
        template(fresh, "Diary.md.j2", DIARY.replace("TITLE", "Diary") + "\nMore.\n")
    else:
        target = fresh / "vault" / ".gitignore"
        template(fresh, "Home.md.j2", (fresh / "templates" / "Home.md.j2").read_text() + "\nMore.\n")
    target.write_text(target.read_text() + "\nmy edit outside\n")
    output = _ok(runner, fresh)
    assert output.count("edited by hand") == 1
    message = output[output.index(f"{target.name}: edited by hand"):]
    assert ("'%% keep: thoughts %%'" in message) == keep
