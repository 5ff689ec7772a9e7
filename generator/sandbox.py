"""The Jinja environment every note renders in.

A template is code from a file anyone might hand you, so it renders in
Jinja's immutable sandbox, closed to the file system (a path shows its
name, never its contents), loading only regular files inside the templates
folder, and refusing, before they run, the single C operations (a huge
repetition, power or format width) that the render time limit could not
interrupt.  What a render writes is counted as it is produced
(``bounded``), so a loop writing gigabytes never holds them all.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath

import jinja2
from jinja2 import FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from generator import formatting, usercache
from generator.errors import TemplateError
from generator.writer.fsops import read_regular

# The size the linter still reads (lint.notefacts.MAX_NOTE_BYTES, not imported: rendering need not
# load the linter; tests/test_hostile.py holds the two equal): a larger note is no note.
MAX_NOTE_BYTES = 8 * 1024 * 1024
# ~300,000 decimal digits: far beyond any figure, far below what takes a C operation seconds.
_MAX_BITS = 1_000_000
# A printf-style conversion's width and precision ("%08.3f", "%(x)*d"); "%%" is no conversion.
_PERCENT_SPEC = re.compile(r"%%|%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _ints(*values) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _format_width(text: str, values) -> int:
    """The largest width or precision ``text % values`` would use; a ``*`` takes its
    number from ``values``, so any int among them counts."""
    numbers = [n for match in _PERCENT_SPEC.finditer(text) if match.group() != "%%" for n in match.groups() if n]
    if "*" in numbers:
        numbers += [str(v) for v in (values if isinstance(values, tuple) else (values,)) if _ints(v)]
    return max((int(n) for n in numbers if n != "*"), default=0)


def _brace_width(text: str, values) -> int:
    """The largest width or precision in the ``{…:spec}`` fields of ``text`` (a nested ``{w}``
    takes its number from the arguments, so any int among them counts)."""
    import string

    try:
        specs = [spec for _, _, spec, _ in string.Formatter().parse(text) if spec]
    except ValueError:
        return 0  # str.format will refuse it itself
    numbers = [int(n) for spec in specs for n in re.findall(r"\d+", spec)]
    if any("{" in spec for spec in specs):
        numbers += [v for v in values if _ints(v)]
    return max(numbers, default=0)


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, also closed to the file system.

    Immutable, because every note renders from the same objects: a template
    calling ``notes.clear()`` or ``result(...).metrics.clear()`` would
    otherwise empty other notes.  The stock sandbox only hides underscore
    attributes, so ``note.path`` would still offer ``read_text`` and
    ``write_text``: a template may show a path's name, never open it.
    """

    _PATH_ATTRIBUTES = frozenset({"name", "stem", "suffix", "suffixes", "parts", "as_posix"})
    # ``"a" * 10**9``, ``10 ** 10**6`` or ``"%0999999999d" % 1`` is one C operation the render
    # time limit cannot interrupt: minutes and gigabytes.  Checked before it runs.  Filters
    # (``center(10**9)``) are not: the sandbox guards files and shared objects, not memory.
    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context, operator: str, left, right):
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_NOTE_BYTES:
                    raise SecurityError(f"a repetition of {len(seq) * times:,} items is larger than any note may be")
            if _ints(left, right) and left.bit_length() + right.bit_length() > _MAX_BITS:
                raise SecurityError("a product too large to compute in a template")
        elif operator == "**":
            if _ints(left, right) and abs(left) > 1 and right > 0 and left.bit_length() * right > _MAX_BITS:
                raise SecurityError("a power too large to compute in a template")
        elif isinstance(left, str) and "%" in left and _format_width(left, right) > MAX_NOTE_BYTES:
            raise SecurityError("a %-format width larger than any note may be")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's own signature)
        owner, name = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(owner, str):  # Markup too
            tabs = max(owner.count("\t"), 1) if name == "expandtabs" else 1  # each tab widens to the width
            if name in _WIDTH_METHODS and any(_ints(a) and a * tabs > MAX_NOTE_BYTES for a in (*args, *kwargs.values())):
                raise SecurityError(f"str.{name} to a width larger than any note may be")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value):
        """Jinja's sandboxed ``str.format``, refusing a width no note could hold first (Jinja
        wraps the method when it is looked up, so ``call`` never sees it)."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text, mapping = value.__self__, value.__name__ == "format_map"

        def checked(*args, **kwargs):
            values = (*args, *kwargs.values(), *(args[0].values() if mapping and args and isinstance(args[0], dict) else ()))
            if _brace_width(text, values) > MAX_NOTE_BYTES:
                raise SecurityError(f"str.{value.__name__} to a width larger than any note may be")
            return wrapped(*args, **kwargs)

        return checked

    def is_safe_attribute(self, obj, attr: str, value) -> bool:
        if isinstance(obj, PurePath) and attr not in self._PATH_ATTRIBUTES:
            return False
        return super().is_safe_attribute(obj, attr, value)


class _TemplatesOnly(FileSystemLoader):
    """Loads only regular files inside the templates folder, even through symlinks.

    An include of ``_env.md.j2 -> /proc/self/environ`` would otherwise print
    the environment into the note (and the ``--check`` diff); a FIFO would
    hang the build.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.root = folder.resolve()

    def get_source(self, environment, template):
        path = self.root.joinpath(*split_template_path(template))
        if not path.is_file():
            if path.exists() and not path.is_dir():  # a FIFO or device: reading it could hang
                raise TemplateError(f"template {template!r} is not a regular file", path=path,
                                    hint="replace it with a regular UTF-8 file")
            raise jinja2.TemplateNotFound(template)
        try:
            target = path.resolve()
        except (OSError, RuntimeError):
            target = None
        if target is None or not target.is_relative_to(self.root):
            raise TemplateError(f"template {template!r} is a symbolic link leading outside the templates folder",
                                path=path, hint="replace the link with the file itself, inside templates/")
        try:
            source = read_regular(path).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"cannot read template {template!r}: {exc}", path=path,
                                hint="templates are regular UTF-8 files") from None
        mtime = path.stat().st_mtime
        return source, str(path), lambda: path.stat().st_mtime == mtime


