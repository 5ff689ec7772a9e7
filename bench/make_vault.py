"""Write a seeded synthetic Obsidian vault and the findings `vaultgen check` must report.

    python bench/make_vault.py OUT [--notes 10000] [--seed 0] [--realistic]

creates OUT/vault/ (nested folders, every link form, decoy links hidden in
code, math and comments) and OUT/ground_truth.json: a sorted list of
{"code", "path", "line"} the checker must find exactly, no more, no less.
About 2% of links are broken and about 1% of notes are orphans.
"""

from __future__ import annotations

import argparse
import json
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

AREAS = ("Projects", "Areas", "Resources", "Archive", "Journal")
WORDS = (
    "thread pool queue lock event loop future latency throughput worker process "
    "shared memory pickle overhead scheduler contention release acquire benchmark"
).split()
# Share of links that are faulty; 5/9 of those are broken links or embeds,
# the rest missing headings/blocks, alias and ambiguous links.
FAULTY_SHARE = 0.035
# Chance per section of code, math or a comment hiding a decoy link: about
# a quarter of the notes get one.
DECOY_SHARE = 0.1


@dataclass
class NoteSpec:
    """A note to write; ``index`` names its block ids."""

    index: int
    folder: str
    name: str
    aliases: list[str] = field(default_factory=list)
    link_by_path: bool = False  # its base name is shared, so links need the folder

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.name}.md"


class NoteWriter:
    """Accumulates a note's lines and the findings expected on them."""

    def __init__(self, spec: NoteSpec, truth: list[dict]) -> None:
        self.spec, self.truth, self.lines = spec, truth, []

    def add(self, text: str, *codes: str) -> None:
        """Append ``text``; each code is expected on its first line."""
        first = len(self.lines) + 1
        self.lines.extend(text.split("\n"))
        for code in codes:
            self.truth.append({"code": code, "path": self.spec.path, "line": first})


