"""Where a project keeps its pieces, and the measurement profiles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import ConfigError

PROFILES = ("quick", "full")

# Per-experiment wall-clock limit.  Generous: an experiment spends its own
# time budget (harness) and only a hung one should ever reach this.
DEFAULT_TIMEOUT = {"quick": 60.0, "full": 120.0}


@dataclass(frozen=True)
class Project:
    """The folders of one vaultgen project, all under ``root``."""

    root: Path

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def vault(self) -> Path:
        return self.root / "vault"

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
                return cls(folder)
        raise ConfigError(
            "no vaultgen project here: no folder with templates/ and experiments/",
            path=here,
            hint="run vaultgen from the project folder or pass --project PATH",
        )
