"""What keeps `vaultgen check` small on a large vault: the per-note facts cache (frames
written as workers answer, damage and changes handled per note), packed facts, JSON in pieces."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.lint import Link, check_vault
from generator.lint import incremental, lintstate, vaultindex
from generator.lint.cachefile import cache_file
from generator.lint.vaultindex import Packed, PackedLinks
from tests.vaultkit import write
from tests.conftest import invoke


def _vault(root: Path) -> Path:
    # Enough notes for two workers, so that the cache holds several frames.
    notes = {f"n{i}.md": f"# H{i}\n[[n{(i + 1) % 450}#H{(i + 1) % 450}]] [[missing{i % 7}]] ^b{i}\n" for i in range(450)}
    return write(root, notes)


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The notes read from disk by the runs that follow (serial parsing, so in this process),
    by a full run or an incremental one."""
    monkeypatch.setenv("VAULTGEN_JOBS", "1")
    read: list[str] = []
    real = vaultindex.read_note

    def counted(path: str, size: int):
        read.append(Path(path).name)
        return real(path, size)

    monkeypatch.setattr(vaultindex, "read_note", counted)
    monkeypatch.setattr(incremental, "read_note", counted)
    return read


def _findings(root: Path) -> list:
    return check_vault(root, use_cache=False).findings


def _forget_findings(cache: Path) -> None:
    """Drop the last run's findings and incremental state, so that the next run reads every note's facts."""
    for suffix in ("-findings.marshal", "-state.marshal"):
        cache.with_name(cache.stem + suffix).unlink()


def test_a_cut_short_cache_loses_only_its_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _vault(tmp_path)
    monkeypatch.setenv("VAULTGEN_JOBS", "2")
    expected = check_vault(root).findings
    path = cache_file(root)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _forget_findings(path)
    assert expected == _findings(root)
    read = _parses(monkeypatch)
    assert check_vault(root).findings == expected
    assert 0 < len(read) < 450  # the first frames still served
    read.clear()
    _forget_findings(path)
    assert check_vault(root).findings == expected and read == []  # the rewritten cache is whole again


def test_a_damaged_frame_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _vault(tmp_path)
    monkeypatch.setenv("VAULTGEN_JOBS", "2")
    expected = check_vault(root).findings
    path = cache_file(root)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    _forget_findings(path)
    read = _parses(monkeypatch)
    assert check_vault(root).findings == expected
    assert read  # what the damaged frame held, and maybe what followed it


def test_damage_anywhere_in_any_cache_file_never_changes_an_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flipped bytes in the facts cache, the findings, the incremental state or its delta:
    marshal reads many of them as other valid data, so every file is checksummed, and a
    damaged one is read as far as it is whole, never trusted past that."""
    import random

    root = _vault(tmp_path)
    monkeypatch.setenv("VAULTGEN_JOBS", "2")
    monkeypatch.setattr(lintstate, "_ENTRIES_PER_FRAME", 40)  # the state's tables in several frames, as on a large vault
    check_vault(root)
    (root / "n3.md").write_text("# H3 again\n[[n4#H4]] [[n9#nope]]\n", encoding="utf-8")
    check_vault(root)  # an incremental run: leaves a delta beside the state
    folder = cache_file(root).parent
    good = {path: path.read_bytes() for path in folder.glob("check-*")}
    assert any(path.name.endswith("-delta.marshal") for path in good)
    rng = random.Random(0)
    for trial in range(24):
        for path in folder.glob("check-*"):
            path.unlink()
        for path, data in good.items():
            path.write_bytes(data)
        victim = sorted(good)[trial % len(good)]
        damaged = bytearray(good[victim])
        at = rng.randrange(len(damaged))
        damaged[at : at + 4] = rng.randbytes(4)
        victim.write_bytes(bytes(damaged))
        if trial % 3 == 0:  # and sometimes an edit, for the incremental path
            (root / "n5.md").write_text(f"# H5\n[[n3#H3 again]] [[n6#x{trial}]]\n", encoding="utf-8")
        assert check_vault(root).findings == check_vault(root, use_cache=False).findings, (victim.name, at)


def test_a_changed_note_is_the_only_one_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _vault(tmp_path)
    monkeypatch.setenv("VAULTGEN_JOBS", "2")
    check_vault(root)
    (root / "n3.md").write_text("# H3\n[[nowhere]]\n", encoding="utf-8")
    (root / "n4.md").unlink()
    read = _parses(monkeypatch)
    assert check_vault(root).findings and read == ["n3.md"]
    read.clear()
    (root / "n5.md").write_text("# H5\n", encoding="utf-8")
    found = check_vault(root).findings
    assert read == ["n5.md"] and found == _findings(root)


def test_check_through_the_cli_is_the_same_cold_and_warm(tmp_path: Path, runner) -> None:
    root = _vault(tmp_path)
    cold = invoke(runner, "check", str(root), "--format", "json")
    warm = invoke(runner, "check", str(root), "--format", "json")
    assert cold.exit_code == warm.exit_code == 1 and cold.output == warm.output
    assert '"code": "broken-link"' in cold.output


def test_packed_sequences_read_as_the_lists_they_hold() -> None:
    import marshal

    headings = Packed(marshal.dumps([(1, "A", 1), (2, "B", 3)]))
    assert list(headings) == [(1, "A", 1), (2, "B", 3)] == headings
    assert len(headings) == 2 and headings[1] == (2, "B", 3) and headings.index((2, "B", 3)) == 1
    assert (1, "A", 1) in headings and (9, "Z", 9) not in headings
    links = PackedLinks(marshal.dumps([tuple(Link("T", 2, heading=["H"]))]))
    assert list(links) == [Link("T", 2, heading=["H"])] and links[0].heading == ["H"]
    assert Packed(marshal.dumps([])) == [] and not list(PackedLinks(marshal.dumps([])))
    for items in ([], [()], [""], ["a"], [[]], list(range(300))):  # truth without unpacking
        assert bool(Packed(marshal.dumps(items))) is bool(items)


def test_the_json_report_comes_in_pieces_that_make_json_dumps(tmp_path: Path) -> None:
    import json

    from generator.lint.output import json_pieces, json_report

    report = check_vault(_vault(tmp_path))
    pieces = list(json_pieces(report))
    assert len(pieces) > 1 and all(pieces)
    assert "".join(pieces) == json_report(report) == json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
