"""A check after some notes changed re-checks only what they can reach, and
finds exactly what a check from scratch finds."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.cli import app
from generator.lint import check_vault, incremental, lintstate, resolve
from generator.lint.notefacts import read_note

NAMES = ["Alpha", "Beta", "Gamma", "sub/Delta", "sub/Alpha", "deep/x/Eps", "Zeta", "Eta"]
HEADINGS = ["Intro", "Setup & Use", "What is it?", "Details", "`code()` notes"]
BLOCKS = ["b1", "Blk-2", "x9"]
ALIASES = [[], ["Al"], ["Other", "Al"], "Solo"]
EXTRA = ["img/pic.png", "doc.pdf", "Board.canvas"]


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTGEN_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per run that reached the incremental step: whether it was used."""
    runs: list[bool] = []
    real = incremental.update

    def spy(files):
        found = real(files)
        runs.append(found is not None)
        return found

    monkeypatch.setattr(incremental, "update", spy)
    return runs


def _link(rng: random.Random) -> str:
    target = rng.choice([*NAMES, "Missing", "Al", "Solo", "Alpha.md", "../Beta", "img/pic.png", "pic.png", ""])
    subpath = rng.choice(["", "", f"#{rng.choice(HEADINGS)}", f"#Intro#{rng.choice(HEADINGS)}", f"#^{rng.choice(BLOCKS)}", "#^nope", "#Nope"])
    if not target and not subpath:
        subpath = "#Details"
    if rng.random() < 0.15:
        return f"[text]({target.replace(' ', '%20')}{'.md' if target and '.' not in target else ''}{subpath.replace(' ', '%20')})"
    return f"{'!' if rng.random() < 0.1 else ''}[[{target}{subpath}]]"


def _note(rng: random.Random, aliases: list[str] | str) -> str:
    front = []
    if aliases:
        front.append(f"aliases: {json.dumps(aliases)}")
    if rng.random() < 0.3:
        front.append(f'up: "[[{rng.choice(NAMES)}{rng.choice(["", "#Intro", "#^b1"])}]]"')
    if rng.random() < 0.2:
        front.append(rng.choice(["tags: one two", "tag: x", "tags: [1234]", "related: [[Beta]]"]))
    lines = ["---", *front, "---"] if front else []
    for _ in range(rng.randint(0, 6)):
        kind = rng.random()
        if kind < 0.3:
            lines.append(f"{'#' * rng.randint(1, 3)} {rng.choice(HEADINGS)}")
        elif kind < 0.45:
            lines.append(f"para {_link(rng)} ^{rng.choice(BLOCKS)}")
        else:
            lines.append(" ".join(_link(rng) for _ in range(rng.randint(1, 3))))
        lines.append("")
    return "\n".join(lines)


def _canvas(rng: random.Random) -> str:
    nodes = [{"id": "f", "type": "file", "file": rng.choice(["Alpha.md", "sub/Delta.md", "Nope.md"]), "x": 0, "y": 0, "width": 1, "height": 1}]
    nodes.append({"id": "t", "type": "text", "text": _link(rng), "x": 0, "y": 0, "width": 1, "height": 1})
    return json.dumps({"nodes": nodes, "edges": []})


