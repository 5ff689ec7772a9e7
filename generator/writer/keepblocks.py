"""Keep blocks: text between ``%% keep: NAME %%`` and ``%% end keep %%`` belongs to the user.

The text is carried into every new rendering and left out of the manifest's
hash, so editing only inside keep blocks is not a hand edit.
"""

from __future__ import annotations

import re

# A body may not contain another opening marker: an unterminated block then
# stays plain text instead of swallowing the next block.
_KEEP_BLOCK = re.compile(
    r"(?P<open>%%[ \t]*keep:[ \t]*(?P<name>[^%\r\n]+?)[ \t]*%%)"
    r"(?P<body>(?:(?!%%[ \t]*keep:).)*?)"
    r"(?P<close>%%[ \t]*end keep[ \t]*%%)",
    re.DOTALL,
)
ORPHAN_HEADING = "## Kept text from removed keep blocks"
_ORPHAN_NOTE = (
    "%% vaultgen: the template no longer has these keep blocks. Move the text where "
    "you want it; a block left empty is dropped at the next build. %%"
)


def strip_keep_bodies(text: str) -> str:
    """The text with every keep block emptied: what a hand edit is judged on."""
    return _KEEP_BLOCK.sub(lambda m: m["open"] + m["close"], text)


def carry_keep_blocks(new_text: str, old_text: str) -> str:
    """The new rendering with the old file's keep-block bodies put back.

    Blocks are matched by name, the n-th old block of a name going to the n-th
    new one.  Old blocks the rendering no longer has are appended under
    ORPHAN_HEADING so their text is never lost; a whitespace-only orphan has
    nothing to lose and is dropped, which is also how the user gets rid of one.
    """
    old_blocks = [(m["name"], m["body"]) for m in _KEEP_BLOCK.finditer(old_text)]
    unused = list(range(len(old_blocks)))

    def put_back(match: re.Match[str]) -> str:
        for index in unused:
            name, body = old_blocks[index]
            if name == match["name"]:
                unused.remove(index)
                return match["open"] + body + match["close"]
        return match[0]

    merged = _KEEP_BLOCK.sub(put_back, new_text)
    orphans = [
        f"%% keep: {name} %%{body}%% end keep %%"
        for name, body in (old_blocks[index] for index in unused)
        if body.strip()
    ]
    if not orphans:
        return merged
    return merged.rstrip("\n") + "\n\n" + "\n\n".join([ORPHAN_HEADING, _ORPHAN_NOTE, *orphans]) + "\n"


def is_keep_text(path: str) -> bool:
    """Only notes carry keep blocks; charts and settings are compared byte for byte."""
    return path.endswith(".md")
