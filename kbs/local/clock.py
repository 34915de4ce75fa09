"""Scheduled rules: ``rate()``/``cron()`` expressions fired from a real or simulated clock.

moto stores scheduled rules but never fires them, so the local stack does: on real time by
default (a thread wakes at each minute), or on a simulated clock that only ``kbs tick``
moves. Each due rule invokes its function with the real "Scheduled Event" payload.

A tick catches up, as DESIGN.md states it: ``kbs tick --at T`` fires each scheduled rule that
was due in (previous clock time, T], once, at its latest due moment (the run the real
scheduler would have made most recently); the same time again fires nothing. A tick back in
time (e.g. from real time to this morning) restarts the clock at T: the rules due in T's
minute fire, as if the clock had just reached T.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from infra.wiring import Function, Schedule
from kbs.local.runtime import ACCOUNT_ID, Invoker, log_event

MINUTE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive time is taken to be UTC already."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


CLOCK_RANGE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
"""The times a simulated clock may show: outside them is a typo, and date arithmetic near
years 1 and 9999 overflows."""


def within_range(at: datetime) -> datetime:
    """``at`` (aware) if it is within :data:`CLOCK_RANGE`; else ``ValueError``."""
    low, high = CLOCK_RANGE
    if not low <= at < high:
        raise ValueError(f"{at.isoformat()} is outside the years {low.year}-{high.year - 1}")
    return at


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``Z`` or an offset; none means UTC), in UTC, within
    :data:`CLOCK_RANGE`. Raises ``ValueError`` for anything else."""
    return within_range(utc(datetime.fromisoformat(text)))


def event_time(at: datetime) -> str:
    """The ``time`` field of an EventBridge event: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    """Real time, or a simulated time that stays where it was last set.

    Listeners (:meth:`listen`) are called with the new simulated time, or ``None`` for real
    time, after each change (``kbs serve`` keeps ``local.json`` up to date with them).
    """

    def __init__(self, simulated: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._at = utc(simulated) if simulated else None
        self._listeners: list[Callable[[datetime | None], None]] = []

    @property
    def simulated(self) -> bool:
        return self._at is not None

    def now(self) -> datetime:
        with self._lock:
            return self._at or datetime.now(UTC)

    def set(self, at: datetime | None) -> None:
        """Simulate time from now on, at ``at``; ``None``: back to real time."""
        with self._lock:
            self._at = utc(at) if at else None
        for listener in list(self._listeners):
            listener(self._at)

    def listen(self, listener: Callable[[datetime | None], None]) -> None:
        self._listeners.append(listener)

    def forget(self, listener: Callable[[datetime | None], None]) -> None:
        self._listeners.remove(listener)


class Expression(Protocol):
    def due(self, at: datetime) -> bool:
        """Whether the schedule fires in the minute that contains ``at`` (UTC)."""
        ...

    def latest(self, after: datetime, until: datetime) -> datetime | None:
        """The latest moment (a whole UTC minute) the schedule fires in ``(after, until]``."""
        ...


def _minute(at: datetime) -> datetime:
    return utc(at).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Rate:
    """``rate(N minute|minutes|hour|hours|day|days)``; locally its grid starts at the epoch."""

    minutes: int

    _UNITS = {"minute": 1, "hour": 60, "day": 24 * 60}
    _SYNTAX = re.compile(r"^rate\((\d+) (minute|hour|day)(s?)\)$")

    @classmethod
    def parse(cls, expression: str) -> Rate:
        match = cls._SYNTAX.match(expression.strip())
        if not match or int(match[1]) < 1 or (match[3] == "s") == (int(match[1]) == 1):
            raise ValueError(f"invalid rate expression {expression!r}")
        return cls(int(match[1]) * cls._UNITS[match[2]])

    def due(self, at: datetime) -> bool:
        return int((utc(at) - _EPOCH) // MINUTE) % self.minutes == 0

    def latest(self, after: datetime, until: datetime) -> datetime | None:
        minutes = int((utc(until) - _EPOCH) // MINUTE)
        moment = _EPOCH + (minutes - minutes % self.minutes) * MINUTE
        return moment if moment > utc(after) else None


@dataclass(frozen=True)
class Cron:
    """``cron(minutes hours day-of-month month day-of-week year)`` in UTC, as EventBridge reads it.

    Supports ``*``, ``?``, lists, ranges, steps and month/day names; not ``L``, ``W`` or ``#``.
    Day of week runs 1-7 from Sunday.
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: "?" (any)
    months: frozenset[int]
    weekdays: frozenset[int] | None  # None: "?" (any)
    years: frozenset[int]

    _MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    _WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
    _SYNTAX = re.compile(r"^cron\((.*)\)$")

    @classmethod
    def parse(cls, expression: str) -> Cron:
        match = cls._SYNTAX.match(expression.strip())
        fields = match[1].split() if match else []
        if len(fields) != 6:
            raise ValueError(f"invalid cron expression {expression!r}: six fields expected")
        minute, hour, day, month, weekday, year = fields
        if (day == "?") == (weekday == "?"):
            raise ValueError(
                f"invalid cron expression {expression!r}: one of day-of-month and "
                "day-of-week must be '?'"
            )
        return cls(
            minutes=_cron_values(minute, 0, 59),
            hours=_cron_values(hour, 0, 23),
            days=None if day == "?" else _cron_values(day, 1, 31),
            months=_cron_values(month, 1, 12, cls._MONTHS),
            weekdays=None if weekday == "?" else _cron_values(weekday, 1, 7, cls._WEEKDAYS),
            years=_cron_values(year, 1970, 2199),
        )

    def due(self, at: datetime) -> bool:
        at = utc(at)
        return at.minute in self.minutes and at.hour in self.hours and self._on(at.date())

    def latest(self, after: datetime, until: datetime) -> datetime | None:
        """Walks back day by day from ``until`` (only matching days are looked into)."""
        after, until = utc(after), _minute(until)
        times = sorted(((h, m) for h in self.hours for m in self.minutes), reverse=True)
        day = until.date()
        while day >= after.date() and day.year >= min(self.years):
            if self._on(day):
                for hour, minute in times:
                    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                    if moment <= after:
                        return None
                    if moment <= until:
                        return moment
            day -= timedelta(days=1)
        return None

    def _on(self, day: date) -> bool:
        weekday = (day.weekday() + 1) % 7 + 1  # Monday is 0 in Python, 2 here
        return (
            day.month in self.months
            and day.year in self.years
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
        )