class VaultMaker:
    def __init__(self, root: Path, notes: int, seed: int) -> None:
        self.root, self.rng, self.truth = root, random.Random(seed), []
        self.uid = 0
        topics = max(2, notes // 400)
        self.folders = [f"{area}/topic-{t:02d}" for area in AREAS for t in range(topics)]
        self.folders += [f"{folder}/deep" for folder in self.folders[::3]]
        self.images = [f"attachments/img-{j:03d}.png" for j in range(max(4, notes // 100))]
        self.pdfs = [f"{self.rng.choice(self.folders)}/paper-{j:02d}.pdf" for j in range(max(2, notes // 500))]
        self.specs: list[NoteSpec] = []
        self._plan(notes)

    def _next_uid(self) -> int:
        self.uid += 1
        return self.uid

    def _plan(self, notes: int) -> None:
        rng = self.rng
        dups, cases, bad = max(2, notes // 1000), max(1, notes // 2000), max(2, notes // 2500)
        regular = notes - 2 * dups - 2 * cases - bad - 1
        for i in range(regular):
            name = f"Café {i:05d}" if i % 50 == 7 else f"Note {i:05d}"
            spec = NoteSpec(i, rng.choice(self.folders), name)
            if i % 10 == 3:
                spec.aliases.append(f"Alias {i:05d}")
            self.specs.append(spec)
        orphan_count = max(2, notes // 100) - bad
        self.orphans = set(rng.sample(range(regular), orphan_count))
        index = regular
        pairs = [(f"Dup {k}", f"Dup {k}") for k in range(dups)] + [(f"Case {k}", f"case {k}") for k in range(cases)]
        for first, second in pairs:
            folder_a, folder_b = rng.sample(self.folders, 2)
            if first != second:  # a case collision: only within one folder
                folder_b = folder_a
            self.specs.append(NoteSpec(index, folder_a, first, link_by_path=True))
            self.specs.append(NoteSpec(index + 1, folder_b, second, link_by_path=True))
            index += 2
            if first != second:
                # Links cannot tell the two apart: none goes to the second.
                self.orphans.add(index - 1)
                for spec in self.specs[-2:]:
                    self.truth.append({"code": "case-collision", "path": spec.path, "line": None})
        for k in range(bad):
            spec = NoteSpec(index, rng.choice(self.folders), f"What? {k}" if k % 2 else f"Hash#{k}")
            self.specs.append(spec)
            self.orphans.add(index)
            self.truth.append({"code": "unlinkable-filename" if "#" in spec.name else "unportable-filename", "path": spec.path, "line": None})
            index += 1
        self.legacy = NoteSpec(index, "Archive", "Legacy 0")
        self.specs.append(self.legacy)
        for i in self.orphans:
            self.truth.append({"code": "orphan", "path": self.specs[i].path, "line": None})
        self.linkable = [s for s in self.specs if s.index not in self.orphans]
        self.by_name = [s for s in self.linkable if not s.link_by_path and s is not self.legacy]
        self.dups = [s for s in self.specs if s.name.startswith("Dup ")]
        self.aliased = [s for s in self.by_name if s.aliases]

    # -- link forms ---------------------------------------------------------

    def _name_in_link(self, spec: NoteSpec) -> str:
        if spec.link_by_path or spec is self.legacy:
            return f"{spec.folder}/{spec.name}"
        if spec.name.startswith("Café") and spec.index % 100 == 7:
            return unicodedata.normalize("NFD", spec.name)  # resolves after NFC
        return spec.name

    def _valid_link(self, target: NoteSpec) -> str:
        name = self._name_in_link(target)
        if target.link_by_path or target is self.legacy:
            return f"[[{name}]]"
        forms = (
            lambda: f"[[{name}]]",
            lambda: f"[[{name}|see {name.lower()}]]",
            lambda: f"[[{name}#Section 2]]",
            lambda: f"[[{name}#Section 2#Details 2]]",
            lambda: f"[[{name}#^b{target.index}x1]]",
            lambda: f"[[{target.folder}/{name}]]",
            lambda: f"[[{target.folder.split('/')[-1]}/{name}]]",
            lambda: f"[[{name}.md]]",
            lambda: f"[[{name.lower()}]]",
            lambda: f"![[{name}]]",
            lambda: f"![[{name}#Section 1]]",
            lambda: f"[{name}]({quote(name)}.md)",
            lambda: f"[there](<{target.folder}/{name}.md>)",
            lambda: f"[[{name}#section 3]]",
        )
        return self.rng.choice(forms)()

    def _embed(self) -> str:
        image = self.rng.choice(self.images).rsplit("/", 1)[1]
        return self.rng.choice(
            (f"![[{image}]]", f"![[{image}|200]]", f"![[{image}|200x100]]",
             f"![[{self.rng.choice(self.pdfs).rsplit('/', 1)[1]}]]", f"![diagram]({image})")
        )

    def _faulty_link(self) -> tuple[str, str]:
        uid, target = self._next_uid(), self.rng.choice(self.by_name)
        choice = self.rng.randrange(9)
        if choice < 3:
            return f"[[Missing {uid}]]", "broken-link"
        if choice == 3:
            return f"[gone](Missing%20{uid}.md)", "broken-link"
        if choice == 4:
            return f"![[missing-{uid}.png]]", "broken-embed"
        if choice == 5:
            return f"[[{target.name}#Nope {uid}]]", "missing-heading"
        if choice == 6:
            return f"[[{target.name}#^zz{uid}]]", "missing-block"
        if choice == 7 and self.aliased:
            return f"[[{self.rng.choice(self.aliased).aliases[0]}]]", "alias-link"
        return f"[[{self.rng.choice(self.dups).name}]]", "ambiguous-link"

    # -- note bodies --------------------------------------------------------

    def _prose(self, words: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(words)).capitalize() + "."

    def _front_matter(self, note: NoteWriter) -> None:
        spec, rng = note.spec, self.rng
        if not spec.aliases and rng.random() < 0.5:
            return
        note.add("---")
        # Notes with aliases stay valid, or alias links to them would break.
        roll = 1.0 if spec.aliases else rng.random()
        if roll < 0.004:
            note.add("title: broken: yaml", "yaml-error")
        elif roll < 0.012:
            bad = rng.choice(("tag: python", "tags: [has space]", "tags: [2024]", "tags: python", "up: [[Note 00001]]"))
            note.add(bad, "invalid-property")
        else:
            note.add("tags:\n  - concurrency\n  - topic/threads")
        if spec.aliases:
            note.add("aliases:\n  - " + spec.aliases[0])
        note.add("created: 2024-05-01\n---")

    def _decoys(self, note: NoteWriter) -> None:
        decoy = f"Decoy {self._next_uid()}"
        hidden = self.rng.choice(self.by_name).name
        block = self.rng.choice((
            f"Inline `[[{decoy}]]` code.",
            f"```python\n# [[{decoy}]] not a heading\nx = '[[{decoy}]]'\n```",
            f"~~~\n[[{decoy}]]\n~~~",
            f"    [[{decoy}]] indented code",
            f"Math $a [[{decoy}]] b$ inline.",
            f"$$\n\\text{{[[{decoy}]]}}\n$$",
            f"<!-- [[{decoy}]] -->",
            # Obsidian keeps links in %% comments: these must resolve.
            f"Hidden %% [[{hidden}]] %% comment.",
            f"%%\n[[{hidden}]]\n\nstill a link `[[{hidden}]]`\n%%",
        ))
        note.add("")
        note.add(block)
        note.add("")

    def _links(self, note: NoteWriter, count: int) -> None:
        for _ in range(count):
            prose = self._prose(self.rng.randint(4, 14))
            if self.rng.random() < FAULTY_SHARE:
                link, code = self._faulty_link()
                note.add(f"{prose} {link}", code)
            elif self.rng.random() < 0.12:
                note.add(f"{prose} {self._embed()}")
            else:
                note.add(f"{prose} {self._valid_link(self.rng.choice(self.linkable))}")

    def _body(self, spec: NoteSpec, successor: NoteSpec) -> list[str]:
        note, rng = NoteWriter(spec, self.truth), self.rng
        self._front_matter(note)
        note.add(f"# {spec.name}\n\n{self._prose(20)}")
        note.add(f"Next: {self._valid_link(successor)}")
        for section in (1, 2, 3):
            note.add(f"\n## Section {section}\n")
            self._links(note, rng.randint(1, 4))
            if section == 1:
                note.add(f"{self._prose(8)} ^b{spec.index}x1")
                note.add(f"\n| Link | Value |\n| --- | --- |\n| {self._valid_link(rng.choice(self.by_name)).replace('|', chr(92) + '|')} | 1 |\n")
            # Decoys go before the list: indented "code" after a list item
            # would be a continuation paragraph, with live links.
            if rng.random() < DECOY_SHARE:
                self._decoys(note)
            if section == 2:
                note.add(f"- {self._prose(6)} [[#Section 1]] ^b{spec.index}x2\n- {self._prose(5)}")
            note.add(f"\n### Details {section}\n\n{self._prose(rng.randint(10, 40))}")
        return note.lines

    # -- writing ------------------------------------------------------------

    def write(self) -> list[dict]:
        vault = self.root
        for rel in self.images + self.pdfs:
            path = vault / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x89PNG\r\n" if rel.endswith(".png") else b"%PDF-1.4\n")
        chain = self.linkable[:]
        self.rng.shuffle(chain)
        successor = {chain[i].index: chain[(i + 1) % len(chain)] for i in range(len(chain))}
        for spec in self.specs:
            lines = self._body(spec, successor.get(spec.index, self.rng.choice(self.linkable)))
            path = vault / spec.path
            path.parent.mkdir(parents=True, exist_ok=True)
            if spec is self.legacy:
                self.truth.append({"code": "not-utf8", "path": spec.path, "line": len(lines) + 1})
                path.write_bytes(("\n".join(lines) + "\n").encode() + "Ancien caf\xe9.\n".encode("latin-1"))
            else:
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._write_hidden(vault)
        return sorted(self.truth, key=lambda f: (f["path"], f["line"] or 0, f["code"]))

    @staticmethod
    def _write_hidden(vault: Path) -> None:
        """Dot-folders Obsidian ignores; a checker reading them would report junk."""
        for rel in (".obsidian/snippets/x.md", ".trash/Old.md", ".vaultgen/staging/y.md"):
            path = vault / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("[[Nowhere]] ![[nothing.png]]\n", encoding="utf-8")
        (vault / ".obsidian/app.json").write_text("{}\n", encoding="utf-8")


def make_vault(out: Path, notes: int = 10_000, seed: int = 0, *, realistic: bool = False) -> tuple[Path, list[dict]]:
    """Create ``out/vault`` and ``out/ground_truth.json``; return both.

    ``realistic``: 2–8 KB notes like real ones (bench/realistic.py).
    """
    vault = out / "vault"
    if realistic:
        from realistic import make_realistic

        truth = make_realistic(vault, notes, seed)
    else:
        truth = VaultMaker(vault, notes, seed).write()
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8")
    return vault, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--realistic", action="store_true", help="2-8 KB notes like real ones, canvases, symlinks")
    args = parser.parse_args()
    if (args.out / "vault").exists():
        parser.error(f"{args.out / 'vault'} exists; pick an empty folder")
    vault, truth = make_vault(args.out, args.notes, args.seed, realistic=args.realistic)
    print(f"wrote {vault} ({args.notes} notes) and {len(truth)} expected findings")


if __name__ == "__main__":
    main()
