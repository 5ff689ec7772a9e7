"""Property problems: the quick skips keep every problem of the slow rules."""

from __future__ import annotations

import pytest

from generator.lint.notefacts import NoteFacts
from generator.lint.properties import property_problems


def problems(properties: dict) -> list[tuple]:
    facts = NoteFacts([], [], [], [], properties, {key: 2 + n for n, key in enumerate(properties)})
    return [(code, line, message) for code, _, line, message, _, _ in property_problems(facts)]


@pytest.mark.parametrize(
    ("tag", "problem"),
    [
        ("a", None), ("#a", None), ("topic/threads", None), ("y2024", None), ("", None), (" a ", None), (True, None),
        ("a b", "contains a space"), ("#a b", "contains a space"), ("a\u3000b", "contains a space"),
        ("123", "only digits"), ("#123", "only digits"), ("##7", "only digits"), (123, "only digits"), ("１２", "only digits"),
        (["x"], None),
    ],
)
def test_each_tag_rule(tag: object, problem: str | None) -> None:
    found = [message for code, _, message in problems({"tags": [tag]}) if "tag " in message]
    assert (problem is None and not found) or (len(found) == 1 and problem in found[0]), found


def test_unquoted_links_singular_keys_and_plain_keys() -> None:
    found = problems({"title": "x", "up": [["X"]], "related": ["a", [["B"]]], "tag": "t", "aliases": "one", "n": 5})
    assert [(line, message.split(";")[0]) for _, line, message in found] == [
        (3, 'property "up" holds [[X]] unquoted, which YAML reads as a nested list'),
        (4, 'property "related" has an unquoted [[B]] item, which YAML reads as a nested list'),
        (5, '"tag" was deprecated in Obsidian 1.4 and is not read since 1.9'),
        (6, '"aliases" is text, not the list Obsidian writes'),
    ]


@pytest.mark.parametrize("value, listed", [
    ("#book, #x", "tags: [book, x]"),  # was "tags: [#book, #x]": not YAML
    ("book article", "tags: [book, article]"),  # Obsidian splits text tags at spaces, too
    ("2024, ok", 'tags: ["2024", ok]'),
])
def test_a_text_tags_value_gets_a_list_suggestion_that_is_yaml_and_means_the_same(value: str, listed: str) -> None:
    import yaml

    from generator.lint.frontmatter import front_matter

    facts = NoteFacts([], [], [], [], {"tags": value}, {"tags": 2})
    (problem,) = property_problems(facts)
    assert problem[5] == listed
    assert front_matter(listed, 2)[2] is None and yaml.safe_load(listed)["tags"] == [t.lstrip("#") for t in value.replace(",", " ").split()]
