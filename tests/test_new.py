"""`vaultgen new` scaffolds a template the next build renders."""

from __future__ import annotations

from tests.conftest import invoke


def test_new_note_is_rendered_by_the_next_build(runner, project):
    result = invoke(runner, "new", "GIL Internals", "--experiment", "tiny", "-C", str(project))
    assert result.exit_code == 0, result.output
    template = project / "templates" / "GIL Internals.md.j2"
    text = template.read_text()
    assert text.startswith("{#---\ntitle: GIL Internals\n") and "experiments: [tiny]" in text
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0, result.output
    note = (project / "vault" / "GIL Internals.md").read_text()
    assert "`loop.wall`" in note and "Measured on" in note
    assert "[[GIL Internals]]" in (project / "vault" / "Home.md").read_text()  # the hub links it


def test_new_refuses_forbidden_characters(runner, project):
    result = invoke(runner, "new", "What? Now", "-C", str(project))
    assert result.exit_code == 2 and "Obsidian refuses" in result.output
    assert not list((project / "templates").glob("What*"))


def test_new_refuses_an_existing_title_in_any_case(runner, project):
    result = invoke(runner, "new", "examples", "-C", str(project))
    assert result.exit_code == 2 and "already exists" in result.output


def test_new_refuses_unknown_experiment(runner, project):
    result = invoke(runner, "new", "Fresh", "--experiment", "nope", "-C", str(project))
    assert result.exit_code == 2 and "unknown experiment nope" in result.output
