"""Links in JSON Canvas files (``.canvas``), which Obsidian counts as backlinks.

A canvas is JSON with ``nodes``: a ``file`` node shows a vault file (its
``file`` is the full path from the vault root, ``subpath`` an optional
``#heading``), a ``text`` node holds Markdown whose links are links.  Every
link of a node gets the line where the node's id is written.
"""

from __future__ import annotations

import json
import re

from generator.lint.links import Link, split_subpath
from generator.lint.notefacts import NoteFacts, parse_note_text


def _line_of(text: str, node_id: object) -> int:
    if isinstance(node_id, str):
        match = re.search(r'"id"\s*:\s*' + re.escape(json.dumps(node_id)), text)
        if match:
            return text.count("\n", 0, match.start()) + 1
    return 1


def parse_canvas_text(text: str, *, encoding_error: tuple[str, int] | None = None) -> NoteFacts:
    """The links of a canvas; a broken canvas gets ``canvas_error`` instead."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        line = getattr(error, "lineno", 1)
        return NoteFacts([], [], [], [], property_lines={}, encoding_error=encoding_error, canvas_error=(str(getattr(error, "msg", error)), line))
    if not isinstance(data, dict):
        return NoteFacts([], [], [], [], property_lines={}, encoding_error=encoding_error, canvas_error=("not a JSON object", 1))
    nodes = data.get("nodes", [])  # Obsidian saves a new, empty canvas as {}
    if not isinstance(nodes, list):
        return NoteFacts([], [], [], [], property_lines={}, encoding_error=encoding_error, canvas_error=('"nodes" is not a list', 1))
    links: list[Link] = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "file" and isinstance(node.get("file"), str) and node["file"]:
            subpath = node.get("subpath")
            heading, block = split_subpath(subpath[1:]) if isinstance(subpath, str) and subpath.startswith("#") else (None, None)
            links.append(Link(node["file"], _line_of(text, node.get("id")), 1, "file", True, heading, block))
        elif kind == "text" and isinstance(node.get("text"), str):
            line = _line_of(text, node.get("id"))
            links.extend(link._replace(line=line, column=1) for link in parse_note_text(node["text"]).links)
    return NoteFacts(links, [], [], [], property_lines={}, encoding_error=encoding_error)
