r"""Labels of a session's time: the one function every email, page, calendar description and
organiser listing uses (:func:`session_time_label`).

A label gives the wall-clock times in one zone, names the zone by its IANA key, and names the
offset of each end: once when both ends share it, at each end when a clock change falls
inside the session (e.g. "00:30 GMT \u2013 03:00 BST" on the night London's clocks go forward).
Abbreviations are never shown alone (BST, IST, CST each mean several zones): the IANA key
follows them, and an abbreviation that is not letters (``+03``) or that names two offsets
becomes the UTC offset (``UTC+03:00``). Languages other than English name the zone as the
locale does (Babel's ``get_timezone_name``, e.g. "heure d\u2019\u00e9t\u00e9 britannique")
and write the date
in the locale's words (Babel's ``format_date``, e.g. "dimanche 28 mars 2027").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.i18n.languages import ENGLISH, resolve

EN_DASH = "\u2013"
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def session_time_label(
    start: datetime,
    end: datetime | None,
    zone: str | ZoneInfo,
    language: str | None = None,
    *,
    numeric: bool = False,
) -> str:
    """The label of ``start`` to ``end`` (aware datetimes; ``end`` None: the start alone) in
    ``zone`` (an IANA key or ZoneInfo), in ``language`` (any tag; English when unsupported).

    E.g. ``Tuesday 1 December 2026, 10:00-11:30 CET (Europe/Brussels)``,
    ``Sunday 28 March 2027, 00:30 GMT - 03:00 BST (Europe/London)``,
    ``mardi 1 d\u00e9cembre 2026, 10:00-11:30 heure normale d\u2019Europe centrale
    (Europe/Brussels)`` (each "-" an en dash).
    ``numeric``: ISO dates for listings (``2026-12-01 10:00 CET (Europe/Brussels)``).
    Raises ``ValueError`` for a naive datetime and ``ZoneInfoNotFoundError`` for an unknown key.
    """
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise ValueError("start and end must be timezone-aware")
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    language = resolve(language)
    first = start.astimezone(tz)

    def day(moment: datetime) -> str:
        return f"{moment:%Y-%m-%d} " if numeric else f"{_date(moment, language)}, "

    if end is None:
        return f"{day(first)}{first:%H:%M} {_zone_name(first, None, language)} ({tz.key})"
    last = end.astimezone(tz)
    same_offset = first.utcoffset() == last.utcoffset()
    if same_offset:
        name = _zone_name(last, None, language)
        if first.date() == last.date():
            span = f"{first:%H:%M}{EN_DASH}{last:%H:%M} {name}"
        else:
            span = f"{first:%H:%M} {EN_DASH} {day(last)}{last:%H:%M} {name}"
    else:
        before, after = _zone_name(first, last, language), _zone_name(last, first, language)
        end_day = "" if first.date() == last.date() else day(last)
        span = f"{first:%H:%M} {before} {EN_DASH} {end_day}{last:%H:%M} {after}"
    return f"{day(first)}{span} ({tz.key})"


def zone_from_name(name: str | None) -> ZoneInfo | None:
    """The zone of an IANA key, or None for none or an unknown one (a registrant's optional
    zone: :mod:`shared.registrations.zones` refuses unknown ones at intake)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def utc_offset(moment: datetime) -> str:
    """``UTC+01:00`` / ``UTC-03:30`` / ``UTC+00:00`` for an aware ``moment``."""
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _zone_name(moment: datetime, other: datetime | None, language: str) -> str:
    """The name of ``moment``'s offset: its abbreviation in English (the UTC offset when it is
    not letters or ``other``, at another offset, shares it), the locale's name otherwise."""
    if language != ENGLISH:
        from babel.dates import get_timezone_name

        return str(get_timezone_name(moment, width="long", locale=language))
    abbreviation = moment.tzname() or ""
    shared = other is not None and other.tzname() == abbreviation
    if not abbreviation.isalpha() or shared:
        return utc_offset(moment)
    return abbreviation


def _date(moment: datetime, language: str) -> str:
    if language == ENGLISH:
        return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"
    from babel.dates import format_date

    return str(format_date(moment.date(), format="full", locale=language))
