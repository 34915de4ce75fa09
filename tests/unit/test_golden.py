"""Every email and page says what it said when the golden files were written.

Given the cases of :mod:`tests.unit.golden_cases` (hostile and non-ASCII inputs included), when
each is rendered, then an email's subject and text part equal the golden text exactly, and every
HTML output has the golden's visible text (whitespace collapsed), the same elements with the same
attribute values in the same order, the same inline ``<script>``/``<style>`` bodies (the CSP
hashes them), and no hostile markup left unescaped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.unit.golden_cases import EMAILS, GOLDEN, PAGES

HOSTILE_MARKUP = ("<script>alert", "<img src=x", "<b>", "<i>", '"><script>', "<x>")


class _Reader(HTMLParser):
    """The visible text, the elements (tag and decoded attributes) and inline code of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.inline: list[str] = []
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))
        self._in_code = tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._in_code = False

    def handle_data(self, data: str) -> None:
        (self.inline if self._in_code else self.text).append(data)


def _read(html: str) -> tuple[str, list[tuple[str, list[tuple[str, str | None]]]], list[str]]:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    visible = re.sub(r"\s+", " ", "".join(reader.text)).strip()
    return visible, reader.elements, reader.inline


def _assert_same_html(html: str, golden: str) -> None:
    visible, elements, inline = _read(html)
    golden_visible, golden_elements, golden_inline = _read(golden)
    assert visible == golden_visible
    assert elements == golden_elements
    assert inline == golden_inline
    for markup in HOSTILE_MARKUP:
        assert markup not in html


def _golden(*parts: str) -> str:
    return GOLDEN.joinpath(*parts).read_text(encoding="utf-8")


@pytest.mark.parametrize("case", sorted(EMAILS))
def test_an_email_is_unchanged(case: str) -> None:
    content = EMAILS[case]()

    assert f"Subject: {content.subject}\n\n{content.text}" == _golden("emails", f"{case}.txt")
    _assert_same_html(content.html, _golden("emails", f"{case}.html"))


@pytest.mark.parametrize("case", sorted(PAGES))
def test_a_page_is_unchanged(case: str) -> None:
    _assert_same_html(PAGES[case](), _golden("pages", f"{case}.html"))


def test_every_case_has_its_golden_file_and_no_golden_file_is_stale() -> None:
    expected = {f"emails/{c}.{ext}" for c in EMAILS for ext in ("txt", "html")}
    expected |= {f"pages/{c}.html" for c in PAGES}
    found = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*.*")}
    assert found == expected
