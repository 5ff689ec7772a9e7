"""`vaultgen export html`: what the site contains, byte for byte; the browser tests are in test_export_browser.py."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from generator.cli import app
from generator.lint import check_vault
from generator.export.assets import ASSETS_DIR
from generator.export.callouts import canonical_type
from generator.export.linking import url
from tests.conftest import REPO, invoke
from tests.edge_vault import BROKEN_IN_HOME, make_edge_vault

LINT_ERRORS = {"broken-link", "broken-embed", "missing-heading", "missing-block", "alias-link"}


def _export(tmp_path: Path, vault: Path, name: str = "site") -> Path:
    out = tmp_path / name
    result = invoke(CliRunner(), "export", "html", str(out), "--vault", str(vault))
    assert result.exit_code == 0, result.output
    assert "exported" in result.output
    return out


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_same_vault_gives_byte_identical_sites(tmp_path):
    vault = make_edge_vault(tmp_path)
    first, second = _export(tmp_path, vault, "a"), _export(tmp_path, vault, "b")
    assert _files(first) == _files(second)
    again = _export(tmp_path, vault, "a")  # replacing an earlier export
    assert _files(again) == _files(second)


def test_every_page_and_file_is_there(tmp_path):
    site = _export(tmp_path, make_edge_vault(tmp_path))
    files = set(_files(site))
    assert {"index.html", "Home.html", "Other.html", "folder/Deep Note.html", "Café ü.html",
            "media/pic.png", "media/diagram.svg", "_assets/mermaid.min.js", "_assets/search-index.js",
            "_tags/edge.html", "_tags/edge/home.html", "_tags/edge/inline.html", "_tags/demo.html"} <= files
    assert not any(name.endswith(".md") for name in files)


def test_every_relative_link_and_fragment_resolves_in_the_site(tmp_path):
    site = _export(tmp_path, make_edge_vault(tmp_path))
    ids = {}
    for page in site.rglob("*.html"):
        ids[page.resolve()] = set(re.findall(r' id="([^"]*)"', page.read_text(encoding="utf-8")))
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for link in re.findall(r'(?:href|src)="([^"]+)"', html):
            assert not re.match(r"[a-z]+:|/", link), f"{page}: {link} is not relative"
            path, _, fragment = link.partition("#")
            target = (page.parent / unquote(path)).resolve() if path else page.resolve()
            assert target.exists(), f"{page.name}: {link} leads nowhere"
            if fragment and target.suffix == ".html":
                assert unquote(fragment) in ids[target], f"{page.name}: {link} has no such anchor"


def test_links_the_linter_reports_render_broken_and_only_those(tmp_path):
    vault = make_edge_vault(tmp_path)
    errors = [f for f in check_vault(vault, use_cache=False).findings if f.code in LINT_ERRORS]
    assert len(errors) == BROKEN_IN_HOME
    result = invoke(CliRunner(), "export", "html", str(tmp_path / "site"), "--vault", str(vault))
    assert f"{BROKEN_IN_HOME} broken link(s) marked" in result.output
    home = (tmp_path / "site" / "Home.html").read_text(encoding="utf-8")
    body = home.split('<div class="embed-note">')[0]  # the embeds are Other's links
    assert body.count('class="broken-') == BROKEN_IN_HOME
    for text in ("Missing note", "Other &gt; No such heading", "gone", "![[nothing.png]]"):
        assert re.search(r'class="broken-(?:link|embed)"[^>]*>' + re.escape(text) + "<", body), text


def test_reading_view_features(tmp_path):
    site = _export(tmp_path, make_edge_vault(tmp_path))
    home = (site / "Home.html").read_text(encoding="utf-8")
    assert '<details class="callout" data-callout="warning">' in home  # "-": folded
    assert '<details class="callout" data-callout="tip" open="">' in home  # "+": open
    assert '<div class="callout" data-callout="question">' in home  # faq is an alias
    assert '<div class="callout" data-callout="bug">' in home  # nested
    assert home.count('class="callout-icon"') == 5
    assert "Secret" not in home and "hidden block comment" not in home  # %% comments %%
    assert '<pre class="mermaid">' in home and "_assets/mermaid.min.js" in home
    assert re.search(r'<th scope="row">related</th><td><a class="internal-link" href="Other.html">', home)
    assert 'href="Other.html#section-a"' in home and 'href="Other.html#^blk1"' in home
    assert 'href="Other.html#sub"' in home  # [[Other#Section A#Sub]]
    assert "task-list-item-checkbox" in home and 'class="footnote-ref"' in home
    assert '<a class="internal-link" href="Other.html">piped</a>' in home  # \| in a table
    assert "Deeper text." in home  # the section embed
    assert "zanzibarish" in home  # the whole-note embed
    assert "Text of section A.</p>" in home and "A. ^blk1" not in home  # block ids are not shown
    other = (site / "Other.html").read_text(encoding="utf-8")
    assert 'id="^blk1"' in other and 'id="section-a"' in other
    backlinks = other.split('class="backlinks"')[1]
    assert 'href="Home.html"' in backlinks and 'href="folder/Deep%20Note.html"' in backlinks
    deep = (site / "folder" / "Deep Note.html").read_text(encoding="utf-8")
    assert 'href="../Home.html"' in deep and 'href="../_assets/style.css"' in deep
    tag_page = (site / "_tags" / "edge.html").read_text(encoding="utf-8")  # #edge/home, #edge/deep
    assert 'href="../Home.html"' in tag_page and 'href="../folder/Deep%20Note.html"' in tag_page
    index = (site / "_assets" / "search-index.js").read_text(encoding="utf-8")
    assert '["Other","Other.html","other intro with the word zanzibarish' in index
    assert "secret" not in index and "comment" not in index  # %% comments %% are not searchable


def test_project_vault_exports(tmp_path):
    site = _export(tmp_path, REPO / "vault")
    hub = (site / "Python Concurrency.html").read_text(encoding="utf-8")
    assert '<pre class="mermaid">' in hub
    assert 'href="Multithreading%20vs%20Multiprocessing.html"' in hub
    assert 'class="broken-' not in hub


def test_output_that_is_not_an_export_is_refused(tmp_path):
    vault = make_edge_vault(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(app,
                                ["export", "html", str(mine), "--vault", str(vault)])
    assert result.exit_code == 2
    assert "not an earlier export" in result.output
    assert (mine / "notes.txt").read_text() == "keep me"
    inside = invoke(CliRunner(), "export", "html", str(vault / "site"), "--vault", str(vault))
    assert inside.exit_code == 2 and "inside the vault" in inside.output
    missing = invoke(CliRunner(), "export", "html", str(tmp_path / "out"), "--vault", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_callout_types_follow_obsidian():
    assert [canonical_type(t) for t in ("NOTE", "tldr", "faq", "error", "cite", "done", "whatever")] == \
        ["note", "abstract", "question", "danger", "quote", "success", "note"]


_SEGMENT = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=6).filter(
    lambda s: s not in (".", ".."))
_PATH = st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join)


@given(_PATH, _PATH)
def test_relative_url_leads_back_to_the_file(page, target):
    link = url(page, target)
    assert not link.startswith("/")
    assert posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(link))) == posixpath.normpath(target)


def test_a_list_item_of_dashes_is_no_front_matter():
    """mdit-py-plugins' front_matter read "- ---" as front matter inside a list
    item; the export's parser and the linter's share the fix."""
    from markdown_it import MarkdownIt

    from generator.lint.mdplugin import note_front_matter_plugin

    md = MarkdownIt("commonmark")
    note_front_matter_plugin(md)
    assert "front_matter" not in [token.type for token in md.parse("- --- first item\n- second\n")]
    assert [token.type for token in md.parse("---\na: 1\n---\nText\n")][0] == "front_matter"


def test_export_takes_the_project_like_every_other_command(tmp_path, project):
    """Outside a project its error said "pass --project PATH", which export html did not take."""
    assert invoke(CliRunner(), "build", "-C", str(project), "--profile", "quick").exit_code == 0
    out = tmp_path / "site"
    result = invoke(CliRunner(), "export", "html", str(out), "-C", str(project))
    assert result.exit_code == 0, result.output
    assert (out / "index.html").exists() and "Home" in (out / "index.html").read_text()


def test_re_exporting_keeps_what_you_added_and_drops_only_its_own_stale_pages(tmp_path):
    """Re-exporting into a gh-pages checkout deleted its .git folder and CNAME without a word."""
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "A.md").write_text("[[B]]\n", encoding="utf-8")
    (vault / "B.md").write_text("[[A]]\n", encoding="utf-8")
    site = _export(tmp_path, vault)
    (site / "CNAME").write_text("example.com\n")
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("[core]\n")
    (site / ASSETS_DIR / "extra.css").write_text("/* mine */\n")  # inside a folder of the export's own
    (vault / "B.md").unlink()
    (vault / "C.md").write_text("[[A]]\n", encoding="utf-8")
    again = _export(tmp_path, vault)
    assert (again / "CNAME").read_text() == "example.com\n" and (again / ".git" / "config").read_text() == "[core]\n"
    assert (again / ASSETS_DIR / "extra.css").read_text() == "/* mine */\n"
    assert (again / "C.html").exists() and not (again / "B.html").exists()  # its own stale page goes
    assert not list(tmp_path.glob(".site.vaultgen-*"))
    (again / "C.html").unlink()
    (vault / "C.md").unlink()
    (vault / "D.md").write_text("x\n", encoding="utf-8")
    (again / "D.html").write_text("mine")  # a file of yours where the new site writes a page
    clash = invoke(CliRunner(), "export", "html", str(again), "--vault", str(vault))
    assert clash.exit_code == 2 and "D.html" in clash.output and (again / "D.html").read_text() == "mine"


def test_a_symlinked_output_is_refused_and_nothing_is_left_beside_it(tmp_path):
    vault = make_edge_vault(tmp_path)
    real = _export(tmp_path, vault, "real")
    link = tmp_path / "link"
    link.symlink_to(real)
    before = _files(real)
    result = invoke(CliRunner(), "export", "html", str(link), "--vault", str(vault))
    assert result.exit_code == 2 and "symbolic link" in result.output and str(real) in result.output
    assert link.is_symlink() and _files(real) == before and not list(tmp_path.glob(".link.vaultgen-*"))


def _vault(tmp_path: Path, notes: dict[str, str]) -> Path:
    vault = tmp_path / "v"
    vault.mkdir(exist_ok=True)
    for name, text in notes.items():
        (vault / name).parent.mkdir(parents=True, exist_ok=True)
        (vault / name).write_text(text, encoding="utf-8")
    return vault


def _export_fails(out: Path, vault: Path, said: str) -> None:
    result = invoke(CliRunner(), "export", "html", str(out), "--vault", str(vault))
    assert result.exit_code == 2 and said in " ".join(result.output.split()), result.output


def test_an_existing_empty_folder_takes_an_export(tmp_path):
    vault = _vault(tmp_path, {"A.md": "x\n"})
    (tmp_path / "site").mkdir()
    assert (_export(tmp_path, vault) / "A.html").exists()


def test_an_export_from_before_the_list_keeps_only_what_is_no_page(tmp_path):
    """An old marker lists nothing: keeping everything would publish deleted notes forever."""
    vault = _vault(tmp_path, {"A.md": "x\n", "B.md": "private\n"})
    site = _export(tmp_path, vault)
    (site / ".vaultgen-export").write_text("A static site written by `vaultgen export html`; the next export replaces it.\n")
    (site / "CNAME").write_text("example.com\n")
    (site / ".nojekyll").write_text("")
    (vault / "B.md").unlink()
    again = _export(tmp_path, vault)
    assert not (again / "B.html").exists() and (again / "CNAME").exists() and (again / ".nojekyll").exists()
    assert '"CNAME"' not in (again / ".vaultgen-export").read_text()  # yours, not the export's


def test_odd_file_names_survive_the_marker_and_a_blocked_path_is_refused_before_anything_moves(tmp_path):
    vault = _vault(tmp_path, {"a\u2028b.md": "x\n", "c\x1cd.md": "y\n", "n/A.md": "z\n"})
    site = _export(tmp_path, vault)
    site = _export(tmp_path, vault)  # the marker read back: every name one line, as written
    (site / "n" / "mine.txt").write_text("mine")
    (vault / "n" / "A.md").unlink()
    (vault / "n").rmdir()
    (vault / "n").write_bytes(b"an attachment named like the folder")  # the new site writes a file at n
    before = _files(site)
    _export_fails(site, vault, "n/mine.txt in the earlier export is not one of its files, and the new site writes n")
    assert _files(site) == before and not list(tmp_path.glob(".site.vaultgen-*"))


def test_an_export_stopped_half_way_is_not_swept_away(tmp_path):
    vault = _vault(tmp_path, {"A.md": "x\n"})
    site = _export(tmp_path, vault)
    (site / ".git").mkdir()
    (site / ".git" / "HEAD").write_text("ref\n")
    old = tmp_path / ".site.vaultgen-old"
    site.rename(old)  # killed between the two renames
    _export_fails(site, vault, "an earlier export stopped half-way")
    assert (old / ".git" / "HEAD").read_text() == "ref\n" and not site.exists()


def test_the_staging_folder_a_killed_export_left_is_removed_by_the_next(tmp_path):
    vault = _vault(tmp_path, {"A.md": "x\n"})
    staging = tmp_path / ".site.vaultgen-tmp"
    (staging / "sub").mkdir(parents=True)
    (staging / "sub" / "A.html").write_text("half\n")  # as SIGKILL mid-export leaves it
    site = _export(tmp_path, vault)
    assert not staging.exists() and (site / "A.html").is_file()


def test_a_fifo_in_place_of_the_marker_is_refused_not_waited_on(tmp_path):
    import os

    vault = _vault(tmp_path, {"A.md": "x\n"})
    site = _export(tmp_path, vault)
    (site / ".vaultgen-export").unlink()
    os.mkfifo(site / ".vaultgen-export")
    _export_fails(site, vault, "the export's marker cannot be read")


def test_a_marker_of_plain_paths_still_lists_the_exports_own_files(tmp_path):
    """A few commits wrote the list as plain lines; read as "no list", your files in the
    export's folders were deleted."""
    vault = _vault(tmp_path, {"A.md": "x\n", "sub/S.md": "y\n"})
    site = _export(tmp_path, vault)
    marker = site / ".vaultgen-export"
    header, _, body = marker.read_text().partition("\n\n")
    marker.write_text(header + "\n\n" + "".join(json.loads(line) + "\n" for line in body.splitlines()))
    (site / "sub" / "mine.txt").write_text("mine")
    (site / "google123.html").write_text("verification")
    again = _export(tmp_path, vault)
    assert (again / "sub" / "mine.txt").read_text() == "mine" and (again / "google123.html").read_text() == "verification"


