"""What a command imports: `vaultgen check` on an unchanged vault needs no parser and no build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _modules_after(code: str, env: dict | None = None) -> set[str]:
    """The modules loaded by ``code`` in a fresh interpreter (it prints nothing itself)."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **(env or {})}, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_package_imports_its_api_on_first_use():
    assert not {m for m in _modules_after("import generator") if m.startswith("generator.")}


def test_build_stays_the_function_after_the_pipeline_module_is_imported():
    import generator
    import generator.pipeline
    from generator import build

    assert callable(build) and build is generator.pipeline.build and generator.build is build
    # The build's vocabulary lives in buildreport and is the same object through every import path.
    import generator.buildreport
    for name in ("BuildOptions", "BuildReport", "ExperimentStatus", "Progress", "SilentProgress"):
        assert getattr(generator.pipeline, name) is getattr(generator.buildreport, name)
    assert generator.BuildOptions is generator.buildreport.BuildOptions


def test_check_of_an_unchanged_vault_imports_no_parser(tmp_path: Path):
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "A.md").write_text("---\ntags: [x]\n---\n# A\n[[B]] [[Missing]]\n", encoding="utf-8")
    (vault / "B.md").write_text("| a | [[A]] |\n|---|---|\n", encoding="utf-8")
    env = {"VAULTGEN_CACHE_DIR": str(tmp_path / "cache")}
    run = (f"import sys\nsys.argv = ['vaultgen', 'check', {str(vault)!r}, '--format', 'json']\n"
           "from generator.cli import app\n"
           "try:\n    app(prog_name='vaultgen')\nexcept SystemExit:\n    pass\n")
    first = _modules_after(run, env)
    assert "yaml" in first  # the cold run parsed the front matter
    warm = _modules_after(run, env)
    assert not warm & {"yaml", "markdown_it", "multiprocessing", "tomllib", "generator.pipeline"}


def test_the_linter_imports_nothing_of_the_project_but_errors_the_atomic_writer_and_the_cache_folder():
    """`generator.lint` is a product of its own: with every module of it imported, the only
    other project modules loaded are the error tree, writer.fsops (which imports only it),
    usercache and chars (standard library only)."""
    lint = sorted(p.stem for p in (REPO / "generator" / "lint").glob("*.py") if p.stem != "__init__")
    loaded = _modules_after("import " + ", ".join(f"generator.lint.{name}" for name in lint))
    outside = {m for m in loaded if m.startswith("generator.") and not m.startswith("generator.lint")}
    assert outside <= {"generator.errors", "generator.writer", "generator.writer.fsops", "generator.usercache", "generator.chars"}, outside
