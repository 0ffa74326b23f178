"""Property-based tests (Hypothesis) of every public form's parsing: whatever arrives, the
parser either returns clean values or raises ``InvalidInput`` naming fields, nothing else.

Clean means what the rest of the code relies on: no control characters or lone surrogates
in any text, lengths within the columns, emails normalised, choices from their lists.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from events.catalog.schemas import parse_listing
from events.errors import InvalidInput
from events.registration.schemas import ACCESS_NEEDS, ROLES, SETTINGS, RegistrationInput

# Any text at all: control characters, surrogates, line separators, very long values.
hostile = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.characters(codec=None), max_size=60),
    st.sampled_from(["", " ", "\r\n", "=cmd|' /C calc'!A0", "a@b.c", "Jo\u2028Bloggs", "\x00"]),
)
value = st.one_of(st.none(), hostile, st.integers(), st.lists(hostile, max_size=4))


def _clean_text(text: str) -> bool:
    return not any(unicodedata.category(ch) in {"Cc", "Cs"} and ch != "\n" for ch in text)


@settings(max_examples=300, deadline=None)
@given(fields=st.fixed_dictionaries({}, optional={
    "name": value, "email": value, "membership_number": value, "role": value,
    "setting": value, "access_requirements": value, "access_details": value,
    "consents": value,
}))  # fmt: skip
def test_registration_form_gives_clean_values_or_field_errors(fields: dict[str, Any]) -> None:
    try:
        parsed = RegistrationInput.parse(
            name=fields.get("name"),
            email=fields.get("email"),
            **{k: v for k, v in fields.items() if k not in ("name", "email")},
        )
    except InvalidInput as exc:
        assert exc.fields, "a refusal names the fields to correct"
        assert all(isinstance(m, str) and m for m in exc.fields.values())
        return
    assert parsed.name and len(parsed.name) <= 200 and _clean_text(parsed.name)
    assert parsed.email == parsed.email.strip().lower() and "@" in parsed.email
    assert len(parsed.email) <= 320 and _clean_text(parsed.email)
    assert parsed.role in ("", *ROLES)
    assert parsed.setting in ("", *SETTINGS)
    assert set(parsed.access_requirements) <= set(ACCESS_NEEDS)
    assert _clean_text(parsed.access_details)


@settings(max_examples=300, deadline=None)
@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(
                ["kind", "format", "from", "to", "access", "after", "before", "per_page",
                 "past", "topic", "region", "q", "place", "other"]
            ),
            hostile,
        ),
        max_size=8,
    )
)  # fmt: skip
def test_listing_filters_parse_or_name_the_bad_filter(params: list[tuple[str, str]]) -> None:
    try:
        filters = parse_listing(QueryParams(params))
    except InvalidInput as exc:
        assert exc.fields and exc.code == "invalid_filter"
        return
    assert len(filters.q) <= 200 and _clean_text(filters.q)
    assert _clean_text(filters.place)
    if filters.date_from and filters.date_to:
        assert filters.date_from <= filters.date_to
    # What the page links to can be parsed again to the same filters.
    assert parse_listing(QueryParams(filters.query_items())) == filters
