"""Signed links: round trip, tampering, expiry, purpose, key rotation; the key source."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.platform import secrets
from shared.platform.settings import Settings
from shared.web import links

KEY = b"current-key-0123456789abcdef"
OLD_KEY = b"previous-key-0123456789abcdef"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
EXPIRES = datetime(2026, 12, 31, 0, 0, tzinfo=UTC)


def claims(**overrides: object) -> links.LinkClaims:
    fields: dict[str, object] = {
        "purpose": links.CANCEL,
        "reference": "KBS-7Q2M-X4TD",
        "session_id": "kbs-01-ict-hardware",
        "email_hash": links.email_hash("marta.novak@example.org"),
        "expires_at": EXPIRES,
    }
    return links.LinkClaims(**(fields | overrides))  # type: ignore[arg-type]


def reason(token: str, keys: tuple[bytes, ...] = (KEY,), **kwargs: object) -> str:
    options: dict[str, object] = {"purpose": links.CANCEL, "now": NOW} | kwargs
    with pytest.raises(links.InvalidLinkError) as caught:
        links.verify(token, keys, **options)  # type: ignore[arg-type]
    return caught.value.reason


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip() -> None:
    token = links.sign(claims(), KEY)
    assert links.verify(token, [KEY], purpose=links.CANCEL, now=NOW) == claims()


def test_cancel_url_carries_a_token_for_that_registration() -> None:
    url = links.registrant_url(
        links.CANCEL,
        "https://kbs.example.org/",
        reference="KBS-7Q2M-X4TD",
        session_id="kbs-01-ict-hardware",
        email="Marta.Novak@Example.org",
        expires_at=EXPIRES,
        key=KEY,
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "kbs.example.org",
        "/registrations/cancel",
    )
    (token,) = parse_qs(parts.query)["token"]
    verified = links.verify(token, [KEY], purpose=links.CANCEL, now=NOW)
    assert verified.reference == "KBS-7Q2M-X4TD"
    assert verified.session_id == "kbs-01-ict-hardware"
    assert verified.is_for("marta.novak@EXAMPLE.org")
    assert not verified.is_for("someone.else@example.org")
    assert "marta" not in url.lower()


def test_a_changed_payload_is_rejected() -> None:
    token = links.sign(claims(), KEY)
    payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["s"] = "kbs-02-solar-pv"
    forged = b64(json.dumps(data, separators=(",", ":")).encode())
    assert reason(f"{forged}.{signature}") == "signature"


def test_a_changed_signature_is_rejected() -> None:
    payload, signature = links.sign(claims(), KEY).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert reason(f"{payload}.{flipped}") == "signature"
    assert reason(links.sign(claims(), b"an-attackers-key-0123456789")) == "signature"


@pytest.mark.parametrize(
    "token",
    ["", "no-dot", ".", "abc.", ".abc", "abc.$$$", "a" * 2000 + ".b", "é.é", "abc.de.fg"],
)
def test_malformed_tokens_are_rejected(token: str) -> None:
    assert reason(token) == "malformed"


def test_a_signed_but_garbled_payload_is_malformed() -> None:
    payload = b64(b'{"v":1,"p":"cancel"}')  # fields missing
    signature = b64(links._mac(KEY, payload))
    assert reason(f"{payload}.{signature}") == "malformed"


def test_expiry() -> None:
    token = links.sign(claims(expires_at=NOW + timedelta(seconds=1)), KEY)
    assert links.verify(token, [KEY], purpose=links.CANCEL, now=NOW)
    assert reason(token, now=NOW + timedelta(seconds=1)) == "expired"
    assert reason(token, now=NOW + timedelta(days=400)) == "expired"


def test_a_token_for_another_purpose_is_rejected() -> None:
    token = links.sign(claims(purpose="materials"), KEY)
    assert reason(token) == "purpose"
    assert links.verify(token, [KEY], purpose="materials", now=NOW).purpose == "materials"


def test_key_rotation_keeps_old_links_working_until_the_old_key_is_dropped() -> None:
    old_token = links.sign(claims(), OLD_KEY)
    new_token = links.sign(claims(), KEY)
    rotated = (KEY, OLD_KEY)
    assert links.verify(old_token, rotated, purpose=links.CANCEL, now=NOW) == claims()
    assert links.verify(new_token, rotated, purpose=links.CANCEL, now=NOW) == claims()
    assert reason(old_token, keys=(KEY,)) == "signature"


def test_keys_from_settings_single_or_list() -> None:
    assert secrets.parse_keys("single-key-0123456789") == (b"single-key-0123456789",)
    assert secrets.parse_keys(json.dumps([KEY.decode(), OLD_KEY.decode()])) == (KEY, OLD_KEY)
    with pytest.raises(ValueError):
        secrets.parse_keys("short")
    with pytest.raises(ValueError):
        secrets.parse_keys("[]")


def test_keys_come_from_secrets_manager_when_a_secret_is_named(aws: None) -> None:
    from shared.platform.clients import client

    client("secretsmanager").create_secret(
        Name="kbs/link-keys", SecretString=json.dumps([KEY.decode(), OLD_KEY.decode()])
    )
    secrets.clear_cache()
    settings = Settings(table_name="t", link_secret_name="kbs/link-keys", link_secret="ignored")
    assert secrets.signing_keys(settings) == (KEY, OLD_KEY)
    local = Settings(table_name="t", link_secret=KEY.decode())
    assert secrets.signing_keys(local) == (KEY,)


# --- one spelling (issue 12, item 8) ---------------------------------------------------------

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def respellings(token: str) -> dict[str, str]:
    """Spellings of ``token`` that a lenient base64 decoder reads as the same bytes."""
    payload, signature = token.split(".")
    spellings = {
        "padded signature": f"{payload}.{signature}=",
        "fully padded": f"{payload}{'=' * (-len(payload) % 4)}.{signature}=",
        "standard alphabet": token.replace("-", "+").replace("_", "/"),
    }
    for name, segment in (("payload", payload), ("signature", signature)):
        spare = {2: 4, 3: 2}.get(len(segment) % 4, 0)  # bits the last character does not carry
        last = ALPHABET.index(segment[-1])
        for bits in range(1, 1 << spare):
            respelt = segment[:-1] + ALPHABET[last ^ bits]
            spellings[f"{name} spare bits {bits}"] = token.replace(segment, respelt)
    return {name: spelling for name, spelling in spellings.items() if spelling != token}


def test_a_token_is_accepted_only_as_issued() -> None:
    token = links.sign(claims(), KEY)
    variants = respellings(token)
    assert {"padded signature", "signature spare bits 1"} <= set(variants)
    for name, variant in variants.items():
        assert base64.urlsafe_b64decode(variant.split(".")[1].rstrip("=") + "==") == (
            base64.urlsafe_b64decode(token.split(".")[1] + "==")
        ), name  # the same bytes to a lenient decoder
        assert reason(variant) in {"malformed", "signature"}, name


@settings(max_examples=150, deadline=None)
@given(
    reference=st.text(min_size=1, max_size=30),
    session_id=st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True),
    mutation=st.tuples(st.integers(0, 2000), st.sampled_from(["=", "+", "/", "flip", "drop"])),
)
def test_no_other_spelling_of_a_token_verifies(
    reference: str, session_id: str, mutation: tuple[int, str]
) -> None:
    """Any respelling or single-character change of a genuine token is refused."""
    token = links.sign(claims(reference=reference, session_id=session_id), KEY)
    assert links.verify(token, [KEY], purpose=links.CANCEL, now=NOW).reference == reference
    for variant in respellings(token).values():
        assert reason(variant) in {"malformed", "signature"}
    at, change = mutation
    at %= len(token)
    if change == "flip":
        char = token[at]
        replaced = ALPHABET[ALPHABET.index(char) ^ 1] if char in ALPHABET else "A"
        mutated = token[:at] + replaced + token[at + 1 :]
    elif change == "drop":
        mutated = token[:at] + token[at + 1 :]
    else:
        mutated = token[:at] + change + token[at:]
    if mutated != token:
        with pytest.raises(links.InvalidLinkError):
            links.verify(mutated, [KEY], purpose=links.CANCEL, now=NOW)
