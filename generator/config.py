"""Where a project keeps its pieces, and its settings.

Settings come from the ``[tool.vaultgen]`` table of the project's
``pyproject.toml`` (read with tomllib, or tomli before Python 3.11); a flag
on the command line overrides a setting for one command.  Every effective
value remembers where it came from, which ``vaultgen config`` prints.

    [tool.vaultgen]
    interpreters = ["default", "/opt/cpython-3.13t/bin/python3.13t"]
    profile = "full"
    timeout = 180            # seconds per experiment; or {quick = 60, full = 180}
    vault = "vault"

    [tool.vaultgen.check]    # the linter's selections (generator.lint reads them)
    select = ["broken-link"]
    ignore = ["orphan"]
    exclude = ["Templates/**"]
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Literal, Mapping, get_args

from generator.errors import ConfigError, UsageError
from generator.writer.fsops import SETTINGS_MAX_BYTES, read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

Profile = Literal["quick", "full"]
PROFILES: tuple[Profile, ...] = get_args(Profile)

# Per-experiment wall-clock limit.  Generous: an experiment spends its own
# time budget (harness) and only a hung one should ever reach this.
DEFAULT_TIMEOUT: dict[Profile, float] = {"quick": 60.0, "full": 180.0}

# The interpreter vaultgen itself runs in, as an entry of `interpreters`.
DEFAULT_INTERPRETER = "default"

PYPROJECT = "pyproject.toml"
TABLE = "tool.vaultgen"
_KEYS = ("interpreters", "profile", "timeout", "vault", "check")

DEFAULT_SOURCE = "default"
FLAG_SOURCE = "command line"


@dataclass(frozen=True)
class Settings:
    """The effective settings of one project, and where each came from."""

    interpreters: tuple[str, ...] = (DEFAULT_INTERPRETER,)
    profile: Profile = "full"
    timeout: Mapping[Profile, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUT))
    vault: str = "vault"
    check: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    def source(self, key: str) -> str:
        return self.sources.get(key, DEFAULT_SOURCE)

    def timeout_for(self, profile: Profile) -> float:
        return self.timeout[profile]

    def override(self, **flags: Any) -> Settings:
        """These settings with the flags that were given (None: not given) taking precedence."""
        given = {k: v for k, v in flags.items() if v is not None and v != ()}
        if "timeout" in given:
            given["timeout"] = dict.fromkeys(PROFILES, check_timeout(given["timeout"]))
        if "interpreters" in given:
            given["interpreters"] = tuple(given["interpreters"])
        if "profile" in given:
            given["profile"] = check_profile(given["profile"])
        sources = dict(self.sources, **dict.fromkeys(given, FLAG_SOURCE))
        return replace(self, **given, sources=sources)

    def rows(self) -> list[tuple[str, str, str]]:
        """(setting, value, source) for ``vaultgen config``."""
        timeout = ", ".join(f"{p} {self.timeout[p]:g} s" for p in PROFILES)
        check = ", ".join(f"{k} = {v!r}" for k, v in sorted(self.check.items())) or "(linter defaults)"
        return [
            ("interpreters", "\n".join(self.interpreters), self.source("interpreters")),
            ("profile", self.profile, self.source("profile")),
            ("timeout", timeout, self.source("timeout")),
            ("vault", self.vault, self.source("vault")),
            ("check", check, self.source("check")),
        ]


def check_timeout(timeout: float) -> float:
    """``--timeout`` as seconds: a positive, finite number (nan, inf, 0 and -1 are refused;
    nan would never time out, as every comparison with it is false)."""
    timeout = float(timeout)
    if not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--timeout {timeout:g} is not a positive, finite number of seconds",
                         hint="give the seconds after which a hanging experiment is killed, e.g. --timeout 120")
    return timeout


def check_profile(profile: str) -> Profile:
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}", hint=f"use one of: {', '.join(PROFILES)}")
    return profile


def _key_line(text: str, key: str) -> int | None:
    """The line of ``key = …`` inside the [tool.vaultgen] tables, for error messages."""
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[+\s*([^\]]+?)\s*\]", line)
        if header:
            in_table = header.group(1) == TABLE or header.group(1).startswith(TABLE + ".")
            if in_table and header.group(1).rsplit(".", 1)[-1] == key:
                return number
        elif in_table and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None


def read_table(pyproject: Path) -> tuple[dict[str, Any], str]:
    """The raw ``[tool.vaultgen]`` table of ``pyproject`` (empty if none) and the file's text."""
    try:
        text = read_regular(pyproject, at_most=SETTINGS_MAX_BYTES).decode("utf-8")  # a FIFO or /dev/zero is refused
    except FileNotFoundError:
        return {}, ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the project's settings: {exc}", path=pyproject) from exc
    try:
        data = tomllib.loads(text)
    except RecursionError:  # arrays nested hundreds deep: tomllib recurses once per level
        raise ConfigError("invalid TOML: nested too deeply to be read", path=pyproject,
                          hint="fix the file; https://toml.io explains the syntax") from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise ConfigError(f"invalid TOML: {exc}", path=pyproject, line=line,
                          hint="fix the file; https://toml.io explains the syntax") from exc
    table = data.get("tool", {}).get("vaultgen", {})
    if not isinstance(table, dict):
        raise ConfigError("[tool.vaultgen] must be a table", path=pyproject, line=_key_line(text, "vaultgen"))
    return table, text


