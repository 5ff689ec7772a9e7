"""Vault lint: each finding code, Obsidian resolution rules, cache, ground truth."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

from generator.lint import CheckReport, Finding, check_vault, vault_index
from generator.errors import UsageError
from tests.vaultkit import write

ROOT = Path(__file__).resolve().parent.parent


def codes(report: CheckReport, *, skip_orphans: bool = True) -> list[tuple[str, str, int | None]]:
    return [(f.code, f.path, f.line) for f in report.findings if not (skip_orphans and f.code == "orphan")]


HUB = "[[Target]] [[Other]]\n"


def test_clean_vault_is_ok(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "# A\n[[B]]\n", "B.md": "# B\n[[A#a]]\n"})
    report = check_vault(tmp_path)
    assert report.findings == [] and report.ok and report.errors == [] and report.warnings == []


def test_finding_is_frozen_with_documented_fields(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[Nope]]\n"})
    finding = check_vault(tmp_path).errors[0]
    assert finding == Finding("broken-link", "error", "A.md", 1, finding.message, column=1, target="Nope")
    assert "create" in finding.message and finding.location == "A.md:1:1"
    with pytest.raises(AttributeError):
        finding.line = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("[[Nope]]", "broken-link"),
        ("[x](Nope.md)", "broken-link"),
        ("![[nope.png]]", "broken-embed"),
        ("![[Nope]]", "broken-embed"),
        ("[[Target#Missing]]", "missing-heading"),
        ("[[Target#Part#Deep]]", "missing-heading"),
        ("[[#Nowhere]]", "missing-heading"),
        ("[[Target#^nope]]", "missing-block"),
        ("[[Also Known]]", "alias-link"),
        ("[[Dup]]", "ambiguous-link"),
    ],
)
def test_link_finding_codes(tmp_path: Path, body: str, code: str) -> None:
    write(tmp_path, {
        "Source.md": f"intro\n{body}\n",
        "Target.md": "---\naliases: [Also Known]\n---\n# Part\n## Sub\n# Deep\ntext ^blk\n",
        "a/Dup.md": HUB, "b/Dup.md": "[[Source]]\n", "Other.md": "[[a/Dup]] [[b/Dup]]\n",
    })
    report = check_vault(tmp_path)
    assert codes(report) == [(code, "Source.md", 2)]


def test_alias_link_hint(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[Also Known]]\n", "B.md": "---\naliases:\n  - Also Known\n---\n[[A]]\n"})
    (finding,) = check_vault(tmp_path).errors
    assert "did you mean [[B|Also Known]]?" in finding.message


def test_alias_link_hint_keeps_the_subpath_and_the_text_shown(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[Also Known#Part]] [[Also Known#^blk|see here]]\n",
                     "B.md": "---\naliases:\n  - Also Known\n---\n# Part\ntext ^blk\n\n[[A]]\n"})
    assert [f.suggestion for f in check_vault(tmp_path).errors] == ["[[B#Part|Also Known]]", "[[B#^blk|see here]]"]


@pytest.mark.parametrize(
    "link",
    [
        "[[target]]", "[[TARGET.md]]", "[[sub/deep/Target]]", "[[deep/Target]]", "[[/sub/deep/Target]]",
        "[[Café]]", "[[Cafe\u0301]]", "[x](Caf%C3%A9.md)", "[x](<sub/deep/Target.md>)", "[x](./sub/deep/Target.md)",
        "![[pic.png]]", "![[deck.PDF]]", "[[Target#part one]]", "[[Target#Part One#Sub: Two]]",
        "[[Target#Sub Two]]", "[[Target#^blk-1]]", "[[Target#^item]]", "[[Target|shown]]",
    ],
)
def test_resolution_like_obsidian(tmp_path: Path, link: str) -> None:
    write(tmp_path, {
        "Source.md": f"{link}\n",
        "sub/deep/Target.md": "# Part One\n## Sub: Two\npara ^blk-1\n\n- item ^item\n- next\n[[Source]] [[Café]]\n",
        "Café.md": "[[Target]]\n",
        "x/y/pic.png": b"\x89PNG", "deck.pdf": b"%PDF",
    })
    assert codes(check_vault(tmp_path)) == []


def test_attachments_need_their_extension(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "![[pic]]\n", "img/pic.png": b"x"})
    assert codes(check_vault(tmp_path)) == [("broken-embed", "A.md", 1)]


def test_block_id_must_end_the_paragraph(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[B#^mid]] [[B#^end]]\n", "B.md": "one ^mid\ntwo ^end\n\n[[A]]\n"})
    assert codes(check_vault(tmp_path)) == [("missing-block", "A.md", 1)]


def test_nested_heading_must_sit_in_its_parent_section(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[B#One#Two]] [[B#Three#Two]]\n", "B.md": "# One\n## Two\n# Three\n[[A]]\n"})
    report = check_vault(tmp_path)
    assert codes(report) == [("missing-heading", "A.md", 1)]
    assert "Three > Two" in report.errors[0].message


def test_headings_in_code_do_not_count(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[B#Fake]]\n", "B.md": "```\n# Fake\n```\n[[A]]\n"})
    assert codes(check_vault(tmp_path)) == [("missing-heading", "A.md", 1)]


def test_orphans_and_self_links(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[B]] [[#Top]]\n# Top\n", "B.md": "[[B]]\n", "C.md": "[[C]] [[A]]\n"})
    report = check_vault(tmp_path)
    assert codes(report, skip_orphans=False) == [("orphan", "C.md", None)]
    assert report.warnings and report.ok
    assert report.backlinks("A.md") == [("C.md", 1)]


def test_case_collision_and_bad_filenames(tmp_path: Path) -> None:
    write(tmp_path, {
        "x/Note.md": "", "x/note.md": "", "y/NOTE.md": "", "What?.md": "", "a#b.png": b"", "Time 10:30.md": "", "a|b.md": "", "50%%off.md": "", "5% off.md": "",
        "Hub.md": "[[x/Note]] [[y/NOTE]]\n",
    })
    report = check_vault(tmp_path)
    found = {(f.code, f.path) for f in report.findings if f.code not in ("orphan", "ambiguous-link")}
    assert found == {
        ("case-collision", "x/Note.md"), ("case-collision", "x/note.md"),
        ("unportable-filename", "What?.md"), ("unlinkable-filename", "a#b.png"), ("bad-filename", "Time 10:30.md"),
        ("unlinkable-filename", "a|b.md"), ("unportable-filename", "a|b.md"),  # two reasons to rename it
        ("unlinkable-filename", "50%%off.md"),  # "%%" opens a comment; one "%" is plain text
    }
    severity = {f.code: f.severity for f in report.findings}
    assert (severity["bad-filename"], severity["unportable-filename"]) == ("error", "warning")


@pytest.mark.parametrize(
    ("front", "line", "severity"),
    [
        ("tag: python", 2, "warning"),
        ("alias: Other", 2, "warning"),
        ("cssclass: wide", 2, "warning"),
        ("tags: [has space]", 2, "error"),
        ("tags: [2024]", 2, "error"),
        ("title: x\ntags: python", 3, "warning"),
        ("tags: 5", 2, "error"),
        ("up: [[Hub]]", 2, "error"),
        ("related:\n  - [[Hub]]", 2, "error"),
        ("- just\n- a list", 1, "error"),
    ],
)
def test_invalid_properties(tmp_path: Path, front: str, line: int, severity: str) -> None:
    write(tmp_path, {"A.md": f"---\n{front}\n---\n[[Hub]]\n", "Hub.md": "[[A]]\n"})
    (finding,) = check_vault(tmp_path).findings
    assert (finding.code, finding.path, finding.line, finding.severity) == ("invalid-property", "A.md", line, severity)


def test_unquoted_link_message_says_how_to_quote(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "---\nup: [[Hub]]\n---\n[[Hub]]\n", "Hub.md": "[[A]]\n"})
    assert 'up: "[[Hub]]"' in check_vault(tmp_path).findings[0].message


def test_yaml_error_has_its_line(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "---\nok: 1\ntitle: broken: yaml\n---\n[[Hub]]\n", "Hub.md": "[[A]]\n"})
    assert codes(check_vault(tmp_path)) == [("yaml-error", "A.md", 3)]


def test_dot_folders_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, {
        "A.md": "[[B]]\n", "B.md": "[[A]]\n", ".obsidian/x.md": "[[Nope]]\n",
        ".vaultgen/staging/y.md": "[[Nope]]\n", ".hidden.md": "[[Nope]]\n",
    })
    assert check_vault(tmp_path).findings == []


def test_non_utf8_and_huge_notes_are_findings(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[B]] [[Big]]\n", "B.md": b"[[A]]\ncaf\xe9\n"})
    with open(tmp_path / "Big.md", "wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    report = check_vault(tmp_path)
    assert codes(report) == [("not-utf8", "B.md", 2), ("note-too-large", "Big.md", None)]
    assert not report.ok


def test_missing_or_file_root_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        check_vault(tmp_path / "missing")
    write(tmp_path, {"f.md": ""})
    with pytest.raises(UsageError) as raised:
        check_vault(tmp_path / "f.md")
    assert raised.value.exit_code == 2


def test_cache_reused_and_invalidated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"A.md": "[[B]]\n", "B.md": "[[A]]\n"})
    assert check_vault(tmp_path).ok
    with monkeypatch.context() as patched:
        patched.setattr("generator.lint.vaultindex.read_note", lambda *a: pytest.fail("cache not used"))
        assert check_vault(tmp_path).ok
    (tmp_path / "A.md").write_text("[[Gone]] and more\n", encoding="utf-8")
    assert codes(check_vault(tmp_path)) == [("broken-link", "A.md", 1)]


def test_unchanged_vault_reuses_findings_and_any_change_redoes_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"A.md": "[[B]] ![[pic.png]]\n", "B.md": "[[A]]\n"})
    first = check_vault(tmp_path)
    assert codes(first) == [("broken-embed", "A.md", 1)]
    with monkeypatch.context() as patched:
        patched.setattr("generator.lint.check.VaultIndex.build", lambda *a: pytest.fail("findings not reused"))
        again = check_vault(tmp_path)
        assert again.findings == first.findings and again.to_json() == first.to_json()
    assert again.backlinks("A.md") == [("B.md", 1)]  # the graph still loads on demand
    write(tmp_path, {"img/pic.png": b"x"})  # attachments count by name alone
    assert codes(check_vault(tmp_path)) == []
    assert codes(check_vault(tmp_path, use_cache=False)) == []


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[B]]\n", "B.md": "[[A]]\n"})
    check_vault(tmp_path)
    for cached in Path(os.environ["VAULTGEN_CACHE_DIR"]).iterdir():
        cached.write_bytes(b"garbage")
    assert check_vault(tmp_path).ok


def test_parallel_parse_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = {f"n{i}.md": f"# H{i}\n[[n{(i + 1) % 450}#H{(i + 1) % 450}]] [[missing{i % 7}]]\n" for i in range(450)}
    write(tmp_path, notes)
    monkeypatch.setenv("VAULTGEN_JOBS", "1")
    serial = check_vault(tmp_path, use_cache=False).to_json()
    monkeypatch.setenv("VAULTGEN_JOBS", "2")
    assert check_vault(tmp_path, use_cache=False).to_json() == serial


def test_parallel_check_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sources checked by forked workers give the serial run's findings, in its order."""
    from generator.lint import checkpool

    notes = {f"d{i % 3}/n{i}.md": f"# H{i}\n[[n{(i + 1) % 60}#H{(i + 2) % 60}]] [[missing{i % 7}]] [[n{i % 5}]]\n"
             + ("![[img.png]] [[x.canvas]]\n" if i % 4 == 0 else "") for i in range(60)}
    write(tmp_path, {**notes, "d0/n1.md": "dup", "x.canvas": '{"nodes": [{"id": "a", "type": "file", "file": "d1/n4.md"}]}',
                     "img.png": "png", "lone.png": "png"})
    monkeypatch.setenv("VAULTGEN_JOBS", "1")
    serial = check_vault(tmp_path, use_cache=False).to_json()
    monkeypatch.setenv("VAULTGEN_JOBS", "2")
    monkeypatch.setattr(checkpool, "_SOURCES_PER_WORKER", 5)
    monkeypatch.setattr(checkpool, "_SLICES_PER_WORKER", 3)
    assert check_vault(tmp_path, use_cache=False).to_json() == serial
    assert check_vault(tmp_path).to_json() == serial  # the state a full run saves, from the workers' answers
    (tmp_path / "d2/n5.md").write_text("# H5\n[[gone]]\n")
    changed = check_vault(tmp_path).to_json()
    monkeypatch.setenv("VAULTGEN_JOBS", "1")
    assert changed == check_vault(tmp_path, use_cache=False).to_json()


