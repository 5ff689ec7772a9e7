"""vaultgen: runnable Python experiments rendered into a measured Obsidian vault.

The public API; everything else is internal and may change::

    from generator import BuildOptions, Project, build, check_vault

    report = build(Project.find(), BuildOptions(profile="quick"))
    findings = check_vault("vault").findings

Names are imported on first use (PEP 562), so ``vaultgen --help`` does not
pay for the build's or the linter's imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BuildOptions",
    "BuildReport",
    "Project",
    "Settings",
    "VaultgenError",
    "build",
    "check_vault",
    "link_graph",
]

# The build's library API lives in generator.pipeline, not generator.build:
# importing a submodule sets the package attribute of its name, which would
# turn `generator.build` from the function into the module.
_WHERE = {
    "BuildOptions": "generator.pipeline",
    "BuildReport": "generator.pipeline",
    "build": "generator.pipeline",
    "Project": "generator.config",
    "Settings": "generator.config",
    "VaultgenError": "generator.errors",
    "check_vault": "generator.lint",
    "link_graph": "generator.lint",
}

if TYPE_CHECKING:
    from generator.pipeline import BuildOptions, BuildReport, build
    from generator.lint import check_vault, link_graph
    from generator.config import Project, Settings
    from generator.errors import VaultgenError


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'generator' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
