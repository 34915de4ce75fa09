"""What reports read: each session's registrations, waitlist positions and attendance, from
one Query on the session's partition (:mod:`shared.platform.keys`: never a Scan), and the rows
of the registrations report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key

from shared.platform import keys
from shared.platform.clients import table
from shared.programme.models import Session
from shared.programme.repository import get_session, list_sessions
from shared.registrations.models import RegistrationStatus
from shared.reports.authorities import Resolver, aliases
from shared.reports.writers import Table


class StatusFilter(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ALL = "all"


@dataclass(frozen=True)
class Booking:
    """What a report shows of one registration (a projection of its item)."""

    session_id: str
    email: str
    reference: str
    full_name: str
    organisation: str
    country: str
    role: str
    language: str
    status: RegistrationStatus
    registered_at: datetime

    @classmethod
    def from_item(cls, session_id: str, item: dict[str, Any]) -> Booking:
        """From a registration item projected to :data:`_PROJECTED` (the address is in its
        sort key, the session in its partition key)."""
        return cls(
            session_id=session_id,
            email=_email(item),
            **{name: str(item.get(name, "")) for name in _TEXT},
            status=RegistrationStatus(item["status"]),
            registered_at=datetime.fromisoformat(str(item["registered_at"])),
        )


_TEXT = ("reference", "full_name", "organisation", "country", "role", "language")
# Only what reports show: a smaller answer than whole items (the same read capacity).
_PROJECTED = ("SK", "GSI2SK", "minutes", "status", "registered_at", *_TEXT)


def _email(item: dict[str, Any]) -> str:
    """The canonical address of a registration, waitlist or attendance item: its sort key's
    part after the prefix (:mod:`shared.platform.keys`)."""
    return str(item["SK"]).split("#", 1)[1]


@dataclass
class SessionData:
    """One session's people, as stored."""

    session: Session
    registrations: list[Booking] = field(default_factory=list)
    waitlist_positions: dict[str, int] = field(default_factory=dict)
    """Canonical address -> place in line (1 first), in promotion order."""
    attendance: dict[str, int] = field(default_factory=dict)
    """Canonical address -> minutes attended (only people with a record)."""
    query_pages: int = 0


def session_data(table_name: str, session: Session) -> SessionData:
    """The session's registrations, waitlist and attendance: one Query on ``PK=SESSION#{id}``
    (paginated at 1 MB; the META, import audits and other items are skipped)."""
    data = SessionData(session)
    waiting: list[tuple[str, str]] = []
    for item in _partition(table_name, session.session_id, data):
        sk = str(item["SK"])
        if sk.startswith(keys.REGISTRATION_SK_PREFIX):
            data.registrations.append(Booking.from_item(session.session_id, item))
        elif sk.startswith(keys.WAITLIST_SK_PREFIX):
            waiting.append((str(item["GSI2SK"]), _email(item)))
        elif sk.startswith(keys.ATTENDANCE_SK_PREFIX):
            data.attendance[_email(item)] = int(item["minutes"])
    data.waitlist_positions = {email: n for n, (_, email) in enumerate(sorted(waiting), start=1)}
    return data


def _partition(table_name: str, session_id: str, data: SessionData) -> Iterator[dict[str, Any]]:
    """The items of the session's partition, page by page (counted in ``data.query_pages``)."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.session_pk(session_id)),
        "ProjectionExpression": ", ".join(f"#a{n}" for n in range(len(_PROJECTED))),
        "ExpressionAttributeNames": {f"#a{n}": name for n, name in enumerate(_PROJECTED)},
    }
    while True:
        page = table(table_name).query(**kwargs)
        data.query_pages += 1
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def series_data(table_name: str, session_id: str | None = None) -> list[SessionData]:
    """Every session of the programme in start order (Query on GSI1 ``PROGRAMME``), or the one
    ``session_id`` (GetItem; :class:`shared.programme.repository.SessionNotFoundError` if
    unknown), each with its people."""
    if session_id is not None:
        sessions = [get_session(table_name, session_id).session]
    else:
        sessions = [a.session for a in list_sessions(table_name)]
    return [session_data(table_name, s) for s in sessions]


REGISTRATION_HEADER = (
    "reference",
    "name",
    "email",
    "organisation",
    "authority",
    "country",
    "role",
    "language",
    "session",
    "status",
    "waitlist position",
    "registered at (UTC)",
    "attended minutes",
)


def registrations_table(
    table_name: str, data: Sequence[SessionData], status: StatusFilter = StatusFilter.ALL
) -> Table:
    """One row per registration of ``data`` with ``status`` (all: every status), sessions in
    start order, then by address; cells are text (empty when unknown)."""
    resolver = Resolver(aliases(table_name))
    rows = []
    for session in data:
        for r in sorted(session.registrations, key=lambda r: r.email):
            if status is not StatusFilter.ALL and r.status.value != status.value:
                continue
            position = session.waitlist_positions.get(r.email)
            minutes = session.attendance.get(r.email)
            rows.append(
                (
                    r.reference,
                    r.full_name,
                    r.email,
                    r.organisation,
                    resolver.authority(r.organisation),
                    r.country,
                    r.role,
                    r.language,
                    r.session_id,
                    r.status.value,
                    "" if position is None else str(position),
                    r.registered_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                    "" if minutes is None else str(minutes),
                )
            )
    return Table("registrations", REGISTRATION_HEADER, rows)
