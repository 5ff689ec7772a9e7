"""`vaultgen check` / `vaultgen graph` through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def vault(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_clean_vault_exits_0(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(vault(tmp_path, {"A.md": "[[B]]\n", "B.md": "[[A]]\n"}))])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(vault(tmp_path, {"A.md": "text\n"}))])
    assert result.exit_code == 0
    assert "orphan" in result.output and "A.md" in result.output


def test_errors_exit_1_and_table_groups_by_note(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(vault(tmp_path, {"A.md": "[[B]]\n[[Nope]]\n", "B.md": "[[A#Gone]]\n"}))])
    assert result.exit_code == 1
    assert "broken-link" in result.output and "missing-heading" in result.output
    assert result.output.index("A.md") < result.output.index("broken-link") < result.output.index("B.md")


def test_json_output_shape(tmp_path: Path) -> None:
    root = vault(tmp_path, {"A.md": "[[B]]\n[[Nope]]\n", "B.md": "[[A]]\n"})
    result = runner.invoke(app, ["check", str(root), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["notes"] == 2 and data["summary"] == {"errors": 1, "warnings": 0}
    assert data["findings"] == [{
        "code": "broken-link", "severity": "error", "path": "A.md", "line": 2,
        "message": data["findings"][0]["message"],
    }]


@pytest.mark.parametrize("make_target", [lambda p: p / "missing", lambda p: vault(p, {"f.md": ""}) / "f.md"])
def test_bad_path_exits_2(tmp_path: Path, make_target) -> None:
    result = runner.invoke(app, ["check", str(make_target(tmp_path))])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["check", str(tmp_path), "--format", "xml"]).exit_code == 2


def test_graph_json(tmp_path: Path) -> None:
    root = vault(tmp_path, {"A.md": "x\n[[B#H]]\n", "B.md": "# H\n[[A]] [[Nope]]\n", "img.png": ""})
    result = runner.invoke(app, ["graph", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["nodes"] == [
        {"path": "A.md", "type": "note"}, {"path": "B.md", "type": "note"}, {"path": "img.png", "type": "attachment"},
    ]
    assert [(e["source"], e["target"], e["line"], e["heading"]) for e in data["edges"]] == [
        ("A.md", "B.md", 2, ["H"]), ("B.md", "A.md", 2, None), ("B.md", None, 2, None),
    ]
    assert data["backlinks"] == {"A.md": [{"source": "B.md", "line": 2}], "B.md": [{"source": "A.md", "line": 2}]}


def test_graph_bad_path_exits_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["graph", str(tmp_path / "nope")]).exit_code == 2


def test_non_utf8_and_huge_notes_are_findings_not_tracebacks(tmp_path: Path) -> None:
    vault(tmp_path, {"A.md": "[[B]] [[Big]]\n"})
    (tmp_path / "B.md").write_bytes(b"[[A]]\ncaf\xe9\n")
    with open(tmp_path / "Big.md", "wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "B.md" in result.output and "not-utf8" in result.output
    assert "Big.md" in result.output and "note-too-large" in result.output


def test_table_lists_every_finding_under_its_note_with_a_summary(tmp_path: Path) -> None:
    files = {f"n{i}.md": "".join(f"[[gone{i}-{j}]]\n" for j in range(30)) for i in range(100)}
    result = runner.invoke(app, ["check", str(vault(tmp_path, files))])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert sum("broken-link" in line for line in lines) == 3000
    assert lines.index("n0.md") < lines.index("n1.md") < lines.index("n10.md")
    assert "3000 error(s), 100 warning(s) in 100 notes" in result.output