class Vault:
    """A small vault under edit, and the aliases each note holds."""

    def __init__(self, root: Path, rng: random.Random):
        self.root, self.rng = root, rng
        self.aliases: dict[str, list[str] | str] = {}
        for name in NAMES:
            self.write_note(name + ".md", rng.choice(ALIASES))
        self.write("img/pic.png", "png")

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def write_note(self, rel: str, aliases: list[str] | str) -> None:
        self.aliases[rel] = aliases
        self.write(rel, _note(self.rng, aliases))

    def notes(self) -> list[str]:
        return sorted(self.aliases)

    def edit(self) -> None:
        """One random edit: a file added or removed, aliases, a canvas, or 1-3 notes' text."""
        rng = self.rng
        op = rng.random()
        if op < 0.1:
            rel = rng.choice(EXTRA + ["New.md", "sub/Beta.md"])
            path = self.root / rel
            if path.exists():
                path.unlink()
                self.aliases.pop(rel, None)
            elif rel.endswith(".md"):
                self.write_note(rel, [])
            else:
                self.write(rel, _canvas(rng) if rel.endswith(".canvas") else "bytes")
        elif op < 0.18:
            rel = rng.choice(self.notes())
            self.write_note(rel, rng.choice([a for a in ALIASES if a != self.aliases[rel]]))
        elif op < 0.25 and (self.root / "Board.canvas").exists():
            self.write("Board.canvas", _canvas(rng))
        else:
            for rel in rng.sample(self.notes(), rng.choice([1, 1, 1, 2, 3])):
                self._retouch(rel)

    def _retouch(self, rel: str) -> None:
        rng = self.rng
        if rng.random() < 0.5:  # a new body, the same aliases
            self.write_note(rel, self.aliases[rel])
            return
        path = self.root / rel
        lines = path.read_text(encoding="utf-8").split("\n")
        at = rng.randrange(len(lines))
        choice = rng.random()
        if choice < 0.4:
            lines.insert(at, rng.choice([f"## {rng.choice(HEADINGS)}", f"text ^{rng.choice(BLOCKS)}", _link(rng), ""]))
        elif choice < 0.7:
            lines.pop(at)
        else:
            lines[at] += " " + _link(rng)
        path.write_text("\n".join(lines), encoding="utf-8")

    def shape(self) -> tuple:
        """What decides whether the incremental path may be taken: the files, and every note's aliases."""
        files = sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        aliases = {rel: incremental._alias_keys(read_note(str(self.root / rel), 0)) for rel in files if rel.endswith(".md")}
        return files, aliases


def _findings(root: Path, **options) -> list[dict]:
    return check_vault(root, **options).to_json()["findings"]


