"""Layout details people noticed, checked in a real browser: the topic page's order and its
alert-frequency radio group."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import NewPage
from tests.browser.harness import Demo, Server

pytestmark = pytest.mark.browser

RADIO_GROUP = """() => {
    const form = document.querySelector('form.subscribe-form');
    const radios = [...form.querySelectorAll('input[type=radio][name=frequency]')];
    return radios.map(radio => {
        const label = document.querySelector(`label[for="${radio.id}"]`);
        const fieldset = radio.closest('fieldset');
        const legend = fieldset && fieldset.querySelector(':scope > legend');
        const r = radio.getBoundingClientRect(), l = label.getBoundingClientRect();
        return {fieldset: Boolean(fieldset), legend: legend ? legend.innerText.trim() : null,
                labelRightOfRadio: l.left >= r.right - 1,
                sameLine: l.top < r.bottom && r.top < l.bottom,
                labelWeight: getComputedStyle(label).fontWeight};
    });
}"""


@pytest.mark.parametrize("width", [1280, 320])
def test_topic_page_lists_events_before_the_alerts_form_and_groups_the_radios(
    width: int, server: Server, demo: Demo, new_page: NewPage
) -> None:
    page = new_page(signed_in=False, viewport={"width": width, "height": 900})
    page.goto(server.url(f"/topics/{demo.topic}"))
    order = page.evaluate(
        """() => {
            const events = document.getElementById('events-title');
            const form = document.querySelector('form.subscribe-form');
            return Boolean(events.compareDocumentPosition(form) & Node.DOCUMENT_POSITION_FOLLOWING);
        }"""
    )
    assert order, "the upcoming events should come before the alerts form"
    radios: list[dict[str, Any]] = page.evaluate(RADIO_GROUP)
    assert len(radios) == 2
    for radio in radios:
        assert radio["fieldset"] and radio["legend"] == "How often", radio
        # Each choice on one line: the radio, then its label beside it (not stacked).
        assert radio["sameLine"] and radio["labelRightOfRadio"], radio
        assert radio["labelWeight"] == "400", radio  # the legend is the group's title
