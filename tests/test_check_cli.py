"""`vaultgen check` / `vaultgen graph` through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.cli import app

runner = CliRunner()


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


def test_errors_exit_1_with_one_line_per_finding(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(vault(tmp_path, {"A.md": "[[B]]\n  see [[Nope]]\n", "B.md": "[[A#Gone]]\n"}))])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("A.md:2:7: error broken-link [[Nope]] is unresolved")
    assert lines[1].startswith("B.md:1:1: error missing-heading [[A#Gone]]")
    assert lines[-1] == "2 errors, 0 warnings in 2 notes: broken-link 1, missing-heading 1"


def test_json_output_shape(tmp_path: Path) -> None:
    root = vault(tmp_path, {"A.md": "[[B]]\n[[Nope#Part]]\n", "B.md": "[[A]]\n"})
    result = runner.invoke(app, ["check", str(root), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["version"] == 2 and data["notes"] == 2 and data["summary"] == {"errors": 1, "warnings": 0}
    assert data["findings"] == [{
        "code": "broken-link", "severity": "error", "path": "A.md", "line": 2, "column": 1,
        "target": "Nope", "subpath": "#Part", "property": None, "suggestion": None,
        "message": data["findings"][0]["message"],
    }]


def test_sarif_output(tmp_path: Path) -> None:
    root = vault(tmp_path, {"A.md": "x [[Nope]]\n", "What:.md": "[[A]]\n"})
    result = runner.invoke(app, ["check", str(root), "--format", "sarif"])
    assert result.exit_code == 1
    run = json.loads(result.stdout)["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert json.loads(result.stdout)["version"] == "2.1.0" and "broken-link" in rules
    located = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]) for r in run["results"]]
    assert located[0] == ("broken-link", "error", {"artifactLocation": {"uri": "A.md", "uriBaseId": "VAULT"}, "region": {"startLine": 1, "startColumn": 3}})
    assert located[1][:2] == ("bad-filename", "error") and "region" not in located[1][2]
    assert located[1][2]["artifactLocation"]["uri"] == "What%3A.md"  # "What:" would read as a URI scheme
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    # Spaces, "#" and "%" are percent-encoded: a URI reader opens the file that is meant.
    other = vault(tmp_path / "w", {"My Folder/Café #1 100%.md": "[[Nope]]\n"})
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(runner.invoke(app, ["check", str(other), "-f", "sarif"]).stdout)["runs"][0]["results"]]
    assert "My%20Folder/Caf%C3%A9%20%231%20100%25.md" in uris


def test_github_annotations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = vault(tmp_path / "repo" / "vault", {"A.md": "[[Nope, really: 100%]]\n"})
    monkeypatch.chdir(tmp_path / "repo")
    result = runner.invoke(app, ["check", str(root), "--format", "github"])
    assert result.exit_code == 1
    first = next(line for line in result.stdout.splitlines() if "broken-link" in line)
    assert first.startswith("::error file=vault/A.md,line=1,col=1,title=broken-link::[[Nope, really: 100%25]]")


def test_select_ignore_exclude_and_settings_files(tmp_path: Path) -> None:
    root = vault(tmp_path / "v", {"A.md": "[[Nope]]\n", "Archive/B.md": "[[Gone]]\n"})
    def codes(*args: str) -> list[tuple[str, str]]:
        data = json.loads(runner.invoke(app, ["check", str(root), "-f", "json", *args]).stdout)
        return [(f["code"], f["path"]) for f in data["findings"]]
    everything = codes()
    assert ("orphan", "A.md") in everything and ("broken-link", "Archive/B.md") in everything
    assert codes("--select", "broken-link") == [("broken-link", "A.md"), ("broken-link", "Archive/B.md")]
    assert codes("--ignore", "orphan,broken-link") == []
    assert codes("--select", "broken-link", "--exclude", "Archive/**") == [("broken-link", "A.md")]
    (tmp_path / "pyproject.toml").write_text('[tool.vaultgen.check]\nignore = ["orphan"]\n', encoding="utf-8")
    assert codes() == [("broken-link", "A.md"), ("broken-link", "Archive/B.md")]
    (root / "vaultgen.toml").write_text('[check]\nexclude = ["Archive/"]\n', encoding="utf-8")  # wins over pyproject
    assert codes() == [("orphan", "A.md"), ("broken-link", "A.md")]


@pytest.mark.parametrize(("args", "toml"), [
    (["--select", "no-such-code"], None),
    ([], "[check]\nignore = 3\n"),
    ([], "[check\n"),
    ([], "[check]\nselct = []\n"),
])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], toml: str | None) -> None:
    root = vault(tmp_path, {"A.md": "x\n"})
    if toml:
        (root / "vaultgen.toml").write_text(toml, encoding="utf-8")
    result = runner.invoke(app, ["check", str(root), *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "error:" in result.stderr


def test_internal_error_exits_3_and_debug_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = vault(tmp_path, {"A.md": "x\n"})
    def broken(*args, **kwargs):
        raise KeyError("bug")
    monkeypatch.setattr("generator.lint.check_vault", broken)
    result = runner.invoke(app, ["check", str(root)])
    assert result.exit_code == 3 and "internal error: KeyError" in result.stderr and "Traceback" not in result.stderr
    result = runner.invoke(app, ["--debug", "check", str(root)])
    assert result.exit_code == 3 and "Traceback" in result.stderr


@pytest.mark.parametrize("make_target", [lambda p: p / "missing", lambda p: vault(p, {"f.md": ""}) / "f.md"])
def test_bad_path_exits_2(tmp_path: Path, make_target) -> None:
    result = runner.invoke(app, ["check", str(make_target(tmp_path))])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["check", str(tmp_path), "--format", "xml"]).exit_code == 2


def test_an_unknown_code_exits_2_and_lists_the_known_ones(tmp_path: Path) -> None:
    root = vault(tmp_path, {"A.md": "[[A]]\n"})
    result = runner.invoke(app, ["check", str(root), "--select", "broken-link,brokn-embed"])
    assert result.exit_code == 2
    assert "unknown finding code brokn-embed" in result.output and "broken-embed" in result.output
    (root / "vaultgen.toml").write_text('# settings\n[check]\nexclude = []\nignore = ["orphans"]\n')
    result = runner.invoke(app, ["check", str(root)])
    assert result.exit_code == 2
    assert "vaultgen.toml:4" in result.output and "unknown finding code orphans" in result.output
    # A typo on the command line is not blamed on the settings file.
    (root / "vaultgen.toml").write_text('[check]\nignore = ["orphan"]\n')
    result = runner.invoke(app, ["check", str(root), "--ignore", "orphans"])
    assert result.exit_code == 2 and "unknown finding code orphans" in result.output and "vaultgen.toml" not in result.output


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ("[tool.vaultgen.check]\nselect = ['broken-link']\nexclude = 5\n", "pyproject.toml:6: [tool.vaultgen.check] exclude must be a list of strings"),
        ("[tool.vaultgen.check]\ntemplate = true\n", "pyproject.toml:5: [tool.vaultgen.check] unknown setting template"),
        ("[tool.vaultgen.check]\ntemplates = 'yes'\n", "pyproject.toml:5: [tool.vaultgen.check] templates must be true or false"),
        ("[tool.vaultgen.check]\nselect = [\n", "pyproject.toml"),
    ],
)
def test_a_bad_check_setting_names_its_file_and_line(tmp_path: Path, settings: str, said: str) -> None:
    root = vault(tmp_path, {"A.md": "[[A]]\n"})
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n" + settings)
    result = runner.invoke(app, ["check", str(root)])
    assert result.exit_code == 2 and said in " ".join(result.output.split()) and "Traceback" not in result.output


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


def test_every_finding_is_listed_with_a_summary(tmp_path: Path) -> None:
    files = {f"n{i}.md": "".join(f"[[gone{i}-{j}]]\n" for j in range(30)) for i in range(100)}
    result = runner.invoke(app, ["check", str(vault(tmp_path, files))])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert sum(line.startswith("n") and " broken-link " in line for line in lines) == 3000
    assert lines[-1] == "3000 errors, 100 warnings in 100 notes: broken-link 3000, orphan 100"


def test_graph_dot_mermaid_and_backlinks(tmp_path: Path) -> None:
    root = vault(tmp_path, {"A.md": "x\n[[B#H]]\n", "sub/B.md": '---\nup: "[[A]]"\n---\n# H\n[[A]] [[Nope]]\n'})
    dot = runner.invoke(app, ["graph", str(root), "--format", "dot"]).stdout
    assert '"A.md" -> "sub/B.md";' in dot and '"sub/B.md" -> "A.md";' in dot and dot.startswith("digraph")
    mermaid = runner.invoke(app, ["graph", str(root), "--format", "mermaid"]).stdout
    assert mermaid.splitlines()[:3] == ["flowchart LR", '  n0["A.md"]', '  n1["sub/B.md"]'] and "n0 --> n1" in mermaid
    result = runner.invoke(app, ["graph", str(root), "--backlinks", "A"])
    assert result.exit_code == 0 and result.stdout == "sub/B.md:2:6\nsub/B.md:5:1\n"
    data = json.loads(runner.invoke(app, ["graph", str(root), "--backlinks", "sub/B.md", "-f", "json"]).stdout)
    assert data == {"target": "sub/B.md", "backlinks": [{"source": "A.md", "line": 2, "column": 1, "property": None}]}
    assert runner.invoke(app, ["graph", str(root), "--backlinks", "Nobody"]).exit_code == 2
    # Drawn, --backlinks is the target with the files linking into it, and only those links.
    root.joinpath("C.md").write_text("[[A]] [[Lone]]\n")
    root.joinpath("Lone.md").write_text("alone\n")
    dot = runner.invoke(app, ["graph", str(root), "--backlinks", "A", "-f", "dot", "--no-cache"]).stdout
    assert dot.splitlines() == [
        "digraph vault {", "  node [shape=box];", '  "A.md";', '  "C.md";', '  "sub/B.md";',
        '  "C.md" -> "A.md";', '  "sub/B.md" -> "A.md";', "}",
    ]
    mermaid = runner.invoke(app, ["graph", str(root), "--backlinks", "A", "-f", "mermaid", "--no-cache"]).stdout
    assert "Lone" not in mermaid and "n1 --> n0" in mermaid and "n2 --> n0" in mermaid and "n0 -->" not in mermaid


@pytest.mark.parametrize(
    ("pattern", "excluded", "kept"),
    [
        ("Archive/**", ["Archive/A.md", "Archive/x/B.md"], ["Archived/A.md", "A.md", "x/Archive/A.md"]),
        ("Archive/", ["Archive/A.md"], ["Archive.md", "ArchiveX/A.md"]),
        # A folder at any depth: these excluded nothing.
        ("**/Archive/", ["Archive/A.md", "x/Archive/A.md", "x/y/Archive/z/B.md"], ["x/Archived/A.md", "Archive.md"]),
        ("*/Archive/", ["x/Archive/A.md", "x/y/Archive/A.md"], ["Archive/A.md"]),  # fnmatch: * crosses /
        ("Dr?fts/**", ["Drafts/A.md", "Drifts/x/B.md"], ["Draaafts/A.md"]),
        ("*.excalidraw.md", ["D.excalidraw.md", "x/y/D.excalidraw.md"], ["D.md", "excalidraw.md/B.md"]),
        ("sub/*.md", ["sub/A.md", "sub/x/B.md"], ["other/A.md", "A.md"]),
        ("[AB].md", ["A.md", "x/B.md"], ["C.md", "[AB].md"]),
    ],
)
def test_exclude_globs(pattern: str, excluded: list[str], kept: list[str]) -> None:
    from generator.lint.config import _excluder

    matches = _excluder((pattern,))
    assert [path for path in excluded + kept if matches(path)] == excluded


@pytest.mark.parametrize("jobs", ["abc", "0", "-2", "1.5"])
def test_a_bad_vaultgen_jobs_is_a_usage_error_not_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    root = vault(tmp_path, {"A.md": "[[B]]\n", "B.md": "[[A]]\n"})
    monkeypatch.setenv("VAULTGEN_JOBS", jobs)
    result = runner.invoke(app, ["check", str(root), "--no-cache"])
    assert result.exit_code == 2 and "VAULTGEN_JOBS must be a positive whole number" in result.output


def test_settings_that_are_no_table_or_no_regular_file_are_refused_or_skipped(tmp_path: Path) -> None:
    """`check = 5` was ignored without a word; a FIFO as .obsidian/templates.json hung check."""
    import os

    from tests.conftest import no_hang

    root = vault(tmp_path, {"A.md": "[[A]]\n", "vaultgen.toml": "# settings\ncheck = 5\n"})
    result = runner.invoke(app, ["check", str(root)])
    assert result.exit_code == 2 and "vaultgen.toml:2: [check] must be a table" in " ".join(result.output.split())
    (root / "vaultgen.toml").unlink()
    (root / ".obsidian").mkdir()
    os.mkfifo(root / ".obsidian" / "templates.json")
    with no_hang():
        assert runner.invoke(app, ["check", str(root)]).exit_code == 0


def test_settings_nested_too_deep_for_the_toml_parser_are_a_usage_error(tmp_path: Path) -> None:
    """tomllib recursed into a RecursionError: exit 3, a bug report, for a bad file."""
    root = vault(tmp_path, {"A.md": "[[A]]\n", "vaultgen.toml": "[check]\nx = " + "[" * 600 + "]" * 600 + "\n"})
    result = runner.invoke(app, ["check", str(root)])
    assert result.exit_code == 2 and "nested too deeply" in result.output


def test_a_file_name_that_is_not_utf8_gives_valid_json_and_sarif(tmp_path: Path) -> None:
    """SARIF crashed (exit 3) on the name; JSON carried its raw byte, which no JSON reader takes."""
    import os

    os.makedirs(tmp_path / "v")
    with open(os.path.join(os.fsencode(tmp_path / "v"), b"bad\xff.md"), "wb") as note:
        note.write(b"[[Nope]]\n")
    sarif = runner.invoke(app, ["check", str(tmp_path / "v"), "-f", "sarif"])
    assert sarif.exit_code == 1
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in json.loads(sarif.stdout)["runs"][0]["results"]}
    assert uris == {"bad%FF.md"}
    data = runner.invoke(app, ["check", str(tmp_path / "v"), "-f", "json"]).stdout_bytes
    assert json.loads(data.decode("utf-8"))["findings"][0]["path"] == "bad\udcff.md"
    exported = runner.invoke(app, ["export", "html", str(tmp_path / "site"), "--vault", str(tmp_path / "v")])
    assert exported.exit_code == 2 and "not UTF-8" in exported.output


def test_control_characters_in_names_cannot_forge_a_line_or_drive_the_terminal(tmp_path: Path) -> None:
    root = vault(tmp_path, {"x\nfake.md:9:9: error forged.md": "[[Nope\x1bc]]\n"})
    lines = runner.invoke(app, ["check", str(root)]).stdout.splitlines()
    assert not any(line.startswith("fake.md") for line in lines) and "\x1b" not in "".join(lines)
    assert any(line.startswith("x\\x0afake.md:9:9: error forged.md:1:1: error broken-link [[Nope\\x1bc]]") for line in lines)


def test_bidi_overrides_and_zero_width_spaces_are_escaped_but_emoji_sequences_kept(tmp_path: Path) -> None:
    # U+202E turns the rest of a terminal line around; U+200B makes two names look alike.
    root = vault(tmp_path, {"\u202egpj.md": "[[Nope]]\n", "z\u200b.md": "[[Nope]]\n", "\U0001f9d1\u200d\U0001f4bb Work.md": "[[Nope]]\n"})
    out = runner.invoke(app, ["check", str(root)]).stdout
    assert "\u202e" not in out and "\u200b" not in out
    assert "\\u202egpj.md:1:1: error broken-link" in out and "z\\u200b.md:1:1: error broken-link" in out
    assert "\U0001f9d1\u200d\U0001f4bb Work.md:1:1: error broken-link" in out