def _make_vault_module():
    spec = importlib.util.spec_from_file_location("make_vault", ROOT / "bench" / "make_vault.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_vault", module)
    spec.loader.exec_module(module)
    return module


def test_synthetic_vault_ground_truth_found_exactly(tmp_path: Path) -> None:
    vault, truth = _make_vault_module().make_vault(tmp_path, notes=200, seed=3)
    report = check_vault(vault)
    found = sorted((f.code, f.path, f.line or 0) for f in report.findings)
    assert found == sorted((t["code"], t["path"], t["line"] or 0) for t in truth)
    assert {t["code"] for t in truth} >= {
        "broken-link", "broken-embed", "orphan", "case-collision", "unportable-filename", "not-utf8", "ambiguous-link",
    }


def test_to_json_is_sorted_and_stable(tmp_path: Path) -> None:
    write(tmp_path, {"b.md": "[[x]]\n[[y]]\n", "a.md": "[[z]]\n"})
    data = check_vault(tmp_path).to_json()
    assert data["summary"] == {"errors": 3, "warnings": 2}
    keys = [(f["path"], f["line"] or 0, f["code"]) for f in data["findings"]]
    assert keys == sorted(keys)
    assert set(data["findings"][0]) == {
        "code", "severity", "path", "line", "column", "message", "target", "subpath", "property", "suggestion",
    }


