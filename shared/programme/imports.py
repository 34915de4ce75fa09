"""Importing a programme file without undoing what organisers did since (issue 12, item 6).

The file is the organisers' source for new sessions and for their content; a session's status
(cancelled, live, ended) is never changed by an import. Each session is compared with what the
*last import* of it said (its imported form, stored on the session's META item as
``imported``), not with its current state:

- the file says what it said before: the session is **unchanged**, and whatever an organiser
  changed since (a reschedule, a cancellation) stays; the plan names what is kept;
- a field changed in the file since: the session is **changed** in those fields only. A new
  start is a reschedule (next SEQUENCE, "Session Updated", the same notice as
  ``kbs sessions reschedule``); a new join link, title or duration sends confirmed registrants
  an updated invitation too (same UID, higher SEQUENCE). Other fields are stored quietly;
- a change to a session that is not open is **refused** (cancelled: reopen it first with
  ``kbs sessions reopen``), as is a new start in the past; nothing of it is stored.

Relative starts (``start_in_days``) are resolved only when a session is first created, so
re-importing the sample reschedules nothing. A session imported before imported forms were
kept is compared with its current state (its first import after the upgrade records one).

Announce and store: a new session is announced ("Session Scheduled"), then stored; a change is
stored, announced, then its imported form recorded, so after a failed publish the same import
announces it again (without changing the session twice).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.i18n.catalogs import N_
from shared.platform.event_types import SESSION_SCHEDULED, SESSION_UPDATED, SOURCE_SESSIONS
from shared.platform.events import OutgoingEvent, publish
from shared.programme import lifecycle, repository
from shared.programme.catalogue import CONTENT_FIELDS, ProgrammeEntry
from shared.programme.models import Session, SessionStatus

INVITE_FIELDS = ("start", "join_url", "title", "duration_minutes")
"""Fields an invitation in registrants' calendars shows: a change sends an updated one."""
_CHANGE_NAMES = {
    "join_url": N_("new join link"),
    "title": N_("new title"),
    "duration_minutes": N_("new length"),
}


class Action(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


@dataclass(frozen=True)
class Planned:
    """What an import does to one session."""

    session_id: str
    action: Action
    imported: dict[str, Any]
    changed: tuple[str, ...] = ()
    """Fields the file changed since the last import (applied unless refused)."""
    kept: tuple[str, ...] = ()
    """Fields an organiser changed since the last import, which the import leaves alone."""
    reason: str = ""
    """Why the session is refused."""
    note: str = ""
    """What else the organisers should know (a relative start that is not applied)."""
    session: Session | None = None
    """The session to store (new or changed)."""
    current: Session | None = None
    notify: bool = False
    """Confirmed registrants get an updated invitation ("Session Updated")."""

    def line(self) -> str:
        """One line of the plan, e.g. ``changed   kbs-01  join_url (registrants notified)``."""
        parts = [f"{self.action.value:<9} {self.session_id}"]
        if self.changed:
            parts.append(", ".join(self.changed))
        if self.notify:
            parts.append("(registrants get an updated invitation)")
        if self.kept:
            parts.append(f"kept since the last import: {', '.join(self.kept)}")
        if self.reason:
            parts.append(f"refused: {self.reason}")
        if self.note:
            parts.append(self.note)
        return "  ".join(parts)


@dataclass
class Plan:
    sessions: list[Planned] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for p in self.sessions if p.action is action)


def plan_import(table_name: str, entries: list[ProgrammeEntry], *, now: datetime) -> Plan:
    """What importing ``entries`` would do at ``now``; nothing is stored or published."""
    return Plan([_plan(table_name, entry, now) for entry in entries])