@pytest.mark.parametrize("seed", range(6))
def test_incremental_check_equals_a_check_from_scratch(tmp_path: Path, taken: list[bool], seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    if seed % 2:  # every incremental run rewrites the whole state instead of saving a delta
        monkeypatch.setattr(lintstate, "_MAX_DELTA_KEYS", -1)
    if seed % 3 == 0:  # every state table spans several frames
        monkeypatch.setattr(lintstate, "_ENTRIES_PER_FRAME", 2)
    rng = random.Random(seed)
    root = tmp_path / "vault"
    vault = Vault(root, rng)
    assert _findings(root) == _findings(root, use_cache=False)
    shape = vault.shape()
    for step in range(60):
        vault.edit()
        runs_before, shape_before, shape = len(taken), shape, vault.shape()
        got = _findings(root)
        assert got == _findings(root, use_cache=False), f"seed {seed}, step {step}"
        assert taken[runs_before:] == [shape == shape_before], f"seed {seed}, step {step}: wrong path"
    assert taken.count(True) >= 25


def test_a_memo_that_keeps_starting_again_changes_no_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index bounds what it memoises (a large vault's memo would take ~50 MB):
    dropping it after every entry resolves every link the same."""
    rng = random.Random(11)
    root = tmp_path / "vault"
    vault = Vault(root, rng)
    for _ in range(5):
        vault.edit()
    expected = _findings(root, use_cache=False)
    monkeypatch.setitem(resolve.MEMO_LIMITS, "memo", 1)
    monkeypatch.setitem(resolve.MEMO_LIMITS, "notes", 1)
    assert _findings(root) == expected
    (root / "Alpha.md").write_text("[[Beta#Intro]] [[sub/Alpha]] [[Al]] [[Eps#^b1]]\n", encoding="utf-8")
    assert _findings(root) == _findings(root, use_cache=False)


def test_edit_keeping_size_and_mtime_takes_the_incremental_path(tmp_path: Path, taken: list[bool]) -> None:
    root = tmp_path / "vault"
    Vault(root, random.Random(7))
    note = root / "Alpha.md"
    note.write_text("# Intro\nsee [[Beta]]\n", encoding="utf-8")
    before = _findings(root)
    taken.clear()
    stat = note.stat()
    note.write_text("# Intro\nsee [[Bxta]]\n", encoding="utf-8")  # as the benchmark's edit does
    os.utime(note, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = _findings(root)
    assert taken == [True] and after == _findings(root, use_cache=False)
    assert [f for f in after if f not in before] == [f for f in after if f["path"] == "Alpha.md" and f["target"] == "Bxta"]


def test_links_into_notes_not_read_whole_are_judged_alike_after_an_edit(tmp_path: Path, taken: list[bool],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """An unchanged note's anchors came back without "not read whole": a #heading link into a
    note over the size limit, or nested past the parser's limit, was missing only after an edit."""
    from generator.lint import notefacts

    monkeypatch.setattr(notefacts, "MAX_NOTE_BYTES", 40_000)
    root = tmp_path / "vault"
    deep = "# Top\n" + "".join("  " * level + f"- item {level}\n" for level in range(160))
    files = {"Big.md": "# H\n" + "x" * 50_000 + "\n", "Deep.md": deep, "Index.md": "[[Big]] [[Deep]] [[A]]\n",
             "A.md": "[[Big#H]] [[Deep#Late]] [[Deep#^late]] [[Deep#Top]]\n"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    first = _findings(root)
    assert [(f["code"], f["path"], f["line"]) for f in first if f["code"] != "orphan"] == [
        ("note-too-large", "Big.md", None), ("note-too-complex", "Deep.md", 151)]
    taken.clear()
    (root / "A.md").write_text(files["A.md"] + "[[Deep#Top#Gone]]\n", encoding="utf-8")
    after = _findings(root)
    assert taken == [True] and after == _findings(root, use_cache=False) == first


def test_damaged_delta_is_ignored(tmp_path: Path, taken: list[bool]) -> None:
    root = tmp_path / "vault"
    root.mkdir()
    for name in ("Alpha", "Beta", "Gamma"):
        (root / f"{name}.md").write_text(f"# {name}\n[[Gamma]]\n", encoding="utf-8")
    _findings(root)
    (root / "Alpha.md").write_text("# Intro\n[[Beta#Nope]]\n", encoding="utf-8")
    _findings(root)
    delta = next((tmp_path / "cache").glob("*-delta.marshal"))
    delta.write_bytes(delta.read_bytes()[:-40])
    taken.clear()
    (root / "Beta.md").write_text("## Nope\n[[Alpha#Intro]] ^b1\n", encoding="utf-8")
    assert _findings(root) == _findings(root, use_cache=False)
    assert taken == [True]  # from the full run's state: Alpha.md is checked again too


def test_damaged_state_means_a_full_run(tmp_path: Path, taken: list[bool]) -> None:
    root = tmp_path / "vault"
    Vault(root, random.Random(3))
    _findings(root)
    taken.clear()
    state = next((tmp_path / "cache").glob("*-state.marshal"))
    state.write_bytes(state.read_bytes()[:-40])
    (root / "Beta.md").write_text("[[Alpha#Intro]] [[Gone]]\n", encoding="utf-8")
    assert _findings(root) == _findings(root, use_cache=False)
    assert taken == [False]


def test_cli_reports_an_edit_exactly(tmp_path: Path, taken: list[bool]) -> None:
    runner = CliRunner()
    root = tmp_path / "vault"
    notes = {"Alpha.md": "# Intro\ntext ^b1\n", "Beta.md": "[[Alpha#Nope]] [[Alpha#^b1]]\n", "Gamma.md": "[[Beta]] [[Alpha#Intro]]\n"}
    for rel, text in notes.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")

    def run(*extra: str) -> list[tuple]:
        result = runner.invoke(app, ["check", str(root), "--format", "json", *extra])
        assert result.exit_code in (0, 1), result.output
        return [(f["code"], f["path"], f["line"], f["subpath"]) for f in json.loads(result.output)["findings"]]

    assert run() == [("missing-heading", "Beta.md", 1, "#Nope"), ("orphan", "Gamma.md", None, None)]
    taken.clear()
    (root / "Alpha.md").write_text("# Intro\n## Nope\ntext\n", encoding="utf-8")  # ^b1 gone, #Nope there
    edited = run()
    assert taken == [True]
    assert edited == run("--no-cache") == [("missing-block", "Beta.md", 1, "#^b1"), ("orphan", "Gamma.md", None, None)]
    (root / "Gamma.md").write_text("no links\n", encoding="utf-8")  # Beta loses its only backlink
    assert run() == run("--no-cache") == [
        ("orphan", "Beta.md", None, None), ("missing-block", "Beta.md", 1, "#^b1"), ("orphan", "Gamma.md", None, None),
    ]
