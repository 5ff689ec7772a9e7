"""Keep blocks: text between ``%% keep: NAME %%`` and ``%% end keep %%`` belongs to the user.

The text is carried into every new rendering, matched by the block's name
(never by position), and left out of the manifest's hash, so editing only
inside keep blocks is not a hand edit.

Markers inside fenced or inline code (an example script's source, its output,
a failed run's message quoted in a callout) are not blocks: they are what the
code says, as Obsidian reads no ``%%`` comment there either.  A rendering must name each block once
and may not nest them (``keep_block_problem``); a file on disk is read
leniently, since whatever the user typed there must survive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"%%[ \t]*(?:keep:[ \t]*(?P<name>[^%\r\n]+?)|(?P<end>end keep))[ \t]*%%")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TICKS = re.compile(r"`+")
ORPHAN_HEADING = "## Kept text from removed keep blocks"
_ORPHAN_NOTE = (
    "%% vaultgen: the template no longer has these keep blocks. Move the text where "
    "you want it; a block left empty is dropped at the next build. %%"
)


@dataclass(frozen=True)
class Block:
    name: str
    start: int  # where the opening marker starts
    body_start: int  # just after the opening marker
    body_end: int  # where the closing marker starts
    end: int  # just after the closing marker


def next_fence(fence: str | None, line: str) -> str | None:
    """The open code fence after ``line`` (None outside one), given the one before it."""
    match = _FENCE.match(line)
    if match is None:
        return fence
    marker = match.group(1)
    if fence is None:
        return marker
    closes = marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip()[len(marker):]
    return None if closes else fence


def scan(text: str) -> tuple[list[Block], list[str]]:
    """The keep blocks of ``text`` and what is wrong with its markers (nesting, no end)."""
    blocks, problems = _scan(text)
    return blocks, [problem for problem, _ in problems]


def marker_problems(text: str) -> list[tuple[str, int]]:
    """What is wrong with the keep markers of ``text``, each with the line of the marker."""
    return [(problem, text.count("\n", 0, at) + 1) for problem, at in _scan(text)[1]]


def _scan(text: str) -> tuple[list[Block], list[tuple[str, int]]]:
    """``scan``, each problem with the offset of the opening marker it is about.

    An opening marker inside an open block starts over (the outer one stays
    plain text), so an unterminated block never swallows the next one.
    """
    blocks: list[Block] = []
    problems: list[tuple[str, int]] = []
    opened: re.Match[str] | None = None
    opened_at = body_start = 0  # where the open block's marker and body start
    fence: str | None = None
    offset = 0
    for line in text.splitlines(keepends=True):
        if opened is None and (fence is not None or _FENCE.match(line)):
            fence = next_fence(fence, line)
        else:
            for marker in _markers(line):
                if marker["name"] is not None:
                    if opened is not None:
                        problems.append((f"keep block {marker['name'].strip()!r} is opened inside "
                                         f"keep block {opened['name'].strip()!r}", opened_at))
                    opened = marker
                    opened_at = offset + marker.start()
                    body_start = offset + marker.end()
                elif opened is not None:
                    blocks.append(Block(opened["name"].strip(), opened_at, body_start,
                                        offset + marker.start(), offset + marker.end()))
                    opened = None
        offset += len(line)
    if opened is not None:
        problems.append((f"keep block {opened['name'].strip()!r} has no '%% end keep %%'", opened_at))
    return blocks, problems


def _markers(line: str) -> list[re.Match[str]]:
    """The keep markers of one line that are outside its code spans."""
    found = list(_MARKER.finditer(line))
    if not found or "`" not in line:
        return found
    spans = _code_spans(line)
    return [m for m in found if not any(start <= m.start() < end for start, end in spans)]


def _code_spans(line: str) -> list[tuple[int, int]]:
    """Where the line's inline code is: a run of backticks up to the next run of the same
    length (CommonMark); a run left unmatched is plain text."""
    spans: list[tuple[int, int]] = []
    runs = list(_TICKS.finditer(line))
    i = 0
    while i < len(runs):
        opening = runs[i]
        closing = next((j for j in range(i + 1, len(runs)) if len(runs[j][0]) == len(opening[0])), None)
        if closing is None:
            i += 1
            continue
        spans.append((opening.start(), runs[closing].end()))
        i = closing + 1
    return spans


def keep_block_problem(text: str) -> str | None:
    """Why a rendering's keep blocks could not be matched by name, or None."""
    blocks, problems = scan(text)
    seen: set[str] = set()
    for block in blocks:
        if block.name in seen:
            problems.append(f"keep block {block.name!r} appears more than once; each block needs its own name")
        seen.add(block.name)
    return problems[0] if problems else None


def strip_keep_bodies(text: str) -> str:
    """The text with every keep block emptied: what a hand edit is judged on."""
    return _replace_bodies(text, scan(text)[0], lambda block: "")


def carry_keep_blocks(new_text: str, old_text: str) -> str:
    """The new rendering with the old file's keep-block bodies put back, by name.

    Old blocks the rendering no longer has are appended under ORPHAN_HEADING
    so their text is never lost; a whitespace-only orphan has nothing to lose
    and is dropped, which is also how the user gets rid of one.
    """
    old_blocks = scan(old_text)[0]
    bodies: dict[str, str] = {}
    orphans: list[str] = []
    new_names = {block.name for block in scan(new_text)[0]}
    for block in old_blocks:
        body = old_text[block.body_start:block.body_end]
        if block.name in new_names and block.name not in bodies:
            bodies[block.name] = body
        elif body.strip():
            orphans.append(f"%% keep: {block.name} %%{body}%% end keep %%")
    merged = _replace_bodies(new_text, scan(new_text)[0], lambda block: bodies.get(block.name))
    if not orphans:
        return merged
    return merged.rstrip("\n") + "\n\n" + "\n\n".join([ORPHAN_HEADING, _ORPHAN_NOTE, *orphans]) + "\n"


def _replace_bodies(text: str, blocks: list[Block], body_of) -> str:
    out, last = [], 0
    for block in blocks:
        body = body_of(block)
        if body is None:
            continue
        out += [text[last:block.body_start], body]
        last = block.body_end
    out.append(text[last:])
    return "".join(out)


def is_keep_text(path: str) -> bool:
    """Only notes carry keep blocks; charts and settings are compared byte for byte."""
    return path.endswith(".md")


def normalise_newlines(data: bytes) -> bytes:
    """CRLF (git's autocrlf, an editor on Windows) read as LF: line endings are not an edit."""
    return data.replace(b"\r\n", b"\n")
