"""Results per machine, interpreters measured elsewhere, and the history of full builds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import generator.machine
from generator import history
from generator.machine import Machine
from tests.conftest import invoke

NOTE = '''\
{#---
title: Loop
tags: [test/loop]
experiments: [tiny]
---#}
{% import "_macros.md.j2" as m with context %}
# Loop

The loop took {{ m.figure(result("tiny").metric("loop.wall") if result("tiny") else none) }}.

{{ m.measured_on() }}
'''

OTHER = {"cpu_model": "Other CPU 9000 @ 3.0GHz", "logical_cores": 16, "memory_gib": 64,
         "machine": "aarch64", "os": "Linux"}


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def loop_project(project: Path) -> Path:
    (project / "templates" / "Loop.md.j2").write_text(NOTE)
    return project


def test_slug_is_readable_and_stable():
    machine = Machine.from_fingerprint(OTHER)
    assert machine.slug.startswith("other-9000-16c-linux-") and len(machine.slug.rsplit("-", 1)[1]) == 6
    assert Machine.from_fingerprint(dict(OTHER)).slug == machine.slug
    assert Machine.from_fingerprint(dict(OTHER, memory_gib=32)).slug != machine.slug


def test_another_machine_adds_its_folder_and_the_notes_show_both(runner, loop_project, monkeypatch):
    here = Machine.here()
    assert invoke(runner, "build", "-C", str(loop_project), "--profile", "quick").exit_code == 0
    committed = _tree(loop_project / "results" / here.slug)
    assert any(p.startswith("cpython-") and p.endswith("-quick/tiny.json") for p in committed)
    assert "machine.json" in committed

    monkeypatch.setattr(generator.machine, "fingerprint", lambda: dict(OTHER))
    other = Machine.here()
    result = invoke(runner, "build", "-C", str(loop_project), "--profile", "quick")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (loop_project / "results").iterdir()) == sorted([here.slug, other.slug])
    assert _tree(loop_project / "results" / here.slug) == committed  # byte for byte
    note = (loop_project / "vault" / "Loop.md").read_text()
    assert f"`results/{other.slug}/`" in note  # this machine's figures are the note's
    table = note[note.index("[!note]- Other machines"):]
    header = next(line for line in table.splitlines() if line.startswith("> | figure |"))
    assert "this machine · cpython-" in header and f"{here.slug} · cpython-" in header
    assert "`tiny` loop.wall" in table


def test_a_listed_interpreter_missing_here_shows_its_committed_figures(runner, loop_project, tmp_path):
    (loop_project / "pyproject.toml").write_text(
        f'[tool.vaultgen]\ninterpreters = ["default", "{tmp_path}/gone/python3"]\n')
    assert invoke(runner, "build", "-C", str(loop_project), "--profile", "quick",
                  "-p", sys.executable).exit_code == 0
    # As if that interpreter had been measured here and then removed: its record names its path.
    machine_file = loop_project / "results" / Machine.here().slug / "machine.json"
    record = json.loads(machine_file.read_text())
    (tag, info), = record["interpreters"].items()
    record["interpreters"][tag + "x"] = dict(info, path=f"{tmp_path}/gone/python3", version=info["version"] + "x")
    machine_file.write_text(json.dumps(record))
    quick = loop_project / "results" / Machine.here().slug
    (quick / f"{tag}x-quick").mkdir()
    for path in (quick / f"{tag}-quick").glob("*.json"):
        doc = json.loads(path.read_text())
        doc["interpreter"]["tag"] = tag + "x"
        (quick / f"{tag}x-quick" / path.name).write_text(json.dumps(doc))
    result = invoke(runner, "build", "-C", str(loop_project), "--profile", "quick", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    notice, = summary["notices"]
    assert "is not available here" in notice and "committed figures (this machine, " in notice
    assert {e["interpreter"] for e in summary["experiments"]} == {tag}  # nothing ran under it
    note = (loop_project / "vault" / "Loop.md").read_text()
    assert "committed figures: this machine, " in note


CRAFTED = '''\
"""Crafted figures for the history test.

Metrics:
  job.wall  s  a time read from samples.json
