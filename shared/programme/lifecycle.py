"""The life of a scheduled session: reminders, start, end, reschedule and cancellation.

- :func:`run_clock` (the session clock, a scheduled rule every 5 minutes) finds, for each
  session near its time, the :data:`MILESTONES` due at ``now``: the T-24h and T-1h reminders
  (fanned out here) and the start and end (announced as "Session Started"/"Session Ended").
  It also announces the batches of materials uploaded since the follow-up, once due
  (:func:`shared.materials.announcements.announce`).
- :func:`handle_change` reacts to those events and to organisers' changes: it marks the
  session live or ended and fans out the "we are live" notice, the follow-up, the new time or
  the cancellation.
- :func:`reschedule`, :func:`cancel` and :func:`start` are the organisers' commands; their
  events carry the organiser's ``now`` as their time.

Every milestone and notice is done once: claimed on the session's META item first
(:mod:`shared.programme.milestones`), versioned by the scheduled start (or, for a change, the
sequence). So a tick that comes late, twice or out of order, or a replayed event, does
nothing twice; a reschedule makes every milestone due again at the new time. A milestone whose
moment passed long ago (a reminder once the session has started) is skipped, never done late;
a session whose end passed more than :data:`FOLLOW_UP_WINDOW` ago (the clock was down, or a
simulated clock jumped) is still ended, without its follow-up, so it never stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from shared.materials import announcements
from shared.notices.kinds import SPECS, NoticeKind, version
from shared.platform import keys
from shared.platform.event_types import (
    SESSION_CANCELLED,
    SESSION_ENDED,
    SESSION_STARTED,
    SESSION_UPDATED,
    SOURCE_SESSIONS,
)
from shared.platform.events import OutgoingEvent, publish
from shared.platform.observability import logger
from shared.platform.settings import Settings
from shared.privacy import retention
from shared.programme import milestones, repository
from shared.programme.models import AwareDatetime, Session, SessionId, SessionStatus
from shared.programme.schedule import (
    LOOKAHEAD,
    MILESTONES,
    OPEN,
    SERIES_EPOCH,
    Milestone,
)

EARLIEST_START = timedelta(hours=1)
"""How long before its start an organiser may start a session."""
REOPENED = "it takes place after all"
"""The change a reopened session's registrants are told of."""


class SessionChange(BaseModel):
    """The ``data`` of "Session Started/Ended/Updated/Cancelled" (no personal data)."""

    session_id: SessionId
    sequence: int
    start: AwareDatetime
    reason: str = ""
    previous_start: AwareDatetime | None = None  # a reschedule's old start: notices show both


Cause = SessionChange | None  # the session event a notice tells of, if any


class ChangeRefusedError(ValueError):
    """An organiser's change does not apply to the session as it is (the message says why)."""


@dataclass
class ClockReport:
    """What one tick did, as ``"{session_id} {milestone}"`` labels."""

    fired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


# --- the session clock --------------------------------------------------------------------


def run_clock(now: datetime, *, settings: Settings) -> ClockReport:
    """Do every milestone due at ``now`` (the tick's time) that is not done yet.

    One failing milestone does not stop the others; the caller fails the tick if any failed,
    so it is retried (what was done is not done again).
    """
    report = ClockReport()
    table_name = settings.table_name
    for item in repository.programme_items(table_name, SERIES_EPOCH, now + LOOKAHEAD):
        session = repository.availability_from_item(item).session
        for milestone in MILESTONES:
            _advance(milestone, session, item, now, settings, report)
    for announcement in announcements.due_announcements(table_name, now):
        _announce(announcement, now, settings, report)
    return report


def _announce(
    announcement: announcements.Announcement, now: datetime, settings: Settings, report: ClockReport
) -> None:
    """The "materials available" notice of a batch of uploads now due
    (:mod:`shared.materials.library`)."""
    label = f"{announcement.session_id} materials"
    try:
        announced = announcements.announce(announcement, now=now, settings=settings)
    except Exception:
        logger.exception(
            "Materials announcement failed", extra={"session_id": announcement.session_id}
        )
        report.failed.append(label)
        return
    (report.fired if announced else report.skipped).append(label)


