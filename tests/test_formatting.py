"""Figures read the same everywhere: units, digits, n/a; notes are tidy."""

from __future__ import annotations

import pytest

from generator import formatting as f
from generator.notes import tidy
from tests.factories import metric, result


@pytest.mark.parametrize("value, text", [
    (1.5, "1.50 s"), (0.0123, "12.3 ms"), (0.000850, "850 µs"), (4.2e-8, "42.0 ns"), (123.4, "123 s"),
])
def test_duration(value, text):
    assert f.duration(value) == text


@pytest.mark.parametrize("value, text", [(512, "512 B"), (8192, "8.00 KiB"), (1.5 * 2**20, "1.50 MiB")])
def test_size(value, text):
    assert f.size(value) == text


def test_ratio_percent_count_and_missing():
    assert f.ratio(1.934) == "1.93×"
    assert f.percent(0.125) == "12.5 %" and f.percent(0.5, 1) == "50 %"
    assert f.count(12345.4) == "12,345"
    assert f.auto(None) == f.ratio(None) == f.duration(None) == "n/a"


def test_metric_formats_in_its_unit():
    r = result("x", {"a.wall": 0.002, "a.speedup": 1.5, "a.rss": metric(3 * 2**20, unit="B")})
    assert f.auto(r.metric("a.wall")) == "2.00 ms"
    assert f.auto(r.metric("a.speedup")) == "1.50×"
    assert f.auto(r.metric("a.rss")) == "3.00 MiB"
    assert f.spread(r.metric("a.wall")).startswith("median of 7, IQR 1.98 ms – 2.02 ms")


def test_property_numbers_are_rounded():
    assert f.property_number(1.23456789) == 1.235
    assert f.property_number(0.000123456) == 0.0001235
    assert f.property_number(3.0) == 3
    assert f.property_number(17694.7) == 17695 and isinstance(f.property_number(17694.7), int)


def test_fence_cannot_be_closed_by_content():
    block = f.fenced("a\n```\nb\n", "text")
    assert block.startswith("````text\n") and block.endswith("\n````")


def test_tidy_collapses_blank_lines_but_not_in_code():
    body = "\n\n# T\n\n\n\ntext\n```\nx\n\n\ny\n```\n\n\nend"
    assert tidy(body) == "# T\n\ntext\n```\nx\n\n\ny\n```\n\nend\n"


def test_bytes_round_instead_of_truncating():
    assert f.size(862.6) == "863 B" and f.size(1023.7) == "1.00 KiB"


@pytest.mark.parametrize("fmt", [f.auto, f.duration, f.ratio, f.size, f.sig, f.percent, f.count])
def test_noisy_figure_carries_the_mark_in_every_format(fmt):
    r = result("x", {"noisy": metric(0.25, unit="s", spread=0.3), "steady": metric(0.25, unit="s", spread=0.05)})
    assert fmt(r.metric("noisy")).endswith(" ⚠")
    assert "⚠" not in fmt(r.metric("steady")) and "⚠" not in fmt(0.25)


def test_noise_is_judged_from_the_iqr_not_only_the_stored_flag():
    doc = dict(metric(2.0, unit="x", spread=0.2), noisy=False)
    assert f.ratio(result("x", {"a": doc}).metric("a")) == "2.00× ⚠"
    assert f.ratio(result("x", {"a": metric(2.0, unit="x", spread=0.2, n=1)}).metric("a")) == "2.00×"


def test_a_quotient_of_two_medians_is_as_noisy_as_either():
    r = result("x", {"a": metric(1.7e-3, spread=0.3), "b": metric(1.46e-4, spread=0.05),
                     "c": metric(2.92e-4, spread=0.05)})
    a, b, c = r.metric("a"), r.metric("b"), r.metric("c")
    assert f.ratio(f.quotient(a, b)) == "11.6× ⚠" and f.ratio(f.quotient(b, a)) == "0.0859× ⚠"
    assert f.ratio(f.quotient(c, b)) == "2.00×" and f.auto(f.quotient(c, b)) == "2.00×"
    assert f.quotient(a, None) is None and f.quotient(a, 0.0) is None and f.ratio(f.quotient(a, None)) == "n/a"


def test_the_quick_profile_warning_goes_under_the_title_not_into_a_code_block():
    """A "# comment" line of a script shown before the title took the warning into its fence."""
    from generator.notes import with_profile_warning

    body = "intro\n```python\n# a comment\nprint(1)\n```\n# Title\ntext\n"
    lines = with_profile_warning(body, ["quick"]).split("\n")
    assert lines[:7] == ["intro", "```python", "# a comment", "print(1)", "```", "# Title", ""]
    assert lines[7].startswith("> [!warning] Figures from the `quick` profile")
    # No title outside code: the warning opens the note, before the fence.
    assert with_profile_warning("```\n# code\n```\n", ["quick"]).startswith("> [!warning]")