def test_an_unlisted_export_never_passes_off_its_old_attachments_as_yours(tmp_path):
    vault = _vault(tmp_path, {"A.md": "![[pic.png]] ![[private.pdf]]\n"})
    (vault / "pic.png").write_bytes(b"PNG1")
    (vault / "private.pdf").write_bytes(b"secret")
    site = _export(tmp_path, vault)
    (site / ".vaultgen-export").write_text("A static site written by `vaultgen export html`; the next export replaces it.\n")
    (vault / "pic.png").write_bytes(b"PNG2")
    (vault / "private.pdf").unlink()
    _export_fails(site, vault, "may be yours or its old pages and attachments: private.pdf")
    (site / "private.pdf").unlink()
    again = _export(tmp_path, vault)
    assert (again / "pic.png").read_bytes() == b"PNG2"  # the new site's own, not the old copy


def test_a_failed_swap_puts_the_previous_site_back(tmp_path, monkeypatch):
    import os

    from generator.export import outfolder

    vault = _vault(tmp_path, {"A.md": "x\n"})
    site = _export(tmp_path, vault)
    (site / "CNAME").write_text("example.com\n")
    before = _files(site)
    real = os.replace

    def failing(src, dst):
        if str(src).endswith(".vaultgen-tmp"):
            raise PermissionError(13, "Permission denied", str(src))
        return real(src, dst)

    monkeypatch.setattr(outfolder.os, "replace", failing)
    result = invoke(CliRunner(), "export", "html", str(site), "--vault", str(vault))
    assert result.exit_code == 1 and "Permission denied" in result.output
    assert _files(site) == before and not list(tmp_path.glob(".site.vaultgen-*"))


