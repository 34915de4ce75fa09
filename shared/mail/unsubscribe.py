"""Unsubscribe: every email to a registrant carries a signed link that stops all email to them.

The link (purpose ``unsubscribe``) names one registration, as the cancel link does; the address
it was sent to is the registration's. ``GET /unsubscribe?token=`` only shows what the link does
(mail scanners follow links); ``POST`` (the page's form, or the RFC 8058 one-click request a
mail provider sends) suppresses the address with reason ``unsubscribed``
(:mod:`shared.mail.suppression`), at the request's time. A later registration by the address lifts
it again (:func:`shared.mail.suppression.renewed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from boto3.dynamodb.conditions import Key

from shared.mail import suppression
from shared.platform import keys
from shared.platform.clients import table
from shared.platform.observability import logger
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.programme.models import Session
from shared.registrations.models import Registration
from shared.web import links

LINK_VALIDITY_AFTER_END = timedelta(days=730)
"""Long: an old email's link must still work; the payload holds no address, only its hash."""


class RegistrationNotFoundError(LookupError):
    """No registration matches the link (erased, or never existed)."""


@dataclass(frozen=True)
class Unsubscribed:
    """The outcome of an unsubscribe link: the address's suppression after the request."""

    reference: str
    suppression: suppression.Suppression | None
    changed: bool
    """True if this request suppressed the address (False: it was suppressed before)."""


def link_for(registration: Registration, session: Session, *, settings: Settings) -> str:
    """The registrant's unsubscribe URL, for the footer and ``List-Unsubscribe``."""
    return links.registration_url(
        links.UNSUBSCRIBE, registration, settings, expires_at=session.end + LINK_VALIDITY_AFTER_END
    )


def open_link(token: str, *, now: datetime, settings: Settings) -> Unsubscribed:
    """What the link would do, changing nothing.

    Raises :class:`shared.web.links.InvalidLinkError` or :class:`RegistrationNotFoundError`.
    """
    reference, email = _linked(token, now, settings)
    current = suppression.get(settings.table_name, email)
    return Unsubscribed(reference, current, changed=False)


def unsubscribe(token: str, *, now: datetime, settings: Settings) -> Unsubscribed:
    """Suppress the address the link was sent to; a replay changes nothing. Raises as
    :func:`open_link`."""
    reference, email = _linked(token, now, settings)
    changed = suppression.suppress(settings.table_name, email, suppression.Reason.UNSUBSCRIBED, now)
    logger.info("Unsubscribe", extra={"reference": reference, "changed": changed})
    current = suppression.get(settings.table_name, email)
    return Unsubscribed(reference, current, changed)


def _linked(token: str, now: datetime, settings: Settings) -> tuple[str, str]:
    """The reference and address of the registration the link names."""
    claims = links.verify(token, signing_keys(settings), purpose=links.UNSUBSCRIBE, now=now)
    records = table(settings.table_name)
    page = records.query(
        IndexName="GSI2",
        KeyConditionExpression=Key("GSI2PK").eq(keys.reference_gsi2pk(claims.reference))
        & Key("GSI2SK").eq(keys.reference_gsi2sk(claims.session_id)),
    )
    named = [i for i in page["Items"] if claims.is_for(str(i.get("email", "")))]
    # The index is eventually consistent: the item itself has the last word.
    item = None
    if named:
        item = records.get_item(
            Key={"PK": named[0]["PK"], "SK": named[0]["SK"]}, ConsistentRead=True
        ).get("Item")
    if item is None or item.get("reference") != claims.reference:
        raise RegistrationNotFoundError(claims.reference)
    return claims.reference, str(item["email"])
