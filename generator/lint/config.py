"""Which findings ``vaultgen check`` reports: ``--select/--ignore/--exclude``
and the same settings in a file.

Settings come from ``vaultgen.toml`` at the vault root (a ``[check]`` table),
else from the nearest ``pyproject.toml`` at or above the vault root
(``[tool.vaultgen.check]``); command-line options add to them::

    [check]
    select = ["broken-link", "missing-heading"]   # codes; default: all
    ignore = ["orphan"]
    exclude = ["Archive/**", "*.excalidraw.md"]    # globs on vault-relative paths
    templates = false    # check the Templates core plugin's folder too

The folder of Obsidian's Templates core plugin (``.obsidian/templates.json``)
is excluded unless ``templates = true``: its notes hold ``{{title}}`` and
links meant for the notes made from them.  Excluded files stay link targets
and their links still count as backlinks; only their own findings are dropped.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fnmatch import translate
from pathlib import Path
from typing import Any

from generator.errors import UsageError
from generator.lint.findings import CODES
from generator.writer.fsops import SETTINGS_MAX_BYTES, parse_json, read_regular


_KEYS = {"select", "ignore", "exclude", "templates"}



@dataclass(frozen=True)
class CheckConfig:
    select: tuple[str, ...] = ()  # codes to report; empty: every code
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # globs; "dir/**" or "dir/" excludes a folder
    templates: bool = False
    source: str | None = field(default=None, compare=False)  # the file the settings came from

    def merged(self, *, select=(), ignore=(), exclude=()) -> CheckConfig:
        """These settings plus the command line's (select replaces, the rest add)."""
        return replace(self, select=tuple(select) or self.select, ignore=self.ignore + tuple(ignore), exclude=self.exclude + tuple(exclude))

    def validate(self, known: set[str]) -> None:
        """Refuse codes not in ``known``: a settings file's were checked as
        it was read (``check_config``), so these came from the command line."""
        unknown = sorted(set(self.select + self.ignore) - known)
        if unknown:
            raise UsageError(f"unknown finding code {', '.join(unknown)}", hint=f"known: {', '.join(sorted(known))}")


