"""Template headers and rendering errors name the file and line."""

from __future__ import annotations

import pytest

from generator.errors import TemplateError
from generator.templates import discover, read_template
from tests.conftest import invoke


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def test_header_is_read(tmp_path):
    path = _write(tmp_path, "x.md.j2", "{#---\ntitle: A Note\naliases: [B]\ntags: [a/b]\nexperiments: [e]\n---#}\nbody\n")
    note = read_template(path)
    assert (note.title, note.aliases, note.tags, note.experiments) == ("A Note", ("B",), ("a/b",), ("e",))
    assert note.note_path == "A Note.md"


@pytest.mark.parametrize("header, message, line", [
    ("title: [unclosed\n", "YAML error", 2),
    ("title: A\ntags: [a]\n  bad: indent\n", "YAML error", 4),
    ("tags: [a]\n", "no title", 2),
    ("title: 'a: b'\n", "contains :", 2),
    ("title: A\ntags: ['has space']\n", "tag 'has space' is invalid", 3),  # the line of its key
    ("title: A\ntags: ['1984']\n", "at least one non-digit", 3),
    ("title: A\nexperiments: 3\n", "must be a list", 3),
    ("aliases: [x]\norder: 5\ntitle: 'a: b'\n", "contains :", 4),
    ("tags: [a]\ntitle: [1, 2]\n", "title must be text, not list", 3),
])
def test_bad_headers(tmp_path, header, message, line):
    path = _write(tmp_path, "bad.md.j2", "{#---\n" + header + "---#}\nbody\n")
    with pytest.raises(TemplateError, match=message) as info:
        read_template(path)
    assert info.value.path == path and info.value.line == line


@pytest.mark.parametrize("char", list('*"\\/<>:|?#^[]'))
def test_forbidden_title_characters(tmp_path, char):
    path = _write(tmp_path, "bad.md.j2", "{#---\ntitle: 'A" + char.replace("'", "''") + "B'\n---#}\n")
    # Obsidian refuses the first nine; it keeps a file with the last four but cannot link to it.
    reason = "links to it do not work" if char in "#^[]" else "Obsidian refuses"
    with pytest.raises(TemplateError, match=reason):
        read_template(path)


def test_a_template_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "bad.md.j2"
    path.write_bytes("{#---\ntitle: A\n---#}\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(TemplateError, match="byte 0xe9 is not UTF-8") as info:
        read_template(path)
    assert info.value.line == 4


def test_missing_header(tmp_path):
    path = _write(tmp_path, "x.md.j2", "no header\n")
    with pytest.raises(TemplateError, match="missing header"):
        read_template(path)


def test_titles_differing_only_in_case_are_refused(tmp_path):
    _write(tmp_path, "a.md.j2", "{#---\ntitle: Thread Notes\n---#}\n")
    _write(tmp_path, "b.md.j2", "{#---\ntitle: thread notes\n---#}\n")
    with pytest.raises(TemplateError, match="already used by a.md.j2"):
        discover(tmp_path)


def test_unknown_experiment_is_refused(tmp_path):
    _write(tmp_path, "a.md.j2", "{#---\ntitle: A\nexperiments: [nope]\n---#}\n")
    with pytest.raises(TemplateError, match="unknown experiment 'nope'"):
        discover(tmp_path, {"cpu_bound"})


def test_jinja_syntax_error_names_line(runner, project):
    _write(project / "templates", "Broken.md.j2", "{#---\ntitle: Broken\n---#}\nok\n{% if %}\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 1
    assert "Broken.md.j2:5" in result.output and "syntax error" in result.output
    assert not (project / "vault" / "Broken.md").exists()


def test_undefined_variable_names_line(runner, project):
    _write(project / "templates", "Broken.md.j2", "{#---\ntitle: Broken\n---#}\nline\n\n{{ nosuchvar }}\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 1
    assert "Broken.md.j2:6" in result.output and "'nosuchvar' is undefined" in result.output
    assert "Traceback" not in result.output


def test_undeclared_experiment_is_an_error(runner, project):
    _write(project / "templates", "Sneaky.md.j2", "{#---\ntitle: Sneaky\n---#}\n{{ result('tiny') }}\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 1 and "not declared in the header" in result.output


def test_sandbox_blocks_unsafe_attribute_access(runner, project):
    _write(project / "templates", "Evil.md.j2",
           "{#---\ntitle: Evil\n---#}\n{{ note.__class__.__mro__[1].__subclasses__() }}\n")
    result = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert result.exit_code == 1 and "Evil.md.j2" in result.output


@pytest.mark.parametrize("expression, rendered", [
    ('"%5.2f" % 3.14159', " 3.14"), ('"%s%% 123456789" % 5', "5% 123456789"), ('"%d items" % 3', "3 items"),
    ('"{:>5}|{}".format(1, 2)', "    1|2"), ('"-" * 3', "---"), ('7 * 6', "42"), ('2 ** 64', str(2 ** 64)),
    ('"a".center(5)', "  a  "), ('-3 % 7', "4"), ('1.5 * 2', "3.0"),
])
def test_the_sandboxs_size_guards_leave_ordinary_expressions_alone(tmp_path, expression, rendered):
    from generator.sandbox import make_jinja

    assert make_jinja(tmp_path).from_string("{{ " + expression + " }}").render() == rendered


def test_a_template_printing_its_path_renders_the_same_note_on_every_machine(tmp_path):
    """{{ note.path }} printed where this clone lies (/home/alice/lab/templates/N.md.j2)."""
    from generator import notes, sandbox, templates as tpl
    from tests.factories import result_set

    (tmp_path / "N.md.j2").write_text("{#---\ntitle: N\ntags: [t]\n---#}\n{{ note.path }} {{ note.path.name }} {{ notes[0].path }}\n")
    note = tpl.read_template(tmp_path / "N.md.j2")
    text = notes.render_note(sandbox.make_jinja(tmp_path), note, result_set(), {}, set()).text
    assert "templates/N.md.j2 N.md.j2 templates/N.md.j2" in text and str(tmp_path) not in text


def test_a_property_with_line_breaks_stays_inside_the_front_matter(tmp_path):
    """prop("k", "v\\n---\\nevil: 1") folded into a line "  ---", which closes front matter for the
    linter (as for mdit-py-plugins), and the build stopped on a yaml-error blamed on links."""
    import yaml

    from generator import notes, sandbox, templates as tpl
    from generator.lint import check_vault
    from tests.factories import result_set

    (tmp_path / "N.md.j2").write_text('{#---\ntitle: N\ntags: [t]\n---#}\n{{ prop("k", "v\\n---\\nevil: 1") }}# N\n')
    note = tpl.read_template(tmp_path / "N.md.j2")
    text = notes.render_note(sandbox.make_jinja(tmp_path), note, result_set(), {}, set()).text
    assert yaml.safe_load(text.split("---\n")[1])["k"] == "v\n---\nevil: 1"
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "N.md").write_text(text)
    assert not [f for f in check_vault(vault, use_cache=False).findings if f.code != "orphan"]