# The project's own folders: a vault there would mix notes with its sources or state.
_PROJECT_FOLDERS = frozenset({"experiments", "templates", "results", ".vaultgen"})


def _vault_problem(value: object) -> str | None:
    """Why ``value`` cannot be the vault folder: it must be a new folder inside the project,
    so that a build never writes outside it nor into its sources."""
    if not isinstance(value, str) or not value.strip():
        return "must be a folder path relative to the project, e.g. \"vault\""
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or PureWindowsPath(value).drive:
        return f"{value!r} is absolute: it must be a folder inside the project, e.g. \"vault\""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return f"{value!r} holds a control character"
    parts = [part for part in path.parts if part != "."]
    if not parts:
        return "must be a folder inside the project, not the project folder itself"
    if ".." in parts:
        return f"{value!r} leaves the project: it must be a folder inside it, e.g. \"vault\""
    if any(part.startswith(".") for part in parts):
        return f"{value!r} is a hidden folder (.git, .vaultgen, ...): Obsidian and vaultgen keep their own state there"
    if any(part != part.strip() or part.endswith(".") for part in parts):
        return f"{value!r} has a name ending in a space or a dot, which Windows drops"
    if parts[0].lower() in _PROJECT_FOLDERS:
        return f"{value!r} is, or is inside, the project's {parts[0]}/ folder: choose a folder of its own, e.g. \"vault\""
    return None


def load_settings(pyproject: Path) -> Settings:
    """The settings in ``pyproject``'s [tool.vaultgen] table, defaults for the rest."""
    table, text = read_table(pyproject)

    def bad(key: str, what: str) -> ConfigError:
        return ConfigError(f"[tool.vaultgen] {key}: {what}", path=pyproject, line=_key_line(text, key),
                           hint="see the README's Configuration section")

    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise bad(unknown[0], f"unknown setting (known: {', '.join(_KEYS)})")
    values: dict[str, Any] = {}
    if "interpreters" in table:
        names = table["interpreters"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise bad("interpreters", 'must be a non-empty list of names or paths, e.g. ["default", "python3.13"]')
        values["interpreters"] = tuple(names)
    if "profile" in table:
        if table["profile"] not in PROFILES:
            raise bad("profile", f"must be one of {', '.join(PROFILES)}")
        values["profile"] = table["profile"]
    if "timeout" in table:
        values["timeout"] = _timeouts(table["timeout"], lambda what: bad("timeout", what))
    if "vault" in table:
        problem = _vault_problem(table["vault"])
        if problem:
            raise bad("vault", problem)
        values["vault"] = table["vault"]
    if "check" in table:
        if not isinstance(table["check"], dict):
            raise bad("check", "must be a table: [tool.vaultgen.check]")
        values["check"] = table["check"]
    source = f"{pyproject.name} [tool.vaultgen]"
    return Settings(**values, sources=dict.fromkeys(values, source))


def _timeouts(value: object, bad: Any) -> dict[Profile, float]:
    def seconds(v: object) -> float:
        # nan would never time out (every comparison with it is false), nor would inf.
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
            raise bad("must be a finite, positive number of seconds, or a table {quick = 60, full = 180}")
        return float(v)

    if isinstance(value, dict):
        unknown = sorted(set(value) - set(PROFILES))
        if unknown:
            raise bad(f"unknown profile {unknown[0]!r}")
        return {p: seconds(value[p]) if p in value else DEFAULT_TIMEOUT[p] for p in PROFILES}
    return dict.fromkeys(PROFILES, seconds(value))


@dataclass(frozen=True)
class Project:
    """The folders of one vaultgen project, all under ``root``, and its settings."""

    root: Path
    settings: Settings = field(default_factory=Settings, compare=False)

    @classmethod
    def load(cls, root: Path) -> Project:
        """The project at ``root`` with the settings of its pyproject.toml."""
        return cls(root, load_settings(root / PYPROJECT))

    @property
    def pyproject(self) -> Path:
        return self.root / PYPROJECT

    def check_linter_settings(self) -> None:
        """Refuse a ``check`` table as ``vaultgen check`` would (UsageError naming the file).

        Only ``vaultgen config`` asks: it imports the linter, which other commands need not load.
        """
        if self.settings.check:
            from generator.lint.config import check_config

            check_config(dict(self.settings.check), self.pyproject, read_table(self.pyproject)[1], "tool.vaultgen.check")

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def vault(self) -> Path:
        return self.root / self.settings.vault

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def cache(self) -> Path:
        """Machine-local state that is never committed (see .gitignore)."""
        return self.root / ".vaultgen"

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The nearest folder at or above ``start`` that has templates/ and experiments/."""
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "templates").is_dir() and (folder / "experiments").is_dir():
                return cls.load(folder)
        raise ConfigError(
            "no vaultgen project here: no folder with templates/ and experiments/",
            path=here,
            hint="run vaultgen from the project folder, pass --project PATH, or start one with vaultgen init",
        )
