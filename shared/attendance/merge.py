"""One person's minutes from the rows a report has for them.

A platform writes one row per join: a person who reconnects appears several times, and two
devices (laptop and phone) overlap. Where the rows have join and leave times, the minutes are
the length of the union of the intervals (overlaps counted once); rows with only a duration
add up. Either way the result is capped at the session's scheduled length: nobody attends more
than the session, however early they joined or late they left.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime


def union_seconds(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    """Length in seconds of the union of ``(start, end)`` intervals (any order, overlapping or
    not; an interval with ``end < start`` counts as empty)."""
    total = 0.0
    current: tuple[datetime, datetime] | None = None
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if current is None or start > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (start, end)
        elif end > current[1]:
            current = (current[0], end)
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total


def attended_minutes(
    intervals: Sequence[tuple[datetime, datetime]],
    durations: Sequence[float],
    session_minutes: int,
) -> int:
    """Whole minutes attended (rounded to the nearest minute), capped at ``session_minutes``.

    ``intervals`` are the rows with join and leave times (their union counts); ``durations``
    (minutes) are the rows that only have a time in session: they are added to it.
    """
    seconds = union_seconds(intervals) + 60 * sum(max(0.0, d) for d in durations)
    return min(session_minutes, int((seconds + 30) // 60))
