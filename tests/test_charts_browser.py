"""Every chart, drawn from the committed results, read in Chromium at note width.

A chart is embedded 700 px wide (Obsidian's readable line length); there
every text element must be at least 9 px tall, as the browser renders it.
"""

from __future__ import annotations

import json
import re

import pytest

from generator import charts
from generator.charts._draw import MIN_TEXT_PX, NOTE_WIDTH_PX
from generator.results import Result
from tests.cdp import Chromium, find_chromium
from tests.conftest import REPO
from tests.factories import result_set

ARTIFACTS = REPO / "build" / "test-artifacts"

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="no Chromium to drive: `apt-get install chromium` (.ci/run does)")

# Rendered size of each <text>: its font size times the scale the SVG is drawn at.
TEXT_SIZES = """[...document.querySelectorAll("figure")].map(f => [f.id,
  [...f.querySelectorAll("svg text, svg tspan")].filter(t => t.textContent.trim()).map(t => {
    const m = t.getScreenCTM();
    return [t.textContent.trim(), parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b)];
  })])"""


def committed_results():
    """The result documents in results/, whatever folder layout holds them."""
    found = []
    for path in sorted(REPO.glob("results/**/*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "experiment" in data and "metrics" in data:
            found.append(Result.from_json(data, path))
    by_name = {}
    for result in found:  # one per experiment: the first interpreter's
        by_name.setdefault(result.experiment, result)
    return result_set(*by_name.values())


def chart_page(svgs: dict[str, bytes]) -> str:
    figures = []
    for name, svg in sorted(svgs.items()):
        text = svg.decode("utf-8")
        text = text[text.index("<svg"):].replace("<svg ", '<svg style="width:100%;height:auto;display:block" ', 1)
        figures.append(f'<figure id="{name}" style="width:{NOTE_WIDTH_PX}px;margin:0 0 8px">{text}</figure>')
    return "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body style='margin:0'>" + "".join(figures) + "</body></html>"


@pytest.fixture(scope="module")
def rendered():
    results = committed_results()
    return {name: charts.render(spec, results) for name, spec in charts.registry().items()}


def test_every_chart_text_is_at_least_9px_at_note_width(tmp_path, rendered):
    assert rendered, "no charts registered"
    page_file = tmp_path / "charts.html"
    page_file.write_text(chart_page(rendered), encoding="utf-8")
    with Chromium.start() as browser:
        page = browser.new_page(width=NOTE_WIDTH_PX + 40, height=900)
        page.goto(page_file.as_uri())
        sizes = dict(page.evaluate(TEXT_SIZES))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(ARTIFACTS / "charts-at-700px.png", full_page=True)
        assert page.errors() == []
    assert set(sizes) == set(rendered)
    for name, texts in sorted(sizes.items()):
        assert texts, f"{name}: no text elements (text must stay text)"
        small = [(text, round(px, 2)) for text, px in texts if px < MIN_TEXT_PX]
        assert not small, f"{name}: text under {MIN_TEXT_PX} px at {NOTE_WIDTH_PX} px wide: {small[:5]}"


def test_charts_keep_text_as_text_on_an_opaque_card(rendered):
    for name, svg in rendered.items():
        assert b"<text" in svg, name
        assert b"font-family: 'DejaVu Sans'" in svg, name
        # The figure's background patch is the first path: opaque white.
        assert re.search(rb'<g id="figure_1">\s*<g id="patch_1">\s*<path d="[^"]*" style="fill: #ffffff"/>', svg), name


def test_every_chart_embed_has_alt_text_and_note_width():
    """Each real note embeds its charts as ![[name.svg|alt text|700]], and the linter reads that form."""
    from generator import notes, sandbox, templates
    from generator.experiments import discover
    from generator.lint.mdplugin import parse_links
    from tests.render import TEMPLATES

    results, found = committed_results(), discover(REPO / "experiments")
    env = sandbox.make_jinja(TEMPLATES)
    seen = set()
    for template in sorted(TEMPLATES.glob("[!_]*.md.j2")):
        note = templates.read_template(template)
        text = notes.render_note(env, note, results, found, set(charts.registry())).text
        for link in parse_links(text):
            if link.embed and link.target.endswith(".svg"):
                seen.add(link.target)
                assert link.width == NOTE_WIDTH_PX, (template.name, link)
                assert link.display and len(link.display) > 20 and link.display != link.target, (template.name, link)
    assert seen, "no note embeds a chart"
