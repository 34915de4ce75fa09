"""Certificates and transcripts in the table (keys and access patterns in
:mod:`shared.platform.keys`; Query or GetItem, never Scan), and their numbers.

A number is 80 random bits (:func:`secrets.token_bytes`), base32 in four groups of four
(``7KQX-M2PA-...``): not guessable, and short enough to type from a printed certificate. A
certificate's item holds exactly what the certificate states, so verification shows that and
nothing more. One marker per session and person (``CERTIFIED#{email}``) points to their valid
certificate: it is claimed with a conditional put, which is what makes issuing happen once.
"""

from __future__ import annotations

import base64
import math
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared.platform import keys
from shared.platform.clients import table
from shared.platform.event_types import CERTIFICATES_PREFIX
from shared.registrations.models import normalise_email
from shared.registrations.store import query_items

CERTIFICATE = "certificate"
TRANSCRIPT = "transcript"
VALID, REVOKED, WITHDRAWN = "valid", "revoked", "withdrawn"
ATTENDANCE_CORRECTED = "attendance corrected"
"""The reason of a revocation made because the attendance no longer qualifies (issue 13)."""
REISSUED = "reissued"
NUMBER_BYTES = 10
"""80 random bits: 16 base32 characters."""
_NUMBER = re.compile(r"[A-Z2-7]{16}")


@dataclass(frozen=True)
class SessionLine:
    """One attended session as a certificate or transcript states it."""

    session_id: str
    title: str
    date: str
    """ISO date in the session's time zone."""
    minutes: int


@dataclass(frozen=True)
class Certificate:
    """A certificate of attendance (one session) or a transcript (``sessions``)."""

    number: str
    kind: str
    """:data:`CERTIFICATE` or :data:`TRANSCRIPT`."""
    status: str
    """:data:`VALID`, :data:`REVOKED` or :data:`WITHDRAWN` (then no personal data is left)."""
    email: str = ""
    name: str = ""
    organisation: str = ""
    issued_at: datetime | None = None
    sessions: tuple[SessionLine, ...] = ()
    """The session of a certificate (one), or every session a transcript covers."""
    reason: str = ""
    replaced_by: str = ""
    changed_at: datetime | None = None
    """When it was revoked or withdrawn."""
    fingerprint: str = ""
    """A transcript's digest of what it states (so an unchanged record reuses it)."""
    expiration: int = 0
    """TTL (Unix seconds): the record retention after the last session it covers."""
    language: str = ""
    """The holder's language (:mod:`shared.i18n.languages`) its PDF and email are written in;
    empty (English) for those issued before languages were recorded."""

    @property
    def minutes(self) -> int:
        return sum(s.minutes for s in self.sessions)

    @property
    def cpd_hours(self) -> Decimal:
        return cpd_hours(self.minutes)

    @property
    def session(self) -> SessionLine:
        return self.sessions[0]


@dataclass
class Marker:
    """A person's claim on a session's certificate: its number, ``issuing`` or ``issued``."""

    number: str
    state: str
    extra: dict[str, Any] = field(default_factory=dict)


def new_number() -> str:
    """A fresh certificate number: 80 random bits, base32, ``XXXX-XXXX-XXXX-XXXX``."""
    text = base64.b32encode(secrets.token_bytes(NUMBER_BYTES)).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalise_number(text: str) -> str | None:
    """``text`` as a number's canonical spelling (case, spaces and dashes forgiven), or None
    when it cannot be one."""
    compact = re.sub(r"[\s-]", "", text).upper()
    if not _NUMBER.fullmatch(compact):
        return None
    return "-".join(compact[i : i + 4] for i in range(0, 16, 4))


def cpd_hours(minutes: int) -> Decimal:
    """CPD hours for ``minutes`` attended: minutes / 60 rounded down to the quarter hour
    (89 minutes: 1.25; 90: 1.5), as the certificate states."""
    return Decimal(math.floor(max(minutes, 0) / 15)) / 4


