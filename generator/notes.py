"""Render note templates into Markdown with properties.

A template sees only what it declared in its header: the results of its
experiments (primary interpreter first, all interpreters for comparisons),
the scripts' sources, charts and verdicts.  Properties are collected while
rendering (``prop``) and written as YAML front matter in a fixed order.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

from generator import charts, claims, formatting
from generator.charts._draw import NOTE_WIDTH_PX
from generator.claims import compare
from generator.errors import TemplateError, VaultgenError
from generator.lint.timelimit import time_limit
from generator.metricnames import CheckedResult
from generator.experiments import Experiment
from generator.results import ResultSet
from generator.sandbox import MAX_NOTE_BYTES, bounded
from generator.templates import NoteTemplate
from generator.writer.keepblocks import keep_block_problem, next_fence

# A template is code: one looping for ever must not hold the vault's lock for ever.
RENDER_TIME_LIMIT = 30.0


# The metric every experiment's capacity probe records (``Context.measure_capacity``).
CAPACITY_METRIC = "capacity.parallel"


@dataclass(frozen=True)
class Capacity:
    """The one parallel-capacity figure a note quotes, and where it comes from."""

    metric: object
    experiment: str
    name: str

    @property
    def probe(self) -> str:
        """Which of an experiment's probes this is: notes that quote different
        ones must not read as one figure measured twice."""
        if self.name == CAPACITY_METRIC:
            return "its own probe before the run"
        kind = self.name.removesuffix(".capacity")
        return f"a probe paired with each {_PROBE_KINDS.get(kind, f'`{kind}`')} repeat"


_PROBE_KINDS = {"python": "pure-Python", "c": "hashlib"}


@dataclass
class RenderedNote:
    template: NoteTemplate
    text: str
    charts: list[str] = field(default_factory=list)


class _NoteScope:
    """The functions one template render may call; collects what it asks for."""

    def __init__(self, note: NoteTemplate, results: ResultSet, experiments: dict[str, Experiment],
                 chart_names: set[str], all_notes: list[NoteTemplate]) -> None:
        self.note = note
        self.all_notes = all_notes
        self.results = results
        self.experiments = experiments
        self.chart_names = chart_names
        self.properties: dict[str, object] = {}
        self.charts: list[str] = []
        self._capacity: Capacity | None = None

    def _declared(self, name: str) -> None:
        if name not in self.note.experiments:
            raise TemplateError(
                f"experiment {name!r} is used but not declared in the header",
                path=self.note.path, line=2, hint=f"add {name} to `experiments:`",
            )

    def result(self, name: str, interpreter: str | None = None):
        self._declared(name)
        found = self.results.get(name, interpreter)
        experiment = self.experiments.get(name)
        if found is None or experiment is None:
            return found
        # A misspelt metric name fails with this template's line instead of rendering "n/a".
        return CheckedResult(found, experiment.source)

    def across(self, name: str):
        self._declared(name)
        return self.results.across(name)

    def source(self, name: str) -> str:
        self._declared(name)
        return self.experiments[name].source

    def chart(self, name: str, alt: str | None = None, width: int = NOTE_WIDTH_PX) -> str:
        """``![[name.svg|alt text|700]]``: shown at note width, described for screen readers."""
        if name not in self.chart_names:
            raise TemplateError(f"unknown chart {name!r}", path=self.note.path,
                                hint=f"known: {', '.join(sorted(self.chart_names))}")
        if name not in self.charts:
            self.charts.append(name)
        spec = charts.registry().get(name)
        text = charts.embed_text(alt) if alt is not None else (spec.alt_text if spec else name)
        return f"![[{name}.svg|{text}|{width}]]" if text else f"![[{name}.svg|{width}]]"

    def verdict(self, key: str):
        claim = claims.registry().get(key)
        if claim is None:
            raise TemplateError(f"unknown claim {key!r}", path=self.note.path,
                                hint=f"known: {', '.join(sorted(claims.registry()))}")
        for name in claim.experiments:
            self._declared(name)
        return claim.evaluate(self.results)

    def other_machines(self, names=None):
        """The note's headline figures beside other machines' committed ones (None if there are none)."""
        from generator.othermachines import compare

        return compare(self.results, tuple(names or self.note.experiments))

    def trends(self, names=None):
        """How the note's headline figures moved across full runs (those with 3 or more)."""
        from generator.history import note_trends

        return note_trends(self.results, tuple(names or self.note.experiments))

    def capacity(self, experiment: str | None = None, metric: str = CAPACITY_METRIC) -> Capacity | None:
        """The note's one parallel-capacity figure (issue 9: one per note, with its source).

        Without arguments: the figure already chosen, else the first declared experiment that
        measured ``capacity.parallel``.  With arguments a template chooses it, before anything
        quotes it; asking for another figure afterwards is an error, so a note can never quote
        two capacities that disagree.
        """
        if experiment is None and self._capacity is not None and metric in (CAPACITY_METRIC, self._capacity.name):
            return self._capacity
        if experiment is not None:
            self._declared(experiment)
            candidates = [experiment]
        else:
            candidates = list(self.note.experiments)
        for name in candidates:
            r = self.results.get(name)
            m = r.metric(metric) if r is not None else None
            if m is None:
                continue
            chosen = Capacity(m, name, metric)
            if self._capacity is not None and (chosen.experiment, chosen.name) != (
                    self._capacity.experiment, self._capacity.name):
                raise TemplateError(
                    f"this note already quotes the parallel capacity {self._capacity.name} of "
                    f"{self._capacity.experiment}; it asked for {metric} of {name} as well",
                    path=self.note.path,
                    hint="a note quotes one capacity figure: call capacity(...) once, before measured_on()")
            self._capacity = chosen
            return chosen
        return None

    def prop(self, key: str, value) -> str:
        """Record a note property (a number is rounded for readability)."""
        if isinstance(value, (int, float)) or hasattr(value, "median"):
            value = formatting.property_number(value)
        self.properties[key] = value
        return ""

    def context(self, environment: dict) -> dict:
        declared = {n: self.results.get(n) for n in self.note.experiments}
        return {
            "note": _as_seen(self.note),
            "notes": [_as_seen(n) for n in self.all_notes],
            "results": declared,
            "interpreters": self.results.interpreters,
            "machine": self.results.machine,
            "other_machines": self.other_machines,
            "trends": self.trends,
            "env": environment,
            "result": self.result,
            "across": self.across,
            "source": self.source,
            "chart": self.chart,
            "verdict": self.verdict,
            "prop": self.prop,
            "capacity": self.capacity,
            "compare_times": _or_none(compare.compare_times),
            "compare_speedups": _or_none(compare.compare_speedups),
        }


