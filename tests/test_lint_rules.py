"""Obsidian's rules, one minimal vault each (issue 10 §1)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from generator.lint import check_vault, link_graph
from generator.lint.config import CheckConfig
from tests.conftest import no_hang
from tests.vaultkit import write


def found(root: Path, **kwargs) -> list[tuple]:
    return [(f.code, f.path, f.line) for f in check_vault(root, **kwargs).findings if f.code != "orphan"]


@pytest.mark.parametrize(
    "link",
    [
        "[[B#What is it]]", "[[B#hasTag]]", "[[B#Setup Vault]]", "[[B#setup   vault]]", "[[B#a/b c]]",
        "[x](B.md#What%20is%20it)", "[x](<B.md#Setup Vault>)",
    ],
)
def test_heading_subpaths_read_punctuation_as_spaces(tmp_path: Path, link: str) -> None:
    write(tmp_path, {"A.md": f"{link}\n", "B.md": "## What is it?\n### `hasTag()`\n## Setup & Vault\n## a/b [c]\n[[A]]\n"})
    assert found(tmp_path) == []


def test_heading_rule_keeps_dashes_and_underscores(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[B#a b]]\n", "B.md": "## a-b\n[[A]]\n"})
    assert found(tmp_path) == [("missing-heading", "A.md", 1)]


def test_property_links_are_backlinks_and_broken_ones_name_the_property(tmp_path: Path) -> None:
    write(tmp_path, {
        "A.md": '---\nup: "[[Category]]"\nrelated:\n  - "[[Other|o]]"\n  - "[[Gone]]"\nnote: "see [[Prose]]"\n---\nbody\n',
        "Category.md": "x\n", "Other.md": "[[A]]\n",
    })
    report = check_vault(tmp_path)
    assert [(f.code, f.path, f.line, f.column, f.property, f.target) for f in report.findings] == [
        ("broken-link", "A.md", 5, 6, "related", "Gone"),  # Category and Other are linked: no orphans
    ]
    assert 'property "related"' in report.errors[0].message
    assert report.backlinks("Category.md") == [("A.md", 2)]


def test_unquoted_template_variable_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "---\ncreated: {{date}}\ntags: [x]\n---\n[[B]]\n", "B.md": "[[A]]\n"})
    report = check_vault(tmp_path)
    assert [(f.code, f.severity, f.line) for f in report.findings] == [("template-syntax", "warning", 2)]


def test_templates_folder_is_excluded_by_default(tmp_path: Path) -> None:
    write(tmp_path, {
        ".obsidian/templates.json": json.dumps({"folder": "Meta/Templates"}),
        "Meta/Templates/Daily.md": "---\ncreated: {{date}}\n---\n[[{{title}} notes]] [[A]]\n",
        "A.md": "[[Meta/Templates/Daily]]\n",
    })
    assert found(tmp_path) == []
    assert [c for c, _, _ in found(tmp_path, config=CheckConfig(templates=True))] == ["template-syntax", "broken-link"]


def test_case_collisions_only_within_one_folder(tmp_path: Path) -> None:
    write(tmp_path, {"a/Note.md": "", "b/note.md": "", "a/NOTE.md": "", "Hub.md": "[[a/Note]] [[b/note]] [[a/NOTE]]\n"})
    assert sorted(c for c in found(tmp_path) if c[0] == "case-collision") == [
        ("case-collision", "a/NOTE.md", None), ("case-collision", "a/Note.md", None),
    ]


def test_symlinks_fifos_and_devices_never_hang_or_crash(tmp_path: Path) -> None:
    vault = write(tmp_path / "v", {"A.md": "[[B]] [[sub/C]] [[D]]\n", "real/C.md": "[[A]]\n"})
    (vault / "sub").symlink_to(vault / "real", target_is_directory=True)
    (vault / "real" / "loop").symlink_to(vault, target_is_directory=True)  # a folder link back up the tree
    (vault / "B.md").symlink_to(vault / "nowhere.md")  # dangling
    (vault / "L.md").symlink_to(vault / "L.md")  # looping
    os.mkfifo(vault / "F.md")
    (vault / "D.md").symlink_to("/dev/zero")
    with no_hang():
        report = check_vault(vault)
    codes = {(f.code, f.path) for f in report.findings if f.code != "orphan"}
    assert {("skipped-file", p) for p in ("B.md", "L.md", "F.md", "D.md")} <= codes
    assert ("broken-link", "A.md") in codes  # B and D were not read, so they are not notes
    messages = [f.message for f in report.findings if f.code == "broken-link"]
    assert any("D.md is there but was not read (see its skipped-file warning)" in m for m in messages), messages
    assert not any(f.path.startswith("real/loop/") for f in report.findings)
    assert link_graph(vault).inbound["sub/C.md"][0].source == "A.md"


def test_size_limit_counts_bytes_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.lint import notefacts

    monkeypatch.setattr(notefacts, "MAX_NOTE_BYTES", 10)
    path = write(tmp_path, {"A.md": "0123456789 and more\n"}) / "A.md"
    assert notefacts.read_note(str(path), 0).too_large == 11  # stat said 0


@pytest.mark.parametrize("stated", [0, 5, 70_000, 200_000])
def test_a_note_is_read_whole_whatever_its_stat_said(tmp_path: Path, stated: int) -> None:
    """The first read asks for the stated size; a file that grew since, or
    whose stat was wrong, is still read to its end (past one read piece too)."""
    from generator.lint import notefacts

    text = "[[Start]]\n" + "x" * 150_000 + "\n[[End]]\n"
    path = write(tmp_path, {"A.md": text}) / "A.md"
    assert [link.target for link in notefacts.read_note(str(path), stated).links] == ["Start", "End"]


BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(f"{k}: &{k} [{','.join(['*' + p] * 9)}]\n" for p, k in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("front", [BOMB, "deep: " + "[" * 900 + "]" * 900, "deeper: " + "[" * 10_000 + "]" * 10_000, "".join("  " * i + f"k{i}:\n" for i in range(600)), "a: &a [*a]"])
def test_hostile_front_matter_is_one_quick_finding(tmp_path: Path, front: str) -> None:
    write(tmp_path, {"A.md": f"---\n{front}\n---\n[[B]]\n", "B.md": "[[A]]\n"})
    with no_hang():  # it took 56 s and 5.9 GB, then MemoryError; how fast it is now, bench/ measures
        report = check_vault(tmp_path, use_cache=False)
    assert [(f.code, f.path) for f in report.findings] == [("yaml-too-complex", "A.md")]


def test_links_in_deeply_nested_lists_are_kept(tmp_path: Path) -> None:
    nested = "\n".join("  " * depth + f"- level {depth} [[B#H{depth}]]" for depth in range(14))
    write(tmp_path, {"A.md": nested + "\n", "B.md": "# H3\n[[A]]\n"})
    assert len(found(tmp_path)) == 13  # every level but 3 is a missing heading: none was dropped


@pytest.mark.parametrize("depth, kept", [(32, True), (33, True), (149, True), (150, False), (490, False), (1000, False)])
def test_deep_quotes_and_lists_never_crash_and_keep_links_to_the_documented_depth(tmp_path: Path, depth: int, kept: bool) -> None:
    """490 quote markers on one line once raised RecursionError (exit 3, no findings for the vault)."""
    quote = ">" * (depth * 2) + " quoted [[Gone]]\n"  # twice as deep: quotes keep links to 299 levels
    listed = "".join("  " * level + f"- item{' [[Gone]]' if level == depth - 1 else ''}\n" for level in range(depth))
    write(tmp_path, {"Q.md": quote, "L.md": listed, "Index.md": "[[Q]] [[L]]\n"})
    findings = check_vault(tmp_path).findings
    assert sorted(f.path for f in findings if f.code == "broken-link") == (["L.md", "Q.md"] if kept else [])
    # Where reading stopped is said, at its line: the item at level 149, the one line of quotes.
    cut = {f.path: f.line for f in findings if f.code == "note-too-complex"}
    assert cut == ({} if kept else {"L.md": 150, "Q.md": 1})


def test_a_key_given_twice_is_a_yaml_error_as_in_javascript_parsers(tmp_path: Path) -> None:
    """PyYAML keeps the last value; js-yaml throws "duplicated mapping key" and Obsidian shows no properties."""
    write(tmp_path, {
        "A.md": "---\ntags: [a]\ntitle: x\ntags: [b]\n---\n[[B]]\n",
        "B.md": "---\nbase: &b {x: 1}\nitem:\n  <<: *b\n  x: 2\n---\n[[A]]\n",  # a merge key's values may be overridden
    })
    (finding,) = check_vault(tmp_path).findings
    assert (finding.code, finding.path, finding.line) == ("yaml-error", "A.md", 4)
    assert "duplicated mapping key 'tags'" in finding.message


def test_a_note_past_the_parse_budget_is_one_warning_and_links_into_it_stay_unjudged(tmp_path: Path, monkeypatch) -> None:
    """A note markdown-it cannot finish (it recursed once per "[" of 10,000 unmatched "[[", exit 3
    before) or finish in time is skipped with a finding, like a note over the size limit."""
    from generator.lint import notefacts

    parse = notefacts._parse_with_markdown_it

    def slow_for_a(text: str) -> tuple:
        if text.startswith("# Slow"):
            time.sleep(30)  # interrupted by the budget
        return parse(text)

    monkeypatch.setattr(notefacts, "PARSE_SECONDS", 0.05)
    monkeypatch.setattr(notefacts, "_parse_with_markdown_it", slow_for_a)
    write(tmp_path, {
        "A.md": "# Slow ^b\n<div>\n\n[[Gone]]\n", "N.md": "# H\n" + "[[" * 10_000 + "\n",
        "B.md": "[[A#Slow]] [[A#^b]] [[N#H]] [[A]] [[N]]\n", "C.md": "[[B]]\n",
        "Big.md": "# H\n" + "x" * (notefacts.MAX_NOTE_BYTES + 1), "D.md": "[[Big#H]] [[C]] [[D]]\n",
    })
    findings = check_vault(tmp_path, use_cache=False).findings
    # No missing-heading and no missing-block: the headings of A, N and Big are unknown, not absent.
    assert [(f.code, f.path) for f in findings if f.code != "orphan"] == [
        ("note-too-complex", "A.md"), ("note-too-large", "Big.md"), ("note-too-complex", "N.md")]
    messages = {f.path: f.message for f in findings}
    assert "parsing it took over 0.05 s" in messages["A.md"] and "nests too deep to read" in messages["N.md"]


def test_ambiguous_suggestion_names_the_note_obsidian_opens(tmp_path: Path) -> None:
    write(tmp_path, {"a/Note.md": "", "z/Src.md": "[[Note]]\n", "z/Note.md": "[[a/Note]]\n"})
    (finding,) = [f for f in check_vault(tmp_path).findings if f.code == "ambiguous-link"]
    assert "Obsidian opens z/Note.md" in finding.message and finding.suggestion == "[[z/Note]]"


def test_several_matches_resolve_in_obsidians_order(tmp_path: Path) -> None:
    """getFirstLinkpathDest on Obsidian 1.13.7 (markdown-vault-mcp#1380): a file whose vault path is
    the name as written, then the linking note's own folder, then the shortest path string."""
    write(tmp_path, {
        "Note.md": "# Setup\n", "b/Note.md": "# Other\n", "b/Src.md": "[[Note#Setup]] ![[Guide#Intro|w]]\n",
        "x/y/Guide.md": "# Intro\n", "zzzz/Guide.md": "# Nothing\n", "Home.md": "[[b/Src]] [[b/Note]] [[zzzz/Guide]]\n",
    })
    findings = [(f.code, f.path, f.target, f.suggestion) for f in check_vault(tmp_path).findings]
    # [[Note]] is the root note from any folder: no error, no ambiguity; x/y/Guide.md (12
    # characters) beats zzzz/Guide.md (13) although it has more folders.
    assert findings == [("orphan", "Home.md", None, None), ("ambiguous-link", "b/Src.md", "Guide", "![[x/y/Guide#Intro|w]]")]


def test_a_leading_slash_names_the_root_file_from_any_folder(tmp_path: Path) -> None:
    """"/Other" is a vault path like "x/Other": the root file, never ambiguous, never the linking note's own folder's."""
    write(tmp_path, {"Other.md": "", "x/Other.md": "", "x/Src.md": "[[/Other]] [m](/Other.md) [[/x/Other]]\n", "Src.md": "[[/Other]]\n"})
    assert [f.code for f in check_vault(tmp_path).findings if f.code != "orphan"] == []
    targets = sorted((edge.source, edge.target, edge.link.column) for edge in link_graph(tmp_path).edges)
    assert targets == [("Src.md", "Other.md", 1), ("x/Src.md", "Other.md", 1), ("x/Src.md", "Other.md", 12), ("x/Src.md", "x/Other.md", 27)]


def test_canvas_file_nodes_and_text_links_count(tmp_path: Path) -> None:
    canvas = {"nodes": [
        {"id": "n1", "type": "file", "file": "notes/A.md", "x": 0, "y": 0, "width": 1, "height": 1},
        {"id": "n2", "type": "text", "text": "see [[B]] and [[Gone]]", "x": 0, "y": 0, "width": 1, "height": 1},
        {"id": "n3", "type": "file", "file": "missing.png", "x": 0, "y": 0, "width": 1, "height": 1},
    ], "edges": []}
    write(tmp_path, {"Board.canvas": json.dumps(canvas, indent=1), "notes/A.md": "x\n", "B.md": "y\n", "Bad.canvas": "{nope", "New.canvas": "{}"})
    report = check_vault(tmp_path)
    assert [(f.code, f.path, f.target) for f in report.findings] == [
        ("invalid-canvas", "Bad.canvas", None), ("broken-link", "Board.canvas", "Gone"), ("broken-link", "Board.canvas", "missing.png"),
    ]
    assert report.notes == 2


def test_cache_sees_changes_that_keep_size_and_mtime(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[B]]\n", "B.md": "[[A]]\n"})
    assert check_vault(tmp_path).ok
    stat = os.stat(tmp_path / "A.md")
    (tmp_path / "A.md").write_text("[[C]]\n", encoding="utf-8")
    os.utime(tmp_path / "A.md", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # touch -r
    assert found(tmp_path) == [("broken-link", "A.md", 1)]


def test_case_folding_is_javascript_lower_case(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "[[Strasse]] [[STRASSE]] [[straße]] [[ΣΊΣΥΦΟΣ]]\n", "Straße.md": "[[A]]\n", "Σίσυφος.md": "[[A]]\n"})
    assert [(f.code, f.target) for f in check_vault(tmp_path).findings] == [("broken-link", "Strasse"), ("broken-link", "STRASSE")]


def test_links_in_comments_count_and_block_ids_ignore_case(tmp_path: Path) -> None:
    write(tmp_path, {"A.md": "%% [[B#^Intro]] [[Gone]] %% [[B#^chart]]\n", "B.md": "para ^intro\n\n![[pic.png]]^chart\n", "pic.png": b""})
    assert found(tmp_path) == [("broken-link", "A.md", 1)]
    assert link_graph(tmp_path).inbound["B.md"][0].link.block == "Intro"


@pytest.mark.parametrize("quick", [True, False])
def test_a_block_id_closing_a_heading_is_the_headings_block(tmp_path: Path, quick: bool, monkeypatch) -> None:
    """`# Variant 2 ^variant2` then `[[#^variant2]]`, as Obsidian users write them (SNW#183): no missing-block,
    on either parse path; a `^` inside a heading's text or code is no block id."""
    from generator.lint import notefacts

    if not quick:
        monkeypatch.setattr(notefacts, "scan", lambda text: None)  # every note through markdown-it
    write(tmp_path, {
        "A.md": "# Variant 2 ^variant2\n\n[[#^variant2]] [[#^VARIANT2]] [[B#^deep-1]] [[B#^x]] [[B#^y]]\n",
        "B.md": "> ### In a quote ^deep-1\n\n## 2^x\n\n## `^y`\n\n[[A]]\n",
    })
    assert found(tmp_path) == [("missing-block", "A.md", 3), ("missing-block", "A.md", 3)]


def test_readme_lists_every_finding_code_once() -> None:
    from generator.lint.findings import CODES

    lines = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8").splitlines()
    for code, (severity, _) in CODES.items():
        assert sum(line.startswith(f"- `{code}` ({severity}): ") for line in lines) == 1, code


@pytest.mark.parametrize(("text", "column"), [
    ("- a\n\t[[Nope]]\n", 2),           # the item's indent takes 2 of the tab's 4 columns
    ("- a\n\t\t[[Nope]]\n", 3),
    ("1. x\n\t1. y\n\t\t2. [[Nope]]\n", 6),
    ("* c\n\t[[Nope]]\n", 2),
    ("1. x\n\t[[Nope]]\n", 2),
    ("> \t[[Nope]]\n", 4),
])
def test_a_tab_the_list_indent_takes_part_of_counts_as_one_column(tmp_path: Path, text: str, column: int) -> None:
    """The column was one off: markdown-it keeps the rest of such a tab as spaces."""
    write(tmp_path, {"A.md": text})
    [finding] = [f for f in check_vault(tmp_path, use_cache=False).findings if f.code == "broken-link"]
    assert (finding.line, finding.column) == (text.count("\n"), column)
