"""The one Jinja2 environment: autoescaping on, filters for local times and Markdown."""

from __future__ import annotations

from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket

from events.kit.formatting import (
    iso_local,
    local_date,
    local_time,
    thousands,
    when,
    zone_abbreviation,
)
from events.kit.markdown import markdown_html
from events.resources import templates_dir


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
        markdown=markdown_html,
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
