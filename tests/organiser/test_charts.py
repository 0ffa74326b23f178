"""The SVG chart builder: pure, well-formed, accessible, coloured by class only."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from events.organiser import charts
from events.organiser.charts import Datum
from events.organiser.dashboard import DayCount, registrations_chart


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (40, 50), (51, 100), (250, 500)],
)
def test_the_scale_rounds_up_to_a_readable_number(value: float, ceiling: float) -> None:
    assert charts.nice_ceiling(value) == ceiling


def test_a_column_chart_is_an_image_with_a_title_and_description() -> None:
    svg = _parse(
        charts.column_chart(
            [Datum("1 Mar", 2, "2"), Datum("2 Mar", 5, "5"), Datum("3 Mar", 0, "0")],
            chart_id="c",
            title="Registrations",
            description="7 in three days.",
        )
    )
    assert svg.tag == "svg" and svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c-title c-desc"
    title, desc = svg.find("title"), svg.find("desc")
    assert title is not None and title.get("id") == "c-title" and title.text == "Registrations"
    assert desc is not None and desc.get("id") == "c-desc" and desc.text == "7 in three days."
    bars = [r for r in svg.iter("rect") if r.get("class") == "chart__bar"]
    heights = [float(r.get("height", "-1")) for r in bars]
    assert heights[2] == 0 and heights[0] == pytest.approx(heights[1] * 2 / 5)
    ticks = [t.text for t in svg.iter("text")]
    assert {"0", "5"} <= set(ticks) and "2.5" not in ticks  # the scale, whole numbers only
    assert {"1 Mar", "3 Mar"} <= set(ticks)  # first and last days labelled
    for element in svg.iter():
        assert "style" not in element.attrib and "fill" not in element.attrib


def test_the_scale_of_a_count_has_whole_numbers() -> None:
    def ticks(values: list[int]) -> list[str]:
        data = [Datum(str(i), v, str(v)) for i, v in enumerate(values)]
        svg = _parse(charts.column_chart(data, chart_id="c", title="t", description="d"))
        return [t.text or "" for t in svg.iter("text") if t.get("text-anchor") == "end"][:3]

    assert ticks([0, 0]) == ["0", "1", "2"]
    assert ticks([1, 7]) == ["0", "5", "10"]
    assert ticks([20, 3]) == ["0", "10", "20"]


def test_labels_are_escaped_not_interpreted() -> None:
    markup = charts.bar_chart(
        [Datum('<script>alert("x")</script> & co', 50, "50%")],
        chart_id="b",
        title="A <b>title</b>",
        description="Desc & more",
        label_chars=200,
    )
    assert "<script>" not in markup and "<b>" not in markup
    svg = _parse(markup)
    assert svg.findtext("title") == "A <b>title</b>"
    assert '<script>alert("x")</script> & co' in [t.text for t in svg.iter("text")]


def test_bars_are_proportional_and_clamped_and_long_labels_shortened() -> None:
    svg = _parse(
        charts.bar_chart(
            [Datum("Half", 50, "50%"), Datum("All", 100, "100%"), Datum("x" * 80, 130, "130%")],
            chart_id="b",
            title="t",
            description="d",
        )
    )
    widths = [
        float(r.get("width", "0")) for r in svg.iter("rect") if r.get("class") == "chart__bar"
    ]
    assert widths == [180.0, 360.0, 360.0]
    labels = [t.text or "" for t in svg.iter("text") if t.get("class") == "chart__label"]
    assert labels[2].endswith("…") and len(labels[2]) <= 34


def test_an_empty_chart_is_still_well_formed() -> None:
    for markup in (
        charts.column_chart([], chart_id="e", title="t", description="Nothing yet."),
        charts.bar_chart([], chart_id="f", title="t", description="Nothing yet."),
    ):
        svg = _parse(markup)
        assert svg.get("role") == "img" and svg.findtext("desc") == "Nothing yet."


def test_the_registrations_chart_describes_the_busiest_day() -> None:
    start = dt.date(2026, 2, 1)
    days = [DayCount(start + dt.timedelta(days=i), count) for i, count in enumerate([0, 3, 9, 1])]
    svg = _parse(registrations_chart(days))
    assert svg.findtext("desc") == (
        "13 registrations from Sunday 1 February 2026 to Wednesday 4 February 2026. "
        "The busiest day was Tuesday 3 February 2026, with 9."
    )
    assert svg.findtext("title") == "Registrations per day, last 4 days"