def pdf_key(number: str) -> str:
    """Where a certificate's PDF lives in the private bucket."""
    return f"{CERTIFICATES_PREFIX}{number}.pdf"


# --- items ----------------------------------------------------------------------------------


def _item(cert: Certificate) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": keys.certificate_pk(cert.number),
        "SK": keys.CERTIFICATE_SK,
        "type": "certificate",
        "number": cert.number,
        "kind": cert.kind,
        "status": cert.status,
        "expiration": cert.expiration,
    }
    if cert.status == WITHDRAWN:
        item["changed_at"] = cert.changed_at.isoformat() if cert.changed_at else ""
        return item  # a tombstone: no personal data, no index keys
    item.update(
        {
            "GSI1PK": keys.registrant_gsi1pk(normalise_email(cert.email)),
            "GSI1SK": keys.certificate_gsi1sk(cert.number),
            "email": normalise_email(cert.email),
            "name": cert.name,
            "organisation": cert.organisation,
            "issued_at": cert.issued_at.isoformat() if cert.issued_at else "",
            "sessions": [
                {"session_id": s.session_id, "title": s.title, "date": s.date, "minutes": s.minutes}
                for s in cert.sessions
            ],
            "reason": cert.reason,
            "replaced_by": cert.replaced_by,
            "fingerprint": cert.fingerprint,
            "language": cert.language,
        }
    )
    if cert.kind == CERTIFICATE and cert.issued_at:
        item["GSI2PK"] = keys.certificates_gsi2pk(cert.session.session_id)
        item["GSI2SK"] = f"{keys.sortable_time(cert.issued_at)}#{cert.number}"
    return item


def _from_item(item: dict[str, Any]) -> Certificate:
    def when(name: str) -> datetime | None:
        value = str(item.get(name) or "")
        return datetime.fromisoformat(value) if value else None

    return Certificate(
        number=str(item["number"]),
        kind=str(item["kind"]),
        status=str(item["status"]),
        email=str(item.get("email", "")),
        name=str(item.get("name", "")),
        organisation=str(item.get("organisation", "")),
        issued_at=when("issued_at"),
        sessions=tuple(
            SessionLine(str(s["session_id"]), str(s["title"]), str(s["date"]), int(s["minutes"]))
            for s in item.get("sessions", [])
        ),
        reason=str(item.get("reason", "")),
        replaced_by=str(item.get("replaced_by", "")),
        changed_at=when("changed_at"),
        fingerprint=str(item.get("fingerprint", "")),
        expiration=int(item.get("expiration", 0)),
        language=str(item.get("language", "")),
    )


def put_certificate(table_name: str, cert: Certificate) -> None:
    """Write a new certificate; a number already taken raises ``ClientError``
    (ConditionalCheckFailedException): never overwrite another holder's certificate."""
    table(table_name).put_item(Item=_item(cert), ConditionExpression="attribute_not_exists(PK)")


def get_certificate(table_name: str, number: str) -> Certificate | None:
    item = (
        table(table_name)
        .get_item(
            Key={"PK": keys.certificate_pk(number), "SK": keys.CERTIFICATE_SK}, ConsistentRead=True
        )
        .get("Item")
    )
    return _from_item(item) if item else None


def session_certificates(table_name: str, session_id: str) -> list[Certificate]:
    """Every certificate of a session, in any state, oldest first (Query on GSI2)."""
    condition = Key("GSI2PK").eq(keys.certificates_gsi2pk(session_id))
    items = query_items(table_name, IndexName="GSI2", KeyConditionExpression=condition)
    return [_from_item(i) for i in items]


def person_certificates(table_name: str, email: str) -> list[Certificate]:
    """Every certificate and transcript held for an address (Query on GSI1; tombstones have
    no index keys, so they are not found)."""
    condition = Key("GSI1PK").eq(keys.registrant_gsi1pk(normalise_email(email))) & Key(
        "GSI1SK"
    ).begins_with(keys.CERTIFICATE_GSI1SK_PREFIX)
    items = query_items(table_name, IndexName="GSI1", KeyConditionExpression=condition)
    found = [get_certificate(table_name, str(i["number"])) for i in items]  # the index lags
    return [c for c in found if c is not None and c.status != WITHDRAWN]


