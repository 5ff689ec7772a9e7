"""kill -9 at every step of a whole `vaultgen build`: the vault is never half-written.

A driver runs the real CLI (`vaultgen build`) in a subprocess with hooks
that SIGKILL it at the k-th step: after each note is rendered, after each
chart, after the link check, and at every checkpoint of the vault writer
(``generator.writer.stage._checkpoint``).  The change being built touches several
notes, adds one, removes one, redraws a chart, carries a keep block the user
wrote in, and leaves a hand-edited note alone; results are already measured,
so the build only renders and writes.

After each kill every file in vault/ must be a complete old or new version,
the manifest valid JSON that recognises each of them as vaultgen's, and the
next build must succeed and leave vault/ byte-identical to an uninterrupted
build of the same change.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from generator.writer.manifest import Manifest, content_hash
from tests.conftest import EXAMPLES_NOTE, HOME_NOTE, make_skeleton

DRIVER = textwrap.dedent('''
    import json, os, signal, sys
    from pathlib import Path

    project, kill_at, labels_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seen = 0

    def checkpoint(label):
        global seen
        with open(labels_file, "a") as f:  # written before dying, so the test knows where it died
            f.write(label + "\\n")
        if seen == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        seen += 1

    from generator import charts, lint, notes, pipeline
    from generator.writer import stage as vault

    def wrap(module, name, label):
        original = getattr(module, name)
        def hooked(*args, **kwargs):
            value = original(*args, **kwargs)
            checkpoint(label(*args))
            return value
        setattr(module, name, hooked)

    wrap(notes, "render_note", lambda env, note, *rest: f"render: {note.title}")
    wrap(pipeline, "_chart_bytes", lambda project, spec, *rest: f"chart: {spec.name}")
    wrap(lint, "check_vault", lambda path, **kw: "check: done")
    vault._checkpoint = lambda label: checkpoint("vault " + label)

    # A chart without matplotlib (drawing is not what is tested): its bytes follow its size.
    def draw(fig, data):
        pass
    charts.render = lambda spec, results: f"<svg size='{spec.size}'>{spec.name}</svg>\\n".encode()
    size = tuple(json.loads(Path(project, "chart-size.json").read_text()))
    registry = charts.registry
    charts.registry = lambda: {**registry(), "fault-loop": charts.ChartSpec("fault-loop", ("tiny",), draw, size)}

    from generator.cli import app
    app(["build", "-C", project, "--profile", "quick"], prog_name="vaultgen")
''')

KEEP = "%% keep: notes %%\n%% end keep %%\n"


def _note(title: str, body: str, experiments: str = "[]") -> str:
    return f"{{#---\ntitle: {title}\nexperiments: {experiments}\n---#}}\n# {title}\n\n{body}\n\nBack to [[Home]].\n"


OLD_TEMPLATES = {
    "Home": HOME_NOTE,
    "Examples": EXAMPLES_NOTE,
    **{f"Topic {i}": _note(f"Topic {i}", f"Topic {i}, first version.") for i in range(1, 6)},
    "Kept": _note("Kept", "A note with room for the reader.\n\n" + KEEP),
    "Edited": _note("Edited", "A note the reader rewrote."),
    "Retired": _note("Retired", "A note whose template goes away."),
    "Chart": _note("Chart", "{{ chart('fault-loop') }}", "[tiny]"),
}
NEW_TEMPLATES = {
    **OLD_TEMPLATES,
    **{f"Topic {i}": _note(f"Topic {i}", f"Topic {i}, second version,\nlonger.") for i in range(2, 6)},
    "Kept": _note("Kept", "A note with room for the reader, revised.\n\n" + KEEP),
    "Edited": _note("Edited", "A note the reader rewrote, revised."),
    "Fresh": _note("Fresh", "A new note."),
    "Home": HOME_NOTE + "\nThe hub, revised.\n",
}
del NEW_TEMPLATES["Retired"]


def _set_templates(project: Path, templates: dict[str, str]) -> None:
    folder = project / "templates"
    for path in folder.glob("*.md.j2"):
        if not path.name.startswith("_") and path.name[: -len(".md.j2")] not in templates:
            path.unlink()
    for name, text in templates.items():
        path = folder / f"{name}.md.j2"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def _snapshot(vault: Path) -> dict[str, bytes]:
    return {p.relative_to(vault).as_posix(): p.read_bytes() for p in sorted(vault.rglob("*")) if p.is_file()}


def _notes(snapshot: dict[str, bytes]) -> dict[str, bytes]:
    """The vault as Obsidian shows it: vaultgen's own folder left out."""
    return {k: v for k, v in snapshot.items() if not k.startswith(".vaultgen/")}


