# ruff: noqa: RUF001 - titles in Greek and Cyrillic letters are the point of these tests
"""Slugs from titles in any script: transliterated into readable Latin words, never
collapsed to a bare fallback word."""

from __future__ import annotations

import pytest

from events.catalog.slugs import SLUG, slugify
from tests.factories import Factory


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Gweminar Cymraeg: Ŵyl y Gŵr", "gweminar-cymraeg-wyl-y-gwr"),
        ("Εκπαίδευση για όλους", "ekpaideysi-gia-oloys"),
        ("Образование для всех", "obrazovanie-dlya-vsekh"),
        ("Освіта: SEND", "osvita-send"),
        ("教育研讨会 2026", "jiao-yu-yan-tao-hui-2026"),
        ("Zoë’s Ünïcode café", "zoe-s-unicode-cafe"),
        ("SEND webinar 3", "send-webinar-3"),
    ],
)
def test_titles_in_other_scripts_are_transliterated(title: str, slug: str) -> None:
    assert slugify(title) == slug
    assert SLUG.match(slug)


def test_only_a_title_without_letters_or_digits_falls_back() -> None:
    assert slugify("!!! ???") == "event"
    assert slugify("Ŵ" * 300) == "w" * 100  # cut to the column's length


async def test_an_event_with_a_greek_title_gets_a_readable_address(make: Factory) -> None:
    first = await make.event("Συνέδριο εκπαιδευτικών")
    second = await make.event("Συνέδριο εκπαιδευτικών")
    assert first.slug == "synedrio-ekpaideytikon"
    assert second.slug == "synedrio-ekpaideytikon-2"
