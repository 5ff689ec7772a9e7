"""Obsidian settings files vaultgen shares with Obsidian: merged, never overwritten.

Obsidian rewrites ``.obsidian/app.json`` whenever a setting changes, so
vaultgen owns only its own keys there: it sets them and keeps the user's.
"""

from __future__ import annotations

import json

from generator.writer.fsops import parse_json

MERGED_SETTINGS = frozenset({".obsidian/app.json"})


def _object(data: bytes) -> dict | None:
    try:
        value = parse_json(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def merge_settings(rendered: bytes, disk: bytes) -> tuple[bytes, bool] | None:
    """(the file with vaultgen's keys set over the user's, whether that differs from ``disk``).

    None when the file on disk is not a JSON object: then it is treated like
    any other generated file.
    """
    ours, theirs = _object(rendered), _object(disk)
    if ours is None or theirs is None:
        return None
    merged = {**theirs, **ours}
    if merged == theirs:
        return disk, False
    return (json.dumps(merged, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"), True