def change_status(
    table_name: str,
    cert: Certificate,
    status: str,
    *,
    at: datetime,
    reason: str = "",
    replaced_by: str = "",
) -> bool:
    """Revoke (``status`` revoked) a valid certificate, or withdraw (a tombstone replaces the
    item) any certificate; False if it was not valid (revoke) or is already withdrawn."""
    if status == WITHDRAWN:
        tombstone = Certificate(
            number=cert.number,
            kind=cert.kind,
            status=WITHDRAWN,
            changed_at=at,
            expiration=cert.expiration,
        )
        try:
            table(table_name).put_item(
                Item=_item(tombstone),
                ConditionExpression="attribute_exists(PK) AND #s <> :w",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":w": WITHDRAWN},
            )
        except ClientError as exc:
            return _failed_condition(exc)
        return True
    try:
        table(table_name).update_item(
            Key={"PK": keys.certificate_pk(cert.number), "SK": keys.CERTIFICATE_SK},
            UpdateExpression="SET #s = :r, reason = :why, replaced_by = :by, changed_at = :at",
            ConditionExpression="#s = :v",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":r": REVOKED,
                ":v": VALID,
                ":why": reason,
                ":by": replaced_by,
                ":at": at.isoformat(),
            },
        )
    except ClientError as exc:
        return _failed_condition(exc)
    return True


# --- the once-only marker -------------------------------------------------------------------


def _marker_key(session_id: str, email: str) -> dict[str, str]:
    return {"PK": keys.session_pk(session_id), "SK": keys.certified_sk(normalise_email(email))}


def claim(table_name: str, session_id: str, email: str, number: str, expiration: int) -> Marker:
    """Claim ``number`` as the person's certificate of the session unless they hold one: the
    marker that wins (``state`` issuing when just claimed by this call)."""
    key = _marker_key(session_id, email)
    item: dict[str, Any] = {
        **key,
        "type": "certified",
        "number": number,
        "state": "issuing",
        "expiration": expiration,
    }
    try:
        table(table_name).put_item(Item=item, ConditionExpression="attribute_not_exists(PK)")
    except ClientError as exc:
        _failed_condition(exc)
        current = get_marker(table_name, session_id, email)
        if current is None:  # revoked in between: claim again
            return claim(table_name, session_id, email, number, expiration)
        return current
    return Marker(number, "issuing", {"claimed": True})


def get_marker(table_name: str, session_id: str, email: str) -> Marker | None:
    item = (
        table(table_name)
        .get_item(Key=_marker_key(session_id, email), ConsistentRead=True)
        .get("Item")
    )
    return Marker(str(item["number"]), str(item["state"])) if item else None


def set_marker(
    table_name: str, session_id: str, email: str, number: str, state: str, expiration: int
) -> None:
    key = _marker_key(session_id, email)
    table(table_name).put_item(
        Item={
            **key,
            "type": "certified",
            "number": number,
            "state": state,
            "expiration": expiration,
        }
    )


def drop_marker(table_name: str, session_id: str, email: str, number: str) -> None:
    """Delete the marker if it still points to ``number``."""
    try:
        table(table_name).delete_item(
            Key=_marker_key(session_id, email),
            ConditionExpression="#n = :n",
            ExpressionAttributeNames={"#n": "number"},
            ExpressionAttributeValues={":n": number},
        )
    except ClientError as exc:
        _failed_condition(exc)


def with_name(cert: Certificate, name: str, number: str, at: datetime) -> Certificate:
    """A reissue of ``cert`` under a new number (and possibly a corrected name)."""
    return replace(
        cert,
        number=number,
        name=name,
        issued_at=at,
        status=VALID,
        reason="",
        replaced_by="",
        changed_at=None,
    )


def _failed_condition(exc: ClientError) -> bool:
    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
        raise exc
    return False
