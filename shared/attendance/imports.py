"""Importing an attendance report, correcting one person, and the "Attendance Recorded" event.

An import checks everything before it writes anything (the session has ended, the file is a
known format of the session's day, some row matches a registration): a refused file leaves the
table as it was. Then, keyed by the file's SHA-256 digest:

- the same file as the session's current import changes nothing and publishes nothing;
- another file replaces the import: records it changes are written, records of people no longer
  in it are deleted (manual corrections of people absent from the file are kept), and one audit
  item says when, by whom, which digest and the counts.

The audit is written first with the attendees the event will list (``pending_attendees``), then
the records, then the event, then the audit is marked published (and the list dropped). A run
that crashed midway is completed by importing the same file again: it publishes the pending
attendees under the same import id (consumers dedupe on the idempotency key).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.attendance import store
from shared.attendance.formats import parse_report
from shared.attendance.matching import Outcome, match
from shared.attendance.reports import MAX_REPORT_BYTES, ReportError
from shared.attendance.store import Attendance
from shared.platform import keys
from shared.platform.event_types import ATTENDANCE_RECORDED, SOURCE_ATTENDANCE
from shared.platform.events import OutgoingEvent, publish
from shared.platform.settings import Settings
from shared.privacy import retention
from shared.programme.models import Session, SessionStatus
from shared.programme.repository import SessionNotFoundError, get_session
from shared.registrations.models import normalise_email
from shared.registrations.store import get_registration, session_registrations

MAX_ATTENDEES_PER_EVENT = 500  # keeps an event well under EventBridge's 256 KB


@dataclass(frozen=True)
class ImportResult:
    outcome: Outcome
    digest: str
    """SHA-256 of the file, hex."""
    status: str
    """``dry run``, ``unchanged`` (the current import's file), ``imported``, or ``completed``
    (an interrupted import of this file finished)."""
    import_id: str | None = None
    attendees: list[dict[str, Any]] = field(default_factory=list)
    """The event's attendees: records created, changed or removed (minutes 0)."""
    kept_manual: list[str] = field(default_factory=list)
    """Addresses corrected by hand, absent from the file, whose records were kept."""


def import_report(
    settings: Settings,
    session_id: str,
    data: bytes,
    *,
    actor: str,
    now: datetime,
    dry_run: bool = False,
) -> ImportResult:
    """Import a report of a session (see the module's docstring).

    Raises :class:`ReportError` (nothing written) for an unknown or ended-too-late session, a
    file over :data:`MAX_REPORT_BYTES`, or any refusal of
    :func:`shared.attendance.formats.parse_report` and :func:`shared.attendance.matching.match`;
    :class:`shared.platform.events.PublishError` if the event was not accepted (import the
    same file again to complete it).
    """
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"the file is over {MAX_REPORT_BYTES:,} bytes: refused")
    table_name = settings.table_name
    session = ended_session(table_name, session_id, now)
    report = parse_report(data, session)
    threshold = store.threshold_minutes(table_name, session)
    outcome = match(report, session, session_registrations(table_name, session_id), threshold)
    digest = hashlib.sha256(data).hexdigest()
    if dry_run:
        return ImportResult(outcome, digest, "dry run")
    latest = store.latest_import(table_name, session_id)
    if latest and latest["digest"] == digest and latest.get("published_at"):
        return ImportResult(outcome, digest, "unchanged", import_id=str(latest["import_id"]))
    pending = latest if latest and latest["digest"] == digest else None
    import_id = str(pending["import_id"]) if pending else uuid.uuid4().hex[:16]
    current = {a.email: a for a in store.session_attendance(table_name, session_id)}
    puts, attendees, found = [], [], set()
    for person in outcome.matched:
        found.add(person.email)
        before = current.get(person.email)
        if before and before.minutes == person.minutes and before.source == outcome.source:
            continue
        record = Attendance(
            session_id, person.email, person.minutes, outcome.source, now, import_id
        )
        puts.append(store.attendance_item(record, session, settings.record_retention_years))
        if before is None or before.minutes != person.minutes:
            attendees.append(_attendee(person.email, person.minutes, threshold))
    kept = sorted(e for e, a in current.items() if e not in found and a.source == "manual")
    removed = sorted(e for e, a in current.items() if e not in found and a.source != "manual")
    attendees += [_attendee(email, 0, threshold) for email in removed]
    if pending:  # an interrupted run of this file: its event is still owed
        listed = {a["email"] for a in attendees}
        attendees += [a for a in pending.get("pending_attendees", []) if a["email"] not in listed]
    counts = outcome.counts() | {"changed": len(puts), "removed": len(removed), "kept": len(kept)}
    audit = pending or _audit(session, settings, import_id, now, actor, "import")
    audit |= {"digest": digest, "source": outcome.source, "counts": counts}
    audit |= {"threshold": threshold, "pending_attendees": attendees}
    store.put_audit(table_name, audit)
    store.write_records(table_name, puts, [(session_id, e) for e in removed])
    _publish(settings, session_id, import_id, attendees, now)
    store.mark_published(table_name, audit, now)
    status = "completed" if pending else "imported"
    return ImportResult(outcome, digest, status, import_id, attendees, kept)