def test_resolver_api_for_tools(tmp_path: Path) -> None:
    write(tmp_path, {"a/Src.md": "[[B]]\n", "x/B.md": "# Top\n## What is it?\npara ^Blk1\n", "a/B.md": "x\n"})
    index = vault_index(tmp_path)
    where = index.resolve_link("B#Top#What is it?|shown", "a/Src.md")
    assert (where.path, where.heading, where.ok) == ("a/B.md", None, False)  # same folder first
    where = index.resolve_link("B#Top#What is it?|shown", "Root.md")
    assert (where.path, where.candidates) == ("a/B.md", ("a/B.md", "x/B.md"))  # then the shorter path
    where = index.resolve_link("x/B#Top#What is it?|shown", "a/Src.md")
    assert (where.path, where.heading, where.candidates, where.ok) == ("x/B.md", (2, "What is it?", 2), (), True)
    assert index.resolve_link("x/B#^Blk1", "Root.md").block == "Blk1"
    assert index.resolve_link("Nope", "a/Src.md").path is None


def test_realistic_vault_ground_truth_found_exactly_and_fast_path_agrees(tmp_path: Path) -> None:
    from generator.lint.notefacts import normalise_text, parse_note_text
    from generator.lint.quickscan import scan

    _make_vault_module()
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        vault, truth = sys.modules["make_vault"].make_vault(tmp_path, notes=150, seed=5, realistic=True)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    report = check_vault(vault)
    found = sorted((f.code, f.path, f.line or 0) for f in report.findings)
    assert found == sorted((t["code"], t["path"], t["line"] or 0) for t in truth)
    assert {t["code"] for t in truth} >= {"broken-link", "skipped-file", "yaml-too-complex", "template-syntax", "case-collision"}
    notes = [p for p in vault.rglob("*.md") if p.is_file() and "Templates" not in p.parts and p.name != "Bomb.md"]
    for path in notes[:60]:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert scan(normalise_text(text)) is not None, path  # realistic notes take the fast path
        assert parse_note_text(text) == parse_note_text(text, quick=False), path


def test_a_fifo_or_link_in_the_cache_is_a_miss_never_a_hang(tmp_path: Path) -> None:
    """Each cache file swapped for a FIFO (opening one for reading would wait for a writer
    forever) or a symlink to /dev/zero: the check still answers, as a cold run would."""
    import subprocess
    import sys

    vault = write(tmp_path / "vault", {"A.md": "[[B]] [[Gone]]\n", "B.md": "[[A]]\n"})
    env = {**os.environ, "VAULTGEN_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "generator", "check", str(vault), "--format", "json"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 1, first.stderr
    expected = json.loads(first.stdout)["findings"]
    for kind in ("fifo", "link"):
        for path in sorted((tmp_path / "cache").glob("check-*.marshal")):
            path.unlink()
            os.mkfifo(path) if kind == "fifo" else path.symlink_to("/dev/zero")
        again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert again.returncode == 1 and json.loads(again.stdout)["findings"] == expected, (kind, again.stderr)
