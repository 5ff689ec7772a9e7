"""Realistic mode of bench/make_vault.py: notes like the ones people keep.

Each note is 2–8 KB of what real notes hold: badges and URLs with ``&``,
HTML comments with backticks, callouts, tables, code fences, nested lists,
property links, headings with punctuation; and the vault has canvases, a
Templates folder, a folder symlinked from outside, a dangling symlink, a
FIFO and an alias-bomb note.  The ground truth covers every rule of the
README's linter section.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from make_vault import NoteSpec, NoteWriter, VaultMaker

BADGE = "[![build](https://img.shields.io/badge/build-passing-green?style=flat&logo=github)](https://github.com/o/r/actions?query=branch%3Amain&event=push)"
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(f"{k}: &{k} [{','.join(['*' + p] * 9)}]\n" for p, k in zip("abcdefgh", "bcdefghi"))


class RealisticMaker(VaultMaker):
    """VaultMaker whose notes and vault look like a real one."""

    def _front_matter(self, note: NoteWriter) -> None:
        spec, rng = note.spec, self.rng
        roll = rng.random()
        if roll < 0.01 and not spec.aliases:
            note.add("---\ncreated: {{date}}")
            self.truth.append({"code": "template-syntax", "path": spec.path, "line": 2})
            note.add("---")
            return
        note.add("---")
        note.add("tags:\n  - concurrency\n  - topic/threads")
        if spec.aliases:
            note.add("aliases:\n  - " + spec.aliases[0])
        note.add(f'up: "[[{rng.choice(self.by_name).name}]]"')
        if rng.random() < 0.3:
            related = [f'  - "[[{rng.choice(self.by_name).name}]]"' for _ in range(rng.randint(1, 3))]
            if rng.random() < 0.05:
                related.append(f'  - "[[Missing property {self._next_uid()}]]"')
                note.add("related:")
                note.add("\n".join(related[:-1]))
                note.add(related[-1], "broken-link")
            else:
                note.add("related:\n" + "\n".join(related))
        note.add("source: https://example.com/post?id=7&lang=en\ncreated: 2024-05-01\n---")

    def _table(self) -> str:
        rows = (f"| {self._prose(2)} | [[{self.rng.choice(self.by_name).name}\\|alias]] | {self.rng.randint(1, 99)} |" for _ in range(self.rng.randint(2, 6)))
        return "| Item | Link | n |\n| --- | --- | --- |\n" + "\n".join(rows)

    def _rich(self, note: NoteWriter) -> None:
        """One block of the furniture real notes carry."""
        target = self.rng.choice(self.by_name)
        name, prose = target.name, self._prose
        blocks = (
            lambda: f"{BADGE} {prose(6)} see https://example.org/a?b=1&c=2 and [docs](https://docs.python.org/3/?x=1&y=2).",
            lambda: f"<!-- TODO: `fix` the [[Decoy {self._next_uid()}]] list -->\n{prose(8)}",
            lambda: f"> [!note] {prose(3)}\n> {prose(10)} [[{name}]]\n> {prose(6)}",
            self._table,
            lambda: f"```python\nimport threading  # [[Decoy {self._next_uid()}]]\nx = {{'a': 1}}\n```",
            lambda: f"- {prose(4)} [[{name}#What is it]]\n  - {prose(5)}\n    - {prose(3)} `code`\n- {prose(4)}",
            lambda: f"{prose(6)} [[{name}#hasTag]] and [[{name}#Setup Vault]].",
            lambda: f"See [[{name}#^B{target.index}X1]] for the block. **Bold** _text_ and a footnote.[^1]\n\n[^1]: {prose(5)}",
            lambda: f"1. {prose(5)}\n2. {prose(4)} [text]({name.replace(' ', '%20')}.md)\n3. {prose(3)}",
        )
        note.add(self.rng.choice(blocks)())

    def _body(self, spec: NoteSpec, successor: NoteSpec) -> list[str]:
        lines = super()._body(spec, successor)
        note = NoteWriter(spec, self.truth)
        note.lines = lines
        note.add("\n## What is it?\n")
        note.add(self._prose(30))
        note.add("\n### `hasTag()`\n\n## Setup & Vault\n")
        size, goal = sum(map(len, lines)), self.rng.randint(2000, 8000)
        while size < goal:
            note.add("")
            self._rich(note)
            note.add("")
            note.add(self._prose(self.rng.randint(20, 60)))
            size = sum(map(len, note.lines))
        return note.lines

    # -- the vault around the notes --------------------------------------------

    def write(self) -> list[dict]:
        truth = super().write()
        vault, rng = self.root, self.rng
        extra = []

        def note(rel: str, text: str) -> None:
            path = vault / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

        # Deep lists keep their links; one at depth 12 is broken.
        hub = "Resources/Hub deep lists.md"
        lines = ["  " * depth + f"- level {depth} [[{rng.choice(self.by_name).name}]]" for depth in range(14)]
        lines.append("  " * 12 + f"- [[Deep missing {self._next_uid()}]]")
        note(hub, "\n".join(lines) + "\n")
        extra += [{"code": "orphan", "path": hub, "line": None}, {"code": "broken-link", "path": hub, "line": 15}]
        # JavaScript case folding: ß is not ss.
        note("Resources/Straße.md", "[[straße]] is this note.\n")
        note("Resources/Folding.md", "[[STRASSE]] is broken, [[straße]] is not.\n")
        extra += [{"code": "broken-link", "path": "Resources/Folding.md", "line": 1}, {"code": "orphan", "path": "Resources/Folding.md", "line": None}]
        # An alias bomb: one finding, at once.
        note("Archive/Bomb.md", f"---\n{BOMB}---\n[[Resources/Straße]]\n")
        extra += [{"code": "yaml-too-complex", "path": "Archive/Bomb.md", "line": 2}, {"code": "orphan", "path": "Archive/Bomb.md", "line": None}]
        # The Templates folder is not checked.
        (vault / ".obsidian").mkdir(exist_ok=True)
        (vault / ".obsidian/templates.json").write_text('{"folder": "Templates"}\n', encoding="utf-8")
        note("Templates/Daily.md", "---\ncreated: {{date}}\nup: \"[[{{title}} index]]\"\n---\n# {{title}}\n[[{{date}} log]]\n")
        # Canvases: file cards and links in text cards; one card is broken.
        for k in range(max(2, len(self.specs) // 1000)):
            cards = [{"id": f"c{k}-{j}", "type": "file", "file": rng.choice(self.linkable).path, "x": j, "y": 0, "width": 400, "height": 300} for j in range(5)]
            cards.append({"id": f"t{k}", "type": "text", "text": f"See [[{rng.choice(self.by_name).name}]] and [[Canvas missing {k}]]", "x": 0, "y": 400, "width": 400, "height": 100})
            rel = f"Boards/Board {k}.canvas"
            path = vault / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps({"nodes": cards, "edges": []}, indent="\t")
            path.write_text(text, encoding="utf-8")
            line = text.split("\n").index(f'\t\t\t"id": "t{k}",') + 1
            extra.append({"code": "broken-link", "path": rel, "line": line})
        # A folder symlinked from outside the vault, a dangling link and a FIFO.
        outside = vault.parent / "outside"
        (outside / "Shared").mkdir(parents=True, exist_ok=True)
        (outside / "Shared" / "Shared note.md").write_text("[[Resources/Straße]]\n", encoding="utf-8")
        (vault / "Linked").symlink_to(outside, target_is_directory=True)
        extra.append({"code": "orphan", "path": "Linked/Shared/Shared note.md", "line": None})
        (vault / "Archive" / "Dangling.md").symlink_to(vault / "Archive" / "gone.md")
        extra.append({"code": "skipped-file", "path": "Archive/Dangling.md", "line": None})
        if hasattr(os, "mkfifo"):
            os.mkfifo(vault / "Archive" / "pipe.md")
            extra.append({"code": "skipped-file", "path": "Archive/pipe.md", "line": None})
        return sorted(truth + extra, key=lambda f: (f["path"], f["line"] or 0, f["code"]))


def make_realistic(root: Path, notes: int, seed: int) -> list[dict]:
    return RealisticMaker(root, notes, seed).write()
