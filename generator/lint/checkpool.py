"""``check_source`` over every source of a vault, on every CPU.

After the parse, resolving ~10^5 links is the one serial stage left of a
cold check (about half a second per 10,000 notes).  The sources are
independent once the index is built, so forked workers check contiguous
slices of them and send back plain tuples; ``imap`` keeps the slices in
order, so the caller sees the sources in the order it gave, as a serial
loop would give them.  Each worker fills its own resolution memo.

A worker names the files a source links to by their number in one list of
the vault's files, made before the fork: ~10^6 paths would otherwise be
sent as strings and arrive as copies, which the parent would hold (in the
state an incremental run reads) or intern, one by one.  Numbers come back as
the parent's own path objects, as a serial loop gives them.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterator

from generator.lint.findings import Finding
from generator.lint.incremental import SubpathLink, check_source, to_plain
from generator.lint.notefacts import NoteFacts
from generator.lint.resolve import VaultIndex
from generator.lint.vaultindex import fork_context, worker_count

# Fewer sources than this per worker and starting it costs more than it saves.
_SOURCES_PER_WORKER = 2000
# Slices per worker: small enough that a slow slice does not leave the
# other worker idle for long, large enough that each answer is one message.
_SLICES_PER_WORKER = 8

Checked = tuple[str, list[Finding], set[str], list[SubpathLink]]

# The index, the sources and each file's number that the forked workers read
# (set in the parent just before the fork; a worker inherits them and never
# sends them back).
_SHARED: tuple[VaultIndex, dict[str, NoteFacts], dict[str, int]] | None = None


def check_sources(index: VaultIndex, sources: dict[str, NoteFacts], paths: list[str]) -> Iterator[Checked]:
    """(source, findings, files it links to, subpath links) of each of ``paths``, in order."""
    workers = min(worker_count(), len(paths) // _SOURCES_PER_WORKER)
    # Without fork a worker would have to rebuild the index: stay serial.
    context = fork_context() if workers > 1 else None
    if context is None:
        for source in paths:
            yield (source, *check_source(index, source, sources[source]))
        return
    global _SHARED
    count = workers * _SLICES_PER_WORKER
    size = -(-len(paths) // count)
    slices = [paths[start : start + size] for start in range(0, len(paths), size)]
    # Every file a link can resolve to (canvases are attachments too).
    files = list(dict.fromkeys([*index.notes, *index.attachments, *index.canvases]))
    _SHARED = (index, sources, {path: number for number, path in enumerate(files)})
    file_at = files.__getitem__
    try:
        with context.Pool(workers) as pool:
            for chunk, data in zip(slices, pool.imap(_check_slice, slices)):
                for source, (plain, targets, subpath_links) in zip(chunk, marshal.loads(data)):
                    yield (source, [Finding(*finding) for finding in plain], set(map(file_at, targets)),
                           [(files[target], position) for target, position in subpath_links])
    finally:
        _SHARED = None


def _check_slice(paths: list[str]) -> bytes:
    """A worker's answer for ``paths``, in their order: marshal bytes of
    (findings as plain tuples, target numbers, (target number, position) pairs)."""
    assert _SHARED is not None, "check_sources sets the index before it forks"
    index, sources, number = _SHARED
    answer = []
    for source in paths:
        found, targets, subpath_links = check_source(index, source, sources[source])
        answer.append(([to_plain(finding) for finding in found], [number[target] for target in targets],
                       [(number[target], position) for target, position in subpath_links]))
    return marshal.dumps(answer)
