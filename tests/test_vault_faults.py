"""kill -9 at every step of a vault write: nothing is ever half-written or lost.

A subprocess runs a write with ``generator.writer.stage._checkpoint`` replaced by a
hook that SIGKILLs the process at step N (or at the step of a given label).  After each kill, every file must be
a complete old or new version, the manifest valid and consistent, and the next
normal write must leave the vault exactly as an uninterrupted write does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import generator
from generator.writer import VaultLock, stage_files
from generator.writer.manifest import Manifest, content_hash

DRIVER = """
import json, os, signal, sys
import generator.writer.stage as vault
from generator.writer import VaultLock

spec = json.loads(open(sys.argv[1]).read())
seen = []

def checkpoint(label):
    seen.append(label)
    if spec["kill_at"] in (len(seen) - 1, label):
        os.kill(os.getpid(), signal.SIGKILL)

vault._checkpoint = checkpoint
files = {path: bytes.fromhex(data) for path, data in spec["files"].items()}
with VaultLock(spec["vault"], timeout=5.0):
    with vault.stage_files(spec["vault"], files, overwrite=spec["overwrite"]) as stage:
        stage.commit()
print(json.dumps(seen))
"""


def note(title: str, notes: str = "write here") -> bytes:
    return f"# {title}\n\n%% keep: notes %%\n{notes}\n%% end keep %%\n".encode()


OLD = {
    **{f"notes/n{i}.md": note(f"Note {i}") for i in range(7)},
    "old/gone.md": b"# gone\n",
    "notes/orphan-edited.md": b"# orphan\n",
    "attachments/chart1.svg": b"<svg>1</svg>\n",
    "attachments/chart2.svg": b"<svg>2</svg>\n",
    ".obsidian/app.json": b"{}\n",
}
NEW = {
    **{path: data for path, data in OLD.items() if path not in ("old/gone.md", "notes/orphan-edited.md")},
    **{f"notes/n{i}.md": note(f"Note {i} v2") for i in range(1, 7)},
    "attachments/chart1.svg": b"<svg>1 v2</svg>\n",
    "fresh/new1.md": b"# new 1\n",
    "notes/new2.md": b"# new 2\n",
}
NEW2 = {  # the build after NEW: some templates changed again
    **NEW,
    **{f"notes/n{i}.md": note(f"Note {i} v3") for i in range(3, 7)},
    "attachments/chart1.svg": b"<svg>1 v3</svg>\n",
}
HAND_EDITED = {
    "notes/n1.md": note("Note 1", "kept words"),  # inside a keep block only
    "notes/n2.md": b"# Note 2 rewritten by hand\n",  # a hand edit, replaced by --overwrite
    "notes/orphan-edited.md": b"# orphan, edited\n",  # template gone, kept
}
REAL_HAND_EDITS = ("notes/n2.md", "notes/orphan-edited.md")
USER_FILES = {"notes/mine.md": b"# mine\n", "attachments/photo.png": b"\x89PNG\x00\xff"}


def write(vault: Path, files: dict[str, bytes]) -> Path:
    with VaultLock(vault, timeout=5.0), stage_files(vault, files, overwrite=True) as stage:
        stage.commit()
    return vault


def snapshot(vault: Path) -> dict[str, bytes | None]:
    """Files (content) and folders (None), vaultgen's staging and lock left out."""
    found: dict[str, bytes | None] = {}
    for path in vault.rglob("*"):
        rel = path.relative_to(vault).as_posix()
        if not rel.startswith((".vaultgen/staging", ".vaultgen/lock")):
            found[rel] = path.read_bytes() if path.is_file() else None
    return found


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """A vault as the last build left it and then the user edited it, plus the result of the next build."""
    base = tmp_path_factory.mktemp("faults")
    before = base / "before"
    write(before, OLD)
    for path, data in {**HAND_EDITED, **USER_FILES}.items():
        (before / path).write_bytes(data)
    after = base / "after"
    shutil.copytree(before, after, symlinks=True)
    write(after, NEW)
    return before, snapshot(before), snapshot(after)