def test_a_full_disk_is_said_as_such_and_leaves_the_old_site(tmp_path, monkeypatch):
    """The hint said "build again" for an export; a full disk is exit 3, as it is for a build."""
    import errno
    import os

    from generator.export import site as site_module

    vault = _vault(tmp_path, {"A.md": "x\n", "B.md": "[[A]]\n"})
    site = _export(tmp_path, vault)
    before = _files(site)

    def full(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(site_module, "_write", full)
    result = invoke(CliRunner(), "export", "html", str(site), "--vault", str(vault))
    assert result.exit_code == 3, result.output
    line = " ".join(result.output.split())
    assert "No space left on device" in line and "run the command again" in line and "build" not in line
    assert _files(site) == before and not list(tmp_path.glob(".site.vaultgen-*"))


def test_the_current_folder_is_no_output(tmp_path, monkeypatch):
    vault = _vault(tmp_path, {"A.md": "x\n"})
    site = _export(tmp_path, vault)
    monkeypatch.chdir(site)
    _export_fails(Path("."), vault, "the output folder is the current folder")


def test_an_output_given_through_dotdot_is_replaced_whole(tmp_path, monkeypatch):
    """`export html site/../site` moved the site aside and then could not find the way back."""
    vault = _vault(tmp_path, {"A.md": "x\n"})
    site = _export(tmp_path, vault)
    (site / "CNAME").write_text("example.com\n")
    monkeypatch.chdir(tmp_path)
    result = invoke(CliRunner(), "export", "html", "site/../site", "--vault", str(vault))
    assert result.exit_code == 0, result.output
    assert (site / "CNAME").exists() and (site / "A.html").exists() and not list(tmp_path.glob(".site.vaultgen-*"))


def test_an_unlisted_export_refuses_your_files_inside_its_own_folders_by_name(tmp_path):
    from generator.export.assets import ASSETS_DIR

    vault = _vault(tmp_path, {"A.md": "x\n"})
    site = _export(tmp_path, vault)
    (site / ".vaultgen-export").write_text("A static site written by `vaultgen export html`; the next export replaces it.\n")
    (site / ASSETS_DIR / "custom.css").write_text("/* mine */")
    _export_fails(site, vault, f"{ASSETS_DIR}/custom.css")
    assert (site / ASSETS_DIR / "custom.css").read_text() == "/* mine */"


def test_a_projects_vault_is_titled_after_the_project_and_the_index_once(tmp_path):
    """Every project's vault folder is "vault": its site was titled "vault · vault"."""
    vault = _vault(tmp_path, {"A.md": "x\n"})
    vault = vault.rename(tmp_path / "vault")
    site = _export(tmp_path, vault)
    assert f"<title>{tmp_path.name}</title>" in (site / "index.html").read_text(encoding="utf-8")
    assert f"<title>A · {tmp_path.name}</title>" in (site / "A.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("files", "said"), [
    ({"B.md": "# B\n", "B.html": "<p>mine</p>\n"}, "the attachment B.html and the page of B.md would be the same file"),
    ({"tags.md": "#x\n", "_tags/x.html": "<p>mine</p>\n"}, "the page of the tag #x and the attachment _tags/x.html"),
    ({"_assets/site.js": "x\n"}, "the attachment _assets/site.js and the site's own _assets/site.js"),
    ({"a.md": "# a\n", "a.html/x.md": "# x\n"}, "the page of a.md would be a file where the page of a.html/x.md needs a folder"),
    ({"index.html": "<p>mine</p>\n"}, "and the site's index page would be the same file"),
])
def test_export_refuses_two_vault_files_that_would_be_one_page(tmp_path, files, said):
    """Each overwrote the other without a word: [[B]] opened the user's B.html, a tag page hid
    a file of the vault, the vault's _assets/site.js was replaced."""
    vault = tmp_path / "v"
    for name, text in {"Home.md": "# Home\n", **files}.items():
        (vault / name).parent.mkdir(parents=True, exist_ok=True)
        (vault / name).write_text(text)
    result = CliRunner().invoke(app, ["export", "html", str(tmp_path / "site"), "--vault", str(vault)])
    assert result.exit_code == 2 and said in " ".join(result.output.split()), result.output
    assert not (tmp_path / "site").exists()


