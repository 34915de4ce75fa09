"""The programme: loading the organisers' file, and the public view of open sessions.

A programme file is JSON, ``{"sessions": [...]}``, loaded into validated :class:`Session`s.

Each entry holds the :class:`Session` fields, with its start given either as

* ``start``: an absolute ISO-8601 date-time with a UTC offset (a real programme), or
* ``start_in_days`` + ``local_time``: relative to the import date in the session's
  ``timezone`` (the sample programme, so an import on any date yields future sessions).

Every problem is reported at once, naming the session and the field.

Each entry also yields its *imported form* (:class:`ProgrammeEntry`): what the file says of
the session's content, start included as written (absolute, in UTC, or the relative spec, which
is resolved only when the session is first created). An import compares it with the form the
last import stored (:mod:`shared.programme.imports`), never with the session's current state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from shared.programme.models import Session, SessionAvailability

RELATIVE_FIELDS = ("start_in_days", "local_time")
ENTRY_FIELDS = frozenset(Session.model_fields) | set(RELATIVE_FIELDS)
MAX_DAYS_AHEAD = 4000


CONTENT_FIELDS = (
    "title",
    "kind",
    "category",
    "description",
    "title_i18n",
    "description_i18n",
    "speakers",
    "start",
    "timezone",
    "duration_minutes",
    "capacity",
    "join_url",
)
"""What a programme file decides about a session; never its status or its sequence."""


@dataclass(frozen=True)
class ProgrammeEntry:
    """A session as the file gives it, and its imported form (``CONTENT_FIELDS`` as JSON
    values; ``start`` is ``{"start_in_days": n, "local_time": "HH:MM"}`` when relative)."""

    session: Session
    imported: dict[str, Any]


class ProgrammeError(ValueError):
    """The programme file cannot be loaded; ``problems`` lists every error found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid programme:\n  " + "\n  ".join(problems))
        self.problems = problems


def load_programme(path: str | Path, now: datetime) -> list[Session]:
    """The sessions of the programme file at ``path``, relative dates resolved at ``now``."""
    return [entry.session for entry in load_entries(path, now)]


def load_entries(path: str | Path, now: datetime) -> list[ProgrammeEntry]:
    """The entries of the programme file at ``path`` (see :func:`parse_entries`)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProgrammeError([f"{path}: cannot read the file ({exc.strerror})"]) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProgrammeError([f"{path}: not valid UTF-8 JSON ({exc})"]) from exc
    return parse_entries(document, now)


def parse_programme(document: Any, now: datetime) -> list[Session]:
    """Validate a parsed programme document (``{"sessions": [...]}``)."""
    return [entry.session for entry in parse_entries(document, now)]


def parse_entries(document: Any, now: datetime) -> list[ProgrammeEntry]:
    """Validate a parsed programme document: its entries in start order, each with its
    imported form; :class:`ProgrammeError` listing every problem."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    entries = document.get("sessions") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ProgrammeError(['the file must be a JSON object with a non-empty "sessions" list'])
    sessions: list[ProgrammeEntry] = []
    problems: list[str] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        name = _entry_name(position, entry)
        try:
            session = _parse_entry(entry, now)
        except _EntryError as exc:
            problems.extend(f"{name}: {problem}" for problem in exc.problems)
            continue
        if session.session_id in seen:
            problems.append(f"{name}: session_id: duplicate of an earlier session")
        seen.add(session.session_id)
        sessions.append(ProgrammeEntry(session, _imported_form(session, entry)))
    if problems:
        raise ProgrammeError(problems)
    return sorted(sessions, key=lambda e: e.session.start)


def _imported_form(session: Session, entry: dict[str, Any]) -> dict[str, Any]:
    data = session.model_dump(mode="json")
    form = {field: data[field] for field in CONTENT_FIELDS}
    if not form["speakers"]:  # as imported forms stored before speakers existed say
        del form["speakers"]
    if "start" not in entry:
        form["start"] = {field: entry[field] for field in RELATIVE_FIELDS}
    return form


class _EntryError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems


def _entry_name(position: int, entry: Any) -> str:
    session_id = entry.get("session_id") if isinstance(entry, dict) else None
    suffix = f" ({session_id})" if isinstance(session_id, str) else ""
    return f"session {position}{suffix}"


def _parse_entry(entry: Any, now: datetime) -> Session:
    if not isinstance(entry, dict):
        raise _EntryError(["must be a JSON object"])
    unknown = sorted(set(entry) - ENTRY_FIELDS)
    if unknown:
        raise _EntryError([f"{field}: unknown field" for field in unknown])
    fields = {k: v for k, v in entry.items() if k not in RELATIVE_FIELDS}
    fields["start"] = _start(entry, now)
    try:
        return Session.model_validate(fields)
    except ValidationError as exc:
        raise _EntryError(
            [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        ) from exc


def _start(entry: dict[str, Any], now: datetime) -> Any:
    """The entry's ``start``: given, or computed from ``start_in_days`` and ``local_time``."""
    relative = [f for f in RELATIVE_FIELDS if f in entry]
    if "start" in entry:
        if relative:
            raise _EntryError([f"{relative[0]}: give either start or start_in_days + local_time"])
        return entry["start"]
    if len(relative) < len(RELATIVE_FIELDS):
        missing = "start_in_days" if "start_in_days" not in entry else "local_time"
        raise _EntryError([f"{missing}: required (or give an absolute start)"])
    days, local_time, zone_name = entry["start_in_days"], entry["local_time"], entry.get("timezone")
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_DAYS_AHEAD:
        raise _EntryError([f"start_in_days: must be a whole number from 0 to {MAX_DAYS_AHEAD}"])
    try:
        at = time.fromisoformat(local_time) if isinstance(local_time, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is not None:
        raise _EntryError(["local_time: must be a wall-clock time such as 10:00"])
    try:
        zone = ZoneInfo(zone_name) if isinstance(zone_name, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    if zone is None:
        raise _EntryError(["timezone: must be an IANA time zone such as Europe/Brussels"])
    day: date = now.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, at, tzinfo=zone)


def open_sessions(
    programme: Iterable[SessionAvailability], now: datetime
) -> list[SessionAvailability]:
    """The sessions open for registration at ``now``, in start order."""
    return sorted(
        (a for a in programme if a.session.is_open_at(now)), key=lambda a: a.session.start
    )


def public_session(availability: SessionAvailability) -> dict[str, Any]:
    """What anyone may see of a session: never its join link."""
    session = availability.session
    return {
        "session_id": session.session_id,
        "title": session.title,
        "kind": session.kind.value,
        "category": session.category,
        "description": session.description,
        "speakers": list(session.speakers),
        "start": session.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "timezone": session.timezone,
        "duration_minutes": session.duration_minutes,
        "status": session.status.value,
        "capacity": session.capacity,
        "places_left": availability.places_left,
    }
