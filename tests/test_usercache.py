"""vaultgen's cache folder: files nobody used for a month go, files in use stay, links are never followed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator import usercache
from generator.cli import app
from generator.lint.cachefile import vault_files

DAY = 24 * 3600


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VAULTGEN_CACHE_DIR", str(folder))
    return folder


def _file(path: Path, age_days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    when = time.time() - age_days * DAY
    os.utime(path, (when, when), follow_symlinks=False)
    return path


def test_prune_deletes_only_our_files_unused_for_a_month(cache: Path, tmp_path: Path) -> None:
    old = _file(cache / "check-aaaa.marshal", 31)
    old_part = _file(cache / "check-aaaa-state.marshal", 31)
    fresh = _file(cache / "check-bbbb.marshal", 29)
    old_bytecode = _file(cache / "jinja" / "__jinja2_cafe.cache", 40)
    fresh_bytecode = _file(cache / "jinja" / "__jinja2_beef.cache", 1)
    foreign = _file(cache / "notes.txt", 400)  # not ours: kept whatever its age
    outside = _file(tmp_path / "outside.marshal", 400)
    link = cache / "check-link.marshal"
    link.symlink_to(outside)
    os.utime(link, (time.time() - 60 * DAY,) * 2, follow_symlinks=False)

    assert usercache.prune() == 4
    assert not old.exists() and not old_part.exists() and not old_bytecode.exists() and not link.is_symlink()
    assert fresh.exists() and fresh_bytecode.exists() and foreign.exists()
    assert outside.read_bytes() == b"x"  # the link went, not what it pointed at


def test_prune_runs_at_most_once_a_day(cache: Path) -> None:
    cache.mkdir()
    usercache.prune()
    old = _file(cache / "check-cccc.marshal", 90)
    assert usercache.prune() == 0 and old.exists()
    assert usercache.prune(now=time.time() + DAY + 60) == 1 and not old.exists()


def test_the_marker_is_never_written_through_a_link(cache: Path, tmp_path: Path) -> None:
    cache.mkdir()
    target = _file(tmp_path / "victim", 10)
    before = target.stat().st_mtime
    (cache / ".pruned").symlink_to(tmp_path / "created-by-nobody")  # a dangling link: O_CREAT would create its target
    usercache.prune()
    assert not (tmp_path / "created-by-nobody").exists()
    (cache / ".pruned").unlink()
    (cache / ".pruned").symlink_to(target)
    usercache.prune()
    assert target.stat().st_mtime == before and target.read_bytes() == b"x"


def test_a_linked_subfolder_is_never_pruned_through(cache: Path, tmp_path: Path) -> None:
    elsewhere = _file(tmp_path / "elsewhere" / "__jinja2_deadbeef.cache", 60).parent
    cache.mkdir()
    (cache / "jinja").symlink_to(elsewhere)
    leftovers = [_file(cache / ".check-abc.marshal.123.cafe.tmp", 90)]
    assert usercache.prune() == 1  # the killed writer's temporary, not what the link leads to
    assert (elsewhere / "__jinja2_deadbeef.cache").exists() and not leftovers[0].exists()


def test_a_checked_vault_keeps_its_cache_however_old(cache: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "A.md").write_text("[[B]]\n", encoding="utf-8")
    (vault / "B.md").write_text("[[A]]\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["check", str(vault)]).exit_code == 0
    files = [path for path in vault_files(vault) if path.exists()]
    assert files  # facts and findings at least
    for path in [*files, cache / ".pruned"]:
        os.utime(path, (time.time() - 45 * DAY,) * 2)
    assert runner.invoke(app, ["check", str(vault)]).exit_code == 0  # marks them used, then prunes
    assert all(path.exists() for path in files)
    assert all(time.time() - path.stat().st_mtime < DAY for path in files)


def test_bytecode_goes_only_to_a_private_folder_of_ours(cache: Path, tmp_path: Path) -> None:
    folder = usercache.private_folder("jinja")
    assert folder == cache / "jinja" and (folder.stat().st_mode & 0o777) == 0o700
    folder.chmod(0o777)
    assert usercache.private_folder("jinja") is None  # others could plant code there
    folder.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    folder.symlink_to(elsewhere)
    assert usercache.private_folder("jinja") is None
