"""What a killed vaultgen leaves behind, found and removed by the next build.

SIGKILL cannot be caught: a vaultgen killed mid-build leaves its experiment
running and its run folder (captured output) in the temporary folder.  Each
run carries its owner's pid, so the next build can tell an orphan (owner
gone) from a concurrent build's run (owner alive) and leave the latter alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR

from generator.proctable import alive, environ, owner_uid, processes

# Set in each experiment's environment: its descendants inherit it, so they
# can be found even after leaving its session.
RUN_TOKEN = "VAULTGEN_RUN"
# The pid of the vaultgen that started a run: a run whose owner is gone (killed with
# SIGKILL, which nothing can catch) is an orphan the next build stops (reap_orphans).
OWNER = "VAULTGEN_OWNER"
# The experiments folder a run's script came from: reap_orphans stops only its own project's.
FOLDER = "VAULTGEN_EXPERIMENTS"


@dataclass
class Orphans:
    """Experiment processes of killed vaultgens, by what ``reap_orphans`` did with them."""

    stopped: list[int] = field(default_factory=list)  # this project's: killed
    elsewhere: dict[str, list[int]] = field(default_factory=dict)  # other projects' (by experiments folder, "" unknown): left


def reap_orphans(experiments: Path) -> Orphans:
    """Stop what a killed vaultgen left running of the experiments in ``experiments``.

    Only this user's processes whose environment names a run token *and* an owner pid
    that no longer exists: a concurrent build's runs, whose owner lives, are left alone,
    and so are another project's, which are only reported (they take CPU all the same).
    """
    found = Orphans()
    me, uid, mine = os.getpid(), os.geteuid(), str(experiments.resolve())
    for proc in processes():
        if proc.pid == me or owner_uid(proc.pid) != uid:
            continue
        env = environ(proc.pid)
        owner = env.get(OWNER, "")
        if not owner.isdigit() or RUN_TOKEN not in env or alive(int(owner)):
            continue
        folder = env.get(FOLDER, "")  # "": started by a vaultgen too old to say
        if folder != mine:
            found.elsewhere.setdefault(folder, []).append(proc.pid)
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, signal.SIGKILL)
            found.stopped.append(proc.pid)
    return found


FOLDER_PREFIX = "vaultgen-run-"


def remove_orphan_folders() -> int:
    """Remove the run folders (captured output) of killed vaultgens; how many.

    Only real folders of this user's whose name carries the pid of a
    vaultgen that no longer runs; a link is left alone, never followed.
    """
    removed = 0
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return 0
    for entry in entries:
        owner = entry.name[len(FOLDER_PREFIX):].split("-", 1)[0]
        if not entry.name.startswith(FOLDER_PREFIX) or not owner.isdigit() or alive(int(owner)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
            shutil.rmtree(entry.path, ignore_errors=True)  # does not follow links inside
            removed += 1
    return removed
