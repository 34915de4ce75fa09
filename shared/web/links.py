"""HMAC-signed links: a registrant acts (cancels) by following a link from their email.

Token: ``{payload}.{signature}``, both base64url without padding, accepted only in the exact
spelling they were issued in (no padding, no ``+``/``/``, no other spare bits: one link, one
spelling). The payload is compact
JSON ``{"v": 1, "p": purpose, "r": reference, "s": session id, "e": email hash, "x": expiry
(Unix seconds)}``; the signature is HMAC-SHA256 over the payload segment. Tokens are signed
with the current key and verified against every key still listed (current first), so a key
rotation does not break links already sent. The payload is readable, not secret: it holds no
address, only a truncated SHA-256 of the canonical one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlencode

from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.registrations.models import Registration, normalise_email

TOKEN_VERSION = 1
MAX_TOKEN_LENGTH = 1024
CANCEL = "cancel"
CANCEL_PATH = "/registrations/cancel"
MATERIALS = "materials"
"""A registrant's key to a session's materials: its list and each file's download."""
UNSUBSCRIBE = "unsubscribe"
"""No more email to the address a registration's link was sent to
(:mod:`shared.mail.unsubscribe`)."""
UNSUBSCRIBE_PATH = "/unsubscribe"
PRIVACY = "privacy"
"""A registrant's key to their own data: export it or have it erased
(:mod:`shared.privacy.rights`)."""
PRIVACY_PATH = "/privacy"
CERTIFICATE = "certificate"
"""A holder's key to download their certificate's PDF (reference: the certificate number)."""
RECORD = "record"
"""A registrant's key to "My record": their attendance and certificates across the series
(:mod:`shared.certificates.record`)."""
RECORD_PATH = "/record"
PATHS = {
    CANCEL: CANCEL_PATH,
    UNSUBSCRIBE: UNSUBSCRIBE_PATH,
    PRIVACY: PRIVACY_PATH,
    RECORD: RECORD_PATH,
}
CALENDAR = "calendar"
"""A registrant's personal calendar feed: every session they hold a place in
(:mod:`shared.registrations.feed`); the token names one of their registrations."""
CALENDAR_PATH = "/calendar/{token}"
"""The feed's route; its URLs end in ``.ics`` (:func:`feed_urls`)."""
FEED_SUFFIX = ".ics"
"""Where each registrant link leads (:func:`registrant_url`)."""

Reason = Literal["malformed", "signature", "purpose", "expired"]


class InvalidLinkError(ValueError):
    """The token is malformed, forged or tampered with, for another purpose, or expired."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(f"invalid link: {reason}")
        self.reason: Reason = reason


@dataclass(frozen=True)
class LinkClaims:
    purpose: str
    reference: str
    session_id: str
    email_hash: str
    expires_at: datetime

    def is_for(self, email: str) -> bool:
        """Whether the link was issued to this address (constant-time)."""
        return hmac.compare_digest(self.email_hash, email_hash(email))


def email_hash(email: str) -> str:
    """A truncated SHA-256 (128 bits, hex) of the canonical address."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]


def sign(claims: LinkClaims, key: bytes) -> str:
    payload = {
        "v": TOKEN_VERSION,
        "p": claims.purpose,
        "r": claims.reference,
        "s": claims.session_id,
        "e": claims.email_hash,
        "x": int(claims.expires_at.timestamp()),
    }
    segment = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    return f"{segment}.{_b64encode(_mac(key, segment))}"


def verify(token: str, keys: Sequence[bytes], *, purpose: str, now: datetime) -> LinkClaims:
    """The claims of a genuine, unexpired token for ``purpose``; else :class:`InvalidLinkError`."""
    if not keys:
        raise ValueError("no verification key")
    segment, _, signature = token.partition(".")
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or not segment or not signature:
        raise InvalidLinkError("malformed")
    try:
        given = _b64decode(signature)
    except (binascii.Error, ValueError) as exc:
        raise InvalidLinkError("malformed") from exc
    # Check every key (no early exit) so timing does not reveal which one matched.
    valid = [hmac.compare_digest(_mac(key, segment), given) for key in keys]
    if not any(valid):
        raise InvalidLinkError("signature")
    try:
        payload = json.loads(_b64decode(segment))
        claims = LinkClaims(
            purpose=str(payload["p"]),
            reference=str(payload["r"]),
            session_id=str(payload["s"]),
            email_hash=str(payload["e"]),
            expires_at=datetime.fromtimestamp(int(payload["x"]), UTC),
        )
        version = payload["v"]
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise InvalidLinkError("malformed") from exc
    if version != TOKEN_VERSION:
        raise InvalidLinkError("malformed")
    if not hmac.compare_digest(claims.purpose, purpose):
        raise InvalidLinkError("purpose")
    if now >= claims.expires_at:
        raise InvalidLinkError("expired")
    return claims


