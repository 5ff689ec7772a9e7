"""The vault writer never loses anything: hand edits, keep blocks, user files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.errors import LockError, VaultError
from generator.writer.keepblocks import carry_keep_blocks
from generator.writer.manifest import content_hash, load_manifest
from generator.writer import VaultLock, WriteReport, plan_changes, stage_files

NOTE = "# {title}\n\nGenerated text.\n\n%% keep: notes %%\n{notes}\n%% end keep %%\n"


def note(title: str, notes: str = "write here") -> bytes:
    return NOTE.format(title=title, notes=notes).encode()


def base_files() -> dict[str, bytes]:
    return {
        "index.md": b"# Index\n\n[[topics/threads]]\n",
        "topics/threads.md": note("Threads"),
        "attachments/chart.svg": b"<svg>1</svg>\n",
        ".obsidian/app.json": b'{"x": 1}\n',
    }


def write(vault: Path, files: dict[str, bytes], overwrite: bool = False) -> WriteReport:
    with VaultLock(vault, timeout=2.0), stage_files(vault, files, overwrite=overwrite) as stage:
        return stage.commit()


def vault_state(vault: Path) -> dict[str, tuple[bytes, int]]:
    """Every file with its content and mtime, vaultgen's staging and lock left out."""
    state = {}
    for path in sorted(vault.rglob("*")):
        rel = path.relative_to(vault).as_posix()
        if path.is_file() and not rel.startswith((".vaultgen/staging", ".vaultgen/lock")):
            state[rel] = (path.read_bytes(), path.stat().st_mtime_ns)
    return state


def age(vault: Path) -> None:
    """Back-date every file, so that a rewrite shows as a new mtime whatever the clock's resolution."""
    for path in vault.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(1_000_000_000, 1_000_000_000))


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return tmp_path / "vault"


# --- create / update / unchanged ------------------------------------------------------


def test_first_build_creates_every_file_and_a_deterministic_manifest(vault: Path) -> None:
    report = write(vault, base_files())

    assert sorted(report.created) == sorted(base_files())
    assert report.changed
    for path, data in base_files().items():
        assert (vault / path).read_bytes() == data
    text = (vault / ".vaultgen/manifest.json").read_text()
    doc = json.loads(text)
    assert text.endswith("}\n")
    assert text == json.dumps(doc, indent=2, sort_keys=True) + "\n"
    assert str(vault) not in text and "pending" not in doc
    assert doc["files"]["topics/threads.md"] == content_hash("topics/threads.md", note("Threads"))
    assert not (vault / ".vaultgen/staging").exists()
    assert not (vault / ".vaultgen/lock").exists()


def test_a_build_that_changes_nothing_rewrites_no_file_not_even_the_manifest(vault: Path) -> None:
    write(vault, base_files())
    age(vault)
    before = vault_state(vault)

    report = write(vault, base_files())

    assert vault_state(vault) == before
    assert sorted(report.unchanged) == sorted(base_files())
    assert not report.changed and not report.messages
    assert all(change.action == "unchanged" and change.diff is None for change in plan_changes(vault, base_files()))


def test_update_rewrites_only_the_files_that_changed(vault: Path) -> None:
    write(vault, base_files())
    age(vault)
    before = vault_state(vault)
    files = base_files() | {"index.md": b"# Index v2\n"}

    report = write(vault, files)

    after = vault_state(vault)
    assert report.updated == ["index.md"] and report.changed
    assert after["index.md"][0] == b"# Index v2\n"
    assert after["index.md"][1] != before["index.md"][1]
    for path in ["topics/threads.md", "attachments/chart.svg", ".obsidian/app.json"]:
        assert after[path] == before[path]


# --- hand edits ---------------------------------------------------------------------------


def test_a_hand_edited_file_is_kept_and_reported(vault: Path) -> None:
    write(vault, base_files())
    (vault / "index.md").write_bytes(b"# Index\n\nMy own words.\n")
    files = base_files() | {"index.md": b"# Index v2\n"}

    report = write(vault, files)

    assert (vault / "index.md").read_bytes() == b"# Index\n\nMy own words.\n"
    assert report.modified == ["index.md"] and not report.changed
    [message] = report.messages
    assert "index.md" in message and "--overwrite" in message
    assert "keep" not in message  # index.md has no keep block to offer
    # Still reported next time: the manifest keeps the hash vaultgen wrote.
    assert write(vault, files).modified == ["index.md"]


