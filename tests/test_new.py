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


def test_new_refuses_an_experiment_name_a_template_cannot_hold(runner, project):
    """`new Q1 -e 'it"s'` wrote a template whose next build failed with a syntax error."""
    (project / "experiments" / 'it"s.py').write_text("print('hi')\n")
    result = invoke(runner, "new", "Q1", "-e", 'it"s', "-C", str(project))
    assert result.exit_code == 2 and "which a template cannot hold as a plain name" in result.output
    assert not (project / "templates" / "Q1.md.j2").exists()


def test_new_refuses_an_existing_title_in_any_case(runner, project):
    result = invoke(runner, "new", "examples", "-C", str(project))
    assert result.exit_code == 2 and "already exists" in result.output


def test_new_refuses_unknown_experiment(runner, project):
    result = invoke(runner, "new", "Fresh", "--experiment", "nope", "-C", str(project))
    assert result.exit_code == 2 and "unknown experiment nope" in result.output


def test_a_title_with_jinja_syntax_is_text_and_a_project_without_macros_still_builds(runner, project):
    """`new 'x{% raw %}'` wrote a template whose build failed ("Missing end of raw directive");
    without _macros.md.j2, `new` still imported it (TemplateNotFound)."""
    for title in ("Raw {% raw %} note", "Curly {{ y }} note"):
        assert invoke(runner, "new", title, "--experiment", "tiny", "-C", str(project)).exit_code == 0
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0, result.output
    assert "# Raw {% raw %} note\n" in (project / "vault" / "Raw {% raw %} note.md").read_text()
    assert "# Curly {{ y }} note\n" in (project / "vault" / "Curly {{ y }} note.md").read_text()
    for name in ("Raw {% raw %} note", "Curly {{ y }} note", "Examples", "_macros"):  # every user of the macros, then them
        (project / "templates" / f"{name}.md.j2").unlink()
    assert invoke(runner, "new", "Plain", "--experiment", "tiny", "-C", str(project)).exit_code == 0
    assert "_macros" not in (project / "templates" / "Plain.md.j2").read_text()
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 0, result.output
    assert "`loop.wall`" in (project / "vault" / "Plain.md").read_text()