def test_ordinary_names_near_the_sites_own_are_exported(tmp_path):
    """An attachments folder named _assets/, a note in _tags/, names equal only under casefold
    (Straße, Strasse), and tags differing in case, which Obsidian counts as one."""
    vault = tmp_path / "v"
    files = {"Home.md": "# Home\n#Foo ![[_assets/pic.png]]\n", "Other.md": "#foo\n", "_tags/Notes.md": "# N\n",
             "Stra\u00dfe.md": "# a\n", "Strasse.md": "# b\n", "_assets/pic.png": "png"}
    for name, text in files.items():
        (vault / name).parent.mkdir(parents=True, exist_ok=True)
        (vault / name).write_text(text)
    result = CliRunner().invoke(app, ["export", "html", str(tmp_path / "site"), "--vault", str(vault)])
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    assert (site / "_assets" / "pic.png").read_text() == "png" and (site / "_tags" / "Notes.html").is_file()
    assert "warning" not in result.output
    tag = (site / "_tags" / "foo.html").read_text()
    assert "#Foo" in tag and "2 note(s)" in tag  # one tag, shown as it sorts first


def test_names_one_file_on_macos_and_windows_are_exported_and_named(tmp_path):
    """Two files here, one there: refusing them refused a vault Obsidian on Linux shows whole."""
    vault = tmp_path / "v"
    vault.mkdir()
    for name in ("b.md", "B.md", "caf\u00e9.md", "cafe\u0301.md"):
        (vault / name).write_text("# x\n")
    result = CliRunner().invoke(app, ["export", "html", str(tmp_path / "site"), "--vault", str(vault)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "site").iterdir()} >= {"b.html", "B.html", "caf\u00e9.html", "cafe\u0301.html"}
    output = " ".join(result.output.split())
    assert "b.html (the page of b.md) and B.html (the page of B.md) differ only in case" in output
    assert output.count("on macOS and Windows one would hide the other") == 2