def _as_seen(note: NoteTemplate) -> NoteTemplate:
    """``note`` as a template sees it: its path is ``templates/<file>``, not where this clone of
    the project lies, so that printing it renders the same note on every machine."""
    from dataclasses import replace

    return replace(note, path=Path("templates", note.path.name))


def _or_none(compare_fn):
    """A comparison a template can call with a figure that was not measured: None then."""
    def template_compare(a, b, *, paired):
        return None if a is None or b is None else compare_fn(a, b, paired=paired)
    template_compare.__doc__ = compare_fn.__doc__
    return template_compare


def front_matter(note: NoteTemplate, properties: dict) -> str:
    data: dict[str, object] = {}
    if note.aliases:
        data["aliases"] = list(note.aliases)
    data["tags"] = list(note.tags)
    if note.cssclasses:
        data["cssclasses"] = list(note.cssclasses)
    if note.description:
        data["description"] = note.description
    data.update(properties)
    body = yaml.dump(data, Dumper=_PropertiesDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    return f"---\n{body}---\n"


class _PropertiesDumper(yaml.SafeDumper):
    """A text with a line break is written on one line, as "a\\nb": folded over lines, one of
    them could read "---" and close the front matter early (prop("k", "v\\n---\\nevil: 1"))."""


_PropertiesDumper.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"' if "\n" in text or "\r" in text else None)
)


def _template_line(exc: BaseException, template_path: Path) -> tuple[Path, int | None]:
    """The template file and line a rendering error came from."""
    lineno = getattr(exc, "lineno", None)
    filename = getattr(exc, "filename", None)
    if lineno and filename:
        return Path(filename), lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            return Path(frame.filename), frame.lineno
    return template_path, None