def test_overwrite_backs_the_hand_edit_up_then_replaces_it(vault: Path) -> None:
    write(vault, base_files())
    edited = b"# Index\n\nMy own words.\n"
    (vault / "index.md").write_bytes(edited)

    report = write(vault, base_files() | {"index.md": b"# Index v2\n"}, overwrite=True)

    assert (vault / "index.md").read_bytes() == b"# Index v2\n"
    assert report.updated == ["index.md"] and report.backed_up == ["index.md"]
    [backup] = (vault / ".vaultgen/backup").glob("index.md.*.bak")
    assert backup.read_bytes() == edited
    assert backup.name in report.messages[0]
    assert write(vault, base_files() | {"index.md": b"# Index v2\n"}).unchanged


# --- keep blocks --------------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [False, True])
def test_keep_blocks_survive_regeneration_and_editing_them_is_no_hand_edit(vault: Path, overwrite: bool) -> None:
    write(vault, base_files())
    path = vault / "topics/threads.md"
    path.write_bytes(note("Threads", "my precious notes"))

    assert write(vault, base_files(), overwrite=overwrite).unchanged  # keep edit alone changes nothing
    report = write(vault, base_files() | {"topics/threads.md": note("Threads v2")}, overwrite=overwrite)

    assert path.read_bytes() == note("Threads v2", "my precious notes")
    assert report.updated == ["topics/threads.md"]
    assert not report.modified and not report.backed_up


def test_keep_blocks_survive_even_an_overwrite_of_a_hand_edit(vault: Path) -> None:
    write(vault, base_files())
    path = vault / "topics/threads.md"
    path.write_bytes(note("Threads", "my precious notes").replace(b"Generated", b"Hand-edited"))

    report = write(vault, base_files() | {"topics/threads.md": note("Threads v2")}, overwrite=True)

    assert path.read_bytes() == note("Threads v2", "my precious notes")
    assert report.backed_up == ["topics/threads.md"]


def test_a_keep_block_the_template_dropped_is_appended_not_lost(vault: Path) -> None:
    write(vault, base_files())
    path = vault / "topics/threads.md"
    path.write_bytes(note("Threads", "my precious notes"))
    without_block = base_files() | {"topics/threads.md": b"# Threads v2\n"}

    assert write(vault, without_block).updated == ["topics/threads.md"]
    text = path.read_text()
    assert text.startswith("# Threads v2\n")
    assert "## Kept text from removed keep blocks" in text
    assert "%% keep: notes %%\nmy precious notes\n%% end keep %%" in text

    # Stable: the next build changes nothing ...
    assert write(vault, without_block).unchanged == sorted(without_block)
    # ... and emptying the orphaned block (an edit inside it) lets it go.
    path.write_text(text.replace("my precious notes", ""))
    assert write(vault, without_block).updated == ["topics/threads.md"]
    assert path.read_bytes() == b"# Threads v2\n"


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.sampled_from(["a", "b", "c"]), max_size=4),
    new_names=st.lists(st.sampled_from(["a", "b", "d"]), max_size=3, unique=True),  # a rendering names each block once
    bodies=st.lists(st.text(alphabet="xy \n%", max_size=8), min_size=4, max_size=4),
)
def test_carrying_keep_blocks_loses_no_text_and_is_stable(
    names: list[str], new_names: list[str], bodies: list[str]
) -> None:
    def render(block_names: list[str], fill: list[str]) -> str:
        return "head\n" + "".join(f"%% keep: {n} %%{b}%% end keep %%\ntext\n" for n, b in zip(block_names, fill))

    old = render(names, [f"<{body}>" for body in bodies])
    new = render(new_names, ["default"] * 4)

    merged = carry_keep_blocks(new, old)

    for name, body in zip(names, bodies):
        assert f"%% keep: {name} %%<{body}>%% end keep %%" in merged
    assert carry_keep_blocks(new, merged) == merged
    assert content_hash("n.md", merged.encode()) == content_hash("n.md", carry_keep_blocks(new, merged).encode())


@pytest.mark.parametrize("line", [
    "`%% keep: x %%` then `%% end keep %%`",
    "``%% keep: x %% with ` inside``",
    "> [!warning] failed: `odd %% keep: x %% then %% end keep %% and %% keep: y %%`",
])
def test_keep_markers_in_inline_code_are_code_not_blocks(line: str) -> None:
    """A failed run's stderr, quoted in a callout, held '%% keep: y %%' and broke the build."""
    from generator.writer.keepblocks import keep_block_problem, scan

    assert scan(f"{line}\n") == ([], [])
    assert keep_block_problem(f"{line}\n") is None


