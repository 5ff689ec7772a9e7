"""Every note renders from partial results: a metric or fact an experiment could not measure
on some platform, or a result that is missing, costs a sentence, never the note."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from generator import charts, notes, sandbox, templates
from generator.experiments import discover
from generator.results import ResultSet
from tests.factories import INTERPRETER
from tests.test_rendered_figures import committed_results

REPO = Path(__file__).resolve().parent.parent
TITLES = sorted(p.name[: -len(".md.j2")] for p in (REPO / "templates").glob("*.md.j2") if not p.name.startswith("_"))


@pytest.mark.parametrize("seed", range(12))
def test_every_note_renders_with_any_metrics_facts_or_results_missing(seed: int) -> None:
    rng = random.Random(seed)
    share = (0.02, 0.1, 0.3, 0.7)[seed % 4]  # from one lost figure to most of them
    kept = {}
    for name, result in committed_results().items():
        if rng.random() < share / 4:
            continue  # the whole result is missing
        kept[name] = dataclasses.replace(
            result,
            metrics={k: m for k, m in result.metrics.items() if rng.random() > share},
            facts={k: v for k, v in result.facts.items() if rng.random() > share},
        )
    results = ResultSet([INTERPRETER], {INTERPRETER.tag: kept})
    env, found, chart_names = sandbox.make_jinja(REPO / "templates"), discover(REPO / "experiments"), set(charts.registry())
    for title in TITLES:
        note = templates.read_template(REPO / "templates" / f"{title}.md.j2")
        text = notes.render_note(env, note, results, found, chart_names).text  # raises TemplateError if not
        assert text.startswith("---\n") and f"# {title}" in text