def correct(
    settings: Settings,
    session_id: str,
    email: str,
    minutes: int,
    reason: str,
    *,
    actor: str,
    now: datetime,
) -> dict[str, Any] | None:
    """Set one registrant's minutes by hand (source ``manual``), audited, with its event.

    Minutes 0 removes the record. Returns the event's attendee (``email``, ``minutes``,
    ``qualifies``), or None if the record already says so. Raises :class:`ReportError` for a
    session not found or not ended, an address not registered for it, minutes outside 0 to the
    session's length, or an empty reason.
    """
    table_name = settings.table_name
    session = ended_session(table_name, session_id, now)
    email = normalise_email(email)
    if not reason.strip():
        raise ReportError("a correction needs a reason (--reason)")
    if not 0 <= minutes <= session.duration_minutes:
        raise ReportError(f"minutes must be from 0 to {session.duration_minutes}")
    if get_registration(table_name, session_id, email) is None:
        raise ReportError(f"{email} has no registration for {session_id}")
    before = store.get_attendance(table_name, session_id, email)
    if (before.minutes if before else 0) == minutes:
        return None
    threshold = store.threshold_minutes(table_name, session)
    import_id = f"manual-{uuid.uuid4().hex[:12]}"
    attendee = _attendee(email, minutes, threshold)
    audit = _audit(session, settings, import_id, now, actor, "correction") | {
        "email": email,
        "previous_minutes": before.minutes if before else 0,
        "minutes": minutes,
        "reason": reason.strip(),
        "threshold": threshold,
        "pending_attendees": [attendee],
    }
    store.put_audit(table_name, audit)
    record = Attendance(session_id, email, minutes, "manual", now, import_id, reason.strip())
    item = store.attendance_item(record, session, settings.record_retention_years)
    store.write_records(
        table_name, [item] if minutes else [], [] if minutes else [(session_id, email)]
    )
    _publish(settings, session_id, import_id, [attendee], now)
    store.mark_published(table_name, audit, now)
    return attendee


def ended_session(table_name: str, session_id: str, now: datetime) -> Session:
    """The session, if attendance can be recorded for it (it exists, is not cancelled, and has
    ended at ``now``); :class:`ReportError` otherwise."""
    try:
        session = get_session(table_name, session_id).session
    except SessionNotFoundError as exc:
        raise ReportError(f"no session {session_id}") from exc
    if session.status == SessionStatus.CANCELLED:
        raise ReportError(f"session {session_id} was cancelled")
    if now < session.end:
        raise ReportError(
            f"session {session_id} has not ended: it ends at {session.end.isoformat()}"
        )
    return session


def _attendee(email: str, minutes: int, threshold: int) -> dict[str, Any]:
    return {"email": email, "minutes": minutes, "qualifies": minutes >= threshold}


def _audit(
    session: Session, settings: Settings, import_id: str, now: datetime, actor: str, kind: str
) -> dict[str, Any]:
    return {
        "PK": keys.session_pk(session.session_id),
        # Ordered by the real clock: a local stack's simulated one may stand still between runs.
        "SK": keys.attendance_import_sk(datetime.now(UTC), import_id),
        "type": "attendance_import",
        "kind": kind,
        "session_id": session.session_id,
        "import_id": import_id,
        "at": now.isoformat(),
        "by": actor,
        retention.TTL_ATTRIBUTE: store.record_expiration(session, settings.record_retention_years),
    }


def _publish(
    settings: Settings,
    session_id: str,
    import_id: str,
    attendees: list[dict[str, Any]],
    now: datetime,
) -> None:
    """One "Attendance Recorded" event per 500 attendees (none if there are none)."""
    events = [
        OutgoingEvent(
            source=SOURCE_ATTENDANCE,
            detail_type=ATTENDANCE_RECORDED,
            data={
                "session_id": session_id,
                "import_id": import_id,
                "attendees": attendees[start : start + MAX_ATTENDEES_PER_EVENT],
            },
            idempotency_key=f"attendance#{session_id}#{import_id}#{n}",
            time=now,
        )
        for n, start in enumerate(range(0, len(attendees), MAX_ATTENDEES_PER_EVENT))
    ]
    publish(events, settings.event_bus_name)
