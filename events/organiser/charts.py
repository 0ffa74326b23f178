"""Charts for the console, drawn on the server as inline SVG: pure functions, no I/O.

Every chart is ``role="img"`` with a ``<title>`` and a ``<desc>`` (the text alternative,
summarising what the chart shows); pages also print the same numbers as a table. Colours
come from CSS classes (``console.css``), so the charts follow the light and dark schemes
and need no ``style`` attributes, which the content security policy forbids. The SVG is
built with ElementTree, so every label is escaped.

The drawing is sized for a narrow phone: the viewBox is 360 units wide and the page scales
it to the column, so 15-unit text stays readable (about 12px) at 320 CSS pixels.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH = 360
FONT = 15


@dataclass(frozen=True)
class Datum:
    label: str  # short, drawn on the chart ("2 Mar", an event title)
    value: float
    shown: str  # the value as written ("8", "75%")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (1 for 0)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(chart_id: str, title: str, description: str, height: float, kind: str) -> ET.Element:
    svg = ET.Element(
        "svg",
        {
            "class": f"chart chart--{kind}",
            "viewBox": f"0 0 {WIDTH} {_n(height)}",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "id": chart_id,
        },
    )
    ET.SubElement(svg, "title", {"id": f"{chart_id}-title"}).text = title
    ET.SubElement(svg, "desc", {"id": f"{chart_id}-desc"}).text = description
    return svg


def _text(parent: ET.Element, x: float, y: float, text: str, css: str, **attrs: str) -> None:
    element = ET.SubElement(
        parent, "text", {"x": _n(x), "y": _n(y), "class": css, "font-size": str(FONT), **attrs}
    )
    element.text = text


def _markup(svg: ET.Element) -> Markup:
    return Markup(ET.tostring(svg, encoding="unicode"))  # noqa: S704 - ElementTree escapes


def column_chart(
    data: Sequence[Datum],
    *,
    chart_id: str,
    title: str,
    description: str,
    axis_labels: int = 3,
    whole_numbers: bool = True,
) -> Markup:
    """Vertical columns over time, one per datum, with a 0/half/max scale and
    ``axis_labels`` labels spread along the bottom (first and last always)."""
    height, top, bottom, left, right = 200.0, 12.0, 34.0, 34.0, 8.0
    svg = _svg(chart_id, title, description, height, "columns")
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    ceiling = nice_ceiling(max((d.value for d in data), default=0))
    if whole_numbers:
        ceiling = max(ceiling, 2.0)  # so that the middle rule is a whole number too
    grid = ET.SubElement(svg, "g", {"class": "chart__grid", "aria-hidden": "true"})
    for fraction in (0.0, 0.5, 1.0):
        if whole_numbers and not (ceiling * fraction).is_integer():
            continue
        y = top + plot_h * (1 - fraction)
        ET.SubElement(
            grid,
            "line",
            {
                "x1": _n(left),
                "x2": _n(WIDTH - right),
                "y1": _n(y),
                "y2": _n(y),
                "class": "chart__rule",
            },
        )
        _text(
            grid, left - 6, y + 4, _fmt(ceiling * fraction), "chart__tick", **{"text-anchor": "end"}
        )
    bars = ET.SubElement(svg, "g", {"class": "chart__bars", "aria-hidden": "true"})
    count = max(len(data), 1)
    slot = plot_w / count
    for index, datum in enumerate(data):
        bar_h = plot_h * datum.value / ceiling
        x = left + index * slot + slot * 0.15
        ET.SubElement(
            bars,
            "rect",
            {
                "x": _n(x),
                "y": _n(top + plot_h - bar_h),
                "width": _n(slot * 0.7),
                "height": _n(bar_h),
                "class": "chart__bar",
            },
        ).append(_tooltip(f"{datum.label}: {datum.shown}"))
    labels = ET.SubElement(svg, "g", {"class": "chart__labels", "aria-hidden": "true"})
    if data:
        wanted = max(2, axis_labels) if len(data) > 1 else 1
        picks = sorted({round(i * (len(data) - 1) / max(wanted - 1, 1)) for i in range(wanted)})
        for index in picks:
            anchor = "start" if index == 0 else "end" if index == len(data) - 1 else "middle"
            x = (
                left
                + index * slot
                + (0 if anchor == "start" else slot if anchor == "end" else slot / 2)
            )
            _text(
                labels,
                x,
                height - bottom + 20,
                data[index].label,
                "chart__tick",
                **{"text-anchor": anchor},
            )
    return _markup(svg)


def _tooltip(text: str) -> ET.Element:
    element = ET.Element("title")
    element.text = text
    return element


def bar_chart(
    data: Sequence[Datum],
    *,
    chart_id: str,
    title: str,
    description: str,
    maximum: float = 100.0,
    label_chars: int = 34,
) -> Markup:
    """Horizontal bars, one row per datum: its label above a full-width track, the value
    at the right. For shares (``maximum`` 100)."""
    row = 44.0
    height = max(len(data), 1) * row + 4
    svg = _svg(chart_id, title, description, height, "bars")
    rows = ET.SubElement(svg, "g", {"aria-hidden": "true"})
    for index, datum in enumerate(data):
        y = index * row
        label = datum.label
        if len(label) > label_chars:
            label = label[: label_chars - 1].rstrip() + "…"
        _text(rows, 0, y + 15, label, "chart__label")
        _text(rows, WIDTH, y + 15, datum.shown, "chart__value", **{"text-anchor": "end"})
        ET.SubElement(
            rows,
            "rect",
            {
                "x": "0",
                "y": _n(y + 22),
                "width": str(WIDTH),
                "height": "14",
                "class": "chart__track",
            },
        )
        share = max(0.0, min(datum.value / maximum, 1.0)) if maximum else 0.0
        ET.SubElement(
            rows,
            "rect",
            {
                "x": "0",
                "y": _n(y + 22),
                "width": _n(WIDTH * share),
                "height": "14",
                "class": "chart__bar",
            },
        ).append(_tooltip(f"{datum.label}: {datum.shown}"))
    return _markup(svg)