"""
import json
import os

from _harness import main


def run(ctx):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples.json")) as f:
        ctx.record_samples("job.wall", json.load(f), "s")


if __name__ == "__main__":
    main(run, __doc__, params={"quick": {}, "full": {}})
'''


def test_history_flags_a_regression_beyond_the_noise_and_not_noise(runner, project):
    (project / "experiments" / "crafted.py").write_text(CRAFTED)
    (project / "templates" / "Crafted.md.j2").write_text(NOTE.replace("Loop", "Crafted").replace("tiny", "crafted")
                                                         .replace("loop.wall", "job.wall"))
    samples = project / "experiments" / "samples.json"
    outputs = []
    for values in ([1.00, 1.02, 0.98, 1.01, 0.99], [1.01, 1.03, 0.99, 1.02, 1.00], [1.50, 1.53, 1.47, 1.52, 1.48]):
        samples.write_text(json.dumps(values))
        result = invoke(runner, "build", "-C", str(project), "--only", "crafted", "--json")
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout)["shifts"])
    assert outputs[0] == [] and outputs[1] == []  # first run; then a 1 % move inside the noise
    shift, = outputs[2]
    assert shift["metric"] == "job.wall" and shift["direction"] == "regression"
    assert "do not overlap" in shift["message"]
    shown = invoke(runner, "history", "crafted", "-C", str(project))
    assert shown.exit_code == 0, shown.output
    assert "job.wall" in shown.output and shown.output.count("beyond noise") == 1
    typo = invoke(runner, "history", "crafted:job.wal", "-C", str(project))
    assert typo.exit_code == 2 and "crafted has no recorded metric 'job.wal'" in typo.output and "job.wall" in typo.output
    unknown = invoke(runner, "history", "crafte", "-C", str(project))
    assert unknown.exit_code == 2 and "unknown experiment 'crafte'" in unknown.output and "crafted" in unknown.output
    note = (project / "vault" / "Crafted.md").read_text()
    assert "[!note]- History on this machine" in note and "| `crafted` job.wall | ▁▁█ |" in note
    folder = project / "results" / Machine.here().slug
    lines = next(folder.glob("*/history.jsonl")).read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line)["experiment"] == "crafted" for line in lines)


def test_rule_needs_both_a_large_move_and_disjoint_iqrs():
    base = history.Point("d", 1.0, 0.95, 1.05, 7, "s")
    assert not history.shifted(base, history.Point("d", 1.2, 1.0, 1.4, 7, "s"))  # overlapping IQRs
    assert not history.shifted(base, history.Point("d", 1.08, 1.06, 1.10, 7, "s"))  # under 10 %
    assert history.shifted(base, history.Point("d", 1.2, 1.15, 1.25, 7, "s"))
    assert not history.shifted(history.Point("d", 1.0, 1.0, 1.0, 1, "s"), history.Point("d", 2.0, 2.0, 2.0, 1, "s"))
    assert history.direction(base, history.Point("d", 0.5, 0.4, 0.6, 7, "s")) == "improvement"
    assert history.direction(history.Point("d", 2.0, 1.9, 2.1, 7, "x"),
                             history.Point("d", 1.0, 0.9, 1.1, 7, "x")) == "regression"
    assert history.sparkline([1.0, 2.0, 3.0]) == "▁▄█"


def test_machine_json_records_every_interpreter_measured_there(tmp_path):
    from generator.othermachines import record_interpreter
    from tests.factories import FREE_THREADED, INTERPRETER

    machine = Machine("box-2c-linux-abc123", {"cpu_model": "Box", "logical_cores": 2, "os": "Linux"})
    (tmp_path / machine.slug).mkdir()
    record_interpreter(tmp_path, machine, INTERPRETER)
    record_interpreter(tmp_path, machine, FREE_THREADED)
    data = json.loads((tmp_path / machine.slug / "machine.json").read_text())
    assert set(data["interpreters"]) == {INTERPRETER.tag, FREE_THREADED.tag}
    assert data["interpreters"][FREE_THREADED.tag]["path"] == FREE_THREADED.path


def test_another_machines_noisy_figure_carries_one_mark():
    """The table added a second ⚠ to the one formatting.auto had given (and one to n = 1 figures)."""
    from generator.othermachines import _cell
    from tests.factories import metric, result

    noisy = result("a", {"loop.wall": metric(1.0, spread=0.5, n=7)})
    assert _cell(noisy, "loop.wall").count("⚠") == 1
    assert "⚠" not in _cell(result("a", {"loop.wall": metric(1.0, spread=0.5, n=1)}), "loop.wall")


def test_a_trend_names_the_dates_it_has_and_no_empty_brackets():
    """An example script's runs record no date: its row read "51.8 ms () → 27.2 ms ()"."""
    dated = history.Trend("cpu_bound", "wall", (history.Point("2026-11-30T10:00:00", 0.5, 0.4, 0.6, 5, "s"),
                                                 history.Point("2026-12-02T09:00:00", 0.25, 0.2, 0.3, 5, "s")))
    assert dated.summary == "500 ms (2026-11-30) → 250 ms (2026-12-02), 2 runs"
    undated = history.Trend("thread_example", "wall", (history.Point("", 0.0518, 0.0518, 0.0518, 1, "s"),
                                                        history.Point("", 0.0272, 0.0272, 0.0272, 1, "s")))
    assert undated.summary == "51.8 ms → 27.2 ms, 2 runs"
