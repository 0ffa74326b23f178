"""Numbers from outside: only ASCII digits become numbers (``str.isdigit`` takes "²")."""

from __future__ import annotations

import pytest

from events.kit.ids import parse_id, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("0", 0), ("123456", 123456), ("1234567", None), ("²", None), ("\u0661", None),
     ("", None), ("-1", None), (" 2", None), (None, None)],
)  # fmt: skip
def test_parse_number_takes_ascii_digits_only(text: object, expected: int | None) -> None:
    assert parse_number(text) == expected


def test_parse_id_refuses_superscripts_and_out_of_range() -> None:
    assert parse_id("²") is None and parse_id("2147483648") is None and parse_id("7") == 7
