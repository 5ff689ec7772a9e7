"""A small vault with the Obsidian features an export must get right, for the export tests."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

HOME = """\
---
tags: [edge/home, demo]
aliases: [Start]
related: "[[Other]]"
rating: 3
---
# Home

Plain [[Other]], aliased [[Other|the other note]], a heading [[Other#Section A]],
nested [[Other#Section A#Sub]], a block [[Other#^blk1]], here [[#Local part]],
by path [[folder/Deep Note]], [Markdown link](Other.md), [[R&D 100% done]] and [[Café ü]].
Broken: [[Missing note]], [[Other#No such heading]] and [gone](Nowhere.md).
Inline tags: #edge/inline and #demo.

> [!warning]- Folded warning
> Hidden until opened.

> [!tip]+ Open tip
> Shown, with [[Other]] inside.

> [!faq] An alias type
> > [!bug] Nested bug
> > Inside.

> [!unknowntype]
> Falls back to the note look.

```mermaid
flowchart LR
  A[Home] --> B[Other]
```

%% a hidden comment with [[Other|Secret note]] (Obsidian counts links in comments: this one resolves) %%

%%
a hidden block comment
%%

Footnote here[^1]. `[[Not a link]]` in code.

- [ ] open task
- [x] done task

| Link | Value |
| --- | --- |
| [[Other\\|piped]] | 1 |

![[diagram.svg|300]]
![[pic.png]]
![alt text](pic.png)
![[nothing.png]]

## Local part

Section embed:

![[Other#Section A]]

Block embed:

![[Other#^blk1]]

Whole note:

![[Other]]

[^1]: The footnote.
"""

OTHER = """\
# Other

Intro with the word zanzibarish that only this note has.

## Section A

Text of section A. ^blk1

### Sub

Deeper text.

## Section B

Back to ![[Home]] (a cycle) and [[Home#Local part]].
"""

DEEP = """\
---
tags: edge/deep
---
A note in a folder, linking [[Home]] and [[../Other]].
"""


def _png(width: int = 3, height: int = 2) -> bytes:
    """A valid RGB PNG, built with the standard library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80\x20\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60">'
       '<rect width="120" height="60" fill="#4a7"/><text x="10" y="35" font-size="14">chart</text></svg>\n')

# Links the linter reports as errors in this vault: each must render as broken.
BROKEN_IN_HOME = 4  # Missing note, No such heading, Nowhere.md, nothing.png


def make_edge_vault(root: Path) -> Path:
    vault = root / "edge"
    (vault / "folder").mkdir(parents=True)
    (vault / "media").mkdir()
    (vault / ".obsidian").mkdir()
    (vault / ".obsidian" / "app.json").write_text("{}\n")
    (vault / "Home.md").write_text(HOME, encoding="utf-8")
    (vault / "Other.md").write_text(OTHER, encoding="utf-8")
    (vault / "folder" / "Deep Note.md").write_text(DEEP, encoding="utf-8")
    (vault / "R&D 100% done.md").write_text("Odd characters in the name; back to [[Home]].\n", encoding="utf-8")
    (vault / "Café ü.md").write_text("Unicode name; back to [[Home]].\n", encoding="utf-8")
    (vault / "media" / "pic.png").write_bytes(_png())
    (vault / "media" / "diagram.svg").write_text(SVG, encoding="utf-8")
    return vault
