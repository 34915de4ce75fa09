"""What reports read: each session's registrations, waitlist positions and attendance, from
one Query on the session's partition (:mod:`shared.platform.keys`: never a Scan), and the rows
of the registrations report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key

from shared.platform import keys
from shared.platform.clients import table
from shared.programme.models import Session
from shared.programme.repository import get_session, list_sessions
from shared.registrations.models import Registration
from shared.registrations.store import registration_from_item
from shared.reports.authorities import Resolver, aliases
from shared.reports.writers import Table


class StatusFilter(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ALL = "all"


@dataclass
class SessionData:
    """One session's people, as stored."""

    session: Session
    registrations: list[Registration] = field(default_factory=list)
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
            data.registrations.append(registration_from_item(item))
        elif sk.startswith(keys.WAITLIST_SK_PREFIX):
            waiting.append((str(item["GSI2SK"]), str(item["email"])))
        elif sk.startswith(keys.ATTENDANCE_SK_PREFIX):
            data.attendance[str(item["email"])] = int(item["minutes"])
    data.waitlist_positions = {email: n for n, (_, email) in enumerate(sorted(waiting), start=1)}
    return data


def _partition(table_name: str, session_id: str, data: SessionData) -> Iterator[dict[str, Any]]:
    """The items of the session's partition, page by page (counted in ``data.query_pages``)."""
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(keys.session_pk(session_id))}
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