def test_a_backtick_left_open_does_not_hide_a_keep_block() -> None:
    from generator.writer.keepblocks import scan

    blocks, problems = scan("it costs ` 5 %% keep: a %%mine%% end keep %% and `` more\n")
    assert [b.name for b in blocks] == ["a"] and problems == []


# --- files that are not vaultgen's ------------------------------------------------------


def test_files_the_user_added_are_never_touched(vault: Path) -> None:
    write(vault, base_files())
    mine = {
        "my note.md": b"# Mine\n",
        "attachments/photo.png": b"\x89PNG\x00",
        ".obsidian/workspace.json": b"{}",
        ".obsidian/plugins/x/data.json": b"{}",
    }
    for path, data in mine.items():
        (vault / path).parent.mkdir(parents=True, exist_ok=True)
        (vault / path).write_bytes(data)
    age(vault)
    before = vault_state(vault)

    write(vault, base_files() | {"index.md": b"changed\n"})
    write(vault, {"index.md": b"only this\n"})  # every other template gone

    after = vault_state(vault)
    for path in mine:
        assert after[path] == before[path]


def test_a_user_file_where_a_generated_one_goes_is_a_conflict_even_with_overwrite(vault: Path) -> None:
    write(vault, base_files())
    (vault / "new.md").write_bytes(b"# My own new.md\n")

    for overwrite in (False, True):
        report = write(vault, base_files() | {"new.md": b"# Generated\n"}, overwrite=overwrite)
        assert report.conflicts == ["new.md"] and not report.backed_up
        assert (vault / "new.md").read_bytes() == b"# My own new.md\n"
        assert "new.md" in report.messages[0] and "rename or move" in report.messages[0]
    assert "new.md" not in load_manifest(vault).files


def test_an_identical_file_the_manifest_lost_is_adopted(vault: Path) -> None:
    write(vault, base_files())
    (vault / ".vaultgen/manifest.json").unlink()

    report = write(vault, base_files())

    assert sorted(report.unchanged) == sorted(base_files()) and not report.conflicts
    assert set(load_manifest(vault).files) == set(base_files())


def test_a_file_whose_template_is_gone_is_removed_only_if_unedited(vault: Path) -> None:
    files = base_files() | {"old/gone.md": b"gone\n", "old/edited.md": b"edited\n", "lonely/x.md": note("x", "mine")}
    write(vault, files)
    (vault / "old/edited.md").write_bytes(b"edited by hand\n")
    (vault / "lonely/x.md").write_bytes(note("x", "my keep text"))

    report = write(vault, base_files())

    assert sorted(report.removed) == ["lonely/x.md", "old/gone.md"]
    assert report.kept_removed == ["old/edited.md"]
    assert (vault / "old/edited.md").read_bytes() == b"edited by hand\n"
    assert not (vault / "old/gone.md").exists() and not (vault / "lonely").exists()
    # Removed files are backed up: their keep blocks may hold the user's text.
    [backup] = (vault / ".vaultgen/backup/lonely").glob("x.md.*.bak")
    assert b"my keep text" in backup.read_bytes()
    # The kept file now belongs to the user.
    assert "old/edited.md" not in load_manifest(vault).files
    assert write(vault, base_files()).kept_removed == []


# --- least privilege ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["../x.md", "/abs.md", "a/../../x.md", "C:/x.md", "a\x00.md", "a\\b.md", "a//b.md", "./a.md",
     ".vaultgen/manifest.json", ".obsidian/workspace.json", ".obsidian/workspace-mobile.json"],
)
def test_paths_that_could_escape_are_refused(vault: Path, bad: str) -> None:
    write(vault, base_files())
    before = vault_state(vault)

    for attempt in (plan_changes, lambda v, f: write(v, f)):
        with pytest.raises(VaultError) as caught:
            attempt(vault, base_files() | {bad: b"evil\n"})
        assert repr(bad) in str(caught.value)
    assert vault_state(vault) == before


