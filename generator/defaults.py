"""Where the default experiments and templates are: in the wheel, or in the repository.

An installed wheel carries them as package data under ``generator/_defaults/``
(setup.py puts them there); a source checkout or an editable install reads
the repository's own top-level ``experiments/`` and ``templates/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def folder(name: str) -> Path:
    """The default ``experiments`` or ``templates`` folder that ``vaultgen init`` copies."""
    for candidate in (_PACKAGE / "_defaults" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    from generator.errors import ConfigError

    raise ConfigError(f"this vaultgen installation has no default {name}/", path=_PACKAGE,
                      hint="reinstall vaultgen from its wheel or a full clone")