def render_note(env: jinja2.Environment, note: NoteTemplate, results: ResultSet,
                experiments: dict[str, Experiment], chart_names: set[str],
                all_notes: list[NoteTemplate] | None = None) -> RenderedNote:
    scope = _NoteScope(note, results, experiments, chart_names, all_notes or [note])
    environment = results.environment(note.experiments)
    try:
        with time_limit(RENDER_TIME_LIMIT, RenderTimeout):
            template = env.get_template(note.name)
            body = bounded(template.generate(scope.context(environment)), note.path)
    except RenderTimeout:
        raise TemplateError(f"rendering took longer than {RENDER_TIME_LIMIT:g} s, so it was stopped",
                            path=note.path, hint="look for a loop that never ends or runs far too long") from None
    except VaultgenError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}", path=exc.filename or note.path,
                            line=exc.lineno, hint="fix the Jinja tag on that line") from exc
    except Exception as exc:
        path, line = _template_line(exc, note.path)
        message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
        raise TemplateError(f"rendering failed: {type(exc).__name__}: {message}", path=path, line=line,
                            hint="fix the template or the variable it uses") from exc
    profiles = results_profiles(results, note.experiments)
    if profiles - {"full"}:
        scope.properties["profile"] = ", ".join(sorted(profiles - {"full"}))
        body = with_profile_warning(body, sorted(profiles - {"full"}))
    text = front_matter(note, scope.properties) + tidy(body)
    if len(text) > MAX_NOTE_BYTES // 4 and len(text.encode("utf-8")) > MAX_NOTE_BYTES:
        raise TemplateError(f"the rendered note is {len(text.encode('utf-8')):,} bytes, over the {MAX_NOTE_BYTES:,} a note may be",
                            path=note.path, hint="look for a loop or repetition that writes far more than intended")
    problem = keep_block_problem(text)
    if problem:
        raise TemplateError(f"the rendered note's keep blocks cannot be matched by name: {problem}", path=note.path,
                            hint="give each keep block its own name (not one from a loop), and close each one "
                                 "with '%% end keep %%' before the next opens")
    return RenderedNote(note, text, scope.charts)


def results_profiles(results: ResultSet, names) -> set[str]:
    """The profiles of the results a note is built from (all results for a note without experiments)."""
    chosen = [results.get(n) for n in names] if names else list(results.primary.values())
    return {r.profile for r in chosen if r is not None and r.metrics}


def with_profile_warning(body: str, profiles: list[str]) -> str:
    """``body`` with a warning under its title that its figures come from a short profile.

    Added here rather than by each template, so that no note, including one a user adds,
    can present quick figures (n = 1 or 2, a fraction of a second each) as measurements.
    """
    warning = (f"> [!warning] Figures from the `{'`, `'.join(profiles)}` profile\n"
               f"> These figures come from a short test run (few repeats, tiny workloads), not from a "
               f"measurement: they show the pipeline works, not how this machine behaves. Measure with "
               f"`vaultgen build --force` (the full profile) before reading anything into them.\n")
    lines = body.split("\n")
    fence: str | None = None  # "# x" inside a code block is code (a comment), not the title
    for i, line in enumerate(lines):
        if fence is None and line.startswith("# "):
            return "\n".join(lines[:i + 1] + ["", warning] + lines[i + 1:])
        fence = next_fence(fence, line)
    return warning + "\n" + body


class RenderTimeout(BaseException):
    """Raised inside a render by SIGALRM; a BaseException, so a template's own handling cannot swallow it."""


def tidy(body: str) -> str:
    """Collapse runs of blank lines outside code blocks; end with one newline.

    Jinja control lines leave blank lines behind; a note read in an editor
    should not carry them, but a code block's content is never touched.
    """
    out: list[str] = []
    fence: str | None = None
    for line in body.strip("\n").split("\n"):
        after = next_fence(fence, line)
        if fence is None and after is None and not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line if after is not None or line.strip() else "")
        fence = after
    return "\n".join(out) + "\n"
