"""Choosing the registrant's language: the registration's tag, else the browser's, else English."""

from __future__ import annotations

import pytest

from shared.i18n.languages import from_accept_language, resolve
from shared.web import pages
from tests.unit.golden_cases import INDEX


@pytest.mark.parametrize(
    ("tag", "language"),
    [("fr-BE", "fr"), ("pl", "pl"), ("ca-ES", "ca"), ("pt-BR", "en"), (None, "en"), ("", "en")],
)
def test_a_registration_tag_is_reduced_to_a_supported_language(
    tag: str | None, language: str
) -> None:
    assert resolve(tag) == language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7", "sv"),
        ("pt-BR,pt;q=0.9,nl;q=0.5", "nl"),  # no Portuguese: the next one we have
        ("en;q=0.3, de-AT;q=0.8", "de"),  # by quality, not by order
        ("fr;q=0, it", "it"),  # q=0 is a refusal
        ("ja, *;q=0.1", "en"),
        ("", "en"),
        (None, "en"),
        ("garbage;;;,", "en"),
    ],
)
def test_the_browser_language_is_negotiated(header: str | None, language: str) -> None:
    assert from_accept_language(header) == language


def test_the_page_preselects_the_browser_language_for_the_emails() -> None:
    page = pages.registration_page(INDEX.read_text(encoding="utf-8"), [], "v1", "ca")
    assert '<option value="ca" lang="ca" selected>' in page
    assert page.count(" selected>") == 1
    assert " selected>" not in pages.registration_page(INDEX.read_text(encoding="utf-8"), [], "v1")