def _plan(table_name: str, entry: ProgrammeEntry, now: datetime) -> Planned:
    item = repository.session_meta_item(table_name, entry.session.session_id)
    session_id, form = entry.session.session_id, entry.imported
    if item is None:
        if entry.session.status is not SessionStatus.OPEN:
            return Planned(
                session_id,
                Action.REFUSED,
                form,
                reason="a new session is open; its status is set by kbs sessions commands",
            )
        return Planned(session_id, Action.NEW, form, session=entry.session)
    current = repository.availability_from_item(item).session
    now_form = _form_of(current)
    last: dict[str, Any] = item.get("imported") or now_form
    changed = [f for f in CONTENT_FIELDS if _differs(form.get(f), last.get(f))]
    note = ""
    if "start" in changed and isinstance(form["start"], dict):
        changed.remove("start")  # relative dates are resolved only when a session is created
        note = "(start_in_days/local_time apply to new sessions only: give an absolute start)"
    kept = [
        f for f in CONTENT_FIELDS if f not in changed and _differs(now_form.get(f), last.get(f))
    ]
    kept = [f for f in kept if not (f == "start" and isinstance(last.get("start"), dict))]
    if current.status is not SessionStatus.OPEN:
        kept.append(f"status {current.status.value}")
    facts: dict[str, Any] = {
        "imported": form,
        "changed": tuple(changed),
        "kept": tuple(kept),
        "note": note,
    }
    if not changed:
        return Planned(session_id, Action.UNCHANGED, current=current, **facts)
    if current.status is not SessionStatus.OPEN:
        reopen = (
            " (reopen it first: kbs sessions reopen)"
            if current.status is SessionStatus.CANCELLED
            else ""
        )
        reason = f"the session is {current.status.value}{reopen}; an import changes only open ones"
        return Planned(session_id, Action.REFUSED, current=current, reason=reason, **facts)
    if "start" in changed and entry.session.start <= now:
        reason = "the new start is in the past"
        return Planned(session_id, Action.REFUSED, current=current, reason=reason, **facts)
    notify = any(f in INVITE_FIELDS for f in changed)
    updates = {f: getattr(entry.session, f) for f in changed}
    target = Session.model_validate(
        {**current.model_dump(), **updates, "sequence": current.sequence + int(notify)}
    )
    return Planned(
        session_id, Action.CHANGED, session=target, current=current, notify=notify, **facts
    )


def apply_import(table_name: str, bus_name: str, plan: Plan, *, now: datetime) -> None:
    """Store and announce what ``plan`` says (see module doc); raises ``PublishError`` (what
    was stored stays; the same import again completes it) or ``SessionChangedError``."""
    for planned in plan.sessions:
        if planned.action is Action.NEW and planned.session is not None:
            publish([_scheduled(planned.session, now)], bus_name)
            repository.put_session(table_name, planned.session, imported=planned.imported)
        elif planned.action is Action.UNCHANGED and planned.current is not None:
            repository.record_imported(table_name, planned.session_id, planned.imported)
        elif planned.action is Action.CHANGED and planned.session and planned.current:
            _apply_change(table_name, bus_name, planned, now)


def _apply_change(table_name: str, bus_name: str, planned: Planned, now: datetime) -> None:
    target, current = planned.session, planned.current
    assert target is not None and current is not None
    content = {**target.model_dump(), "sequence": 0}
    already = content == {**current.model_dump(), "sequence": 0}  # stored by a failed run
    stored = current if already else target
    if not already:
        repository.replace_session(table_name, target, expected_sequence=current.sequence)
    if planned.notify:
        what = [] if "start" in planned.changed else planned.changed
        reason = ", ".join(_CHANGE_NAMES[f] for f in what if f in _CHANGE_NAMES)
        publish([lifecycle.session_event(SESSION_UPDATED, stored, reason, time=now)], bus_name)
    else:
        publish([_scheduled(stored, now)], bus_name)
    repository.record_imported(table_name, planned.session_id, planned.imported)


def _scheduled(session: Session, now: datetime) -> OutgoingEvent:
    """ "Session Scheduled" at ``now``, keyed by id, sequence and content (a replay is a
    duplicate)."""
    data = session.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    return OutgoingEvent(
        source=SOURCE_SESSIONS,
        detail_type=SESSION_SCHEDULED,
        data=data,
        idempotency_key=f"session#{session.session_id}#{session.sequence}#{digest}",
        time=now,
    )


def _form_of(session: Session) -> dict[str, Any]:
    data = session.model_dump(mode="json")
    return {f: data[f] for f in CONTENT_FIELDS if data[f] or f != "speakers"}


def _differs(given: Any, before: Any) -> bool:
    return bool(given != before)
