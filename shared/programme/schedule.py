"""When a session's milestones are due: the T-24h and T-1h reminders, the start and the end,
each with the moment it is due and the deadline after which it is stale (skipped, never done
late). :mod:`shared.programme.lifecycle` runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.notices.kinds import NoticeKind
from shared.platform.event_types import SESSION_ENDED, SESSION_STARTED
from shared.programme.models import Session, SessionStatus

FOLLOW_UP_WINDOW = timedelta(days=7)
"""How long after its end a session's follow-up is still sent (if the clock was down)."""
OPEN = frozenset({SessionStatus.OPEN})


@dataclass(frozen=True)
class Milestone:
    """Work due at ``moment`` and stale from ``deadline`` on, while the session is in
    ``statuses``: a reminder to fan out, or an event to publish."""

    name: str
    moment: Callable[[Session], datetime]
    deadline: Callable[[Session], datetime]
    statuses: frozenset[SessionStatus]
    notice: NoticeKind | None = None
    event: str | None = None


MILESTONES = (
    Milestone(
        NoticeKind.REMINDER_24H.value,
        moment=lambda s: s.start - timedelta(hours=24),
        deadline=lambda s: s.start - timedelta(hours=1),
        statuses=OPEN,
        notice=NoticeKind.REMINDER_24H,
    ),
    Milestone(
        NoticeKind.REMINDER_1H.value,
        moment=lambda s: s.start - timedelta(hours=1),
        deadline=lambda s: s.start,
        statuses=OPEN,
        notice=NoticeKind.REMINDER_1H,
    ),
    Milestone(
        "start",
        moment=lambda s: s.start,
        deadline=lambda s: s.end,
        statuses=OPEN,
        event=SESSION_STARTED,
    ),
    Milestone(
        "end",
        moment=lambda s: s.end,
        deadline=lambda s: s.end + FOLLOW_UP_WINDOW,
        statuses=frozenset({SessionStatus.OPEN, SessionStatus.LIVE}),
        event=SESSION_ENDED,
    ),
)
# The programme the clock reads: every session starting before now + 24 h (the earliest
# milestone is 24 h before the start). Past ones are read too, so that one the clock missed
# for longer than any window is still ended (a few dozen items over the series: one Query).
LOOKAHEAD = timedelta(hours=24)
SERIES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
