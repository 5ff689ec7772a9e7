"""Charts: a registry of drawing functions and deterministic SVG output.

A chart module in this package registers functions with ``@chart``; a
template asks for one with ``{{ chart("cpu-speedup") }}``.  Drawing
functions receive a matplotlib ``Figure`` (object-oriented API, no pyplot
state) and a ``ChartData``.  matplotlib is imported only when a chart must
actually be drawn, so a build with nothing new to draw never pays for it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
from dataclasses import dataclass

# Imported by name: a chart module called io.py would shadow the package's `io` global.
from io import StringIO
from typing import Any, Callable

from generator.errors import ChartError
from generator.results import Result, ResultSet


@dataclass(frozen=True)
class ChartSpec:
    name: str
    experiments: tuple[str, ...]
    draw: Callable
    size: tuple[float, float]
    alt: str = ""  # what the chart shows, for readers who cannot see it

    @property
    def filename(self) -> str:
        return f"{self.name}.svg"

    @property
    def alt_text(self) -> str:
        """The alt text an embed carries: ``alt``, else the drawing function's first doc line."""
        return embed_text(self.alt or (self.draw.__doc__ or "").strip().split("\n")[0] or f"Chart {self.name}")


def embed_text(text: str) -> str:
    """``text`` made safe inside ``![[x.svg|text|700]]``: one line, no pipes or brackets."""
    return " ".join(text.replace("|", "/").replace("[", "(").replace("]", ")").split())


_MARK = "vaultgen_chart"


def chart(name: str, experiments: tuple[str, ...], size: tuple[float, float] = (7.0, 4.2), alt: str = ""):
    """Mark a drawing function as chart ``name`` (also the SVG's file name); ``registry()`` finds it.

    ``alt`` says in a sentence what it shows (the embed's alt text).
    """

    def mark(fn: Callable) -> Callable:
        setattr(fn, _MARK, ChartSpec(name, tuple(experiments), fn, size, alt))
        return fn

    return mark


def registry() -> dict[str, ChartSpec]:
    """Every chart defined in this package's modules, collected now.

    Built by this function each time rather than filled in as a side effect
    of importing the modules, so no state lives between builds or tests.
    """
    found: dict[str, ChartSpec] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            spec = getattr(value, _MARK, None)
            if not isinstance(spec, ChartSpec) or spec.draw is not value:
                continue
            if spec.name in found and found[spec.name].draw is not value:
                raise ChartError(f"chart {spec.name!r} is defined twice", path=inspect.getsourcefile(value))
            found[spec.name] = spec
    return found


@dataclass(frozen=True)
class ChartData:
    """What a drawing function may use: the build's results and where they were taken."""

    results: ResultSet

    def get(self, name: str) -> Result | None:
        return self.results.get(name)

    def machine(self, names: tuple[str, ...] = ()) -> str:
        env = self.results.environment(names)
        cores = env.get("logical_cores", "?")
        return (f"{env.get('cpu_model', 'unknown CPU')}, {cores} logical cores, "
                f"{self.results.interpreters[0].label}")


def input_hash(spec: ChartSpec, results: ResultSet) -> str:
    """Changes exactly when the drawing could: its code, its data, matplotlib."""
    payload = {
        "chart": spec.name,
        "size": spec.size,
        "code": inspect.getsource(inspect.getmodule(spec.draw) or spec.draw),
        "matplotlib": _matplotlib_identity(),
        "interpreters": [i.label for i in results.interpreters],
        "data": {
            tag: {name: [results.by_tag[tag][name].cache_key, results.by_tag[tag][name].environment.get("date")]
                  for name in spec.experiments if name in results.by_tag[tag]}
            for tag in sorted(results.by_tag)
        },
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _matplotlib_identity() -> str:
    """Which matplotlib would draw, without importing it or parsing its metadata.

    The charts cache is machine-local, so the installed package's location and
    modification time identify it well enough (an upgrade rewrites the file).
    """
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:  # pragma: no cover - it is a dependency
        return "missing"
    stat = os.stat(spec.origin)
    return f"{spec.origin}|{stat.st_size}|{stat.st_mtime_ns}"


# Fixed metadata and hash salt make identical data give identical bytes.
# Text stays text (selectable, searchable, smaller files); the font stack
# starts with the font matplotlib measured the text with, then ones of
# similar width.  An opaque white card keeps the charts' colours and grey
# text readable on Obsidian's dark theme too, where a transparent chart
# would put dark text on a dark page.
_RC: dict[Any, Any] = {
    "svg.hashsalt": "vaultgen",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Bitstream Vera Sans", "Verdana", "Arial", "Helvetica"],
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "font.size": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
}


def render(spec: ChartSpec, results: ResultSet) -> bytes:
    """Draw one chart to SVG bytes."""
    import matplotlib

    from generator.charts._draw import readable_at_note_width

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=spec.size, layout="constrained")
        try:
            spec.draw(fig, ChartData(results))
            readable_at_note_width(fig)
        except Exception as exc:  # a drawing bug must name the chart, not crash the build
            where = inspect.getsourcefile(spec.draw)
            raise ChartError(f"chart {spec.name!r} failed: {type(exc).__name__}: {exc}", path=where,
                             hint="fix the chart function or the experiment's metrics") from exc
        buf = StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue().encode("utf-8")
