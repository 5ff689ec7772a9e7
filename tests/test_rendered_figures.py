"""Rules over every rendered note (issue 9): the ⚠ mark, one capacity figure, quick runs said so.

The notes are rendered from the committed results, as the vault is, so the rules are checked
on what a reader sees rather than on each template's intentions.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from generator import charts, notes, sandbox, templates
from generator import experiments as exp_mod
from generator import formatting as f
from generator.results import Result, ResultSet
from tests.factories import INTERPRETER

REPO = Path(__file__).resolve().parent.parent
# A figure as notes print it: a number with a unit (12.3 ms, 1.83×, 4.00 MiB, 12.5 %).
FIGURE = r"-?\d[\d,]*\.\d+ ?(?:s|ms|µs|ns|×|B|KiB|MiB|GiB|%)"


def committed_results() -> dict[str, Result]:
    """One committed result per experiment (full profile, the primary interpreter's)."""
    found = {}
    for path in sorted(REPO.glob("results/**/*.json")):
        if "quick" in path.parent.name or path.stem in found:
            continue
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(data, dict) and "metrics" in data and data.get("profile", "full") == "full":
            found[path.stem] = Result.from_json(data)
    return found


def _can_be_noisy(m) -> bool:
    """Repeated and varying: a single observation or a constant (workers.1.speedup) has no spread."""
    return m.n >= 2 and m.min != m.max


def _noisy(m):
    """The same median with an IQR of 40 % of it: noisy by any reading."""
    if not _can_be_noisy(m):
        return m
    half = abs(m.median) * 0.2
    return dataclasses.replace(m, q1=m.median - half, q3=m.median + half, noisy=True, samples=())


def _steady(m):
    # The recorded samples no longer match the new quartiles, so they go: a figure derived from
    # them (a per-repeat ratio) would keep their spread.
    half = abs(m.median) * 0.01
    return dataclasses.replace(m, q1=m.median - half, q3=m.median + half, noisy=False, samples=())


def _with(results: dict[str, Result], change, profile="full") -> ResultSet:
    changed = {name: dataclasses.replace(r, metrics={k: change(m) for k, m in r.metrics.items()}, profile=profile)
               for name, r in results.items()}
    return ResultSet([INTERPRETER], {INTERPRETER.tag: changed})


def note_templates():
    found = exp_mod.discover(REPO / "experiments")
    return found, templates.discover(REPO / "templates", set(found))


def render_all(rs: ResultSet) -> dict[str, str]:
    found, all_notes = note_templates()
    env = sandbox.make_jinja(REPO / "templates")
    return {n.title: notes.render_note(env, n, rs, found, set(charts.registry()), all_notes).text
            for n in all_notes}


@pytest.fixture(scope="module")
def results():
    found = committed_results()
    assert {"hybrid", "pool_tuning", "thread_vs_asyncio", "io_bound", "blocking_call", "ipc_payload"} <= set(found)
    return found


@pytest.fixture(scope="module")
def noisy_vault(results):
    return render_all(_with(results, _noisy))


def _occurrences(text: str, figure: str) -> list[int]:
    """Where ``figure`` ends in ``text``, not counting the quartiles of a spread ("IQR a – b")."""
    return [m.end() for m in re.finditer(r"(?<![\d.,])" + re.escape(figure) + r"(?![\d])", text)
            if not re.search(r"(IQR |– )$", text[max(0, m.start() - 4):m.start()])]


def test_every_noisy_figure_carries_the_mark_wherever_rendered(results, noisy_vault):
    """Finding 15: every figure whose IQR exceeds 10 % of its median carries ⚠, in every note."""
    missing = []
    declared = {n.title: n.experiments for n in note_templates()[1]}
    for title, text in noisy_vault.items():
        # Printed text -> whether every metric of the note that prints so is noisy; a text shared
        # with a steady figure (two levels with the same memory per task) proves nothing.
        texts: dict[str, list] = {}
        for name in declared[title]:
            for key, m in sorted(results[name].metrics.items() if name in results else []):
                plain = f.auto(_steady(m))
                if re.fullmatch(FIGURE, plain):  # counts and bare numbers are too common to attribute
                    texts.setdefault(plain, []).append((name, key, _can_be_noisy(m)))
        for plain, owners in sorted(texts.items()):
            if not all(noisy for _, _, noisy in owners):
                continue
            for end in _occurrences(text, plain):
                if text[end:end + 2] != " ⚠":
                    line = text[:end].count("\n") + 1
                    missing.append(f"{title}:{line}: {plain} ({', '.join(n + ' ' + k for n, k, _ in owners)})")
    assert not missing, "noisy figures shown without ⚠:\n" + "\n".join(missing[:40])


def test_no_list_item_is_glued_to_the_line_before(results):
    """A block tag ending a line eats its newline (trim_blocks): once ".{% endif %}" glued the next
    "- `overhead`: ..." bullet onto the previous item's last line."""
    glued = [(title, line) for title, text in render_all(_with(results, lambda m: m)).items() for line in text.splitlines()
             if re.search(r"[.)]- (?:`|\*\*|\[\[)", line)]
    assert not glued, glued[:3]


def test_steady_figures_carry_no_mark(results):
    vault = render_all(_with(results, _steady))
    marked = [(t, line) for t, text in vault.items() for line in text.splitlines()
              if re.search(FIGURE + " ⚠", line)]
    assert not marked, marked[:5]


CAPACITY = re.compile(r"capacit(?:y|ies)\b[^.\n]{0,160}?(\d+\.\d+)×", re.I)


def test_each_note_quotes_one_parallel_capacity(results):
    """Finding 2: one capacity figure per note, whatever the experiments measured."""
    # Give every experiment's capacity probe a different value, as a busy machine does, and an
    # experiment's paired probe (python.capacity) another again.
    spread = {name: 1.5 + i / 10 for i, name in enumerate(sorted(results))}
    PAIRED = 0.05

    def distinct(name):
        def change(m):
            if m.name.endswith("capacity") or m.name == "capacity.parallel":
                value = spread[name] + (0 if m.name == "capacity.parallel" else PAIRED)
                return dataclasses.replace(_steady(m), median=value, q1=value - 0.01, q3=value + 0.01)
            return _steady(m)
        return change

    changed = {name: dataclasses.replace(r, metrics={k: distinct(name)(m) for k, m in r.metrics.items()})
               for name, r in results.items()}
    vault = render_all(ResultSet([INTERPRETER], {INTERPRETER.tag: changed}))
    quoting = {}
    for title, text in vault.items():
        values = sorted(set(CAPACITY.findall(text)))
        assert len(values) <= 1, f"{title} quotes {len(values)} capacity figures: {values}"
        if values:
            quoting[title] = values[0]
    assert {"Hybrid Concurrency Models", "Concurrency Performance Optimization"} <= set(quoting)
    assert quoting["Hybrid Concurrency Models"] == f"{spread['hybrid']:.2f}"
    assert quoting["Concurrency Performance Optimization"] == f"{spread['pool_tuning']:.2f}"
    # The seed note quotes the probe its CPU verdicts weigh: cpu_bound's paired one.
    assert quoting["Multithreading vs Multiprocessing"] == f"{spread['cpu_bound'] + PAIRED:.2f}"
    # Two notes may quote two probes of one experiment; each says which it quotes.
    assert "`cpu_bound`, a probe paired with each pure-Python repeat)" in vault["Multithreading vs Multiprocessing"]
    assert "`cpu_bound`, its own probe before the run)" in vault["Python Concurrency"]


def test_capacity_is_an_estimate_never_a_bound(results):
    vault = render_all(_with(results, _steady))
    for title in ("Hybrid Concurrency Models", "Concurrency Performance Optimization"):
        text = vault[title]
        assert "not a bound" in text and "noisy estimate" in text
        assert not re.search(r"capacity[^.\n]{0,80}\b(ceiling|bounds? what)", text, re.I), title


def test_a_quick_vault_says_so_on_every_note(results):
    vault = render_all(_with(results, _steady, profile="quick"))
    declared = {n.title: n.experiments for n in note_templates()[1]}
    checked = set()
    for title, text in vault.items():
        if declared[title] and not set(declared[title]) & set(results):
            continue  # nothing measured at all: the note says "no result yet", not "quick"
        front, _, body = text.partition("\n---\n")
        assert "\nprofile: quick\n" in front + "\n", title
        assert "[!warning] Figures from the `quick` profile" in body, title
        checked.add(title)
    assert {"Thread vs Asyncio", "Hybrid Concurrency Models", "Concurrency Performance Optimization",
            "Python Concurrency"} <= checked
    full = render_all(_with(results, _steady))
    assert not any("profile: quick" in t or "`quick` profile" in t for t in full.values())


def test_busy_runs_are_flagged_in_the_measured_on_callout(results):
    busy = {name: dataclasses.replace(r, environment=dict(r.environment, busy=True, other_cpu=1.25, usable_cpus=2.0))
            if name == "hybrid" else r for name, r in results.items()}
    vault = render_all(ResultSet([INTERPRETER], {INTERPRETER.tag: busy}))
    assert "[!warning] Measured on a busy machine" in vault["Hybrid Concurrency Models"]
    assert "`hybrid` (others used 1.2 of 2 usable CPUs)" in vault["Hybrid Concurrency Models"]
    assert "busy machine" not in vault["Concurrency Performance Optimization"]


def test_one_note_cannot_quote_two_capacities(tmp_path):
    from generator.errors import TemplateError
    from tests.factories import result, result_set

    (tmp_path / "N.md.j2").write_text('{#---\ntitle: N\ntags: [t]\nexperiments: [a, b]\n---#}\n'
                                      '{{ capacity("a").metric | ratio }} {{ capacity("b").metric | ratio }}\n')
    note = templates.read_template(tmp_path / "N.md.j2")
    rs = result_set(result("a", {"capacity.parallel": 1.8}), result("b", {"capacity.parallel": 1.6}))
    with pytest.raises(TemplateError, match="already quotes the parallel capacity"):
        notes.render_note(sandbox.make_jinja(tmp_path), note, rs, {}, set())

    # Another figure asked for afterwards, without naming the experiment, is refused too: it
    # returned the first figure, so the note printed capacity.parallel under another name.
    (tmp_path / "N.md.j2").write_text('{#---\ntitle: N\ntags: [t]\nexperiments: [a]\n---#}\n'
                                      '{{ capacity().metric | ratio }} {{ capacity(metric="python.capacity").metric | ratio }}\n')
    note = templates.read_template(tmp_path / "N.md.j2")
    rs = result_set(result("a", {"capacity.parallel": 1.8, "python.capacity": 1.5}))
    with pytest.raises(TemplateError, match="already quotes the parallel capacity capacity.parallel of a; it asked for python.capacity"):
        notes.render_note(sandbox.make_jinja(tmp_path), note, rs, {}, set())
