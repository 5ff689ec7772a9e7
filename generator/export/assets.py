"""The site's static files: stylesheet, scripts, the bundled Mermaid, the search index.

Everything a page loads ships inside the package (``static/``), so an
exported site makes no network request.  Mermaid is the npm package's
``dist/mermaid.min.js`` (MIT, see ``static/mermaid.LICENSE``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from generator.export.linking import ASSETS_DIR

STATIC = Path(__file__).with_name("static")
FILES = ("style.css", "site.js", "mermaid-init.js", "mermaid.min.js", "mermaid.LICENSE")


def install(site: Path, search_index: str) -> None:
    folder = site / ASSETS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(STATIC / name, folder / name)
    (folder / "search-index.js").write_text(search_index, encoding="utf-8")