def test_a_symlinked_folder_or_file_leading_outside_is_refused(tmp_path: Path, vault: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.md").write_bytes(b"precious\n")
    write(vault, base_files())
    (vault / "linked").symlink_to(outside, target_is_directory=True)
    (vault / "alias.md").symlink_to(outside / "victim.md")

    for bad in ("linked/x.md", "linked/victim.md", "alias.md"):
        with pytest.raises(VaultError, match=bad):
            write(vault, base_files() | {bad: b"evil\n"}, overwrite=True)
    assert sorted(p.name for p in outside.iterdir()) == ["victim.md"]
    assert (outside / "victim.md").read_bytes() == b"precious\n"


def test_a_tampered_manifest_cannot_make_vaultgen_delete_outside(tmp_path: Path, vault: Path) -> None:
    write(vault, base_files())
    victim = tmp_path / "victim.md"
    victim.write_bytes(b"x\n")
    doc = json.loads((vault / ".vaultgen/manifest.json").read_text())
    doc["files"]["../victim.md"] = content_hash("../victim.md", b"x\n")
    (vault / ".vaultgen/manifest.json").write_text(json.dumps(doc))

    with pytest.raises(VaultError, match="restore the manifest"):
        write(vault, base_files())
    assert victim.exists()


def test_a_corrupt_manifest_is_a_one_line_error(vault: Path) -> None:
    write(vault, base_files())
    (vault / ".vaultgen/manifest.json").write_text("<<<<<<< HEAD\n")

    with pytest.raises(VaultError) as caught:
        plan_changes(vault, base_files())
    assert "manifest.json" in str(caught.value) and "\n" not in str(caught.value)


def test_a_vault_path_that_is_a_file_or_lies_under_one_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "vault"
    blocker.write_bytes(b"not a folder")

    for vault in (blocker, blocker / "inner"):
        for attempt in (lambda: VaultLock(vault).acquire(), lambda: stage_files(vault, base_files()),
                        lambda: plan_changes(vault, base_files())):
            with pytest.raises(VaultError) as caught:
                attempt()
            assert str(blocker) in str(caught.value) and "\n" not in str(caught.value)
    assert blocker.read_bytes() == b"not a folder"


def test_a_folder_where_a_generated_file_goes_is_refused_and_nothing_written(vault: Path) -> None:
    write(vault, base_files())
    (vault / "new.md").mkdir()
    before = vault_state(vault)

    with pytest.raises(VaultError, match="new.md.*folder"):
        write(vault, base_files() | {"new.md": b"x\n", "index.md": b"changed\n"})
    assert vault_state(vault) == before
    assert not (vault / ".vaultgen/staging").exists()


# A read-only vault folder and an unreadable note are tested through the CLI in
# test_bad_input.py, which runs them as an unprivileged user (chmod does not bind root).


# --- staging ------------------------------------------------------------------------------


def test_the_stage_holds_the_full_picture_for_the_link_check(vault: Path) -> None:
    write(vault, base_files() | {"old.md": b"old\n"})
    (vault / "user.md").write_bytes(b"# user\n")
    (vault / "attachments/photo.png").write_bytes(b"png")
    (vault / ".obsidian/workspace.json").write_bytes(b"{}")
    (vault / "index.md").write_bytes(b"hand edit\n")
    files = base_files() | {"index.md": b"# new index\n", "topics/new.md": b"new\n"}

    with VaultLock(vault), stage_files(vault, files) as stage:
        picture = {
            p.relative_to(stage.path).as_posix(): p.read_bytes()
            for p in stage.path.rglob("*") if p.is_file()
        }
        stage.discard()

    assert picture == {
        "index.md": b"hand edit\n",  # kept as on disk: it will not be overwritten
        "topics/threads.md": note("Threads"),
        "topics/new.md": b"new\n",
        "attachments/chart.svg": b"<svg>1</svg>\n",
        "attachments/photo.png": b"png",
        "user.md": b"# user\n",
        ".obsidian/app.json": b'{"x": 1}\n',  # generated, so staged although in a dot-folder
    }  # old.md is gone: its template was dropped


def test_discarding_or_failing_leaves_the_vault_as_it_was(vault: Path) -> None:
    write(vault, base_files())
    age(vault)
    before = vault_state(vault)
    files = base_files() | {"index.md": b"changed\n", "new.md": b"new\n"}

    with VaultLock(vault):
        stage_files(vault, files).discard()
        with pytest.raises(KeyError), stage_files(vault, files):
            raise KeyError("the link check blew up")

    assert vault_state(vault) == before
    assert not (vault / ".vaultgen/staging").exists()


def test_a_file_saved_while_the_build_ran_is_not_overwritten(vault: Path) -> None:
    write(vault, base_files())
    files = base_files() | {"index.md": b"# Index v2\n"}

    with VaultLock(vault), stage_files(vault, files) as stage:
        (vault / "index.md").write_bytes(b"saved in Obsidian meanwhile\n")
        report = stage.commit()

    assert report.modified == ["index.md"] and "while the build ran" in report.messages[0]
    assert (vault / "index.md").read_bytes() == b"saved in Obsidian meanwhile\n"


def test_files_left_new_by_an_interrupted_commit_are_not_mistaken_for_hand_edits(vault: Path) -> None:
    write(vault, base_files())
    files = base_files() | {"index.md": b"# Index v2\n"}
    stage = stage_files(vault, files)
    # What a kill after the journal and the first move leaves behind.
    old_manifest = load_manifest(vault)
    final = type(old_manifest)({**old_manifest.files, "index.md": content_hash("index.md", files["index.md"])})
    (vault / ".vaultgen/manifest.json").write_bytes(old_manifest.journal_towards(final).to_bytes())
    os.replace(stage.path / "index.md", vault / "index.md")
    stage.discard()

    for overwrite in (False, True):
        report = write(vault, files, overwrite=overwrite)
        assert report.unchanged == sorted(files) and not report.modified
    assert "pending" not in json.loads((vault / ".vaultgen/manifest.json").read_text())


# --- plan / check mode --------------------------------------------------------------------


def test_plan_changes_writes_nothing_and_diffs_text_files(tmp_path: Path, vault: Path) -> None:
    assert {c.action for c in plan_changes(vault, base_files())} == {"create"}
    assert not vault.exists()

    write(vault, base_files() | {"gone.md": b"bye\n"})
    (vault / "topics/threads.md").write_bytes(b"hand edit\n")
    files = base_files() | {"index.md": b"# Index v2\n", "attachments/chart.svg": b"\xff\x00", "new.md": b"hi\n"}
    age(vault)
    before = vault_state(vault)

    changes = {c.path: c for c in plan_changes(vault, files)}

    assert vault_state(vault) == before
    assert {p: c.action for p, c in changes.items()} == {
        "index.md": "update",
        "topics/threads.md": "modified",
        "attachments/chart.svg": "update",
        ".obsidian/app.json": "unchanged",
        "new.md": "create",
        "gone.md": "remove",
    }
    assert "-[[topics/threads]]" in changes["index.md"].diff and "+# Index v2" in changes["index.md"].diff
    assert changes["new.md"].diff.startswith("--- /dev/null\n+++ b/new.md\t\n")  # a tab ends the name for patch
    assert changes["gone.md"].diff.startswith("--- a/gone.md\t\n+++ /dev/null\n")
    assert changes["attachments/chart.svg"].diff == "Binary file attachments/chart.svg differs\n"
    assert "--overwrite" in changes["topics/threads.md"].message
    touched = [p for p, c in changes.items() if c.changes_vault]
    assert touched == ["attachments/chart.svg", "gone.md", "index.md", "new.md"]


def test_a_diff_marks_a_missing_final_newline(vault: Path) -> None:
    write(vault, {"a.md": b"one\n"})
    [change] = plan_changes(vault, {"a.md": b"two"})
    assert change.diff.endswith("+two\n\\ No newline at end of file\n")


# --- one build at a time -----------------------------------------------------------------


def test_a_second_build_waits_then_names_the_lock_and_its_holder(vault: Path) -> None:
    with VaultLock(vault):
        with pytest.raises(LockError) as caught:
            VaultLock(vault, timeout=0.1).acquire()
    message = str(caught.value)
    assert f"pid {os.getpid()}" in message and str(vault / ".vaultgen/lock") in message
    with VaultLock(vault, timeout=0.1):  # released: free again
        pass


def test_the_lock_is_released_on_exceptions(vault: Path) -> None:
    with pytest.raises(ZeroDivisionError), VaultLock(vault):
        1 / 0
    assert not (vault / ".vaultgen/lock").exists()
    with VaultLock(vault, timeout=0.1):
        pass


def test_a_lock_left_by_a_finished_process_is_recovered(vault: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (vault / ".vaultgen").mkdir(parents=True)
    (vault / ".vaultgen/lock").write_text(json.dumps({"host": "here", "pid": int(finished.stdout)}))

    with VaultLock(vault, timeout=0.1) as lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()


def test_a_lock_held_by_another_process_blocks_until_that_process_is_killed(vault: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from generator.writer import VaultLock\n"
         f"with VaultLock({str(vault)!r}):\n    print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(LockError, match=f"pid {holder.pid} "):
            VaultLock(vault, timeout=0.1).acquire()
    finally:
        holder.kill()
        holder.wait()
    with VaultLock(vault, timeout=2.0):  # kill -9 leaves the file, but not the lock
        pass
