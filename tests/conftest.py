"""Fixtures: small real projects in tmp_path, driven like a user would."""

from __future__ import annotations

import faulthandler
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from generator.cli import app

REPO = Path(__file__).resolve().parent.parent

# The test command must give the same answer on every run: property tests draw
# their examples from a fixed seed, and no example fails for being slow (a
# deadline is a timing assertion).  `--hypothesis-profile=explore` draws afresh,
# for the cases the fixed seed misses.
settings.register_profile("default", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True)
settings.load_profile("default")

TINY_BENCHMARK = '''\
"""A tiny benchmark for tests.

Metrics:
  loop.wall  s  time of a short loop
  items      -  how many items the loop touched
"""
import time

from _harness import main


def run(ctx):
    n = ctx.params["n"]

    def once():
        t0 = time.perf_counter()
        sum(range(n))
        return {"loop.wall": time.perf_counter() - t0}

    ctx.measure(once, {"loop.wall": "s"}, min_repeats=3, max_repeats=5)
    ctx.record("items", n, "")


if __name__ == "__main__":
    main(run, __doc__, params={"quick": {"n": 1000}, "full": {"n": 100000}})
'''

EXAMPLES_NOTE = '''\
{#---
title: Examples
tags: [test/examples]
experiments: [thread_example, process_example, tiny]
order: 10
---#}
{% import "_macros.md.j2" as m with context %}
# Examples

See [[Home]].

{{ m.example("thread_example") }}

{{ m.example("process_example") }}

{{ m.failure("tiny") }}
{% set r = result("tiny") %}
The loop took {{ m.figure(r.metric("loop.wall") if r else none) }}.
{{ prop("items", r.metric("items") if r else none) }}
'''

HOME_NOTE = '''\
{#---
title: Home
tags: [test/home]
order: 0
---#}
# Home
{% for n in notes if n.title != note.title %}
- [[{{ n.title }}]]
{% endfor %}
'''


def make_skeleton(root: Path) -> Path:
    """A project with the seed's examples, the harness, one tiny benchmark and the real macros."""
    (root / "experiments").mkdir(parents=True)
    (root / "templates").mkdir()
    for name in ("_harness.py", "_machine.py", "thread_example.py", "process_example.py"):
        shutil.copy(REPO / "experiments" / name, root / "experiments" / name)
    (root / "experiments" / "tiny.py").write_text(TINY_BENCHMARK)
    shutil.copy(REPO / "templates" / "_macros.md.j2", root / "templates" / "_macros.md.j2")
    return root


@pytest.fixture(autouse=True)
def own_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's caches (the linter's, compiled templates) in a fresh folder,
    never the user's ~/.cache, which a test run would otherwise fill with the
    files of thousands of temporary vaults."""
    monkeypatch.setenv("VAULTGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A minimal vaultgen project: the seed's examples, one benchmark, two notes."""
    root = make_skeleton(tmp_path / "proj")
    (root / "templates" / "Examples.md.j2").write_text(EXAMPLES_NOTE)
    (root / "templates" / "Home.md.j2").write_text(HOME_NOTE)
    return root


def invoke(runner: CliRunner, *args: str):
    """Run the CLI as a user would; returns the click Result."""
    return runner.invoke(app, list(args), catch_exceptions=False)


@contextmanager
def no_hang(seconds: float = 120) -> Iterator[None]:
    """Fail a hang loudly (tracebacks, then exit) instead of timing the block: a
    watchdog thread, not SIGALRM, which the linter's own time limits use."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
