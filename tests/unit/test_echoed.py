"""Text echoed into emails: link-like text and encoded words are refused, real names pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.registrations.echoed import has_encoded_word, looks_like_link

REAL = [
    "St. Gallen",
    "J.R. Smith",
    "Procurement.ie",
    "Procurement.ie / ICT",
    "Dr. Ana-María O'Neil",
    "Région Île-de-France \N{EN DASH} Achats",
    "Head of IT/Procurement",
    "A/S Nordic Procurement",
    "Smith Ltd./GmbH",
    "Zoë Åkesson",
    "Ministry of Health (M.o.H.)",
    "Café Müller & Söhne",
    "王小明",
    "Procurement: ICT",
]
LINKS = [
    "Your refund is ready: https://refund.example.net/claim",
    "http:refund.example",
    "go to ftp://x",
    "ssh://host",
    "www.refund.example",
    "WWW3.refund.example",
    "refund.example.net/claim",
    "bit.ly/abc",
    "Refund.Example.NET:8443/x",
    "10.0.0.1/claim",
    "write to claims@refund.example",
    "mailto:claims@refund.example",
    "\uff48\uff54\uff54\uff50\uff53\uff1a\uff0f\uff0fx",  # full-width https://x
    "xn--bcher-kva.example/x",
]


@pytest.mark.parametrize("text", REAL)
def test_real_names_and_organisations_pass(text: str) -> None:
    assert not looks_like_link(text)
    assert not has_encoded_word(text)


@pytest.mark.parametrize("text", LINKS)
def test_link_like_text_is_caught(text: str) -> None:
    assert looks_like_link(text)


def test_encoded_words_are_caught_in_any_case() -> None:
    assert has_encoded_word("=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil.example?=")
    assert has_encoded_word("ACME =?UTF-8?B?QmNj?= Ltd")
    assert not has_encoded_word("Who? =Me")
    assert not has_encoded_word("a ?= b =? c")


LETTERS = st.characters(categories=["L"], exclude_characters="wW\uff57\uff37")
WORD = st.text(LETTERS, min_size=1, max_size=12)
SEPARATOR = st.sampled_from([" ", ". ", "-", "'", ", ", " & ", ".", " / "])


@settings(max_examples=300, deadline=None)
@given(words=st.lists(WORD, min_size=1, max_size=6), separators=st.data())
def test_any_name_of_words_dots_and_spaced_slashes_passes(
    words: list[str], separators: st.DataObject
) -> None:
    text = words[0]
    for word in words[1:]:
        text += separators.draw(SEPARATOR) + word
    assert not looks_like_link(text), text


LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
TLD = st.from_regex(r"[a-z]{2,8}", fullmatch=True)


@st.composite
def links(draw: st.DrawFn) -> str:
    host = ".".join(draw(st.lists(LABEL, min_size=1, max_size=3))) + "." + draw(TLD)
    path = draw(st.from_regex(r"[a-z0-9/_-]{0,12}", fullmatch=True))
    form = draw(st.sampled_from(["scheme", "bare-scheme", "www", "path", "mail", "any-scheme"]))
    link = {
        "scheme": f"{draw(st.sampled_from(['http', 'https', 'HTTPS', 'Http']))}://{host}/{path}",
        "bare-scheme": f"{draw(st.sampled_from(['http', 'https', 'mailto']))}:{host}",
        "www": f"www.{host}",
        "path": f"{host}/{path}",
        "mail": f"{draw(LABEL)}@{host}",
        "any-scheme": f"{draw(st.from_regex(r'[a-z][a-z0-9+.-]{0,8}', fullmatch=True))}://{host}",
    }[form]
    before = draw(st.text(LETTERS, max_size=20))
    after = draw(st.text(LETTERS, max_size=20))
    return f"{before} {link} {after}".strip()


@settings(max_examples=300, deadline=None)
@given(text=links())
def test_any_link_in_any_text_is_caught(text: str) -> None:
    assert looks_like_link(text), text
