"""Per-note cost of the linter's parse, single process, in CPU time.

    python bench/bench_scan.py VAULT [--limit N] [--agree]

Reads every ``.md`` note under VAULT once (not timed), then times
``quickscan.scan`` and ``parse_note_text`` over all of them with
``time.process_time`` (CPU time: wall time says little on a shared machine)
and prints microseconds per note and the share of notes the fast path
answers.  ``--agree`` also checks, note by note, that the fast path gives
what the markdown-it path gives, and exits 1 on the first difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generator.lint.notefacts import normalise_text, parse_note_text  # noqa: E402
from generator.lint.quickscan import scan  # noqa: E402


def read_notes(vault: Path, limit: int | None) -> list[tuple[str, str]]:
    """(path relative to the vault, text) of each readable note, sorted by path."""
    notes = []
    for path in sorted(vault.rglob("*.md")):
        if not path.is_file():
            continue  # FIFOs would block a read; the linter skips them too
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue  # dangling symlinks
        notes.append((str(path.relative_to(vault)), text))
        if limit is not None and len(notes) >= limit:
            break
    return notes


def per_note_us(function, texts: list[str]) -> float:
    start = time.process_time()
    for text in texts:
        function(text)
    return (time.process_time() - start) / max(len(texts), 1) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vault", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="only the first N notes by path")
    parser.add_argument("--agree", action="store_true", help="check fast path == markdown-it path on every note")
    args = parser.parse_args()
    notes = read_notes(args.vault, args.limit)
    texts = [normalise_text(text) for _, text in notes]
    answered = sum(scan(text) is not None for text in texts)  # also warms caches and imports
    parse_note_text("[[warm up]] `markdown-it`", quick=False)
    print(f"notes: {len(texts)}, fast path answers {answered} ({answered / max(len(texts), 1):.1%})")
    print(f"scan: {per_note_us(scan, texts):.0f} us/note")
    print(f"parse_note_text: {per_note_us(parse_note_text, [text for _, text in notes]):.0f} us/note")
    if args.agree:
        for path, text in notes:
            if parse_note_text(text) != parse_note_text(text, quick=False):
                print(f"DISAGREE: {path}")
                return 1
        print(f"agree: fast path == markdown-it path on all {len(notes)} notes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