def _advance(
    milestone: Milestone,
    session: Session,
    item: dict[str, Any],
    now: datetime,
    settings: Settings,
    report: ClockReport,
) -> None:
    start_version = keys.sortable_time(session.start)
    if (
        session.status not in milestone.statuses
        or now < milestone.moment(session)
        or milestones.settled(item, milestone.name, start_version)
    ):
        return
    label = f"{session.session_id} {milestone.name}"
    facts = {"session_id": session.session_id, "milestone": milestone.name}
    if now >= milestone.deadline(session):
        if milestone.event == SESSION_ENDED:  # ended all the same, its follow-up too late
            repository.change_status(
                settings.table_name, session, SessionStatus.ENDED, expected=milestone.statuses
            )
        if milestones.skip(settings.table_name, session.session_id, milestone.name, start_version):
            logger.info("Milestone skipped: its moment passed long ago", extra=facts)
            report.skipped.append(label)
        return
    try:
        done = _fire(milestone, session, start_version, now, settings)
    except Exception:
        logger.exception("Milestone failed", extra=facts)
        report.failed.append(label)
        return
    if done is not None:
        report.fired.append(label)


def _fire(
    milestone: Milestone, session: Session, start_version: str, now: datetime, settings: Settings
) -> dict[str, Any] | None:
    """Fan the milestone's reminder out, or publish its event (at the tick's time), once."""
    if milestone.notice:
        return notify(
            milestone.notice, session, moment=milestone.moment(session), settings=settings
        )
    event = session_event(str(milestone.event), session, time=now)

    def announce() -> dict[str, Any]:
        publish([event], settings.event_bus_name)
        return {}

    return _once(
        settings.table_name, session, milestone.name, start_version, milestone.statuses, announce
    )


# --- session events -----------------------------------------------------------------------


def handle_change(
    detail_type: str, change: SessionChange, *, now: datetime, settings: Settings
) -> str:
    """React to a session event (see module doc); what was done, for the log."""
    table_name = settings.table_name
    try:
        session = repository.get_session(table_name, change.session_id).session
    except repository.SessionNotFoundError:
        return "unknown session"
    if detail_type in (SESSION_STARTED, SESSION_ENDED):
        if change.start != session.start:
            return "superseded: rescheduled since"
        started = detail_type == SESSION_STARTED
        target = SessionStatus.LIVE if started else SessionStatus.ENDED
        expected = OPEN if started else frozenset({SessionStatus.OPEN, SessionStatus.LIVE})
        if session.status in expected:
            changed = repository.change_status(table_name, session, target, expected=expected)
            session = changed or repository.get_session(table_name, session.session_id).session
        if session.status is not target:
            return f"not applicable: session {session.status.value}"
        kind = NoticeKind.LIVE if started else NoticeKind.FOLLOW_UP
    else:
        if change.sequence != session.sequence:
            return "superseded: changed since"
        kind = NoticeKind.UPDATE if detail_type == SESSION_UPDATED else NoticeKind.CANCELLATION
        if session.status not in SPECS[kind].statuses:
            return f"not applicable: session {session.status.value}"
        if kind is NoticeKind.UPDATE:  # personal data is kept from the new end on
            retention.follow_session(table_name, session, settings.retention_days)
    result = notify(kind, session, moment=now, settings=settings, cause=change)
    return "notified" if result is not None else "nothing to do: notified already"


def session_event(
    detail_type: str, session: Session, reason: str = "", time: datetime | None = None
) -> OutgoingEvent:
    """A session event, keyed by session and sequence (a replay is a duplicate); ``time``
    (the clock's tick) is the event's time, so its consumers' "now"."""
    change = SessionChange(
        session_id=session.session_id,
        sequence=session.sequence,
        start=session.start,
        reason=reason,
    )
    slug = detail_type.lower().replace(" ", "-")
    return OutgoingEvent(
        source=SOURCE_SESSIONS,
        detail_type=detail_type,
        data=change.model_dump(mode="json"),
        idempotency_key=f"{slug}#{session.session_id}#{session.sequence}",
        time=time,
    )


# --- notices ------------------------------------------------------------------------------


def notify(
    kind: NoticeKind, session: Session, *, moment: datetime, settings: Settings, cause: Cause = None
) -> dict[str, Any] | None:
    """Fan the notice out once (claimed on the session); its counts, or ``None`` if it was
    done already, is being done, or no longer applies. ``cause``: the session event it tells
    of (its reason, and a reschedule's old start)."""

    def work() -> dict[str, Any]:
        # Loaded when a notice is due, not on every tick (the session clock's cold start).
        from shared.notices.fanout import fan_out

        result = fan_out(
            settings.table_name,
            settings.email_batches_queue_url,
            kind,
            session,
            moment=moment,
            reason=cause.reason if cause else "",
            previous_start=cause.previous_start if cause else None,
        )
        return {"recipients": result.recipients, "batches": result.batches}

    facts = _once(
        settings.table_name,
        session,
        kind.value,
        version(kind, session),
        SPECS[kind].statuses,
        work,
    )
    if facts is not None:
        logger.info(
            "Notice fanned out", extra={"session_id": session.session_id, "kind": kind, **facts}
        )
    return facts


