"""Apps built in one process share compiled templates, and never serve a stale one."""

from __future__ import annotations

from jinja2 import DictLoader, Environment

from events.web import templating


def _environment(sources: dict[str, str], cache: templating._CompiledTemplates) -> Environment:
    return Environment(loader=DictLoader(sources), bytecode_cache=cache, autoescape=True)


def test_a_second_environment_uses_the_first_ones_compiled_code() -> None:
    cache = templating._CompiledTemplates()
    sources = {"page.html": "Hello {{ name }}"}
    assert _environment(sources, cache).get_template("page.html").render(name="<Sam>") == (
        "Hello &lt;Sam&gt;"
    )
    assert len(cache._code) == 1
    second = _environment(sources, cache)
    assert second.get_template("page.html").render(name="Ann") == "Hello Ann"
    assert len(cache._code) == 1


def test_an_edited_template_is_compiled_afresh() -> None:
    cache = templating._CompiledTemplates()
    _environment({"page.html": "Old {{ name }}"}, cache).get_template("page.html").render(name="x")
    edited = _environment({"page.html": "New {{ name }}"}, cache)
    assert edited.get_template("page.html").render(name="x") == "New x"


def test_every_app_environment_shares_one_cache() -> None:
    assert templating.build_environment().bytecode_cache is templating._COMPILED
    assert templating.build_environment().bytecode_cache is templating._COMPILED
