"""The exported sites in a real headless Chromium: links, images, Mermaid, search, console.

One browser for the whole module (tests/cdp.py drives it over the DevTools
pipe).  Skipped only where no Chromium is installed; .ci/run installs it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from typer.testing import CliRunner

from tests.cdp import Chromium, find_chromium
from tests.conftest import REPO, invoke
from tests.edge_vault import BROKEN_IN_HOME, make_edge_vault

ARTIFACTS = REPO / "build" / "test-artifacts"

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="no Chromium to drive: `apt-get install chromium` (.ci/run does)")

PAGE_FACTS = """(() => ({
  links: [...document.querySelectorAll("a[href]")].map(a => a.href),
  images: [...document.images].map(i => [i.getAttribute("src"), i.complete ? i.naturalWidth : 0]),
  mermaid: document.querySelectorAll("pre.mermaid").length,
  drawn: document.querySelectorAll("pre.mermaid > svg").length,
}))()"""


@pytest.fixture(scope="module")
def browser():
    with Chromium.start() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    root = tmp_path_factory.mktemp("sites")
    made = {}
    for name, vault in (("project", REPO / "vault"), ("edge", make_edge_vault(root))):
        out = root / f"{name}-site"
        result = invoke(CliRunner(), "export", "html", str(out), "--vault", str(vault))
        assert result.exit_code == 0, result.output
        made[name] = out
    return made


def _ids(page: Path) -> set[str]:
    from html import unescape

    return {unescape(i) for i in re.findall(r' id="([^"]*)"', page.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("name", ["project", "edge"])
def test_every_page_loads_with_its_links_images_and_diagrams(browser, sites, name):
    site = sites[name]
    page = browser.new_page()
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 5
    for path in pages:
        page.goto(path.as_uri())
        facts = page.evaluate(PAGE_FACTS)
        if facts["mermaid"]:
            assert page.wait_for("document.documentElement.dataset.mermaid") == "done", path.name
            facts = page.evaluate(PAGE_FACTS)
        assert facts["drawn"] == facts["mermaid"], f"{path.name}: a Mermaid block is not an SVG"
        for src, width in facts["images"]:
            assert width > 0, f"{path.name}: image {src} did not load"
        for href in facts["links"]:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https") and parts.netloc:
                continue  # a note's citation of the docs: meant to leave the site
            assert parts.scheme == "file", f"{path.name}: {href} leaves the site"
            target = Path(unquote(parts.path))
            assert target.is_file() and site in target.parents, f"{path.name}: {href} leads nowhere"
            if parts.fragment and target.suffix == ".html":
                assert unquote(parts.fragment) in _ids(target), f"{path.name}: {href} has no such anchor"
        assert page.errors() == [], f"{path.name}: console errors"
    page.close()


def _search(page, query: str) -> list[str]:
    page.evaluate(f"""(() => {{ const box = document.getElementById("search");
        box.focus(); box.value = {query!r}; box.dispatchEvent(new Event("input")); }})()""")
    page.wait_for("!document.getElementById('search-results').hidden")
    return page.evaluate("[...document.querySelectorAll('#search-results a')].map(a => a.textContent)")


def test_search_finds_notes_by_title_and_by_text(browser, sites):
    page = browser.new_page()
    page.goto((sites["project"] / "Python Concurrency.html").as_uri())
    assert "Thread vs Asyncio" in _search(page, "asyncio")
    page.goto((sites["edge"] / "folder" / "Deep Note.html").as_uri())
    assert _search(page, "zanzibarish") == ["Other"]  # a word of its text, from a page in a folder
    page.evaluate("document.querySelector('#search-results a').click()")
    page.wait_for("location.pathname.endsWith('/Other.html')")
    assert page.errors() == []
    page.close()


def test_callouts_fold_and_broken_links_stand_out(browser, sites):
    page = browser.new_page()
    page.goto((sites["edge"] / "Home.html").as_uri())
    folded = "document.querySelector('details[data-callout=warning]')"
    assert page.evaluate(f"{folded}.open") is False
    content = f"{folded}.querySelector('.callout-content').checkVisibility()"
    assert page.evaluate(content) is False
    page.evaluate(f"{folded}.querySelector('summary').click()")
    assert page.evaluate(f"{folded}.open") is True and page.evaluate(content) is True
    styles = page.evaluate("""[...document.querySelectorAll('article > p .broken-link, article > p .broken-embed')]
        .map(e => getComputedStyle(e).textDecorationStyle + ' ' + getComputedStyle(e).color)""")
    assert len(styles) == BROKEN_IN_HOME
    body = page.evaluate("getComputedStyle(document.body).color")
    assert all(s.startswith("dotted") and not s.endswith(body) for s in styles)
    assert "Secret" not in page.evaluate("document.body.innerText")
    page.close()


def test_theme_follows_the_system_setting(browser, sites):
    colours = {}
    for dark in (False, True):
        page = browser.new_page(dark=dark)
        page.goto((sites["edge"] / "Home.html").as_uri())
        colours[dark] = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        page.close()
    assert colours == {False: "rgb(255, 255, 255)", True: "rgb(30, 30, 30)"}


def test_hub_screenshot_is_kept(browser, sites):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "export-hub.png"
    page = browser.new_page(width=1200, height=900)
    page.goto((sites["project"] / "Python Concurrency.html").as_uri())
    page.wait_for("document.documentElement.dataset.mermaid")
    page.screenshot(shot)
    page.close()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
