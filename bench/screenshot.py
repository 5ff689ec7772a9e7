"""Export the project's vault and take the README's screenshot of its hub page.

    python bench/screenshot.py [--out docs/export-hub.png] [--note "Python Concurrency"]

Run it after the final `vaultgen build`: it exports vault/ to a temporary
folder, opens the hub note in headless Chromium (tests/cdp.py) at 1200x900,
waits for Mermaid, and writes the PNG.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.cdp import Chromium  # noqa: E402

_SCRIPT = Path(sys.executable).with_name("vaultgen")
VAULTGEN = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "generator"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "export-hub.png")
    parser.add_argument("--note", default="Python Concurrency")
    parser.add_argument("--dark", action="store_true", help="the dark theme instead of the light one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vaultgen-shot-") as work:
        site = Path(work) / "site"
        subprocess.run([*VAULTGEN, "export", "html", str(site), "--vault", str(REPO / "vault"),
                        "--title", args.note], check=True, cwd=REPO)
        with Chromium.start() as browser:
            page = browser.new_page(width=1200, height=900, dark=args.dark)
            page.goto((site / f"{args.note}.html").as_uri())
            if page.evaluate("document.querySelector('pre.mermaid') !== null"):
                page.wait_for("document.documentElement.dataset.mermaid")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