def registrant_url(
    purpose: str,
    base_url: str,
    *,
    reference: str,
    session_id: str,
    email: str,
    expires_at: datetime,
    key: bytes,
) -> str:
    """``{base_url}{path}?token=...``: one registrant's signed link for ``purpose`` (cancel,
    unsubscribe, privacy), naming one of their registrations."""
    claims = LinkClaims(purpose, reference, session_id, email_hash(email), expires_at)
    return f"{base_url.rstrip('/')}{PATHS[purpose]}?{urlencode({'token': sign(claims, key)})}"


def registration_url(
    purpose: str, registration: Registration, settings: Settings, *, expires_at: datetime
) -> str:
    """:func:`registrant_url` naming ``registration``, signed with the current key
    (:func:`shared.platform.secrets.signing_keys`), under ``settings.public_base_url``."""
    return registrant_url(
        purpose,
        settings.public_base_url,
        reference=registration.reference,
        session_id=registration.session_id,
        email=registration.email,
        expires_at=expires_at,
        key=signing_keys(settings)[0],
    )


def feed_token(
    *, reference: str, session_id: str, email: str, expires_at: datetime, key: bytes
) -> str:
    """The token of one registrant's calendar feed (purpose ``calendar``), naming one of their
    registrations (``reference``, ``session_id``)."""
    return sign(LinkClaims(CALENDAR, reference, session_id, email_hash(email), expires_at), key)


def feed_urls(base_url: str, token: str) -> tuple[str, str]:
    """``(https://.../calendar/{token}.ics, webcal://.../calendar/{token}.ics)``: the feed to
    open, and the same address with the ``webcal`` scheme that calendars subscribe to."""
    url = f"{base_url.rstrip('/')}{CALENDAR_PATH.format(token=token)}{FEED_SUFFIX}"
    scheme, _, rest = url.partition("://")
    return url, f"webcal://{rest}" if scheme in ("http", "https") else url


def materials_token(
    *, reference: str, session_id: str, email: str, expires_at: datetime, key: bytes
) -> str:
    """The token opening one session's materials to one registrant (purpose ``materials``)."""
    return sign(LinkClaims(MATERIALS, reference, session_id, email_hash(email), expires_at), key)


def material_url(base_url: str, material_id: str, token: str) -> str:
    """``{base_url}/materials/{material_id}?token=...``: one file's download."""
    return f"{base_url.rstrip('/')}/materials/{material_id}?{urlencode({'token': token})}"


def materials_list_url(base_url: str, session_id: str, token: str) -> str:
    """``{base_url}/sessions/{session_id}/materials?token=...``: the session's materials."""
    path = f"/sessions/{session_id}/materials"
    return f"{base_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def certificate_download_url(
    base_url: str,
    *,
    number: str,
    session_id: str,
    email: str,
    expires_at: datetime,
    key: bytes,
) -> str:
    """``{base_url}/certificates/{number}/download?token=...``: the holder's download of a
    certificate's PDF (purpose ``certificate``, the number as the reference)."""
    token = sign(LinkClaims(CERTIFICATE, number, session_id, email_hash(email), expires_at), key)
    path = f"/certificates/{number}/download"
    return f"{base_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def verification_url(base_url: str, number: str) -> str:
    """``{base_url}/certificates/{number}``: where anyone checks a certificate (no token)."""
    return f"{base_url.rstrip('/')}/certificates/{number}"


def _mac(key: bytes, segment: str) -> bytes:
    return hmac.new(key, segment.encode("ascii"), hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """The bytes of unpadded base64url ``text`` in its one canonical spelling, else
    ``ValueError``: padding, ``+``/``/``, or other spare bits in the last character would
    decode to the same bytes, so the decoded bytes are re-encoded and compared to the text."""
    data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    if _b64encode(data) != text:
        raise ValueError("not the canonical spelling")
    return data
