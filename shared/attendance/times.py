"""Times and durations as webinar platforms write them, read against the session they report.

Platforms write local times without a zone, in the organiser's locale: ``12/1/26, 9:58:02 AM``
(Teams, en-US), ``01/12/2026 09:58:02`` (Teams, en-GB), ``1.12.2026 09:58:02`` (de-DE),
``Dec 1, 2026 09:58:02 AM`` (Zoom), ``Dec 01, 2026 09:58 AM CET`` (GoTo), ISO 8601. A time
without an offset is read in the session's time zone; a numeric date that could be read two ways
(``1/12``: 12 January or 1 December) takes the reading that falls on the session's local date
(or the day after, for a session that runs past midnight). Durations: ``1h 5m 3s`` (Teams),
``1 hour 5 minutes`` (GoTo), ``65`` or ``65.5`` (minutes).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from shared.programme.models import Session


class TimeFormatError(ValueError):
    """A time or duration the parser cannot read, or one outside the session's day."""


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_CLOCK = r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
_ZONE = r"(?:\s*\(?(?P<zone>(?:GMT|UTC)\s*[+-]\s*\d{1,2}(?::?\d{2})?|Z|GMT|UTC|[A-Z]{2,5})\)?)?"
_NUMERIC = re.compile(
    r"^(?P<a>\d{1,4})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})\.?[,T\s]\s*"
    + _CLOCK
    + _ZONE
    + r"$"
)
_NAMED = re.compile(
    r"^(?:(?P<mon1>[A-Za-z]{3})[a-z]*\.?\s+(?P<d1>\d{1,2}),?|(?P<d2>\d{1,2})\s+(?P<mon2>[A-Za-z]{3})"
    r"[a-z]*\.?,?)\s+(?P<y>\d{4}),?\s+" + _CLOCK + _ZONE + r"$"
)
_OFFSET = re.compile(r"^(?:GMT|UTC)\s*(?P<sign>[+-])\s*(?P<h>\d{1,2}):?(?P<m>\d{2})?$")
_DURATION = re.compile(
    r"^(?:(?P<h>\d+)\s*(?:h|hrs?|hours?))?\s*(?:(?P<m>\d+)\s*(?:m|mins?|minutes?))?\s*"
    r"(?:(?P<s>\d+)\s*(?:s|secs?|seconds?))?$",
    re.IGNORECASE,
)


def session_days(session: Session) -> tuple[date, ...]:
    """The local dates a report of ``session`` may name: its start's and its end's."""
    zone = ZoneInfo(session.timezone)
    first = session.start.astimezone(zone).date()
    last = session.end.astimezone(zone).date()
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def parse_time(text: str, session: Session) -> datetime:
    """An aware UTC time from a report cell, read in ``session``'s zone unless it has an offset.

    Raises :class:`TimeFormatError` if the text is no time we know, or if no reading of it
    falls on one of :func:`session_days` (a file of another session).
    """
    value = " ".join(text.strip().split())
    if not value:
        raise TimeFormatError("empty time")
    candidates = _candidates(value)
    if candidates is None:
        raise TimeFormatError(f"unreadable time {value!r}")
    days = session_days(session)
    zone = ZoneInfo(session.timezone)
    readings = []
    for naive, tz in candidates:
        moment = naive.replace(tzinfo=tz or zone)
        if moment.astimezone(zone).date() in days:
            readings.append(moment.astimezone(UTC))
    if not readings:
        raise TimeFormatError(
            f"time {value!r} is not on the session's day "
            f"({', '.join(d.isoformat() for d in days)}, {session.timezone})"
        )
    return readings[0]


def _candidates(value: str) -> list[tuple[datetime, timezone | None]] | None:
    iso = _iso(value)
    if iso is not None:
        return [iso]
    if match := _NUMERIC.match(value):
        a, b, c = int(match["a"]), int(match["b"]), int(match["c"])
        if len(match["a"]) == 4:  # year first: Y-M-D
            orders = [(a, b, c)]
        elif match["sep"] == ".":  # de-DE and the like: day first
            orders = [(_year(c), b, a)]
        else:  # month/day or day/month: both, the session's day decides
            orders = [(_year(c), a, b), (_year(c), b, a)]
    elif match := _NAMED.match(value):
        month = _MONTHS.get((match["mon1"] or match["mon2"]).lower())
        if month is None:
            return None
        orders = [(int(match["y"]), month, int(match["d1"] or match["d2"]))]
    else:
        return None
    tz = _zone(match["zone"])
    hour = _hour(int(match["h"]), match["ampm"])
    found = []
    for year, month, day in dict.fromkeys(orders):
        try:
            moment = datetime(year, month, day, hour, int(match["mi"]), int(match["s"] or 0))
        except ValueError:
            continue
        found.append((moment, tz))
    return found or None


def _iso(value: str) -> tuple[datetime, timezone | None] | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    tz = moment.tzinfo
    return moment.replace(tzinfo=None), (timezone(tz.utcoffset(moment)) if tz else None)  # type: ignore[arg-type]


def _year(value: int) -> int:
    return value + 2000 if value < 100 else value


def _hour(hour: int, ampm: str | None) -> int:
    if not ampm:
        return hour
    pm = ampm.lower().startswith("p")
    return (hour % 12) + (12 if pm else 0)


def _zone(name: str | None) -> timezone | None:
    """An explicit offset (``GMT+01:00``, ``UTC``, ``Z``); an abbreviation such as ``CET`` is
    ambiguous worldwide, so the session's zone reads the time instead (``None``)."""
    if not name:
        return None
    compact = name.replace(" ", "").upper()
    if compact in ("Z", "UTC", "GMT"):
        return UTC
    if match := _OFFSET.match(compact):
        delta = timedelta(hours=int(match["h"]), minutes=int(match["m"] or 0))
        return timezone(delta if match["sign"] == "+" else -delta)
    return None


def parse_minutes(text: str) -> float:
    """Minutes from a duration cell: ``65``, ``65.5``, ``1h 5m 3s``, ``1 hour 5 minutes``,
    ``01:05:03`` (h:mm:ss). Raises :class:`TimeFormatError` otherwise (or if negative)."""
    value = " ".join(text.strip().split())
    if re.fullmatch(r"\d+(?:[.,]\d+)?", value):
        return float(value.replace(",", "."))
    if match := re.fullmatch(r"(\d+):(\d{2}):(\d{2})", value):
        h, m, s = (int(g) for g in match.groups())
        return h * 60 + m + s / 60
    match = _DURATION.match(value)
    if not value or match is None or not any(match.groupdict().values()):
        raise TimeFormatError(f"unreadable duration {value!r}")
    return int(match["h"] or 0) * 60 + int(match["m"] or 0) + int(match["s"] or 0) / 60
