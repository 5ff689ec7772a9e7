"""Ship the default experiments and templates inside the wheel.

In the repository they stay at the top level, where a project keeps them;
in an installed wheel they live at ``generator/_defaults/`` so that
``vaultgen init`` can copy them into a new project (generator/defaults.py).
All other metadata is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DEFAULTS = {"experiments": "*.py", "templates": "*.j2"}


class BuildWithDefaults(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the repository itself
        for folder, pattern in DEFAULTS.items():
            target = Path(self.build_lib) / "generator" / "_defaults" / folder
            target.mkdir(parents=True, exist_ok=True)
            for source in sorted((HERE / folder).glob(pattern)):
                shutil.copy2(source, target / source.name)


setup(cmdclass={"build_py": BuildWithDefaults})
