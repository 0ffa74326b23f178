"""An organiser's Markdown (event, series, campaign and topic descriptions), read two ways
with one parser (markdown-it-py, CommonMark plus tables, raw HTML off):

- ``markdown_html``: HTML for pages and HTML email, sanitised by nh3 to an allow list (the
  text is organiser input: raw HTML in it stays text, ``javascript:`` links are dropped);
- ``markdown_text``: plain text for ``.ics`` descriptions and plain-text email, with none
  of the Markdown showing: headings are their words, links read "text (url)", list items
  "- item" (or "1. item"), emphasis and code marks are dropped, and there is never more
  than one blank line in a row.

Pure functions, shared by the web layer (the ``markdown`` Jinja filter), mail composing and
the calendar builders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from markupsafe import Markup

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre",
    "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip

_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
RULE = "----"


@lru_cache(maxsize=4096)
def markdown_html(text: str) -> Markup:
    """Markdown to HTML, then sanitised to an allow list; raw HTML in the source is text."""
    html = _parser.render(text)
    # h1 belongs to the page (or the email's title); demote headings so each keeps one.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"scope"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


@lru_cache(maxsize=4096)
def markdown_text(text: str) -> str:
    """Markdown to readable plain text (see the module's docstring)."""
    tree = SyntaxTreeNode(_parser.parse(text.replace("\r\n", "\n").replace("\r", "\n")))
    plain = "\n\n".join(_blocks(tree.children))
    plain = _TRAILING_SPACE.sub("\n", plain + "\n")
    return _BLANK_RUNS.sub("\n\n", plain).strip("\n")


def _blocks(nodes: Iterable[SyntaxTreeNode]) -> list[str]:
    found = [_block(node) for node in nodes]
    return [block for block in found if block.strip()]


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    return "\n".join(
        [first + lines[0]] + [(rest + line) if line.strip() else "" for line in lines[1:]]
    )


def _list(node: SyntaxTreeNode) -> str:
    ordered = node.type == "ordered_list"
    number = int(node.attrs.get("start", 1)) if ordered else 0
    items = []
    for item in node.children:
        marker = f"{number}. " if ordered else "- "
        number += 1
        body = "\n".join(_blocks(item.children))
        items.append(_indent(body, marker, " " * len(marker)))
    return "\n".join(items)


def _block(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind in {"heading", "paragraph"}:
        return "".join(_inline(child) for child in node.children)
    if kind == "inline":
        return "".join(_inline(child) for child in node.children)
    if kind in {"bullet_list", "ordered_list"}:
        return _list(node)
    if kind == "blockquote":
        inner = "\n\n".join(_blocks(node.children))
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
    if kind in {"code_block", "fence", "html_block"}:
        return node.content.rstrip("\n")
    if kind == "hr":
        return RULE
    if kind == "table":
        rows = [row for section in node.children for row in section.children]
        return "\n".join(" | ".join(_block(cell) for cell in row.children) for row in rows)
    return "\n\n".join(_blocks(node.children))


def _shown_url(href: str) -> str:
    return href.removeprefix("mailto:")


def _inline(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind in {"text", "code_inline", "html_inline"}:
        return node.content
    if kind in {"softbreak", "hardbreak"}:
        return "\n"
    if kind == "image":
        return node.content  # the alt text: pictures are not shown in HTML either
    label = "".join(_inline(child) for child in node.children)
    if kind == "link":
        href = str(node.attrs.get("href", ""))
        shown = _shown_url(href)
        if not href or label.strip() in {href, shown}:
            return shown or label
        return f"{label} ({shown})"
    return label