def _cron_values(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> frozenset[int]:
    """The values a cron field allows: ``*``, ``a``, ``a-b``, ``*/n``, ``a/n``, ``a-b/n``, lists."""

    def value(token: str) -> int:
        upper = token.upper()
        if upper in names:
            number = names.index(upper) + low
        elif token.isdigit():
            number = int(token)
        else:
            raise ValueError(f"cron value {token!r} not supported locally (nor are L, W and #)")
        if not low <= number <= high:
            raise ValueError(f"cron value {token!r} outside {low}-{high}")
        return number

    values: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            start, _, end = span.partition("-")
            first, last = value(start), value(end)
        else:
            first = value(span)
            last = high if step else first
        values.update(range(first, last + 1, int(step) if step else 1))
    return frozenset(values)


def parse_expression(expression: str) -> Expression:
    if expression.strip().startswith("rate("):
        return Rate.parse(expression)
    return Cron.parse(expression)


@dataclass(frozen=True)
class ScheduledRule:
    """A declared schedule, provisioned as rule ``arn``, that invokes ``function``."""

    function: Function
    schedule: Schedule
    arn: str
    expression: Expression = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Parsed now, so a bad expression fails the start of the stack, not a later tick.
        object.__setattr__(self, "expression", parse_expression(self.schedule.expression))


def scheduled_event(rule_arn: str, at: datetime, region: str) -> dict[str, Any]:
    """The payload EventBridge gives a scheduled rule's target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": event_time(at),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def since(previous: datetime, at: datetime) -> datetime:
    """Where a tick to ``at`` fires from (exclusive): the previous clock time, or, back in
    time, just before ``at``'s minute (the clock restarts at ``at``)."""
    return previous if at >= previous else _minute(at) - timedelta(microseconds=1)


class Scheduler:
    """Fires due rules: each minute of real time, or on :meth:`tick` up to a chosen time.

    A rule's run is summarised as ``{"rule", "function", "at", "outcome", "result"}``:
    ``at`` the Scheduled Event's ``time``, ``outcome`` ``ok`` or ``error``, ``result`` what
    the handler returned (JSON-safe; e.g. the session clock's fired and skipped milestones)
    or, on error, the exception.
    """

    def __init__(
        self, rules: list[ScheduledRule], clock: Clock, invoker: Invoker, region: str
    ) -> None:
        self.rules = rules
        self.clock = clock
        self._invoker = invoker
        self._region = region
        self._firing = threading.Lock()  # a tick and the real-time thread never interleave
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kbs-clock", daemon=True)

    def due(self, after: datetime, until: datetime) -> list[tuple[datetime, ScheduledRule]]:
        """Each rule due in ``(after, until]`` with its latest due moment, earliest first."""
        moments = [(rule.expression.latest(after, until), rule) for rule in self.rules]
        due = [(moment, rule) for moment, rule in moments if moment is not None]
        return sorted(due, key=lambda pair: pair[0])

    def fire(self, after: datetime, until: datetime) -> list[dict[str, Any]]:
        """Invoke once the function of every rule due in ``(after, until]``, at its latest due
        moment; one summary per rule (see the class doc)."""
        fired = []
        for moment, rule in self.due(after, until):
            event = scheduled_event(rule.arn, moment, self._region)
            invocation = self._invoker.invoke(rule.function, event)
            outcome = "ok" if invocation.ok else "error"
            trigger = f"schedule {rule.schedule.name}"
            log_event(rule.function.name, trigger, outcome, invocation.duration_ms)
            result = invocation.result if invocation.ok else repr(invocation.error)
            fired.append(
                {
                    "rule": rule.schedule.name,
                    "function": rule.function.name,
                    "at": event["time"],
                    "outcome": outcome,
                    "result": json.loads(json.dumps(result, default=str)),
                }
            )
        return fired

    def tick(self, at: datetime | None) -> dict[str, Any]:
        """Move the clock to ``at`` (simulated from then on) and fire what was due since the
        previous clock time; ``None``: back to real time, firing nothing (the real-time thread
        takes over at the next minute). ``{"from", "at", "clock", "fired"}``."""
        with self._firing:
            previous = self.clock.now()
            self.clock.set(at)
            fired = self.fire(since(previous, at), at) if at else []
        return {
            "from": event_time(previous),
            "at": event_time(at or self.clock.now()),
            "clock": "simulated" if at else "real",
            "fired": fired,
        }

    def start(self) -> None:
        if self.rules:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        """On real time, wake at each minute boundary and fire what is due then."""
        while not self._stop.is_set():
            now = self.clock.now()
            minute = _minute(now) + MINUTE
            if self._stop.wait((minute - now).total_seconds()):
                return
            with self._firing:
                if not self.clock.simulated:
                    self.fire(minute - MINUTE, minute)
