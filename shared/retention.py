"""Retention: personal data of a session is kept ``retention_days`` after the session ends.

Registration, waitlist and promotion items carry the table's TTL attribute ``expiration``
(Unix seconds, :data:`infra.wiring.TABLE`), so DynamoDB deletes them by itself once a series is
past. The days are a setting (``KBS_RETENTION_DAYS``, default 365).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.models import Session

TTL_ATTRIBUTE = "expiration"


def expiration(session: Session, retention_days: int) -> int:
    """The TTL (Unix seconds) of personal data held for ``session``."""
    return expiration_at(session.end, retention_days)


def expiration_at(session_end: datetime, retention_days: int) -> int:
    return int((session_end + timedelta(days=retention_days)).timestamp())