def run_driver(
    tmp_path: Path, vault: Path, kill_at: int | str, files: dict[str, bytes] = NEW
) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "vault": str(vault),
        "files": {path: data.hex() for path, data in files.items()},
        "overwrite": True,
        "kill_at": kill_at,
    }))
    # The driver must import the very package under test, whatever the working directory.
    env = {**os.environ, "PYTHONPATH": str(Path(generator.__file__).parents[1])}
    return subprocess.run(
        [sys.executable, "-c", DRIVER, str(spec)], capture_output=True, text=True, timeout=60, env=env
    )


def assert_complete_and_consistent(vault: Path, *versions: dict[str, bytes | None]) -> None:
    """Each file is one of its known complete versions; vaultgen's files are all recognised."""
    now = snapshot(vault)
    for path, data in now.items():
        if data is None or path == ".vaultgen/manifest.json":
            continue
        assert any(path in v for v in versions), f"{path} appeared from nowhere"
        assert data in [v.get(path) for v in versions], f"{path} is none of its known versions"
    for path in set.intersection(*(set(v) for v in versions)):
        assert path in now, f"{path} vanished"

    # Every file vaultgen wrote, old or new, must be recognised as its own;
    # only the user's files and real hand edits are not.
    manifest = Manifest.from_bytes(now[".vaultgen/manifest.json"], vault)
    for path, data in now.items():
        if data is None or path.startswith(".vaultgen/") or path in USER_FILES:
            continue
        if path in REAL_HAND_EDITS and data == HAND_EDITED[path]:
            continue
        assert manifest.accepts(path, content_hash(path, data)), f"{path} would be mistaken for a hand edit"


def test_the_writer_has_at_least_twenty_kill_points_across_staging_and_commit(tmp_path: Path, scenario) -> None:
    before, _, expected = scenario
    vault = tmp_path / "vault"
    shutil.copytree(before, vault, symlinks=True)

    done = run_driver(tmp_path, vault, kill_at=-1)

    assert done.returncode == 0, done.stderr
    labels = json.loads(done.stdout)
    assert len(labels) >= 20 and len(set(labels)) >= 20
    assert sum(label.startswith("stage:") for label in labels) >= 8
    assert sum(label.startswith("commit:") for label in labels) >= 12
    assert snapshot(vault) == expected


def test_kill_9_at_every_step_loses_nothing_and_the_next_build_repairs_it(tmp_path: Path, scenario) -> None:
    before, old, expected = scenario
    labels = json.loads(run_driver(tmp_path, _copy(before, tmp_path / "count"), kill_at=-1).stdout)

    for step, label in enumerate(labels):
        vault = _copy(before, tmp_path / f"kill{step}")
        killed = run_driver(tmp_path, vault, kill_at=step)
        assert killed.returncode == -signal.SIGKILL, f"step {step} ({label}): {killed.stderr}"

        assert_complete_and_consistent(vault, old, expected)
        write(vault, NEW)  # also proves the killed build's lock was recovered
        assert snapshot(vault) == expected, f"after a kill at step {step} ({label})"


def test_a_build_killed_while_repairing_a_killed_build_is_repaired_too(tmp_path: Path, scenario) -> None:
    before, old, expected = scenario
    expected_next = snapshot(write(_copy(before, tmp_path / "uninterrupted"), NEW2))
    labels = json.loads(run_driver(tmp_path, _copy(before, tmp_path / "count"), kill_at=-1).stdout)
    moves = [step for step, label in enumerate(labels) if label.startswith("commit: replaced")]

    for first in moves[::2]:
        vault = _copy(before, tmp_path / f"kill{first}")
        assert run_driver(tmp_path, vault, kill_at=first).returncode == -signal.SIGKILL
        # The next build, of changed templates, is killed halfway through its moves too.
        second = run_driver(tmp_path, vault, kill_at="commit: replaced notes/n4.md", files=NEW2)
        assert second.returncode == -signal.SIGKILL, second.stderr

        assert_complete_and_consistent(vault, old, expected, expected_next)
        write(vault, NEW2)
        assert snapshot(vault) == expected_next, f"after kills at step {first} and in the next build"


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target