def make_jinja(folder: Path, cached: bool = False) -> ImmutableSandboxedEnvironment:
    """The one Jinja environment every note renders in.

    Sandboxed, because a template is code from a file anyone might hand you;
    StrictUndefined, because a typo must fail loudly rather than render
    an empty figure.
    """
    # Compiling the templates is most of a no-change build's time; Jinja's
    # bytecode cache checks each template's source, so it cannot go stale.
    # It lives in vaultgen's cache folder (per user, mode 0700, ownership
    # checked, unused files pruned), not the project: bytecode is loaded as
    # code, and a project folder can come from anyone, cache files included.
    folder_for_bytecode = usercache.private_folder("jinja") if cached else None
    bytecode_cache = FileSystemBytecodeCache(str(folder_for_bytecode)) if folder_for_bytecode else None
    if bytecode_cache is not None:
        usercache.prune()
    env = _Sandbox(
        loader=_TemplatesOnly(folder),
        bytecode_cache=bytecode_cache,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,
    )
    env.filters.update(formatting.FILTERS)
    env.filters["as_text"] = as_text
    env.filters["format"] = _checked_format(env.filters["format"])
    return env


def _checked_format(format_filter):
    """Jinja's ``format`` filter (``"%d" | format(x)``: the ``%`` operator), with the sandbox's width check."""
    def checked(value, *args, **kwargs):
        if isinstance(value, str) and _format_width(value, args or tuple(kwargs.values())) > MAX_NOTE_BYTES:
            raise SecurityError("a %-format width larger than any note may be")
        return format_filter(value, *args, **kwargs)
    return checked


def bounded(pieces, path: Path) -> str:
    """A render's output, stopped once it is larger than any note may be: counted as it
    is produced, so that a loop writing gigabytes never holds them all."""
    kept, size = [], 0
    for piece in pieces:
        size += len(piece)
        if size > MAX_NOTE_BYTES:
            raise TemplateError(f"the rendered note grew past {MAX_NOTE_BYTES:,} characters, more than a note may be",
                                path=path, hint="look for a loop or repetition that writes far more than intended")
        kept.append(piece)
    return "".join(kept)


def as_text(value: object) -> str:
    """Text an experiment printed, shown as inline code: ``[[2, 3]]`` in an error is no wiki link."""
    text = " ".join(str(value).split())
    if not text:
        return ""
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
