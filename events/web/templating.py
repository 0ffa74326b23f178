"""The one Jinja2 environment: autoescaping on, filters for local times and Markdown."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import nh3
from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markdown_it import MarkdownIt
from markupsafe import Markup

from events.kit.formatting import (
    iso_local,
    local_date,
    local_time,
    thousands,
    when,
    zone_abbreviation,
)
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


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory for the process, shared by every environment built
    here: an app compiles each template once anyway, but a process that builds many apps
    (the test suite builds one per test) would otherwise compile them all again each time.
    Jinja keys a bucket by the template's name and file and checks the source's checksum on
    load, so an edited template is compiled afresh."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


# Every environment below has the same settings, so their compiled code is interchangeable.
_COMPILED = _CompiledTemplates()


def build_environment() -> Environment:
    env = Environment(
        bytecode_cache=_COMPILED,
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