def test_html_in_a_note_is_sanitized_as_obsidian_does(tmp_path):
    """<script>, handlers, javascript: links and meta refreshes from a clipped page ran on the site."""
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "Clip.md").write_text(
        "# Clip\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        '<meta http-equiv="refresh" content="0;url=https://evil.example">\n\n'
        '[x](javascript:alert(3)) <a href="javascript:alert(4)">y</a> <span style="color:red" onclick="alert(5)">red</span>\n\n'
        '<details><summary>more</summary>inside</details>\n\n<iframe src="https://example.org/embed" width="300"></iframe>\n\n'
        "> [!note] A callout\n> body [[Clip]]\n"
    )
    result = CliRunner().invoke(app, ["export", "html", str(tmp_path / "site"), "--vault", str(vault)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site" / "Clip.html").read_text()
    article = page.split("<article", 1)[1]
    for gone in ("alert(1)", "onerror", "http-equiv", 'href="javascript:', "onclick"):
        assert gone not in article, gone
    for kept in ('<span style="color:red">red</span>', "<details><summary>more</summary>inside</details>",
                 '<iframe src="https://example.org/embed" width="300"></iframe>', 'class="callout"', 'href="Clip.html"'):
        assert kept in article, kept


def test_export_refuses_files_that_symlinks_lead_outside_the_vault(tmp_path):
    """`passwd.png -> /etc/passwd` and a linked folder outside were published without a word."""
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "Home.md").write_text("# Home\n![[secret.png]]\n")
    (tmp_path / "private.png").write_bytes(b"\x89PNG private")
    (vault / "secret.png").symlink_to(tmp_path / "private.png")
    site = tmp_path / "site"
    result = CliRunner().invoke(app, ["export", "html", str(site), "--vault", str(vault)])
    assert result.exit_code == 2 and "lead outside it, or into a hidden folder, through a symbolic link: secret.png" in " ".join(result.output.split())
    assert not site.exists()
    result = CliRunner().invoke(app, ["export", "html", str(site), "--vault", str(vault), "--follow-symlinks"])
    assert result.exit_code == 0 and (site / "secret.png").read_bytes() == b"\x89PNG private"


def _export_files(tmp_path, files: dict[str, str], *extra: str):
    vault = tmp_path / "v"
    for name, text in files.items():
        (vault / name).parent.mkdir(parents=True, exist_ok=True)
        (vault / name).write_text(text)
    return vault, CliRunner().invoke(app, ["export", "html", str(tmp_path / "site"), "--vault", str(vault), *extra])


def test_an_embedded_block_is_sanitized_like_the_note_it_comes_from(tmp_path):
    """A block or quoted-heading embed was rendered again in stage 2 and never sanitized."""
    _, result = _export_files(tmp_path, {"B.md": 'Some <img src=x onerror="alert(1)"> ^blk\n\n> # H\n> <img src=y onerror="alert(2)">\n',
                                   "A.md": "# A\n\n![[B#^blk]]\n\n![[B#H]]\n"})
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site" / "A.html").read_text()
    assert "onerror" not in page and page.count("<img") >= 2


def test_a_property_tag_names_no_file_outside_the_tags_folder(tmp_path):
    """tags: ["x/../../../../PWNED"] wrote PWNED.html two folders above the site."""
    _, result = _export_files(tmp_path, {"T.md": '---\ntags: ["x/../../../../PWNED", "a//b", "3.5", "ok/fine", "\U0001F4DAreading"]\n---\n# T\n'})
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html"))
    assert not [p for p in written if not p.startswith("site/")]
    assert "site/_tags/ok/fine.html" in written and not any("PWNED" in p or "3.5" in p for p in written)
    assert "site/_tags/\U0001F4DAreading.html" in written  # emoji are tag characters to Obsidian


def test_a_data_url_with_a_leading_space_is_dropped(tmp_path):
    _, result = _export_files(tmp_path, {"C.md": '# C\n<iframe src=" data:text/html,<b>x</b>"></iframe> <a href="\tdata:text/html,x">y</a>\n'})
    assert result.exit_code == 0, result.output
    assert "data:" not in (tmp_path / "site" / "C.html").read_text()


def test_attachments_that_would_run_script_on_the_site_are_left_out(tmp_path):
    """clip.html in an iframe ran its script in the site's own origin; so would an SVG with script."""
    _, result = _export_files(tmp_path, {"N.md": '# N\n<iframe src="clip.html"></iframe> ![[bad.svg]] ![[ok.svg]]\n',
                                   "clip.html": "<script>parent.document.title='PWNED'</script>\n",
                                   "bad.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                                   "ok.svg": '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>'})
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    assert (site / "ok.svg").is_file() and not (site / "clip.html").exists() and not (site / "bad.svg").exists()
    output = " ".join(result.output.split())
    assert "clip.html was left out of the site" in output and "bad.svg was left out" in output and "1 attachments" in output


def test_a_symlink_into_a_hidden_folder_is_refused(tmp_path):
    """cfg.png -> .obsidian/plugins/x/data.json published a plugin's settings, tokens and all."""
    vault = tmp_path / "v"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "data.json").write_text('{"token": "secret"}')
    (vault / "Home.md").write_text("# Home\n")
    (vault / "cfg.png").symlink_to(vault / ".obsidian" / "data.json")
    result = CliRunner().invoke(app, ["export", "html", str(tmp_path / "site"), "--vault", str(vault)])
    assert result.exit_code == 2 and "into a hidden folder" in " ".join(result.output.split())


def test_a_note_named_index_in_any_case_gets_a_page_beside_the_sites_index(tmp_path):
    """Index.md was Index.html, the site's index.html on macOS and Windows."""
    _, result = _export_files(tmp_path, {"Index.md": "# I\n[[Other]]\n", "Other.md": "[[Index]]\n"})
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    assert (site / "Index-note.html").is_file() and 'href="Index-note.html"' in (site / "Other.html").read_text()
