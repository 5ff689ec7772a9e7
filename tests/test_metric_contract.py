"""The metric-name contract (issue 9, section 4).

Claims, charts and templates read metrics by name; each experiment documents the names it
produces.  A rename on either side must fail here, not turn a verdict into "not measured" or a
figure into "n/a".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import charts, claims
from generator import experiments as exp_mod
from hypothesis import given
from hypothesis import strategies as st

from generator.metricnames import description, documented, is_documented
from generator.results import Result, ResultSet
from tests.conftest import invoke
from tests.factories import INTERPRETER
from tests.test_rendered_figures import committed_results

REPO = Path(__file__).resolve().parent.parent
FOUND = exp_mod.discover(REPO / "experiments")
BENCHMARKS = sorted(n for n, e in FOUND.items() if documented(e.source))


def test_every_benchmark_documents_its_metrics():
    assert {"hybrid", "pool_tuning", "ipc_payload", "io_bound", "thread_vs_asyncio", "blocking_call"} <= set(BENCHMARKS)


def test_placeholders_stand_for_one_segment():
    source = FOUND["pool_tuning"].source
    assert is_documented(source, "workers.16.speedup") and is_documented(source, "chunksize.inline.per_task")
    assert not is_documented(source, "workers.16.speedup.extra") and not is_documented(source, "worker.16.speedup")


def test_every_committed_metric_has_its_description():
    """`vaultgen run` showed descriptions from a second parser of these blocks, which missed
    <W>-style placeholders and a block's later lines (none for ipc_payload, 8 of 13 for pool_tuning)."""
    missing = [f"{name}: {key}" for name, r in sorted(committed_results().items()) if name in BENCHMARKS
               for key in sorted(r.metrics) if not description(FOUND[name].source, key)]
    assert not missing, "no description:\n" + "\n".join(missing)


_SEGMENT = st.from_regex(r"[a-z][a-z0-9_]{0,6}|<[A-Z]>|[A-Z]{1,4}", fullmatch=True)
_WORDS = st.lists(st.from_regex(r"[a-z][a-z/]{0,8}", fullmatch=True), min_size=1, max_size=6).map(" ".join)


@given(st.lists(st.tuples(st.lists(_SEGMENT, min_size=1, max_size=4).map(".".join), st.sampled_from(["s", "x", "B", "B/s"]),
                          _WORDS, st.lists(_WORDS, max_size=2)),
                min_size=1, max_size=6, unique_by=lambda entry: entry[0]))
def test_metrics_blocks_parse_to_their_names_and_descriptions(entries):
    lines = ['"""An experiment.', "", "Metrics (N is a count):"]
    for name, unit, text, more in entries:
        lines.append(f"  {name:<24} {unit:<4} {text}")
        lines += [f"{' ' * 32}{line}" for line in more]  # a description running over lines
    source = "\n".join([*lines, "", 'Facts: none.', '"""', "x = 1"])
    assert documented(source) == tuple(name for name, *_ in entries)
    for name, _, text, more in entries:
        if not any(other != name and is_documented(f'"""\nMetrics:\n  {other} s x\n"""', name) for other, *_ in entries):
            assert description(source, name) == " ".join([text, *more])


def test_every_committed_metric_is_documented():
    undocumented = [f"{name}: {key}" for name, r in sorted(committed_results().items()) if name in BENCHMARKS
                    for key in sorted(r.metrics) if not is_documented(FOUND[name].source, key)]
    assert not undocumented, "produced but not documented:\n" + "\n".join(undocumented)


@pytest.fixture(scope="module")
def read_names():
    """Every (experiment, metric) that claims and charts ask for, on the committed results."""
    asked: set[tuple[str, str]] = set()
    original_metric, original_has = Result.metric, Result.has

    def metric(self, name):
        asked.add((self.experiment, name))
        return original_metric(self, name)

    def has(self, name):
        asked.add((self.experiment, name))
        return original_has(self, name)

    results = ResultSet([INTERPRETER], {INTERPRETER.tag: committed_results()})
    mp = pytest.MonkeyPatch()
    mp.setattr(Result, "metric", metric)
    mp.setattr(Result, "has", has)
    try:
        for key in sorted(claims.registry()):
            claims.evaluate(key, results)
        for spec in charts.registry().values():
            charts.render(spec, results)
    finally:
        mp.undo()
    return asked


def test_claims_and_charts_read_only_documented_metrics(read_names):
    unknown = sorted(f"{exp}: {name}" for exp, name in read_names
                     if exp in BENCHMARKS and not is_documented(FOUND[exp].source, name))
    assert not unknown, "read but not documented (a typo or a rename):\n" + "\n".join(unknown)
    assert ("hybrid", "processes_wide.wall") in read_names


def test_headline_figures_are_documented():
    """History, "Other machines" and the agreement check follow HEADLINE: a name there that its
    experiment does not document would silently drop out of all three."""
    from generator.headline import HEADLINE

    unknown = [f"{exp}: {name}" for exp, names in sorted(HEADLINE.items()) for name in names
               if exp not in FOUND or not is_documented(FOUND[exp].source, name)]
    assert not unknown, "headline figures no experiment documents:\n" + "\n".join(unknown)
    # Where HEADLINE lists an experiment, it lists the figures its verdicts rest on (their declared
    # headline metrics; the capacity probe is the note's own figure, not the experiment's).
    checked = {"free_threading", "dask_cluster"}
    missing = [f"{c.key}: {exp} {name}" for c in claims.registry().values() if not callable(c.headline)
               for exp in set(c.experiments) & checked for name in c.headline
               if name != "capacity.parallel" and name not in HEADLINE[exp]]
    assert not missing, "a verdict rests on a figure HEADLINE does not follow:\n" + "\n".join(missing)
    assert HEADLINE["thread_behaviour"]


def test_a_misspelt_metric_in_a_template_names_the_template_and_line(runner, project):
    (project / "templates" / "Typo.md.j2").write_text(
        '{#---\ntitle: Typo\ntags: [test/typo]\nexperiments: [tiny]\n---#}\n# Typo\n'
        '{% set r = result("tiny") %}\nFine: {{ r.metric("loop.wall") | fmt }}.\n\n'
        'Typo: {{ r.metric("loop.wal") | fmt }}.\n')
    out = invoke(runner, "build", "-C", str(project), "--profile", "quick")
    assert out.exit_code != 0
    assert "Typo.md.j2:10" in out.output and "'loop.wal'" in out.output and "loop.wall" in out.output
    assert not (project / "vault" / "Typo.md").exists()
