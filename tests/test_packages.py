"""Versions of the third-party packages an experiment imports, read from folders."""

from __future__ import annotations

from pathlib import Path

from generator.packages import installed, third_party, versions


def _dist(folder: Path, name: str, version: str, top_level: str | None = None) -> None:
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    if top_level is not None:
        (info / "top_level.txt").write_text(top_level)


def test_standard_library_and_local_modules_are_not_packages():
    assert third_party({"os", "json", "__future__", "_harness", "dask", "yaml"}, local={"_harness"}) == ["dask", "yaml"]


def test_a_package_is_named_with_its_distribution_and_version(tmp_path):
    (tmp_path / "distributed").mkdir()
    _dist(tmp_path, "distributed", "2026.8.0")
    assert installed("distributed", [str(tmp_path)]) == "distributed 2026.8.0"


def test_a_module_whose_distribution_has_another_name_is_found_through_top_level(tmp_path):
    (tmp_path / "yaml").mkdir()
    _dist(tmp_path, "PyYAML", "6.0.2", top_level="_yaml\nyaml\n")
    assert installed("yaml", [str(tmp_path)]) == "PyYAML 6.0.2"


def test_single_file_and_extension_modules_count(tmp_path):
    (tmp_path / "six.py").write_text("")
    (tmp_path / "fastx.cpython-313-x86_64-linux-gnu.so").write_bytes(b"")
    assert installed("six", [str(tmp_path)]) == "present"  # no distribution claims it
    assert installed("fastx", [str(tmp_path)]) == "present"


def test_the_first_folder_that_holds_it_wins_and_missing_folders_are_skipped(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, version in ((first, "1.0"), (second, "2.0")):
        (folder / "pkg").mkdir(parents=True)
        _dist(folder, "pkg", version)
    assert installed("pkg", [str(tmp_path / "missing"), str(second), str(first)]) == "pkg 2.0"
    assert installed("absent", [str(first)]) is None


def test_pythonpath_comes_before_site_packages(tmp_path, monkeypatch):
    site, extra = tmp_path / "site", tmp_path / "extra"
    for folder, version in ((site, "1.0"), (extra, "9.9")):
        (folder / "pkg").mkdir(parents=True)
        _dist(folder, "pkg", version)
    monkeypatch.setenv("PYTHONPATH", str(extra))
    assert versions(["pkg"], [str(site)]) == {"pkg": "pkg 9.9"}
