"""What the linter's tests share: small vaults written to tmp_path, and a cache of their own."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's parse cache in a fresh folder, never the user's ~/.cache (import it to use it)."""
    monkeypatch.setenv("VAULTGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """``files`` (relative path -> text or bytes) under ``root``; returns ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root
