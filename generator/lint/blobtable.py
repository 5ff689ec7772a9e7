"""A dict saved as marshal blobs by bucket, decoded only where it is read.

The incremental check keeps ~10^4-10^5 entries per table but a run after one
edit reads a few dozen: loading the whole table would cost more than the
check itself.  Keys are hashed into buckets with CRC-32 (stable across
processes, unlike ``hash``); a read decodes one bucket, a write re-encodes
only the buckets it touched.
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

# Entries per bucket aimed at: small enough that a read decodes little,
# large enough that a table has few blobs to read and write.
_PER_BUCKET = 32


def _bucket_of(key: str, buckets: int) -> int:
    # File names may hold lone surrogates (undecodable bytes, via os.fsdecode).
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % buckets


def bucket_count(entries: int) -> int:
    buckets = 16
    while buckets * _PER_BUCKET < entries:
        buckets *= 2
    return buckets


class BlobTable(Mapping):
    """``str`` -> marshal-able value; ``plain()`` is what to save, ``load`` reads it back.

    ``missing`` is what ``table[key]`` gives for an absent key (a
    ``defaultdict`` that does not insert); None makes it a KeyError.
    """

    def __init__(self, buckets: int, blobs: dict[int, bytes], missing: Any = None):
        self._buckets, self._blobs, self._missing = buckets, blobs, missing
        self._decoded: dict[int, dict] = {}
        self._dirty: set[int] = set()
        self._overlaid: set[int] = set()  # buckets that differ from the saved ``plain()``

    @classmethod
    def build(cls, data: Mapping[str, Any], missing: Any = None, *, buckets: int = 0, memo: dict[str, int] | None = None) -> BlobTable:
        """``buckets``: how many (default: ``bucket_count(len(data))``); ``memo``:
        key -> bucket, shared by tables of the same ``buckets`` built together."""
        buckets = buckets or bucket_count(len(data))
        memo = {} if memo is None else memo
        parts: dict[int, dict] = {}
        for key, value in data.items():
            bucket = memo.get(key)
            if bucket is None:
                bucket = memo[key] = _bucket_of(key, buckets)
            parts.setdefault(bucket, {})[key] = value
        return cls(buckets, {bucket: marshal.dumps(part) for bucket, part in parts.items()}, missing)

    @classmethod
    def load(cls, plain: Any, missing: Any = None, changes: Any = None) -> BlobTable:
        """A table from ``plain()``'s value and, saved later, ``changes()``'s;
        ValueError when they are not that."""
        if not (isinstance(plain, tuple) and len(plain) == 2 and isinstance(plain[0], int) and plain[0] > 0 and isinstance(plain[1], dict)):
            raise ValueError("not a saved table")
        table = cls(plain[0], plain[1], missing)
        if changes:
            if not isinstance(changes, dict):
                raise ValueError("not saved table changes")
            for bucket, blob in changes.items():
                if blob is None:
                    table._blobs.pop(bucket, None)
                else:
                    table._blobs[bucket] = blob
            table._overlaid.update(changes)
        return table

    def _encode(self) -> None:
        for bucket in self._dirty:
            part = self._decoded[bucket]
            if part:
                self._blobs[bucket] = marshal.dumps(part)
            else:
                self._blobs.pop(bucket, None)
        self._overlaid |= self._dirty
        self._dirty.clear()

    def plain(self) -> tuple[int, dict[int, bytes]]:
        """The whole table, to save."""
        self._encode()
        return (self._buckets, self._blobs)

    def changes(self) -> dict[int, bytes | None]:
        """The buckets that differ from the ``plain()`` the table was loaded
        from (None: now empty), to save next to it instead of all of it."""
        self._encode()
        return {bucket: self._blobs.get(bucket) for bucket in self._overlaid}

    def _part(self, key: str) -> tuple[int, dict]:
        bucket = _bucket_of(key, self._buckets)
        return bucket, self._part_at(bucket)

    def _part_at(self, bucket: int) -> dict:
        part = self._decoded.get(bucket)
        if part is None:
            blob = self._blobs.get(bucket)
            part = marshal.loads(blob) if blob is not None else {}
            if not isinstance(part, dict):
                raise ValueError("damaged table bucket")
            self._decoded[bucket] = part
        return part

    def __getitem__(self, key: str) -> Any:
        part = self._part(key)[1]
        if key in part:
            return part[key]
        if self._missing is None:
            raise KeyError(key)
        return self._missing

    def get(self, key: str, default: Any = None) -> Any:
        return self._part(key)[1].get(key, default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._part(key)[1]

    def __setitem__(self, key: str, value: Any) -> None:
        bucket, part = self._part(key)
        part[key] = value
        self._dirty.add(bucket)

    def pop(self, key: str, default: Any = None) -> Any:
        bucket, part = self._part(key)
        if key not in part:
            return default
        self._dirty.add(bucket)
        return part.pop(key)

    def __iter__(self) -> Iterator[str]:
        """Every key: decodes the whole table (for tests and debugging)."""
        for bucket in sorted(set(self._blobs) | set(self._decoded)):
            yield from list(self._part_at(bucket))

    def __len__(self) -> int:
        return sum(1 for _ in self)
