"""The one Jinja2 environment: autoescaping on, filters for local times and Markdown."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from events.resources import templates_dir

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre",
    "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> Markup:
    """Markdown to HTML, then sanitised to an allow list; raw HTML in the source is text."""
    html = _markdown.render(text)
    # h1 belongs to the page; demote headings so each page keeps exactly one.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"scope"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _hour(value: dt.datetime) -> str:
    text = value.strftime("%I:%M%p").lstrip("0").lower()
    return text.replace(":00", "")


def local_date(value: dt.datetime, zone: str) -> str:
    """'Tuesday 10 March 2026' in the given zone."""
    local = value.astimezone(_zone(zone))
    return f"{local:%A} {local.day} {local:%B %Y}"


def local_time(value: dt.datetime, zone: str) -> str:
    return _hour(value.astimezone(_zone(zone)))


def zone_abbreviation(value: dt.datetime, zone: str) -> str:
    return value.astimezone(_zone(zone)).strftime("%Z")


def when(starts_at: dt.datetime, ends_at: dt.datetime, zone: str, all_day: bool = False) -> str:
    """A human line for an event's time, in its own zone, with the zone named:
    'Tuesday 10 March 2026, 4pm to 5:30pm GMT'."""
    start = starts_at.astimezone(_zone(zone))
    end = ends_at.astimezone(_zone(zone))
    if all_day:
        one_second = dt.timedelta(seconds=1)
        last = (end - one_second).date()
        if last == start.date():
            return local_date(starts_at, zone)
        return f"{local_date(starts_at, zone)} to {local_date(ends_at - one_second, zone)}"
    if start.date() == end.date():
        return f"{local_date(starts_at, zone)}, {_hour(start)} to {_hour(end)} {end.strftime('%Z')}"
    return (
        f"{local_date(starts_at, zone)}, {_hour(start)} {start.strftime('%Z')} to "
        f"{local_date(ends_at, zone)}, {_hour(end)} {end.strftime('%Z')}"
    )


def iso_local(value: dt.datetime, zone: str) -> str:
    return value.astimezone(_zone(zone)).isoformat()


def thousands(value: int) -> str:
    return f"{value:,}"


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        markdown=render_markdown,
        local_date=local_date,
        local_time=local_time,
        zone_abbreviation=zone_abbreviation,
        iso_local=iso_local,
        thousands=thousands,
    )
    env.globals.update(when=when)
    return env


class Renderer:
    """Renders templates to strings; views wrap the result in a response."""

    def __init__(self, globals_: dict[str, Any]) -> None:
        self.env = build_environment()
        self.env.globals.update(globals_)

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)