class Driver:
    def __init__(self, folder: Path) -> None:
        self.script = folder / "driver.py"
        self.script.write_text(DRIVER)

    def run(self, project: Path, kill_at: int = -1) -> tuple[subprocess.CompletedProcess, list[str]]:
        labels = project.parent / f"labels-{kill_at}.txt"
        labels.unlink(missing_ok=True)
        env = dict(os.environ, COLUMNS="200", PYTHONPATH=str(Path(__file__).resolve().parent.parent))
        proc = subprocess.run([sys.executable, str(self.script), str(project), str(kill_at), str(labels)],
                              capture_output=True, text=True, timeout=60, env=env)
        seen = labels.read_text().splitlines() if labels.exists() else []
        return proc, seen


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """The project before the change (old vault, user edits) and the reference build after it."""
    folder = tmp_path_factory.mktemp("faults")
    base = make_skeleton(folder / "base")
    (base / "chart-size.json").write_text("[3.0, 2.0]")
    _set_templates(base, OLD_TEMPLATES)
    driver = Driver(folder)
    proc, _ = driver.run(base)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    vault = base / "vault"
    kept = vault / "Kept.md"
    kept.write_text(kept.read_text().replace(KEEP, "%% keep: notes %%\nThe reader's own words.\n%% end keep %%\n"))
    edited = vault / "Edited.md"
    edited.write_text(edited.read_text() + "\nRewritten by hand.\n")
    (vault / "Mine.md").write_text("# Mine\n\nSee [[Topic 1]].\n")
    old = _snapshot(vault)

    _set_templates(base, NEW_TEMPLATES)
    (base / "chart-size.json").write_text("[3.0, 2.5]")
    reference = folder / "reference"
    shutil.copytree(base, reference)
    proc, labels = driver.run(reference)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Edited.md: edited by hand" in " ".join(proc.stdout.split() + proc.stderr.split())
    new = _snapshot(reference / "vault")
    changed = {p for p in _notes(old).keys() | _notes(new).keys() if old.get(p) != new.get(p)}
    assert {"Topic 2.md", "Topic 5.md", "Kept.md", "Home.md", "Fresh.md", "Retired.md",
            "attachments/fault-loop.svg"} <= changed
    assert "The reader's own words." in new["Kept.md"].decode()
    assert new["Edited.md"] == old["Edited.md"] and new["Mine.md"] == old["Mine.md"]
    return driver, base, old, new, labels


def test_the_change_has_enough_kill_points(scenario):
    _, _, _, _, labels = scenario
    assert len(labels) >= 20
    kinds = {label.split(":")[0] for label in labels}
    assert {"render", "chart", "check", "vault stage", "vault commit"} <= kinds, labels


def _assert_each_file_old_or_new(vault: Path, old: dict[str, bytes], new: dict[str, bytes], label: str) -> None:
    now = _notes(_snapshot(vault))
    for path in _notes(old).keys() | _notes(new).keys() | now.keys():
        assert now.get(path) in (old.get(path), new.get(path)), f"{path} after kill at {label!r}"


def _assert_manifest_consistent(vault: Path, old: dict[str, bytes], new: dict[str, bytes], label: str) -> None:
    where = vault / ".vaultgen" / "manifest.json"
    manifest = Manifest.from_bytes(where.read_bytes(), where)  # raises unless valid
    old_manifest = Manifest.from_bytes(old[".vaultgen/manifest.json"], where)
    new_manifest = Manifest.from_bytes(new[".vaultgen/manifest.json"], where)
    for path, data in _notes(_snapshot(vault)).items():
        digest = content_hash(path, data)
        vaultgens = ((data == new.get(path) and new_manifest.accepts(path, digest))
                     or (data == old.get(path) and old_manifest.accepts(path, digest)))
        if vaultgens:  # a file vaultgen wrote, old or new, is still recognised as its own
            assert manifest.accepts(path, digest), f"{path} not accepted after kill at {label!r}"
        else:  # the hand-edited note and the user's own note are never claimed
            assert not manifest.accepts(path, digest) or path not in new_manifest.paths(), path


def _kill_and_rebuild(scenario, folder: Path, index: int) -> None:
    driver, base, old, new, labels = scenario
    label = labels[index]
    project = folder / f"kill-{index}" / "proj"
    shutil.copytree(base, project)
    proc, seen = driver.run(project, kill_at=index)
    assert proc.returncode == -signal.SIGKILL, (label, proc.stdout + proc.stderr)
    assert seen[-1] == label  # deterministic: the same step as in the reference build
    vault = project / "vault"
    if index < labels.index("vault commit: journal temp written"):  # rendering and staging touch no note
        assert _notes(_snapshot(vault)) == _notes(old), label
    _assert_each_file_old_or_new(vault, old, new, label)
    _assert_manifest_consistent(vault, old, new, label)

    proc, _ = driver.run(project)
    output = " ".join(proc.stdout.split() + proc.stderr.split())
    assert proc.returncode == 0, (label, output)
    assert "Traceback" not in output
    assert "Edited.md: edited by hand" in output and "Kept.md: edited" not in output, (label, output)
    assert _snapshot(vault) == new, f"after kill at {label!r}, the next build differs from the reference"
    shutil.rmtree(project.parent)


def test_kill_anywhere_then_rebuild(scenario, tmp_path):
    """Every step of the reference build, each killed in its own copy (a few side by side, for speed)."""
    points = range(len(scenario[4]))
    with ThreadPoolExecutor(max_workers=max(1, min(4, (os.cpu_count() or 1)))) as pool:
        list(pool.map(lambda index: _kill_and_rebuild(scenario, tmp_path, index), points))