def _once(
    table_name: str,
    session: Session,
    name: str,
    work_version: str,
    statuses: frozenset[SessionStatus],
    work: Callable[[], dict[str, Any]],
) -> dict[str, Any] | None:
    """Claim, do and complete ``work``; ``None`` if it could not be claimed. A failure
    releases the claim, so the next trigger tries again at once."""
    token = milestones.claim(table_name, session, name, work_version, statuses=statuses)
    if token is None:
        return None
    try:
        facts = work()
    except BaseException:
        milestones.release(table_name, session.session_id, name, token)
        raise
    milestones.complete(table_name, session.session_id, name, work_version, token, **facts)
    return facts


# --- organisers' commands -----------------------------------------------------------------


def reschedule(
    table_name: str, bus_name: str, session_id: str, start: datetime, *, now: datetime
) -> Session:
    """Move an open session to ``start`` (next sequence) and publish "Session Updated".

    Stored first, then announced: run again with the same time after a failed publish, and
    it announces the change again (consumers notify once per sequence).
    """
    current = repository.get_session(table_name, session_id).session
    if current.status is not SessionStatus.OPEN:
        raise ChangeRefusedError(
            f"{session_id} is {current.status.value}: only an open session can be rescheduled"
        )
    if start <= now:
        raise ChangeRefusedError("the new start must be in the future")
    updated = current
    if start != current.start:
        updated = _changed(current, start=start)
        repository.replace_session(table_name, updated, expected_sequence=current.sequence)
    event = session_event(SESSION_UPDATED, updated, time=now)
    event.data["previous_start"] = current.start.isoformat()  # the notice shows old and new
    publish([event], bus_name)
    return updated


def cancel(
    table_name: str, bus_name: str, session_id: str, reason: str, *, now: datetime
) -> Session:
    """Cancel an open session (next sequence) and publish "Session Cancelled" with ``reason``;
    on a cancelled session, announce it again (see :func:`reschedule`)."""
    current = repository.get_session(table_name, session_id).session
    updated = current
    if current.status is SessionStatus.OPEN:
        updated = _changed(current, status=SessionStatus.CANCELLED)
        repository.replace_session(table_name, updated, expected_sequence=current.sequence)
    elif current.status is not SessionStatus.CANCELLED:
        raise ChangeRefusedError(
            f"{session_id} is {current.status.value}: only an open session can be cancelled"
        )
    publish([session_event(SESSION_CANCELLED, updated, reason, time=now)], bus_name)
    return updated


def reopen(table_name: str, bus_name: str, session_id: str, *, now: datetime) -> Session:
    """Reopen a cancelled session (next sequence) and publish "Session Updated": its
    confirmed registrants get the invitation back. On an open session, announce it again (see
    :func:`reschedule`). Imports never reopen a session; this is the explicit way."""
    current = repository.get_session(table_name, session_id).session
    updated = current
    if current.status is SessionStatus.CANCELLED:
        if current.start <= now:
            raise ChangeRefusedError(f"{session_id} was due to start already: reschedule it")
        updated = _changed(current, status=SessionStatus.OPEN)
        repository.replace_session(table_name, updated, expected_sequence=current.sequence)
    elif current.status is not SessionStatus.OPEN:
        raise ChangeRefusedError(
            f"{session_id} is {current.status.value}: only a cancelled session can be reopened"
        )
    publish([session_event(SESSION_UPDATED, updated, REOPENED, time=now)], bus_name)
    return updated


def start(table_name: str, bus_name: str, session_id: str, *, now: datetime) -> Session:
    """Publish "Session Started" for an open (or live) session, from an hour before its start."""
    current = repository.get_session(table_name, session_id).session
    if current.status not in (SessionStatus.OPEN, SessionStatus.LIVE):
        raise ChangeRefusedError(f"{session_id} is {current.status.value}: it cannot start")
    if now < current.start - EARLIEST_START:
        raise ChangeRefusedError(
            f"{session_id} starts at {current.start.isoformat()}: it can be started from an "
            "hour before"
        )
    publish([session_event(SESSION_STARTED, current, time=now)], bus_name)
    return current


def _changed(session: Session, **changes: Any) -> Session:
    """``session`` with ``changes`` and the next sequence, validated."""
    data = {**session.model_dump(), **changes, "sequence": session.sequence + 1}
    return Session.model_validate(data)
