"""Time labels (shared/i18n/times.py): the clock-change example, and every label over every
clock change of the sample programme's zones in the next three years parsed back to instants."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.i18n.languages import SUPPORTED
from shared.i18n.times import session_time_label
from tests.conftest import EVENTS

ZONES = sorted(
    {s["timezone"] for s in json.loads((EVENTS / "programme.sample.json").read_text())["sessions"]}
)
LENGTH = timedelta(minutes=90)
EN = re.compile(
    r"^\w+ (\d+ \w+ \d{4}), (\d\d:\d\d)(?: (\S+))?(?:\u2013| \u2013 )(?:\w+ (\d+ \w+ \d{4}), )?"
    r"(\d\d:\d\d) (\S+) \(([\w/]+)\)$"
)


def transitions(zone: ZoneInfo, since: datetime, years: int = 3) -> list[datetime]:
    """The instants (UTC, to the hour) at which ``zone``'s offset changes, found hour by hour."""
    found, moment = [], since
    while moment < since + timedelta(days=365 * years):
        if (
            moment.astimezone(zone).utcoffset()
            != (moment + timedelta(hours=1)).astimezone(zone).utcoffset()
        ):
            found.append(moment + timedelta(hours=1))
        moment += timedelta(hours=1)
    return found


def parse_en(label: str) -> tuple[datetime, datetime]:
    """The instants an English label names (the abbreviation or UTC offset picks the fold)."""
    match = EN.match(label)
    assert match, label
    day, start, start_name, end_day, end, end_name, key = match.groups()
    zone = ZoneInfo(key)

    def instant(day_text: str, hhmm: str, name: str) -> datetime:
        wall = datetime.strptime(f"{day_text} {hhmm}", "%d %B %Y %H:%M")
        candidates = [wall.replace(tzinfo=zone, fold=f) for f in (0, 1)]  # a set would drop a fold
        fits = [c for c in candidates if name in (c.tzname(), _offset(c))]
        assert len({c.astimezone(UTC) for c in fits}) == 1, (label, name)
        return fits[0].astimezone(UTC)

    return instant(day, start, start_name or end_name), instant(end_day or day, end, end_name)


def _offset(moment: datetime) -> str:
    minutes = int(moment.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
    return f"UTC{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def test_the_london_spring_forward_labels_each_end() -> None:
    start = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    label = session_time_label(start, start + LENGTH, "Europe/London", "en")
    assert label == "Sunday 28 March 2027, 00:30 GMT \u2013 03:00 BST (Europe/London)"
    assert "00:30\u201303:00 BST" not in label
    assert parse_en(label) == (start, start + LENGTH)
    french = session_time_label(start, start + LENGTH, "Europe/London", "fr")
    assert french.startswith("dimanche 28 mars 2027, 00:30 ")
    assert (
        "heure moyenne de Greenwich" in french
        and "heure d\u2019\u00e9t\u00e9 britannique" in french
    )


def test_an_ordinary_day_keeps_the_english_label() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    label = session_time_label(start, start + LENGTH, "Europe/Brussels", "en")
    assert label == "Tuesday 1 December 2026, 10:00\u201311:30 CET (Europe/Brussels)"
    assert session_time_label(start, None, "Europe/Brussels", "pl") == (
        "wtorek, 1 grudnia 2026, 10:00 czas \u015brodkowoeuropejski standardowy (Europe/Brussels)"
    )


@pytest.mark.parametrize("key", ZONES)
def test_every_clock_change_in_three_years_parses_back_to_the_true_instants(key: str) -> None:
    zone = ZoneInfo(key)
    changes = transitions(zone, datetime.combine(date.today(), datetime.min.time(), UTC))
    assert len(changes) >= 6, key  # two a year in each sample zone
    for change in changes:
        for shift in range(-150, 91, 15):  # sessions starting before, across and after it
            start = change + timedelta(minutes=shift)
            end = start + LENGTH
            assert parse_en(session_time_label(start, end, zone, "en")) == (start, end)
            crosses = start.astimezone(zone).utcoffset() != end.astimezone(zone).utcoffset()
            for language in SUPPORTED[1:]:
                label = session_time_label(start, end, zone, language)
                times = re.findall(r"\b\d\d:\d\d\b", label)
                walls = [f"{start.astimezone(zone):%H:%M}", f"{end.astimezone(zone):%H:%M}"]
                assert times == walls, label
                assert label.endswith(f"({key})")
                # across a change each end names its own offset; otherwise one name for both
                assert (" \u2013 " in label and label.count(" ") > 8) if crosses else True, label
