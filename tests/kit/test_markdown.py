"""An organiser's Markdown as plain text (calendars, plain-text mail) and as sanitised HTML."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from events.kit.markdown import markdown_html, markdown_text

# Like the demo events' descriptions (events/demo.py), with a link and a numbered list.
DESCRIPTION = (
    "### For\n\n"
    "Class teachers, teaching assistants and safety reps.\n\n\n\n"
    "### Covered\n\n"
    "- The employer's duty to **assess risk**\n"
    "- Individual risk assessments and *positive handling* plans\n"
    "  - including `restraint`\n\n"
    "### Agenda\n\n"
    "1. Welcome\n"
    "2. Motions\n\n"
    "Read [the guidance](https://neu.example.org/guidance) first, or ask "
    "[the organiser](mailto:reps@neu.example.org) or see <https://neu.example.org/faq>.\n"
)


def test_headings_lists_and_links_read_as_plain_text() -> None:
    assert markdown_text(DESCRIPTION) == (
        "For\n\n"
        "Class teachers, teaching assistants and safety reps.\n\n"
        "Covered\n\n"
        "- The employer's duty to assess risk\n"
        "- Individual risk assessments and positive handling plans\n"
        "  - including restraint\n\n"
        "Agenda\n\n"
        "1. Welcome\n"
        "2. Motions\n\n"
        "Read the guidance (https://neu.example.org/guidance) first, or ask "
        "the organiser (reps@neu.example.org) or see https://neu.example.org/faq."
    )


def test_other_blocks_lose_their_marks() -> None:
    text = markdown_text(
        "# Big\n\nline one\nline two\n\n> quoted\n>\n> again\n\n---\n\n"
        "| Day | Room |\n| --- | --- |\n| Tue | 4 |\n\n"
        "![A map](https://example.org/map.png) [no](javascript:alert(1)) <b>raw</b> &amp;\n\n"
        "    indented code\n\n5. five\n6. six\n"
    )
    assert text == (
        "Big\n\nline one\nline two\n\n> quoted\n>\n> again\n\n----\n\n"
        "Day | Room\nTue | 4\n\n"
        "A map [no](javascript:alert(1)) <b>raw</b> &\n\n"
        "indented code\n\n5. five\n6. six"
    )


def test_plain_text_and_empty_text_stay_as_they_are() -> None:
    assert markdown_text("") == ""
    assert markdown_text("Bring questions.\r\nAnd a pen.") == "Bring questions.\nAnd a pen."


@given(st.text(alphabet=st.sampled_from("#-*_[]()<>`!\n \t\r>|1.ab"), max_size=80))
def test_never_more_than_one_blank_line_or_trailing_space(source: str) -> None:
    text = markdown_text(source)
    assert "\n\n\n" not in text
    assert all(line == line.rstrip() for line in text.split("\n"))


def test_html_is_formatted_and_sanitised() -> None:
    html = str(markdown_html(DESCRIPTION + "\n# Top\n\n<script>alert(1)</script>\n"))
    assert "<h3>For</h3>" in html and "<h2>Top</h2>" in html and "<h1>" not in html
    assert "<li>The employer's duty to <strong>assess risk</strong></li>" in html
    assert '<a href="https://neu.example.org/guidance" rel="noopener nofollow noreferrer">' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "href" not in str(markdown_html("[x](javascript:alert(1))"))
