"""Add-to-calendar links for one session, beside the ``.ics``: Google Calendar's event
template and Outlook.com's compose deep link (for calendars that show only one invitation of
a message, or none). Times in UTC; the link carries no personal data beyond ``details``."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from shared.programme.models import Session

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0/deeplink/compose"
MAX_DETAILS = 1000
"""Characters of the description kept: the links stay well under browsers' URL limits."""


def google(session: Session, details: str, title: str | None = None) -> str:
    """``https://calendar.google.com/calendar/render?action=TEMPLATE&text=..&dates=S/E&details=..``
    with ``dates`` as ``YYYYMMDDTHHMMSSZ/YYYYMMDDTHHMMSSZ`` (UTC); ``title`` defaults to the
    session's."""
    query = {
        "action": "TEMPLATE",
        "text": title or session.title,
        "dates": f"{_basic(session.start)}/{_basic(session.end)}",
        "details": details[:MAX_DETAILS],
        "location": str(session.join_url),
    }
    return f"{GOOGLE}?{urlencode(query)}"


def outlook(session: Session, details: str, title: str | None = None) -> str:
    """``https://outlook.live.com/calendar/0/deeplink/compose?subject=..&startdt=..&enddt=..``
    with ISO 8601 UTC times (``2026-12-01T09:00:00Z``); ``title`` defaults to the session's."""
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title or session.title,
        "startdt": _extended(session.start),
        "enddt": _extended(session.end),
        "body": details[:MAX_DETAILS],
        "location": str(session.join_url),
    }
    return f"{OUTLOOK}?{urlencode(query)}"


def _basic(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _extended(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
