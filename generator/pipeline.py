"""The build: run stale experiments, render notes and charts, write the vault.

This is the library API behind ``vaultgen build``.  Each stage lives in its
own module; this one sequences them (with the checks before them and the
chart cache between them) and reports progress through a ``Progress`` object
so that the CLI (or a test) decides how to show it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from generator import buildcache, history, syscheck
from generator.buildcache import save_cache
from generator.writer.fsops import parse_json, read_regular, read_state
from generator import experiments as exp_mod
from generator import orphans, runner
from generator.config import DEFAULT_INTERPRETER, Project, check_timeout
from generator.errors import InterpreterError, UsageError
from generator.experiments import Experiment
from generator.interpreters import Interpreter, resolve
from generator.machine import Machine
from generator.othermachines import committed_interpreter, load_others, record_interpreter
from generator.results import ResultSet, ResultStore, cache_key, document_from_run, document_problem
from generator.vaultwrite import preflight, write_checked
# The build's vocabulary, re-exported: callers import it from here.
from generator.buildreport import BuildOptions, BuildReport, ExperimentStatus, Progress, SilentProgress

if TYPE_CHECKING:
    from generator.history import Shift
    from generator.templates import NoteTemplate

# How long a build waits for another one to finish: measuring takes minutes,
# and a user who started a second build wants it to run, not to fail at once.
LOCK_WAIT = 30 * 60.0

OBSIDIAN_APP = {"alwaysUpdateLinks": True, "attachmentFolderPath": "attachments", "newLinkFormat": "shortest"}


def select_interpreters(project: Project, names: tuple[str, ...]) -> tuple[list[Interpreter], list[str]]:
    """The interpreters to measure under, and a notice for each configured one missing here.

    One given with ``--python`` must exist; one listed in the project's
    settings may be missing on this machine (a laptop without 3.13t), which
    is said once and is not an error.
    """
    configured = not names
    chosen: dict[str, Interpreter] = {}
    missing: list[str] = []
    for name in names or project.settings.interpreters:
        try:
            interp = resolve(None if name == DEFAULT_INTERPRETER else name, project.cache)
        except InterpreterError as exc:
            if not configured:
                raise
            committed = committed_interpreter(project.results, name, Machine.here())
            shown = (f"; the notes show its committed figures ({committed.measured_on})" if committed
                     else "; no committed figures for it either")
            missing.append(f"interpreter {name} (listed in {project.settings.source('interpreters')}) "
                           f"is not available here: {exc.message}{shown}")
            if committed is None:
                continue
            interp = committed
        chosen.setdefault(interp.tag, interp)
    if not chosen:
        interp = resolve(None, project.cache)
        chosen[interp.tag] = interp
    return list(chosen.values()), missing


Run = tuple[Experiment, Interpreter, str]  # an experiment to run, under which interpreter, its cache key


def plan_runs(project: Project, found: dict[str, Experiment], interpreters: list[Interpreter],
              options: BuildOptions, warn: Callable[[str], None] | None = None) -> tuple[list[Run], list[ExperimentStatus]]:
    """What is stale (or asked for with ``--only``/``--force``), and what is cached; ``warn``
    hears of each stored result that could not be read, so is measured again."""
    unknown = sorted(set(options.only) - set(found))
    if unknown:
        raise UsageError(f"unknown experiment {', '.join(unknown)}", hint=f"known: {', '.join(sorted(found))}")
    store = ResultStore.for_project(project, options.profile)
    todo, cached = [], []
    for interp in interpreters:
        if not interp.available:
            continue  # shown from committed figures; nothing to run it with here
        for name, experiment in found.items():
            key = cache_key(experiment, interp, options.profile)
            if options.only:
                stale = name in options.only
                if not stale and store.state(interp.tag, name, key)[0] != "current":
                    cached.append(ExperimentStatus(name, interp.tag, "not current"))
                    continue
            elif options.force:
                stale = True
            else:
                state, detail = store.state(interp.tag, name, key)
                stale = state != "current"
                if state == "unreadable" and warn is not None:
                    warn(f"{store.path(interp.tag, name)}: {detail}; measuring it again")
            if stale:
                todo.append((experiment, interp, key))
            else:
                cached.append(ExperimentStatus(name, interp.tag, "cached"))
    return todo, cached


def run_experiments(project: Project, todo: list[Run], options: BuildOptions,
                    progress: Progress) -> list[ExperimentStatus]:
    """Run the planned experiments one at a time.

    One at a time on purpose: two experiments side by side would steal
    cores from each other and distort both.
    """
    if todo:
        from generator.lint.vaultindex import worker_count

        # A bad VAULTGEN_JOBS is refused before minutes of measuring, not when the vault is checked
        # after them (here, not in preflight: a build with nothing to measure need not load the linter).
        worker_count()
    store = ResultStore.for_project(project, options.profile)
    timeout = options.timeout or project.settings.timeout_for(options.profile)
    left = orphans.reap_orphans(project.experiments)
    if left.stopped:  # they would take CPU from every figure measured now
        progress.warn(f"stopped {len(left.stopped)} experiment process(es) left running by a vaultgen that was "
                      f"killed (pid {', '.join(map(str, left.stopped))})")
    for folder, pids in sorted(left.elsewhere.items()):
        whose = f"of {folder}" if folder else "of an unknown project (an older vaultgen's)"
        remedy = "a build there stops them, or kill them" if folder else "kill them"
        progress.warn(f"{len(pids)} experiment process(es) {whose}, left running by a vaultgen that was killed, "
                      f"still take CPU (pid {', '.join(map(str, pids))}): {remedy}")
    orphans.remove_orphan_folders()
    progress.plan([(e, i, store.previous_wall(i.tag, e.name)) for e, i, _ in todo])
    statuses = []
    for experiment, interp, key in todo:
        progress.begin(experiment, interp)
        outcome = runner.run_script(experiment, interp, profile=options.profile, timeout=timeout)
        document = document_from_run(outcome, experiment, interp, options.profile, key) if outcome.ok else None
        problem = document_problem(document) if document is not None else None
        if problem is not None:  # the last good result stays; the failure is noted beside it
            outcome.status, outcome.message = "invalid", f"wrote a result document that does not fit the schema: {problem}"
        if outcome.ok and document is not None:
            store.save(interp.tag, experiment.name, document)
            record_interpreter(project.results, store.machine, interp)
            shifts: list[Shift] = []
            if options.profile == "full":  # quick figures are not comparable across runs
                shifts = history.record(store.folder / interp.tag, experiment.name, interp.tag, document)
            status = ExperimentStatus(experiment.name, interp.tag, "ran", outcome.wall, shifts=tuple(shifts))
        else:
            store.record_failure(interp.tag, experiment.name, outcome, key)
            status = ExperimentStatus(experiment.name, interp.tag, "failed", outcome.wall, outcome.message)
        statuses.append(status)
        progress.end(status)
    return statuses


def load_results(project: Project, found: dict[str, Experiment], interpreters: list[Interpreter],
                 profile: str = "full") -> ResultSet:
    here = Machine.here()
    by_tag = {}
    for interp in interpreters:
        machine = here if not interp.machine or interp.machine == here.slug \
            else Machine(interp.machine, {})
        store = ResultStore.for_project(project, profile, machine)
        loaded = {name: store.load(interp.tag, name) for name in found}
        by_tag[interp.tag] = {name: r for name, r in loaded.items() if r is not None}
    others = load_others(project.results, here, list(found), profile)
    return ResultSet(interpreters, by_tag, machine=here.slug, root=project.results, others=others)


def render_files(project: Project, notes: list[NoteTemplate], found: dict[str, Experiment],
                 results: ResultSet, save_caches: bool = True) -> tuple[dict[str, bytes], dict[str, str]]:
    """Every file the vault should hold: notes, charts, Obsidian settings.

    Returns the files and, for each note, the template it came from (so a
    broken link can be blamed on its template).  ``save_caches=False``
    (``--check``) writes nothing at all.
    """
    from generator import charts
    from generator.notes import render_note
    from generator.sandbox import make_jinja

    chart_specs = charts.registry()
    env = make_jinja(project.templates, cached=True)
    files: dict[str, bytes] = {}
    origin: dict[str, str] = {}
    wanted: list[str] = []
    for note in notes:
        rendered = render_note(env, note, results, found, set(chart_specs), notes)
        files[note.note_path] = rendered.text.encode("utf-8")
        origin[note.note_path] = str(note.path.relative_to(project.root))
        wanted += [c for c in rendered.charts if c not in wanted]
    for name in wanted:
        files[f"attachments/{chart_specs[name].filename}"] = _chart_bytes(project, chart_specs[name], results, save_caches)
    files[".gitignore"] = b"# Obsidian's window layout changes on every click; keep it out of git.\n.obsidian/workspace*.json\n"
    files[".obsidian/app.json"] = (json.dumps(OBSIDIAN_APP, indent=2, sort_keys=True) + "\n").encode()
    return files, origin


def _chart_bytes(project: Project, spec, results: ResultSet, save: bool = True) -> bytes:
    """Reuse the chart in the vault when its inputs are unchanged (no matplotlib import).

    The cache records the inputs and the hash of the bytes drawn from them; the
    vault's file is reused only if it still holds those bytes.  A build killed
    before its commit (or a hand-edited chart) then gets a fresh drawing
    instead of the stale file.
    """
    import hashlib

    from generator import charts

    cache_file = project.cache / "charts.json"
    try:
        cache = parse_json(read_state(cache_file))
    except (OSError, ValueError):
        cache = {}
    if not isinstance(cache, dict):  # a corrupt cache only costs a redraw
        cache = {}
    digest = charts.input_hash(spec, results)
    entry = cache.get(spec.name)
    if isinstance(entry, dict) and entry.get("input") == digest:
        try:
            existing = read_regular(project.vault / "attachments" / spec.filename)
        except OSError:  # missing or unreadable: draw it (the vault writer reports an unreadable file)
            existing = None
        if existing is not None and hashlib.sha256(existing).hexdigest() == entry.get("output"):
            return existing
    data = charts.render(spec, results)
    cache[spec.name] = {"input": digest, "output": hashlib.sha256(data).hexdigest()}
    if save:
        save_cache(project, cache_file, json.dumps(cache, indent=1, sort_keys=True).encode())
    return data


def _system_check(progress: Progress) -> str | None:
    """Warn before measuring when other processes are taking the CPUs (pyperf's ``system check``)."""
    warning = syscheck.check().warning()
    if warning is not None:
        progress.warn(warning)
    return warning


def build(project: Project, options: BuildOptions, progress: Progress | None = None) -> BuildReport:
    """Bring ``vault/`` up to date with the experiments and templates.

    SIGTERM is raised like Ctrl-C (``runner.Terminated``), so either one
    stops a running experiment's whole process tree and unwinds the build:
    the lock is released, staging and temporary folders removed.
    """
    with runner.signals_as_interrupts():
        return _build(project, options, progress)


def _build(project: Project, options: BuildOptions, progress: Progress | None) -> BuildReport:
    if options.timeout is not None:  # the CLI checked it already; a library caller may not have
        check_timeout(options.timeout)
    from generator.writer import VaultLock, WriteReport, plan_changes

    progress = progress or SilentProgress()
    started = time.perf_counter()
    report = BuildReport()
    found = exp_mod.discover(project.experiments)
    interpreters, report.notices = select_interpreters(project, options.pythons)
    preflight(project, writing=not options.check_only)
    report.check_only = options.check_only
    if options.check_only:
        from generator import templates as tpl_mod

        notes = tpl_mod.discover(project.templates, set(found))
        results = load_results(project, found, interpreters, options.profile)
        files, origin = render_files(project, notes, found, results, save_caches=False)
        report.changes = plan_changes(project.vault, files, overwrite=options.overwrite, origins=origin)
        report.duration = time.perf_counter() - started
        return report
    todo, _ = plan_runs(project, found, interpreters, options)
    if not todo:
        # Nothing to measure: if no input changed since the last build and its
        # files are intact, there is nothing to render either.  Read-only, so
        # no lock: a build writing meanwhile only makes this check fail.
        intact = buildcache.unchanged(project, buildcache.render_key(project, interpreters, options.profile))
        if intact is not None:
            report.experiments = [ExperimentStatus(e.name, i.tag, "cached") for i in interpreters
                                  for e in found.values() if i.available]
            report.written = WriteReport(unchanged=intact)
            report.duration = time.perf_counter() - started
            return report
    # Templates are validated before anything is measured or written.
    from generator import templates as tpl_mod

    notes = tpl_mod.discover(project.templates, set(found))
    # Held from the first measurement on: two builds side by side would
    # distort each other's figures long before they raced to write.
    with VaultLock(project.vault, timeout=LOCK_WAIT, on_wait=progress.waiting):
        # Planned again under the lock: a build that held it may have just measured.
        todo, report.experiments = plan_runs(project, found, interpreters, options, progress.warn)
        # Quick results are labelled as no measurement on every note already; checking costs a moment.
        if todo and options.profile != "quick":
            report.system_warning = _system_check(progress)
        report.experiments += run_experiments(project, todo, options, progress)
        key = buildcache.render_key(project, interpreters, options.profile)
        progress.stage("rendering notes")
        results = load_results(project, found, interpreters, options.profile)
        report.busy = syscheck.busy_results(results)
        files, origin = render_files(project, notes, found, results)
        progress.stage("checking and writing the vault")
        report.written, report.warnings = write_checked(project, files, origin, options.overwrite)
        written = report.written
        if written.modified or written.conflicts or written.kept_removed or written.messages or report.warnings:
            buildcache.forget(project)
        else:
            buildcache.remember(project, key, list(files))
    report.duration = time.perf_counter() - started
    return report