def _excluder(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a path matches one of ``patterns``, each compiled once (as
    ``fnmatchcase`` compiles it): a vault's check may filter 10^4 findings."""
    rules = []
    for pattern in patterns:
        folder = pattern[:-3] if pattern.endswith("/**") else pattern[:-1] if pattern.endswith("/") else None
        in_folder = None
        if folder is not None:
            # "**/X" is X at any depth, the vault's top included, as in a .gitignore.
            shapes = [translate(folder)] + ([translate(folder[3:])] if folder.startswith("**/") else [])
            in_folder = re.compile("|".join(f"(?:{shape})" for shape in shapes)).match
        rules.append((folder, in_folder, re.compile(translate(pattern)).match))

    def excluded(path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        # Every folder the file is in, from the root: "**/Archive/" must meet "x/Archive".
        parts = path.split("/")[:-1]
        folders = ["/".join(parts[: depth + 1]) for depth in range(len(parts))]
        for folder, in_folder, matches in rules:
            if folder is not None and in_folder is not None and any(in_folder(f) for f in folders):
                return True
            if matches(path) or matches(name):
                return True
        return False

    return excluded


def templates_folder(root: Path) -> str | None:
    """The Templates core plugin's folder, from ``.obsidian/templates.json``."""
    try:
        data = parse_json(read_regular(root / ".obsidian" / "templates.json", at_most=SETTINGS_MAX_BYTES))
    except (OSError, ValueError):  # a FIFO or device too: never waited on, never read whole
        return None
    folder = data.get("folder") if isinstance(data, dict) else None
    return folder.strip("/") if isinstance(folder, str) and folder.strip("/") else None


def _table(data: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def check_config(table: Any, source: Path, text: str = "", name: str = "check") -> CheckConfig:
    """The settings of the ``[name]`` table read from ``source`` (whose
    text is ``text``); a UsageError names a bad key or value and its line."""
    if table is None:
        return CheckConfig(source=str(source))

    def problem(message: str, key: str, hint: str | None = None) -> UsageError:
        return UsageError(f"[{name}] {message}", path=source, line=_key_line(text, name, key), hint=hint)

    if not isinstance(table, dict):  # "check = 5", or an array of tables ([[check]])
        written = re.compile(rf"\s*(?:\[\[\s*{re.escape(name)}\s*\]\]|{re.escape(name.rsplit('.', 1)[-1])}\s*=)")
        line = next((number for number, row in enumerate(text.splitlines(), 1) if written.match(row)), None)
        raise UsageError(f"[{name}] must be a table of settings", path=source, line=line,
                         hint=f"write it as [{name}] followed by select = [...], ignore = [...] or exclude = [...]")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise problem(f"unknown setting {', '.join(unknown)}", unknown[0], f"the check settings are {', '.join(sorted(_KEYS))}")

    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise problem(f"{key} must be a list of strings", key, f'for example {key} = ["{_EXAMPLES[key]}"]')
        return tuple(value)

    templates = table.get("templates", False)
    if not isinstance(templates, bool):
        raise problem("templates must be true or false", "templates")
    for key in ("select", "ignore"):
        unknown = sorted(set(strings(key)) - set(CODES))
        if unknown:
            raise problem(f"{key}: unknown finding code {', '.join(unknown)}", key, f"known: {', '.join(sorted(CODES))}")
    return CheckConfig(strings("select"), strings("ignore"), strings("exclude"), templates, str(source))


_EXAMPLES = {"select": "broken-link", "ignore": "orphan", "exclude": "Archive/**"}


def _key_line(text: str, table: str, key: str) -> int | None:
    """The line of ``key = …`` in the ``[table]`` of TOML ``text``, for
    error messages; None where it is written another way (an inline table)."""
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            inside = header.group(1).replace(" ", "").replace('"', "") == table
        elif inside and re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return None


def _read_toml(path: Path) -> tuple[dict, str]:
    """The TOML document at ``path`` and its text."""
    # Imported here: most vaults have no settings file, and a run over an
    # unchanged vault takes ~0.3 s, of which tomllib would be 2 ms.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        text = read_regular(path, at_most=SETTINGS_MAX_BYTES).decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"not UTF-8 text ({error.reason} at byte {error.start})", path=path, hint="save the file as UTF-8") from None
    except OSError as error:
        raise UsageError(f"cannot read the settings: {error.strerror or error}", path=path) from None
    try:
        return tomllib.loads(text), text
    except RecursionError:  # arrays nested hundreds deep: tomllib recurses once per level
        raise UsageError("not valid TOML (nested too deeply to be read)", path=path, hint="fix the file's syntax") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"not valid TOML ({error})", path=path, line=getattr(error, "lineno", None), hint="fix the file's syntax") from None


def load_config(root: Path) -> CheckConfig:
    """The vault's check settings (see the module docstring)."""
    root = Path(root).resolve()
    own = root / "vaultgen.toml"
    if own.is_file():
        data, text = _read_toml(own)
        return check_config(data.get("check"), own, text)
    for folder in (root, *root.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            data, text = _read_toml(pyproject)
            return check_config(_table(data, ("tool", "vaultgen", "check")), pyproject, text, "tool.vaultgen.check")
    return CheckConfig()


def filter_findings(findings: list, config: CheckConfig, root: Path) -> list:
    """The findings ``config`` asks for."""
    exclude = config.exclude
    folder = None if config.templates else templates_folder(root)
    if folder:
        exclude = (*exclude, folder + "/**")
    select, ignore = set(config.select), set(config.ignore)
    excluded = _excluder(exclude) if exclude else None
    return [
        f for f in findings
        if (not select or f.code in select) and f.code not in ignore and not (excluded and excluded(f.path))
    ]
